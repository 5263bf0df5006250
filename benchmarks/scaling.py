"""How the default relation learner's cost grows with the number of samples: graph, one epoch, evaluation, prediction.

On the synthetic generator (:func:`mmgraph.datasets.load_synthetic`: two modalities ``image`` and ``text``, one
sample of each per item, every item linked, a cold-start split by item), for each number of nodes and feature
width, in a fresh process each (so that its peak memory is its own):

- *graph*: the kNN similarity graph of the training view (the model's ``knn`` method, ``auto`` by default) and
  its links: :meth:`GraphBuilder.build`, as :meth:`GNNModel.fit` calls it;
- *epoch*: one training epoch of the default model (``gnn``, no validation, no propagation), graph excluded;
- *evaluation*: every held-out test sample attached as a new sample (the predict path), then 2,000 test links
  ranked against the held-out candidates in both directions (a fixed number of questions, so that the
  stage measures the cost per question; ranking every test query against every candidate grows as N^2);
- *prediction*: 100 new samples attached and ranked against every training text (median of 3 calls, after the
  evaluation warmed the model up).

Each stage's peak is the resident memory at its highest during that stage (``VmHWM``, reset before it). Beside
them, in the same process: the float32 GEMM rate (``d``-wide products of 4096 x 4096), exact kNN over one
modality against its floor ``n^2 d`` multiply-adds at that rate (mmgraph's exact path and faiss ``IndexFlatIP``,
for modalities up to ``--max-exact`` samples), the approximate method's recall on 1,000 queries, and, where the
model trains full batch, one epoch of a hand-written PyTorch Geometric loop (the same ``HeteroGNN``, graph and
in-batch loss, no cold-start masking) against the learner's epoch. Writes ``benchmarks/results/scaling.md`` and
``.json``.

Usage:
    .venv/bin/python benchmarks/scaling.py [--nodes 10000,100000,1000000] [--dims 384,1280] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from measure import gemm_rate, machine_line, median_seconds, peak_rss, reset_peak

from mmgraph.io import atomic_write

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
K = 10  # similarity neighbours, the default model's
BATCH = 100  # new samples per prediction call
RECALL_QUERIES = 1000
EVAL_LINKS = 2000  # test links ranked in the evaluation stage (all of them are attached): cost per query
EXACT_METHODS = ("exact", "flat")
PEAK_PER_FEATURE_BYTE = 9
"""Peak memory of a configuration per byte of its float32 features (measured: 1,000,000 x 384-d peaked at 13.0 GiB
in evaluation, on 1.43 GiB of features); a configuration estimated above the machine's memory is not run."""


# ---------------------------------------------------------------------- one configuration (child process)
class Stages:
    """Times and peak memory of the named stages of one process."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, float]] = {}

    def run(self, name: str, call):
        print(f"  {name} ...", file=sys.stderr, flush=True)
        reset_peak()
        start = time.perf_counter()
        out = call()
        self.records[name] = {"seconds": time.perf_counter() - start, "peak_bytes": peak_rss()}
        record = self.records[name]
        print(f"  {name}: {record['seconds']:.1f} s, peak {record['peak_bytes'] / 2**30:.2f} GiB", file=sys.stderr,
              flush=True)
        return out


def _task():
    from mmgraph.data.task import Task

    return Task(name="synthetic-scaling", description="", kind="link", source="image", target="text")


def _knn_checks(x: torch.Tensor, rate: float, max_exact: int, method: str) -> dict:
    """Exact kNN against its GEMM floor; the approximate method's recall on a sample of queries."""
    from mmgraph.graph.knn import knn_cosine, knn_graph, knn_recall

    n, d = x.shape
    out: dict = {"n": n, "floor_seconds": n * n * d / rate}
    if n <= max_exact:
        for exact in EXACT_METHODS:
            start = time.perf_counter()
            knn_graph(x, K, method=exact)
            out[f"{exact}_seconds"] = time.perf_counter() - start
    if method not in EXACT_METHODS:
        queries = torch.randperm(n, generator=torch.Generator().manual_seed(0))[:RECALL_QUERIES]
        found, _ = knn_cosine(x[queries], x, K + 1, method=method)
        truth, _ = knn_cosine(x[queries], x, K + 1, method="exact")
        out["recall_method"] = method
        out["recall"] = knn_recall(found, truth)
    return out


