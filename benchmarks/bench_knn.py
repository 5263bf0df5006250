"""Speed and recall of the kNN methods against the float32 matrix-product floor.

For a self-kNN graph (k=10) of ``n`` clustered vectors (100 clusters in a 32-d latent space mapped
to ``dim`` dimensions, plus noise: structured like real embeddings) this measures, in CPU seconds
of one thread (steady on a shared machine, where wall times swing 2-3x with the load):

- the GEMM rate (a 4096 x 4096 x dim ``torch.mm``, before and after each timing) and the floor
  ``n**2 * dim`` multiply-adds at that rate;
- ``knn_cosine`` with every method, as a ratio to the floor, and its recall against exact
  (:func:`mmgraph.graph.knn_recall`, on the first 2,000 queries);
- the wrapper overhead of the faiss methods: ``knn_cosine`` over a raw faiss build and search
  with the same settings on the same normalised float32 array.

Usage:
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_knn.py --n 20000 --methods exact,flat,hnsw,ivf
"""

from __future__ import annotations

import argparse
import time

import faiss
import numpy as np
import torch

from mmgraph.graph import knn_cosine, knn_recall

K = 10


def clustered(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """Normalised float32 vectors with cluster structure and a 32-d latent space."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 2.0, size=(100, 32))
    latent = centres[rng.integers(0, 100, size=n)] + rng.normal(size=(n, 32))
    x = latent @ rng.normal(size=(32, dim)) + 0.5 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def gemm_rate(dim: int) -> float:
    """Multiply-adds per CPU second of a 4096 x 4096 x dim float32 torch.mm."""
    a, b = torch.randn(4096, dim), torch.randn(4096, dim)
    a @ b.T
    start = time.process_time()
    for _ in range(4):
        a @ b.T
    return 4 * 4096 * 4096 * dim / (time.process_time() - start)


def raw_faiss(method: str, x: np.ndarray) -> None:
    """The faiss calls knn_cosine makes, by hand: build the index, search k + 1 (self included)."""
    n, dim = x.shape
    if method == "flat":
        index = faiss.IndexFlatIP(dim)
    elif method == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = 128
    else:
        lists = max(1, min(round(4 * n**0.5), n // 39))
        index = faiss.index_factory(dim, f"IVF{lists},Flat", faiss.METRIC_INNER_PRODUCT)
        index.train(x[np.sort(np.random.default_rng(0).choice(n, size=min(n, 50 * lists), replace=False))])
        index.nprobe = 16
    index.add(x)
    index.search(x, K + 1)


def cpu_seconds(function) -> float:
    start = time.process_time()
    function()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--methods", default="exact,flat,hnsw,ivf")
    args = parser.parse_args()
    x = clustered(args.n, args.dim)
    exact = knn_cosine(x[:2000], x, K + 1, method="exact")[0]
    exact = torch.stack([row[row != i][:K] for i, row in enumerate(exact)])
    print(f"n={args.n} dim={args.dim} k={K} torch threads {torch.get_num_threads()}")
    print("| method | CPU s | GEMM rate (G madd/s) | x floor | recall | raw faiss CPU s | wrapper overhead |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for method in args.methods.split(","):
        before = gemm_rate(args.dim)
        start = time.process_time()
        indices, _ = knn_cosine(x, x, K, exclude_self=True, method=method)
        seconds = time.process_time() - start
        rate = (before + gemm_rate(args.dim)) / 2
        floor = args.n**2 * args.dim / rate
        recall = knn_recall(indices[:2000], exact)
        raw = overhead = "-"
        if method != "exact":
            raw_seconds = cpu_seconds(lambda m=method: raw_faiss(m, x))
            raw, overhead = f"{raw_seconds:.2f}", f"{seconds / raw_seconds - 1:+.1%}"
        cells = [method, f"{seconds:.2f}", f"{rate / 1e9:.1f}", f"{seconds / floor:.2f}", f"{recall:.3f}"]
        cells += [raw, overhead]
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
