"""WN18RR knowledge-graph completion beside PyKEEN: the same triples, the same CPU budget, two evaluators.

Trains mmgraph's registered kg models as ``mmgraph run --task wn18rr`` does (``mmgraph-rgcn``,
``mmgraph-compgcn``, ``mmgraph-distmult`` run ``kg-rgcn``, ``kg-compgcn``, ``kg-none``: entity inputs
from the MiniLM features of each entity's lemma and gloss plus a learned embedding; see
``MMGRAPH_SPECS``) and PyKEEN's RotatE, DistMult, R-GCN and CompGCN on the WN18RR triples of
:func:`mmgraph.datasets.wn18rr_triples` (train 86,835 including its 7 self-loops; entity ids from all
files, as PyKEEN's own ``WN18RR`` dataset: the entities of no training triple keep their initial
embeddings), each in this one process until it has used ``--minutes`` of CPU time (all its threads
together, ``time.process_time``; with ``--threads 2`` on an idle machine that is about half as many
wall minutes). Each trained model is saved before it is evaluated, then ranked on the 3,134 test
triples, filtered with all 93,003 true triples, realistic ranks, both sides, by mmgraph's
:func:`mmgraph.evaluation.evaluate_triples` and by PyKEEN's ``RankBasedEvaluator`` on the same scores
(``model.predict``), in bounded memory (``--eval-batch`` queries x ``--slice`` entities at a time).
Metrics are given for the full test set and for the 2,924 test triples whose entities all occur in
training ("known"). The table's numbers come from mmgraph's evaluator; the column "PyKEEN ev." is
PyKEEN's filtered realistic MRR of the same scores, as a check, for the PyKEEN models only (its
evaluator calls a PyKEEN model's ``predict``; mmgraph's models are ranked by mmgraph's evaluator alone).

mmgraph's models select their epoch on the filtered MRR of the 3,034 validation triples (filtered
with train and val), and that validation counts in their CPU budget; the MiniLM features are read
from mmgraph's embedding cache (encoding the 40,943 texts once is not counted).

Settings, each close to its published one (cited in ``SPECS``) and trained for far fewer steps:
the budget, not the epoch count of the paper, ends training.

Resumable: a model's checkpoint (weights, optimizer, epochs, CPU seconds used) is written to
``--work`` after every epoch and when the budget ends; a killed run started again with the same
arguments continues where it stopped: a model still training resumes from its last epoch, a trained
model is evaluated without training, an evaluated model is skipped.

Usage::

    pip install 'mmgraph[kg]'
    MMGRAPH_DATA=../shared/data .venv/bin/python benchmarks/wn18rr_vs_pykeen.py \\
        [--models mmgraph-compgcn,...,pykeen-rotate,pykeen-distmult,pykeen-rgcn,pykeen-compgcn] [--minutes 20] \\
        [--threads 2]

Writes ``--out`` (default ``benchmarks/results/wn18rr``): ``kg-records.json`` (every record; not
``results.json``, the name of ``mmgraph bench``'s run records, which the report and notebooks read) and
``results.md`` (the table).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from measure import machine_line, peak_rss, reset_peak
from tqdm import tqdm

from mmgraph.datasets import cache_dir, wn18rr_triples
from mmgraph.evaluation import KnownTriples, evaluate_triples
from mmgraph.io import atomic_write
from mmgraph.pipeline import entity_features

HERE = Path(__file__).resolve().parent
KS = (1, 3, 10)  # the Hits@k of PyKEEN's evaluator read beside mmgraph's registered hits@1, hits@3, hits@10


@dataclass(frozen=True)
class Spec:
    """One PyKEEN model and how it is trained."""

    model: str  # the pykeen.models class
    model_kwargs: dict[str, Any]
    loop: str  # "slcwa" (sampled negatives) or "lcwa" (1-N: every entity scored for each (h, r))
    lr: float  # Adam
    batch_size: int
    reference: str  # where the settings come from and the published filtered test MRR on WN18RR
    inverse_triples: bool = False  # train on (t, r^-1, h) too; heads are then scored through r^-1
    loop_kwargs: dict[str, Any] = field(default_factory=dict)  # negative sampler
    train_kwargs: dict[str, Any] = field(default_factory=dict)  # label smoothing, sampler, clipping


SPECS: dict[str, Spec] = {
    "pykeen-rotate": Spec(
        "RotatE",
        dict(embedding_dim=500, entity_initializer="uniform", relation_initializer="init_phases",
             relation_constrainer="complex_normalize", loss="nssa",
             loss_kwargs=dict(reduction="mean", adversarial_temperature=0.5, margin=6)),
        "slcwa", 5e-5, 512,
        "Sun et al. 2019, best_config.sh of DeepGraphLearning/KnowledgeGraphEmbedding as PyKEEN's "
        "experiments/rotate/sun2019_rotate_wn18rr.json: 500 complex dims, 1,024 negatives, self-adversarial "
        "temperature 0.5, margin 6, Adam 5e-5, batch 512 (80,000 steps there); published MRR 0.476",
        loop_kwargs=dict(negative_sampler="basic", negative_sampler_kwargs=dict(num_negs_per_pos=1024)),
    ),
    "pykeen-distmult": Spec(
        "DistMult",
        dict(embedding_dim=200, entity_constrainer=None, regularizer=None, loss="BCEWithLogits"),
        "lcwa", 0.003, 128,
        "Dettmers et al. 2018 (ConvE paper; TimDettmers/ConvE main.py defaults): 200 dims, 1-N scoring with "
        "inverse relations, binary cross-entropy, label smoothing 0.1, Adam 0.003, batch 128 (1,000 epochs "
        "there); published MRR 0.43",
        inverse_triples=True,
        train_kwargs=dict(label_smoothing=0.1),
    ),
    "pykeen-rgcn": Spec(
        "RGCN",
        dict(embedding_dim=200, num_layers=1, base_entity_initializer="xavier_uniform",
             relation_initializer="xavier_uniform", interaction="distmult", decomposition="bases",
             decomposition_kwargs=dict(num_bases=2), edge_dropout=0.4, self_loop_dropout=0.2,
             edge_weighting="inverse_in_degree", regularizer="lp", regularizer_kwargs=dict(weight=0.01),
             loss="BCEWithLogits"),
        "slcwa", 0.01, 30000,
        "Schlichtkrull et al. 2018 as PyKEEN's experiments/rgcn/schlichtkrull2018_rgcn_wn18.yaml (the paper has "
        "no WN18RR run): 1 layer, 200 dims, 2 bases, DistMult decoder, edge dropout 0.4, 1 negative, graph "
        "batches of 30,000 edges (Schlichtkrull sampler), Adam 0.01, gradient norm 1 (500 epochs there); "
        "published MRR on WN18RR none (0.814 on WN18)",
        loop_kwargs=dict(negative_sampler="basic", negative_sampler_kwargs=dict(num_negs_per_pos=1)),
        train_kwargs=dict(sampler="schlichtkrull", gradient_clipping_max_norm=1.0),
    ),
    "pykeen-compgcn": Spec(
        "CompGCN",
        dict(embedding_dim=200, encoder_kwargs=dict(num_layers=1, layer_kwargs=dict(
            composition="MultiplicationCompositionModule", dropout=0.1)), interaction="DistMult",
             loss="BCEWithLogits"),
        "lcwa", 0.001, 128,
        "Vashishth et al. 2020 (malllabiisc/CompGCN run.py defaults): 1 layer, 200 dims, GCN dropout 0.1, "
        "1-N scoring with inverse relations, label smoothing 0.1, Adam 0.001, batch 128 (500 epochs there); "
        "here the multiplication composition and the DistMult decoder (PyKEEN's default) instead of circular "
        "correlation and ConvE, which gave the published MRR 0.479",
        inverse_triples=True,
        train_kwargs=dict(label_smoothing=0.1),
    ),
}


@dataclass(frozen=True)
class MMGraphSpec:
    """One mmgraph model: the :class:`~mmgraph.models.kg.KGConfig` settings (the budget aside)."""

    settings: dict[str, Any]
    reference: str


MMGRAPH_SPECS: dict[str, MMGraphSpec] = {
    "mmgraph-compgcn": MMGraphSpec(
        dict(inputs="both", conv="compgcn", decoder="distmult", dim=200, num_layers=1, composition="mult",
             loss="softmax", label_smoothing=0.1, lr=0.003, batch_size=1024),
        "KGModel: MiniLM text features (lemma + gloss) projected plus a learned embedding, one CompGCN layer "
        "(multiplication composition, 200 dims, as PyKEEN's CompGCN here), DistMult decoder, 1-N softmax "
        "cross-entropy with inverse relations, label smoothing 0.1, Adam 0.003, 1,024 queries per step (the "
        "graph pass is paid once per step), early stopping on validation MRR",
    ),
    "mmgraph-rgcn": MMGraphSpec(
        dict(inputs="both", conv="rgcn", decoder="distmult", dim=200, num_layers=1, num_blocks=10,
             loss="softmax", label_smoothing=0.1, lr=0.003, batch_size=1024),
        "KGModel: MiniLM text features plus a learned embedding, one R-GCN layer (PyG RGCNConv, 10 diagonal "
        "blocks, inverse relations as their own types), DistMult decoder, 1-N softmax cross-entropy, label "
        "smoothing 0.1, Adam 0.003, 1,024 queries per step, early stopping on validation MRR",
    ),
    "mmgraph-distmult": MMGraphSpec(
        dict(inputs="both", conv="none", decoder="distmult", dim=200, loss="softmax", label_smoothing=0.1,
             lr=0.003, batch_size=256),
        "KGModel without message passing: MiniLM text features plus a learned embedding, DistMult decoder, "
        "1-N softmax cross-entropy with inverse relations, label smoothing 0.1, Adam 0.003, batch 256, early "
        "stopping on validation MRR",
    ),
}


def _mmgraph_model(spec: MMGraphSpec, triples, args: argparse.Namespace):
    """The registered mmgraph model of ``spec`` (``kg-<conv>``, its budget and seed set) and its
    training view (the MiniLM features of every entity unless the model reads embeddings only)."""
    from mmgraph.data.triples import TripleView
    from mmgraph.models import MODELS

    settings = {**spec.settings, "cpu_minutes": args.minutes, "seed": args.seed}
    model = MODELS.get(f"kg-{settings['conv']}")(**settings)
    features = entity_features(triples)[0] if model.settings.inputs != "embedding" else None
    return model, TripleView("wn18rr", triples["train"], triples.num_entities, triples.num_relations, features)


def train_mmgraph(name: str, spec: MMGraphSpec, triples, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Fits the registered model as ``mmgraph run`` does (early stopping on the validation MRR, or the CPU
    budget), resuming from ``work``; saves it there (``model/``) before any evaluation."""
    from mmgraph.pipeline.kg import triple_validator
    from mmgraph.training import Checkpoint
    from mmgraph.training.checkpoint import fingerprint

    model, view = _mmgraph_model(spec, triples, args)
    checkpoint = Checkpoint(work, every=1, fingerprint=fingerprint(
        {"settings": model.config(), "train": len(triples["train"]), "name": name}))
    reset_peak()
    wall_start = time.perf_counter()
    model.fit(view, validate=triple_validator(triples), checkpoint=checkpoint)
    model.save(work / "model")
    trained = model.scorer().trained_
    history = trained.history
    print(f"[{name}] {len(history)} epochs, {model.chosen_['steps']} steps in this process, best validation MRR "
          f"{trained.best_score} at epoch {trained.best_epoch}", file=sys.stderr)
    return {"epochs_completed": len(history), "steps": model.chosen_["steps"],
            "cpu_seconds": history[-1]["cpu_seconds"], "wall_seconds": time.perf_counter() - wall_start,
            "peak_bytes": peak_rss(), "history": history, "best_validation_mrr": trained.best_score,
            "best_epoch": trained.best_epoch}


