"""Prediction speed of a saved relation learner: load, encode, attach, score, top-10.

Two models, each fitted and saved by this script, then measured in a fresh process (so that the
peak memory is that of loading and predicting, not of training):

- ``openmoji-text``: the README's model (OpenMoji drawings -> English names, seed 0), asked for
  the names of held-out drawings against its catalogue of names;
- ``synthetic-100k``: the default GNN fitted (1 epoch: speed does not depend on training) on
  10,000 query samples linked to 10,000 of 100,000 candidate samples (384-d features each), asked
  for new random queries against all 100,000 candidates; saved twice from the one fit: with the
  learned score alone, and with the propagation terms chosen (restart 0.1, 10 steps, both weights
  1), so that each folder holds what its own choices need.

After loading: the *first call* (one new sample attached and ranked against every candidate, top-10:
what a user who loads a model to answer one question waits for, beyond loading) and a *second call*
(another new sample), then for one new sample and for a batch of 100: *encode* (the fitted encoder;
none for features given as vectors), *attach* (the ``k`` nearest training nodes, the new nodes'
representations and propagated signals: :meth:`GNNModel.scorer`), *score* (scores against every
candidate and the top-10); medians of repeated calls. The training graph's representations and
propagation are computed when the model is saved (*save s*, the folder's ``warm.*`` tensors: *warm
MB*), not at the first call. Writes ``benchmarks/results/predict-speed.md`` and ``.json``.

Usage:
    .venv/bin/python benchmarks/bench_predict.py [--repeats 5] [--threads 1] [--models-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from measure import machine_line, median_seconds, peak_rss
from torch import Tensor

from mmgraph.io import atomic_write

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
NUM_CANDIDATES = 100_000
NUM_QUERIES = 10_000
DIM = 384
BATCH = 100


def _synthetic_variants() -> dict:
    from mmgraph.models.gnn_model import GNNChoices

    return {"propagation off": GNNChoices(), "propagation on": GNNChoices(weights=(1.0, 1.0), alpha=0.1, steps=10)}


SYNTHETIC_VARIANTS = _synthetic_variants()
"""The choices each saved synthetic-100k folder holds (the one fit saved once per variant)."""


# ---------------------------------------------------------------------- fitting (parent process)
def fit_openmoji(folder: Path) -> dict:
    from mmgraph.pipeline import pipeline

    result = pipeline("openmoji-text", model="gnn", seed=0, progress=False)
    start = time.perf_counter()
    result.save(folder)
    saved = time.perf_counter() - start
    test = result.prepared.split.samples("test")
    drawings = test[test["modality"] == "openmoji"].sample(BATCH, random_state=0)["path"].tolist()
    return {"inputs": drawings, "modality": "openmoji", "train_seconds": result.timings["train_seconds"],
            "variants": {"": {"folder": "model", "save_seconds": saved}}}


def fit_synthetic(folder: Path) -> dict:
    from mmgraph.data.prepared import TrainView
    from mmgraph.models.gnn_model import GNNModel
    from mmgraph.predict import Predictor

    generator = torch.Generator().manual_seed(0)
    latent = torch.randn(NUM_CANDIDATES, 32, generator=generator)
    maps = [torch.randn(32, DIM, generator=generator) for _ in range(2)]
    texts = latent @ maps[1] + 0.5 * torch.randn(NUM_CANDIDATES, DIM, generator=generator)
    images = latent[:NUM_QUERIES] @ maps[0] + 0.5 * torch.randn(NUM_QUERIES, DIM, generator=generator)
    edge_type = ("image", "shows", "text")
    train = TrainView(
        task="synthetic-100k", kind="link", source="image", target_edge_type=edge_type, setting="inductive",
        node_ids={"image": np.array([f"i{i}" for i in range(NUM_QUERIES)], dtype=object),
                  "text": np.array([f"t{i}" for i in range(NUM_CANDIDATES)], dtype=object)},
        features={"image": images, "text": texts},
        train_rows={"image": torch.arange(NUM_QUERIES), "text": torch.arange(NUM_CANDIDATES)},
        links={edge_type: torch.stack([torch.arange(NUM_QUERIES), torch.arange(NUM_QUERIES)])},
        cold_link_types=(edge_type,),
    )
    start = time.perf_counter()
    model = GNNModel(epochs=1, seed=0).fit(train, progress=False)
    seconds = time.perf_counter() - start
    variants = {}
    for variant, choices in SYNTHETIC_VARIANTS.items():
        model.choices_ = choices
        start = time.perf_counter()
        Predictor(model, train, {}, task={"name": "synthetic-100k"}, payloads={}).save(folder / variant)
        variants[variant] = {"folder": variant, "save_seconds": time.perf_counter() - start}
    return {"modality": "image", "train_seconds": seconds, "variants": variants}


# ---------------------------------------------------------------------- measuring (child process)
def measure(folder: Path, spec: dict, repeats: int) -> dict:
    """Runs in a fresh process: load the folder, then time the first and second calls, encoding,
    attaching and scoring."""
    from mmgraph.predict import Predictor

    start = time.perf_counter()
    predictor = Predictor.load(folder)
    load_seconds = time.perf_counter() - start
    load_rss = peak_rss()
    model, train = predictor.model, predictor.train
    edge_type = train.target_edge_type
    modality = spec["modality"]
    reverse = modality != edge_type[0]
    target = edge_type[0] if reverse else edge_type[2]
    candidates = torch.arange(train.num_nodes(target))
    if spec.get("inputs"):
        inputs = spec["inputs"]
        encode = {1: lambda: predictor.encode(inputs[:1], modality), BATCH: lambda: predictor.encode(inputs, modality)}
        features = predictor.encode(inputs, modality)
    else:
        features = torch.randn(BATCH, train.features[modality].shape[1], generator=torch.Generator().manual_seed(1))
        encode = {}

    def one_question(sample: Tensor) -> Tensor:
        query = train.num_nodes(modality) + torch.arange(1)
        scores = model.scorer({modality: sample}).link_scores(edge_type, query, candidates, reverse=reverse)
        return scores.topk(10, dim=1).indices

    start = time.perf_counter()
    one_question(features[:1])
    first_call = time.perf_counter() - start
    first_call_rss = peak_rss()
    start = time.perf_counter()
    one_question(features[1:2])
    second_call = time.perf_counter() - start
    rows = []
    for size in (1, BATCH):
        batch = features[:size]

        def attach(batch=batch):
            return model.scorer({modality: batch.clone()})  # a new mapping: nothing cached for it

        scorer = attach()
        query = train.num_nodes(modality) + torch.arange(size)

        def score(scorer=scorer, query=query):
            return scorer.link_scores(edge_type, query, candidates, reverse=reverse).topk(10, dim=1)

        times = {
            "encode": median_seconds(encode[size], repeats) if size in encode else None,
            "attach": median_seconds(attach, repeats),
            "score": median_seconds(score, repeats),
        }
        rows.append({"batch": size, **times})
    size_bytes = sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())
    return {
        "load_seconds": load_seconds, "first_call_seconds": first_call, "second_call_seconds": second_call,
        "folder_bytes": size_bytes, "warm_bytes": _warm_bytes(Path(folder) / "weights.safetensors"),
        "candidates": int(candidates.numel()),
        "load_rss_bytes": load_rss, "first_call_rss_bytes": first_call_rss, "peak_rss_bytes": peak_rss(),
        "rows": rows,
    }


def _warm_bytes(path: Path) -> int:
    """Bytes of the ``warm.*`` tensors (what the first prediction would otherwise compute) in a weights
    file, from the safetensors header (8 bytes of its length, then JSON with each tensor's offsets)."""
    with open(path, "rb") as file:
        header = json.loads(file.read(int.from_bytes(file.read(8), "little")))
    return sum(end - start for k, v in header.items() if k.startswith("warm.") for start, end in [v["data_offsets"]])


# ---------------------------------------------------------------------- report
def _ms(seconds: float | None, per: int = 1) -> str:
    return "-" if seconds is None else f"{1000 * seconds / per:.1f}"


def markdown(records: list[dict], threads: int) -> str:
    lines = [
        "# Prediction speed",
        "",
        machine_line(threads),
        "- command: `.venv/bin/python benchmarks/bench_predict.py --threads 1` (each model measured in a fresh process "
        "after loading its saved folder; medians of repeated calls)",
        "- *first call*: the first question after loading (one new sample attached and ranked against every "
        "candidate, top-10), *second call*: another one; *save s*: saving the folder, which computes what the "
        "first call needs of the training graph (layer states, propagated signals: *warm MB* of the folder)",
        "",
        "| model | candidates | load s | first call s | second call s | save s | folder MB | warm MB "
        "| peak RSS MB: load / first call / end |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in records:
        lines.append(
            f"| {r['name']} | {r['candidates']:,} | {r['load_seconds']:.2f} | {r['first_call_seconds']:.2f} | "
            f"{r['second_call_seconds']:.2f} | {r['save_seconds']:.1f} | {r['folder_bytes'] / 2**20:.1f} | "
            f"{r['warm_bytes'] / 2**20:.1f} | {r['load_rss_bytes'] / 2**20:.0f} / "
            f"{r['first_call_rss_bytes'] / 2**20:.0f} / {r['peak_rss_bytes'] / 2**20:.0f} |"
        )
    lines += [
        "",
        "- *attach*: nearest training nodes, new nodes' representations and propagated signals; *score*: every "
        "candidate scored and the top-10 taken; *per sample*: (attach + score) / batch",
        "",
        "| model | batch | encode ms | attach ms | score ms | attach+score ms per sample |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in records:
        for row in r["rows"]:
            per_sample = _ms(row["attach"] + row["score"], row["batch"])
            lines.append(
                f"| {r['name']} | {row['batch']} | {_ms(row['encode'])} | {_ms(row['attach'])} | "
                f"{_ms(row['score'])} | {per_sample} |"
            )
    target = next((r for r in records if r["name"] == "synthetic-100k, propagation on"), None)
    if target is not None:
        row = next(r for r in target["rows"] if r["batch"] == BATCH)
        per_sample = 1000 * (row["attach"] + row["score"]) / BATCH
        first = target["first_call_seconds"]
        lines += [
            "",
            f"Targets for {NUM_CANDIDATES:,} candidates, propagation on: first call after loading under 2 s (issue "
            f"23): {first:.2f} s ({'met' if first < 2 else 'NOT met'}); attach and score under 20 ms per sample in a "
            f"batch of {BATCH} (issue 10): {per_sample:.1f} ms ({'met' if per_sample < 20 else 'NOT met'}); load "
            f"under 2 s: {target['load_seconds']:.2f} s ({'met' if target['load_seconds'] < 2 else 'NOT met'}).",
        ]
    for r in records:
        lines.append(f"- {r['name']}: fitted in {r['train_seconds']:.0f} s before saving")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="calls per timing (the median is reported)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a busy machine)")
    parser.add_argument("--out", default=str(RESULTS / "predict-speed.md"), help="the Markdown table to write")
    parser.add_argument("--models-dir", help="keep the fitted models here and measure them again on later calls "
                        "(default: fit anew in a temporary folder)")
    parser.add_argument("--measure", nargs=2, metavar=("FOLDER", "SPEC"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.measure:  # the child process
        folder, spec = args.measure
        print(json.dumps(measure(Path(folder), json.loads(spec), args.repeats)))
        return
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        models_dir = Path(args.models_dir or tmp)
        for name, fit in (("openmoji-text", fit_openmoji), ("synthetic-100k", fit_synthetic)):
            folder = models_dir / name
            if (folder / "bench.json").exists():  # fitted by an earlier call with this --models-dir
                spec = json.loads((folder / "bench.json").read_text())
            else:
                print(f"fitting {name} ...", file=sys.stderr)
                spec = fit(folder)
                atomic_write(folder / "bench.json", json.dumps(spec))
            for variant, saved in spec["variants"].items():
                label = f"{name}, {variant}" if variant else name
                print(f"measuring {label} ...", file=sys.stderr)
                done = subprocess.run(
                    [sys.executable, __file__, "--repeats", str(args.repeats), "--threads", str(args.threads),
                     "--measure", str(folder / saved["folder"]),
                     json.dumps({k: v for k, v in spec.items() if k in ("inputs", "modality")})],
                    capture_output=True, text=True, check=False,
                )
                if done.returncode != 0:
                    raise SystemExit(f"measuring {label} failed:\n{done.stderr}")
                record = json.loads(done.stdout.strip().splitlines()[-1])
                records.append({"name": label, "train_seconds": spec["train_seconds"],
                                "save_seconds": saved["save_seconds"], **record})
    text = markdown(records, args.threads)
    atomic_write(args.out, text)
    atomic_write(Path(args.out).with_suffix(".json"), json.dumps(records, indent=1))
    print(text)


if __name__ == "__main__":
    main()