def _hand_written_epochs(model, graph, epochs: int) -> float:
    """Seconds per epoch of a plain PyG training loop over the same graph and network: the full graph through
    :class:`HeteroGNN`, the in-batch softmax over the learner's share of the training links (its
    ``supervision_fraction``, drawn anew each epoch) in chunks of its batch size; no links hidden, no mask."""
    from mmgraph.models.gnn import HeteroGNN

    c = model.learner_.config
    torch.manual_seed(0)
    net = HeteroGNN({t: graph[t].x.shape[1] for t in graph.node_types}, graph.metadata(), hidden_dim=c.hidden_dim,
                    num_layers=c.num_layers, conv=c.conv, heads=c.heads, dropout=c.dropout)
    for t in graph.node_types:
        net.standardize[t].fit(graph[t].x)
    edge_type = model.learner_.target_edge_types_[0]
    links = graph[edge_type].edge_index
    weights = {t: graph[t].edge_weight for t in graph.edge_types if "edge_weight" in graph[t]}
    net(graph.x_dict, graph.edge_index_dict, weights)  # lazy layers get their shapes
    optimizer = torch.optim.Adam(net.parameters(), lr=c.lr)
    chunk = getattr(c, "batch_size", links.shape[1])
    start = time.perf_counter()
    for _ in range(epochs):
        h = net(graph.x_dict, graph.edge_index_dict, weights)
        supervised = torch.randperm(links.shape[1])[: max(1, round(c.supervision_fraction * links.shape[1]))]
        loss = torch.zeros(())
        for part in supervised.split(chunk):
            q = h[edge_type[0]][links[0, part]]
            t = h[edge_type[2]][links[1, part]]
            logits = q @ t.T / c.temperature
            target = torch.arange(len(part))
            loss = loss + (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return (time.perf_counter() - start) / epochs


def measure(nodes: int, dim: int, *, knn: str, max_exact: int, compare_epochs: int) -> dict:
    from mmgraph.data.split import split_dataset
    from mmgraph.datasets import load_synthetic
    from mmgraph.evaluation.evaluator import evaluate_link_queries
    from mmgraph.graph import GraphBuilder
    from mmgraph.models.gnn_model import GNNModel
    from mmgraph.models.learners import TrainingGraph
    from mmgraph.pipeline import prepare_task

    stages = Stages()
    rate = gemm_rate(dim)
    task = _task()
    dataset = stages.run("data", lambda: load_synthetic(
        num_items=nodes // 2, modalities=("image", "text"), num_classes=10, dim=dim, seed=0))

    def prepare():
        features = {m: torch.from_numpy(x) for m, x in dataset.features.items()}
        split = split_dataset(dataset, seed=0, **task.split)
        prepared = prepare_task(task, dataset, seed=0, features=features, split=split)
        return prepared, prepared.train_view()

    prepared, train = stages.run("prepare", prepare)
    model = GNNModel(epochs=1, propagation=False, seed=0, knn=knn)
    build = GraphBuilder.build  # timed as its own stage (the model builds its graph builder in fit)
    GraphBuilder.build = lambda self, *a, **kw: stages.run("graph", lambda: build(self, *a, **kw))
    reset_peak()
    start = time.perf_counter()
    try:
        with _KnnChoices() as choices:
            model.fit(train, progress=False)
    finally:
        GraphBuilder.build = build
    fit_seconds, fit_peak = time.perf_counter() - start, peak_rss()
    stages.records["epoch"] = {"seconds": fit_seconds - stages.records["graph"]["seconds"], "peak_bytes": fit_peak}
    def evaluation():
        scorer = model.scorer(prepared.new_samples("test"))
        queries = prepared.link_queries("test", task.candidates)
        return evaluate_link_queries(scorer.link_scores, queries, max_links=EVAL_LINKS)

    metrics = stages.run("evaluation", evaluation)

    generator = torch.Generator().manual_seed(1)
    new = {"image": torch.randn(BATCH, dim, generator=generator)}
    edge_type = train.target_edge_type
    candidates = torch.arange(train.num_nodes("text"))
    query = train.num_nodes("image") + torch.arange(BATCH)

    def predict():
        scores = model.scorer(dict(new)).link_scores(edge_type, query, candidates, reverse=False)
        return scores.topk(10, dim=1)

    stages.run("prediction", predict)  # its peak memory
    stages.records["prediction"]["seconds"] = median_seconds(predict, 3)

    record = {
        "nodes": nodes, "dim": dim, "gemm_rate": rate, "threads": torch.get_num_threads(),
        "load_average": os.getloadavg()[0],
        "train_nodes": int(sum(train.num_nodes(t) for t in train.node_types)),
        "training": model.training_, "knn": model.builder_.method,
        "stages": stages.records, "test_mrr": metrics.get("mrr"),
        "knn_check": _knn_checks(train.features["text"], rate, max_exact, _resolved(model, train, choices.methods)),
    }
    if record["training"] == "full":
        record["hand_written_epoch_seconds"] = _hand_written_epochs(model, model.graph_, compare_epochs)
        model.learner_.config.epochs = compare_epochs
        start = time.perf_counter()
        model.learner_.fit(TrainingGraph(model.graph_, target_edge_types=[edge_type]), progress=False)
        record["learner_epoch_seconds"] = (time.perf_counter() - start) / compare_epochs
    return record


class _KnnChoices(logging.Handler):
    """Collects the methods ``knn_cosine``'s ``auto`` probe chose (it logs them at INFO level)."""

    def __enter__(self) -> _KnnChoices:
        super().__init__(logging.INFO)
        self.methods: list[str] = []
        self.logger = logging.getLogger("mmgraph.graph.knn")
        self.level_before = self.logger.level
        self.logger.setLevel(logging.INFO)
        self.logger.addHandler(self)
        return self

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "knn_method"):
            self.methods.append(record.knn_method)

    def __exit__(self, *exc) -> None:
        self.logger.removeHandler(self)
        self.logger.setLevel(self.level_before)


def _resolved(model, train, chosen: list[str]) -> str:
    """The kNN method the model's builder used for a modality of this size: ``auto`` resolved by
    size, or by the probe (the first graph's choice; the two modalities have the same size)."""
    from mmgraph.graph.knn import resolve_method

    n = train.num_nodes("text")
    method = resolve_method(model.builder_.method, n, n)
    return chosen[0] if method == "auto" and chosen else method


# ---------------------------------------------------------------------- report
def _load(record: dict) -> str:
    """The load average a configuration ended at ("-" in records written before it was kept)."""
    return f"{record['load_average']:.1f}" if "load_average" in record else "-"


def _slope(records: list[dict], stage: str) -> float | None:
    """The exponent b of cost ~ nodes^b between the smallest and the largest configuration of one width."""
    if len(records) < 2:
        return None
    a, b = records[0], records[-1]
    return math.log(b["stages"][stage]["seconds"] / a["stages"][stage]["seconds"]) / math.log(b["nodes"] / a["nodes"])


def _total_memory() -> int:
    """The machine's physical memory in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def markdown(records: list[dict]) -> str:
    skipped = [r for r in records if "skipped" in r]
    records = [r for r in records if "skipped" not in r]
    lines = [
        "# Scaling",
        "",
        machine_line(records[0]["threads"]),
        "- command(s): " + "; ".join(f"`{c}`" for c in dict.fromkeys(r.get("command", "?") for r in records))
        + f"; each configuration in a fresh process; synthetic data, 2 modalities, k={K}, the default model `gnn` "
        "with no validation and no propagation",
        "- s = seconds, GiB = peak resident memory during the stage (the process's data included); load = the "
        "machine's load average at the end of the configuration",
        "",
        "| nodes | dim | load | training | kNN | graph s | graph GiB | epoch s | epoch GiB | evaluation s "
        f"| evaluation GiB | prediction of {BATCH} s | prediction GiB | test MRR (1 epoch) |",
        "| ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    gib = 2**30
    for r in records:
        s = r["stages"]
        cells = [f"{s[k]['seconds']:.1f} | {s[k]['peak_bytes'] / gib:.2f}" for k in ("graph", "epoch", "evaluation")]
        lines.append(
            f"| {r['nodes']:,} | {r['dim']} | {_load(r)} | {r['training']} | "
            f"{r['knn_check'].get('recall_method', 'exact')} | "
            + " | ".join(cells)
            + f" | {s['prediction']['seconds']:.2f} | {s['prediction']['peak_bytes'] / gib:.2f} | {r['test_mrr']:.3f} |"
        )
    lines += [f"| {r['nodes']:,} | {r['dim']} | {r['skipped']} |" + " |" * 11 for r in skipped]
    lines += ["", "## Slopes and cost per node", "",
              "| dim | stage | exponent b (cost ~ nodes^b) | cost per node, largest / 100,000 nodes |",
              "| ---: | --- | ---: | ---: |"]
    for dim in sorted({r["dim"] for r in records}):
        group = sorted((r for r in records if r["dim"] == dim), key=lambda r: r["nodes"])
        mid = next((r for r in group if r["nodes"] == 100_000), None)
        for stage in ("graph", "epoch", "evaluation"):
            slope = _slope(group, stage)
            ratio = "-"
            if mid is not None and group[-1] is not mid:
                per = [r["stages"][stage]["seconds"] / r["nodes"] for r in (group[-1], mid)]
                ratio = f"{per[0] / per[1]:.2f}"
            lines.append(f"| {dim} | {stage} | {'-' if slope is None else f'{slope:.2f}'} | {ratio} |")
    lines += ["", "## kNN against the machine's matrix-multiply floor", "",
              "One modality's self-kNN graph; floor = n^2 d multiply-adds at the float32 GEMM rate of the same "
              "process.",
              "",
              "| nodes | dim | n per modality | GEMM GMAC/s | floor s | mmgraph exact s | ratio | faiss flat s | ratio "
              "| approximate | recall@10 |",
              "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |"]
    for r in records:
        k = r["knn_check"]
        exact = [f"{k[f'{m}_seconds']:.1f} | {k[f'{m}_seconds'] / k['floor_seconds']:.2f}" if f"{m}_seconds" in k
                 else "- | -" for m in EXACT_METHODS]
        recall = f"{k['recall_method']} | {k['recall']:.3f}" if "recall" in k else "- | -"
        lines.append(f"| {r['nodes']:,} | {r['dim']} | {k['n']:,} | {r['gemm_rate'] / 1e9:.1f} | "
                     f"{k['floor_seconds']:.1f} | {' | '.join(exact)} | {recall} |")
    compared = [r for r in records if "hand_written_epoch_seconds" in r]
    if compared:
        lines += ["", "## Training throughput against a hand-written PyTorch Geometric loop", "",
                  "Seconds per epoch, full batch, the same graph, `HeteroGNN` and share of supervised links; the "
                  "learner adds hiding the supervised links from message passing and the known-link mask of its loss.",
                  "",
                  "| nodes | dim | learner s/epoch | hand-written s/epoch | ratio |",
                  "| ---: | ---: | ---: | ---: | ---: |"]
        for r in compared:
            ours, hand = r["learner_epoch_seconds"], r["hand_written_epoch_seconds"]
            lines.append(f"| {r['nodes']:,} | {r['dim']} | {ours:.2f} | {hand:.2f} | {ours / hand:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", default="10000,100000,1000000", help="comma-separated numbers of nodes")
    parser.add_argument("--dims", default="384,1280", help="comma-separated feature widths")
    parser.add_argument("--knn", default="auto", help="the model's kNN method (see mmgraph.graph.knn)")
    parser.add_argument("--max-exact", type=int, default=50_000,
                        help="largest modality whose exact kNN is timed against the floor")
    parser.add_argument("--compare-epochs", type=int, default=3, help="epochs of the hand-written loop comparison")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--out", default=str(RESULTS / "scaling.md"), help="the Markdown table to write")
    parser.add_argument("--keep", action="store_true",
                        help="add to the records of an earlier run in OUT's .json (other sizes or widths); a "
                        "configuration measured again replaces its record")
    parser.add_argument("--measure", nargs=2, type=int, metavar=("NODES", "DIM"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.measure:  # the child process
        nodes, dim = args.measure
        record = measure(nodes, dim, knn=args.knn, max_exact=args.max_exact, compare_epochs=args.compare_epochs)
        print(json.dumps(record))
        return
    command = ("python benchmarks/scaling.py " + " ".join(sys.argv[1:])).strip()
    earlier = Path(args.out).with_suffix(".json")
    records = json.loads(earlier.read_text()) if args.keep and earlier.exists() else []
    memory = _total_memory()
    for dim in (int(d) for d in args.dims.split(",")):
        for nodes in (int(n) for n in args.nodes.split(",")):
            estimate = PEAK_PER_FEATURE_BYTE * nodes * dim * 4
            if estimate > memory:
                print(f"skipping {nodes:,} nodes, {dim}-d: estimated peak {estimate / 2**30:.0f} GiB > "
                      f"{memory / 2**30:.0f} GiB of memory", file=sys.stderr, flush=True)
                record = {"nodes": nodes, "dim": dim, "command": command, "skipped":
                          f"not run: estimated peak {estimate / 2**30:.0f} GiB ({PEAK_PER_FEATURE_BYTE} x its "
                          f"{nodes * dim * 4 / 2**30:.1f} GiB of float32 features) > the machine's "
                          f"{memory / 2**30:.0f} GiB"}
                records = [r for r in records if (r["nodes"], r["dim"]) != (nodes, dim)] + [record]
                continue
            print(f"measuring {nodes:,} nodes, {dim}-d ...", file=sys.stderr, flush=True)
            done = subprocess.run(
                [sys.executable, __file__, "--threads", str(args.threads), "--knn", args.knn,
                 "--max-exact", str(args.max_exact), "--compare-epochs", str(args.compare_epochs),
                 "--measure", str(nodes), str(dim)],
                stdout=subprocess.PIPE, text=True, check=False,
            )
            if done.returncode != 0:
                raise SystemExit(f"measuring {nodes:,} nodes, {dim}-d failed (exit {done.returncode}); see above")
            record = {**json.loads(done.stdout.strip().splitlines()[-1]), "command": command}
            records = [r for r in records if (r["nodes"], r["dim"]) != (nodes, dim)] + [record]
    records.sort(key=lambda r: (r["dim"], r["nodes"]))
    text = markdown(records)
    atomic_write(args.out, text)
    atomic_write(Path(args.out).with_suffix(".json"), json.dumps(records, indent=1))
    print(text)


if __name__ == "__main__":
    main()
