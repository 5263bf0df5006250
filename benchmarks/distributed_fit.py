"""Fits the GNN in mini-batch mode on synthetic data, in one process or several under torchrun.

    torchrun --standalone --nproc_per_node 2 benchmarks/distributed_fit.py --num-items 400 --out run

Every rank loads the data and trains on its share of each epoch's mini-batches
(:mod:`mmgraph.training.distributed`); rank 0 prints the test metrics and writes
``OUT/metrics.json``. With ``--out``, every rank also saves its fitted model to ``OUT/rank<r>``
(to check that all ranks end with the same weights). Started with plain ``python``, it is the
single-process run of the same settings.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from mmgraph.datasets import load
from mmgraph.pipeline import pipeline
from mmgraph.tasks import Task
from mmgraph.training.distributed import context, is_main_process, shutdown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-items", type=int, default=400, help="synthetic items (one sample per modality)")
    parser.add_argument("--dim", type=int, default=16, help="feature dimension")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--minibatch-size", type=int, default=64, help="links per step, shared among the processes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="folder for metrics.json (rank 0) and each rank's saved model")
    args = parser.parse_args()

    ctx = context()  # starts the process group under torchrun; nothing in a plain process
    dataset = load("synthetic", num_items=args.num_items, dim=args.dim, modalities=("a", "b"), seed=args.seed)
    task = Task(name="synthetic-ab", description="synthetic a <-> b, cold items", kind="link", source="a", target="b")
    options = {"training": "minibatch", "minibatch_size": args.minibatch_size, "epochs": args.epochs}
    result = pipeline(task, dataset=dataset, seed=args.seed, progress=False, cache=None, model_options=options)
    if args.out:
        out = Path(args.out)
        result.fitted.save(out / f"rank{ctx.rank}")
        if is_main_process():
            record = {"world_size": ctx.world_size, "metrics": result.metrics, "options": options}
            (out / "metrics.json").write_text(json.dumps(record, indent=2))
    if is_main_process():
        print(f"{ctx.world_size} process(es): test mrr {result.metrics['mrr']:.4f}, "
              f"hits@10 {result.metrics['hits@10']:.4f}, train {result.timings['train_seconds']:.1f}s")
    shutdown()


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
