"""The GNN with the ridge-map score term (``linear_map=True``), test records for ``compare_runs.py``.

Kept apart from the records BENCHMARKS.md is built from: the default GNN has the term off.
    python benchmarks/trials/run_map.py TASKS SEEDS OUT
    python benchmarks/compare_runs.py benchmarks/results/gnn-hub OUT
"""
import sys

import torch

from mmgraph.benchmark import benchmark

torch.set_num_threads(1)
benchmark(sys.argv[1].split(","), ["gnn"], [int(s) for s in sys.argv[2].split(",")], out=sys.argv[3],
          model_options={"gnn": {"linear_map": True}}, progress=False)
