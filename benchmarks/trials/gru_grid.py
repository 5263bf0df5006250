"""Choosing the settings of the gru-logmel encoder on validation (never test), seed 0.

For each setting, a probe model is fitted through the pipeline and scored on the validation
samples (the callback models select their own settings with); prints one JSON line per run.
Used for the GRU paragraph of BENCHMARKS.md "What was tried":
    python benchmarks/trials/gru_grid.py [TASKS [CACHE [OBJECTIVE:HIDDEN:EPOCHS,...]]] > gru-grid.jsonl
"""
import itertools
import json
import os
import sys
import time

import torch

os.environ.setdefault("MMGRAPH_DATA", "/work/shared/data")
from mmgraph.encoders import EmbeddingCache  # noqa: E402
from mmgraph.pipeline import pipeline, validator  # noqa: E402

torch.set_num_threads(1)
PROBES = {"digits-audio-image": ("component-class", "knn-transfer"), "digits-audio-label": ("logreg", "label-transfer")}
GRID = [
    {"objective": o, "hidden_dim": h, "epochs": e}
    for o, h, e in itertools.product(("classes", "apc"), (64, 128), (10, 30))
]
tasks = sys.argv[1].split(",") if len(sys.argv) > 1 else list(PROBES)
cache = EmbeddingCache(sys.argv[2] if len(sys.argv) > 2 else "/tmp/gru/cache")
if len(sys.argv) > 3:  # a part of the grid, as objective:hidden_dim:epochs,...
    GRID = [{"objective": o, "hidden_dim": int(h), "epochs": int(e)}
            for o, h, e in (item.split(":") for item in sys.argv[3].split(","))]
for task, setting in itertools.product(tasks, [None, *GRID]):
    spec = {"name": "gru-logmel", **setting} if setting else "logmel"
    for model in PROBES[task]:
        start = time.perf_counter()
        result = pipeline(task, model=model, encoders={"audio": spec}, seed=0, cache=cache, progress=False)
        val = validator(result.prepared)(result.fitted)
        key = "mrr" if "mrr" in val else "accuracy"
        print(json.dumps({"task": task, "encoder": spec, "model": model, f"val_{key}": round(val[key], 4),
                          "seconds": round(time.perf_counter() - start, 1)}), flush=True)
