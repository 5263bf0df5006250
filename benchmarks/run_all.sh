#!/usr/bin/env bash
# Every task x every model x 5 seeds under the evaluation protocol of BENCHMARKS.md, then
# BENCHMARKS.md. About 1.5 hours on 2 cores: the baselines and the relation learner run side by
# side, one torch thread each.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${MMGRAPH_DATA:=$(cd .. && pwd)/shared/data}"
export MMGRAPH_DATA
TASKS=emoji-image-text,emoji-style,emoji-crosslingual,emoji-group,digits-audio-image,digits-audio-label
BASELINES=cosine,siamese,fusion,attention-fusion,transfer,knn-transfer,logreg,label-transfer
.venv/bin/mmgraph bench --tasks "$TASKS" --models "$BASELINES" --seeds 5 --threads 1 --quiet \
    --out benchmarks/results/baselines &
.venv/bin/mmgraph bench --tasks "$TASKS" --models gnn --seeds 5 --threads 1 --quiet --out benchmarks/results/gnn
wait
.venv/bin/python benchmarks/report.py benchmarks/results/baselines benchmarks/results/gnn