def evaluate_mmgraph(name: str, spec: MMGraphSpec, triples, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Ranks the test triples with the saved model (loaded as ``mmgraph predict`` loads one) through
    mmgraph's evaluator."""
    fitted, view = _mmgraph_model(spec, triples, args)
    model = type(fitted).load(work / "model", view).scorer()
    test = triples["test"]
    known = KnownTriples(triples.all_triples(), num_entities=triples.num_entities,
                         num_relations=triples.num_relations)
    reset_peak()
    start = time.perf_counter()
    ours = evaluate_triples(model.score_tails, model.score_heads, test, known,
                            known_entities=triples.entities_of("train"), batch_size=args.eval_batch)
    return {"mmgraph_evaluator": ours, "mmgraph_evaluator_seconds": time.perf_counter() - start,
            "peak_bytes": peak_rss()}


class BudgetSpent(Exception):
    """Raised before a batch once the model has used its CPU time."""


def _budget_callback(deadline: float):
    """A PyKEEN training callback that stops before a batch past ``deadline`` (process CPU seconds) and counts
    the optimizer steps taken (``.steps``)."""
    from pykeen.training.callbacks import TrainingCallback

    class CPUBudget(TrainingCallback):
        steps = 0

        def pre_batch(self, **kwargs: Any) -> None:
            if time.process_time() >= deadline:
                raise BudgetSpent

        def post_batch(self, **kwargs: Any) -> None:
            self.steps += 1

    return CPUBudget()


def build(spec: Spec, triples, seed: int):
    """The PyKEEN triples factory, model and training loop of one spec."""
    import pykeen.models
    from pykeen.training import LCWATrainingLoop, SLCWATrainingLoop
    from pykeen.triples import CoreTriplesFactory

    factory = CoreTriplesFactory.create(
        triples["train"], num_entities=triples.num_entities, num_relations=triples.num_relations,
        create_inverse_triples=spec.inverse_triples,
    )
    model = getattr(pykeen.models, spec.model)(triples_factory=factory, random_seed=seed, **spec.model_kwargs)
    optimizer = torch.optim.Adam(model.get_grad_params(), lr=spec.lr)
    loop_class = LCWATrainingLoop if spec.loop == "lcwa" else SLCWATrainingLoop
    loop = loop_class(model=model, triples_factory=factory, optimizer=optimizer,
                      automatic_memory_optimization=False, **spec.loop_kwargs)
    return factory, model, loop


def train(name: str, spec: Spec, triples, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Trains until the CPU budget is used, resuming from ``work``; saves the model; returns the record."""
    factory, model, loop = build(spec, triples, args.seed)
    checkpoint_path = work / "checkpoint.pt"
    state = {"epochs": 0, "steps": 0, "cpu_seconds": 0.0, "wall_seconds": 0.0, "peak_bytes": 0, "losses": []}
    if checkpoint_path.exists():
        checkpoint = torch.load(checkpoint_path, weights_only=True)
        model.load_state_dict(checkpoint["model"])
        loop.optimizer.load_state_dict(checkpoint["optimizer"])
        state = checkpoint["state"]
        loop._epoch = state["epochs"]  # PyKEEN numbers epochs from here; it has no public setter
        print(f"[{name}] resuming after epoch {state['epochs']}, {state['cpu_seconds'] / 60:.1f} CPU-min used",
              file=sys.stderr)
    budget = args.minutes * 60.0
    reset_peak()
    finished = state["cpu_seconds"] >= budget
    while not finished:
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        budget_callback = _budget_callback(cpu_start + budget - state["cpu_seconds"])
        try:
            losses = loop.train(
                factory, num_epochs=state["epochs"] + 1, continue_training=state["steps"] > 0,
                batch_size=spec.batch_size, use_tqdm=False, use_tqdm_batch=True,
                callbacks=[budget_callback], **spec.train_kwargs,
            )
            state["losses"].append(float(losses[-1]))
        except BudgetSpent:
            finished = True  # the model keeps the updates of the last, partial epoch
        state["epochs"] = loop._epoch
        state["steps"] += budget_callback.steps
        state["cpu_seconds"] += time.process_time() - cpu_start
        state["wall_seconds"] += time.perf_counter() - wall_start
        state["peak_bytes"] = max(state["peak_bytes"], peak_rss())
        finished = finished or state["cpu_seconds"] >= budget
        saved = {"model": model.state_dict(), "optimizer": loop.optimizer.state_dict(), "state": state}
        atomic_write(checkpoint_path, lambda file, saved=saved: torch.save(saved, file))
        loss = f", loss {state['losses'][-1]:.4f}" if state["losses"] else ""
        print(f"[{name}] {state['epochs']} epochs, {state['steps']} steps{' (budget spent)' if finished else ''}: "
              f"{state['cpu_seconds'] / 60:.1f} of {args.minutes:g} CPU-min, {state['wall_seconds'] / 60:.1f} "
              f"wall-min{loss}", file=sys.stderr)
    torch.save(model.state_dict(), work / "model.pt")  # the trained model, before any evaluation
    return {"epochs_completed": state["epochs"], "steps": state["steps"], "cpu_seconds": state["cpu_seconds"],
            "wall_seconds": state["wall_seconds"], "peak_bytes": state["peak_bytes"], "losses": state["losses"]}


def scorers(model, slice_size: int, progress: tqdm) -> tuple[Callable, Callable]:
    """mmgraph's score functions over a PyKEEN model: the very ``predict`` its evaluator calls."""

    def score_tails(head: torch.Tensor, relation: torch.Tensor) -> torch.Tensor:
        progress.update(len(head))
        return model.predict(torch.stack([head, relation], 1), target="tail", full_batch=False, slice_size=slice_size)

    def score_heads(tail: torch.Tensor, relation: torch.Tensor) -> torch.Tensor:
        progress.update(len(tail))
        return model.predict(torch.stack([relation, tail], 1), target="head", full_batch=False, slice_size=slice_size)

    return score_tails, score_heads


def evaluate(name: str, spec: Spec, triples, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Ranks the test triples with the saved model through both evaluators."""
    from pykeen.evaluation import RankBasedEvaluator

    _, model, _ = build(spec, triples, args.seed)
    model.load_state_dict(torch.load(work / "model.pt", weights_only=True))
    model.eval()
    test = triples["test"]
    known = KnownTriples(triples.all_triples(), num_entities=triples.num_entities,
                         num_relations=triples.num_relations)
    reset_peak()
    start = time.perf_counter()
    with torch.inference_mode(), tqdm(total=2 * len(test), desc=f"{name}: mmgraph evaluator", unit="query") as bar:
        ours = evaluate_triples(*scorers(model, args.slice, bar), test, known,
                                known_entities=triples.entities_of("train"), batch_size=args.eval_batch)
    ours_seconds = time.perf_counter() - start
    start = time.perf_counter()
    evaluator = RankBasedEvaluator(filtered=True)
    results = evaluator.evaluate(
        model, test, batch_size=args.eval_batch, slice_size=args.slice,
        additional_filter_triples=[triples["train"], triples["val"]], tqdm_kwargs=dict(desc=f"{name}: PyKEEN"),
    )
    theirs = {}  # mmgraph's keys: "mrr" (both sides), "tail/mrr", "head/hits@10", ...
    for prefix, side in (("", "both"), ("tail/", "tail"), ("head/", "head")):
        theirs[f"{prefix}mrr"] = float(results.get_metric(f"{side}.realistic.inverse_harmonic_mean_rank"))
        for k in KS:
            theirs[f"{prefix}hits@{k}"] = float(results.get_metric(f"{side}.realistic.hits_at_{k}"))
    return {"mmgraph_evaluator": ours, "pykeen_evaluator": theirs,
            "evaluator_max_abs_difference": max(abs(ours[key] - value) for key, value in theirs.items()),
            "mmgraph_evaluator_seconds": ours_seconds, "pykeen_evaluator_seconds": time.perf_counter() - start,
            "peak_bytes": peak_rss()}


def write_table(records: dict[str, Any], out: Path) -> None:
    """The markdown table of every model evaluated so far, from ``kg-records.json``'s records."""
    first = next(iter(records.values()), None)
    if first is None:
        out.write_text("## WN18RR: mmgraph beside PyKEEN\n\nNo model has been trained yet.\n", encoding="utf-8")
        return
    gib = 2**30
    lines = [
        "## WN18RR: mmgraph beside PyKEEN",
        "",
        first.get("machine", ""),
        f"- budget: {first.get('minutes', '?'):g} CPU-minutes of training per model (all threads of one process "
        f"with {first.get('threads', '?')} torch threads); command: `{first.get('command', '')}`",
        "- filtered realistic ranks of every entity as head and as tail, mean of both sides, by mmgraph's "
        "evaluator; known = the 2,924 of 3,134 test triples whose entities all occur in training; PyKEEN ev. = "
        "PyKEEN's RankBasedEvaluator on the same scores (filtered realistic MRR, full test; PyKEEN models only)",
        "- entity ids from all files (PyKEEN's own WN18RR does the same): a structure-only model scores the "
        "210 other test triples with untrained embeddings",
        "",
        "| model | library | MRR | H@1 | H@3 | H@10 | MRR known | H@1 known | H@3 known | H@10 known "
        "| PyKEEN ev. | epochs (steps) | train CPU-min | train wall-min | peak GiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for record in records.values():
        if "evaluation" not in record:
            continue
        ours, training = record["evaluation"]["mmgraph_evaluator"], record["training"]
        cells = [f"{ours[key]:.3f}" for key in ("mrr", "hits@1", "hits@3", "hits@10")]
        cells += [f"{ours['known_entities/' + key]:.3f}" for key in ("mrr", "hits@1", "hits@3", "hits@10")]
        theirs = record["evaluation"].get("pykeen_evaluator")
        cells.append(f"{theirs['mrr']:.3f}" if theirs else "-")
        cells.append(f"{training['epochs_completed']} ({training['steps']})")
        cells.append(f"{training['cpu_seconds'] / 60:.1f} | {training['wall_seconds'] / 60:.1f}")
        cells.append(f"{max(training['peak_bytes'], record['evaluation']['peak_bytes']) / gib:.1f}")
        lines.append(f"| {record['model']} | {record['library']} | " + " | ".join(cells) + " |")
    lines += ["", "Settings and their sources:", ""]
    lines += [f"- {record['model']} ({record['library']}): {record['reference']}" for record in records.values()]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def save_records(records: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "kg-records.json", json.dumps(records, indent=1))
    write_table(records, out / "results.md")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    choices = [*MMGRAPH_SPECS, *SPECS]
    parser.add_argument("--models", default=",".join(choices), help=f"comma-separated, among {choices}")
    parser.add_argument("--minutes", type=float, default=20.0, help="CPU-minutes of training per model")
    parser.add_argument("--threads", type=int, default=2, help="torch threads of this one process")
    parser.add_argument("--data", default=None, help="the data folder (default MMGRAPH_DATA)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "wn18rr")
    parser.add_argument("--work", type=Path, default=None,
                        help="checkpoints and trained models (default the mmgraph cache, wn18rr_vs_pykeen/)")
    parser.add_argument("--eval-batch", type=int, default=32, help="test triples scored at once")
    parser.add_argument("--slice", type=int, default=4096, help="entities scored at once within a batch")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    unknown = sorted(set(names) - set(choices))
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose among {choices}")
    import pykeen

    torch.set_num_threads(args.threads)
    triples = wn18rr_triples(args.data)
    work_root = args.work or cache_dir("wn18rr_vs_pykeen")
    results = args.out / "kg-records.json"
    records = json.loads(results.read_text(encoding="utf-8")) if results.exists() else {}
    import mmgraph

    for name in names:
        spec = MMGRAPH_SPECS.get(name) or SPECS[name]
        ours_side = name in MMGRAPH_SPECS
        work = work_root / f"{name}-seed{args.seed}-{args.minutes:g}min"
        work.mkdir(parents=True, exist_ok=True)
        record = records.get(name, {})
        if record.get("minutes") not in (None, args.minutes):
            print(f"[{name}] the record in {results} was trained under {record['minutes']:g} CPU-min, not "
                  f"{args.minutes:g}: training it anew", file=sys.stderr)
            record = {}
        record.update(
            model=name.removeprefix("mmgraph-") if ours_side else spec.model,
            library=f"mmgraph {mmgraph.__version__}" if ours_side else f"PyKEEN {pykeen.get_version()}",
            spec=asdict(spec),
            reference=spec.reference, minutes=args.minutes, threads=args.threads, seed=args.seed,
            machine=machine_line(args.threads),
            command="python benchmarks/wn18rr_vs_pykeen.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        )
        if "training" not in record:
            record["training"] = (train_mmgraph if ours_side else train)(name, spec, triples, args, work)
            records[name] = record
            save_records(records, args.out)
        if "evaluation" not in record:
            record["evaluation"] = (evaluate_mmgraph if ours_side else evaluate)(name, spec, triples, args, work)
            records[name] = record
            save_records(records, args.out)
        ours = record["evaluation"]["mmgraph_evaluator"]
        difference = record["evaluation"].get("evaluator_max_abs_difference")
        check = "" if difference is None else f"; evaluators differ by at most {difference:.2e}"
        print(f"[{name}] test MRR {ours['mrr']:.4f} (known entities {ours['known_entities/mrr']:.4f}){check}",
              file=sys.stderr)
    save_records(records, args.out)
    print(f"wrote {args.out / 'kg-records.json'} and {args.out / 'results.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
