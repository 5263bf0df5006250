"""``knn_cosine``'s ``auto`` against the exact path on structureless and on clustered vectors.

``auto`` decides from a probe above 31,600 nodes (:data:`mmgraph.graph.knn.AUTO_IVF_SHARE`); this
measures whether it is ever slower than exact, and by how much it gains where an index pays. Each
data set's kNN graph (k=10) is built with ``method="exact"``, ``"auto"``, ``"exact"``, ``"auto"``
(interleaved, so that warm-up and load changes fall on both) in one process, on one thread; the
rows give the shorter time of each, their ratio, what ``auto`` chose and its recall against exact.

    python benchmarks/knn_auto.py            # 40,000 x 384, writes benchmarks/results/knn-auto.{md,json}
    python benchmarks/knn_auto.py --nodes 60000 --out /tmp/knn
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path

import faiss
import numpy as np
import torch

from mmgraph.graph.knn import knn_graph, knn_recall
from mmgraph.io import atomic_write

K = 10


def vectors(kind: str, nodes: int, dim: int) -> np.ndarray:
    """Unit-free float32 rows: ``random`` (Gaussian, no structure) or ``clustered`` (200 Gaussian
    clusters of spread 0.3 around random centres, closer to what sentence or image encoders give)."""
    rng = np.random.default_rng(0)
    if kind == "random":
        return rng.normal(size=(nodes, dim)).astype(np.float32)
    centres = rng.normal(size=(200, dim))
    return (centres[rng.integers(0, 200, size=nodes)] + 0.3 * rng.normal(size=(nodes, dim))).astype(np.float32)


class _Chosen(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.methods: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "knn_method"):
            self.methods.append(record.knn_method)


def measure(kind: str, nodes: int, dim: int) -> dict:
    x = torch.from_numpy(vectors(kind, nodes, dim))
    log = logging.getLogger("mmgraph.graph.knn")
    chosen = _Chosen()
    log.addHandler(chosen)
    log.setLevel(logging.INFO)
    timings: dict[str, list[tuple[float, float]]] = {"auto": [], "exact": []}
    graphs = {}
    try:
        for method in ("exact", "auto", "exact", "auto"):  # interleaved: warm-up and load changes fall on both
            start, cpu = time.perf_counter(), time.process_time()
            graphs[method] = knn_graph(x, K, method=method, symmetric=False)
            timings[method].append((time.perf_counter() - start, time.process_time() - cpu))
    finally:
        log.removeHandler(chosen)
    (auto_seconds, auto_cpu), (exact_seconds, exact_cpu) = (min(timings[m]) for m in ("auto", "exact"))
    auto, exact = graphs["auto"], graphs["exact"]
    found, truth = auto[0][0].view(nodes, K), exact[0][0].view(nodes, K)  # row i: the neighbours of node i
    choice = f"{chosen.methods[0]} (probe)" if chosen.methods else "exact (size)"
    return {"data": kind, "nodes": nodes, "dim": dim, "auto_chose": choice,
            "auto_seconds": auto_seconds, "exact_seconds": exact_seconds, "ratio": auto_seconds / exact_seconds,
            "auto_cpu_seconds": auto_cpu, "exact_cpu_seconds": exact_cpu, "cpu_ratio": auto_cpu / exact_cpu,
            "recall": knn_recall(found, truth)}


def markdown(records: list[dict], threads: int) -> str:
    lines = [
        "# kNN `auto` against exact",
        "",
        f"Written by `python benchmarks/knn_auto.py` on {os.cpu_count()} cores, {threads} torch thread(s), "
        f"load average {os.getloadavg()[0]:.1f} at the end; k={K}, one process, "
        "`exact`, `auto`, `exact`, `auto` on the same data, the shorter time of each; "
        "CPU s: the process's CPU time (all threads), which other work on the machine disturbs less than wall time.",
        "",
        "| data | nodes | dim | auto chose | auto s | exact s | auto / exact | auto CPU s | exact CPU s | CPU ratio "
        "| recall |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        lines.append(f"| {r['data']} | {r['nodes']:,} | {r['dim']} | {r['auto_chose']} | {r['auto_seconds']:.1f} | "
                     f"{r['exact_seconds']:.1f} | {r['ratio']:.2f} | {r['auto_cpu_seconds']:.1f} | "
                     f"{r['exact_cpu_seconds']:.1f} | {r['cpu_ratio']:.2f} | {r['recall']:.3f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=40_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    faiss.omp_set_num_threads(args.threads)  # the index is built and searched on as many threads as exact
    records = []
    for kind in ("random", "clustered"):
        records.append(measure(kind, args.nodes, args.dim))
        print(json.dumps(records[-1]), flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "knn-auto.json", json.dumps(records, indent=1))
    atomic_write(out / "knn-auto.md", markdown(records, args.threads))
    print(markdown(records, args.threads))


if __name__ == "__main__":
    main()
