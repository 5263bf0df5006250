import sys, time, torch, torch.nn.functional as F
sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
torch.set_num_threads(1)
from prep import prep
from prop import adjacency, appnp
from mmgraph.evaluation.evaluator import evaluate_node_labels
from mmgraph.models.baselines import LabelTransferBaseline, LogRegBaseline
import numpy as np

class LP:
    def __init__(self, data, alpha, lw, steps=10):
        A, off = adjacency(data.graph, lw)
        C = len(data.classes)
        y0 = torch.zeros(A.shape[0], C)
        for t in data.graph.node_types:
            m = data.label_train_mask[t]
            idx = torch.nonzero(m).flatten()
            y0[off[t] + idx, data.labels[t][idx]] = 1
        z = appnp(A, y0, alpha, steps)
        self.z = {t: z[off[t]:off[t]+data.graph[t].num_nodes] for t in data.graph.node_types}
    def predict_labels(self, t):
        return self.z[t].argmax(1)

task = sys.argv[1]
data = prep(task)
for M in (LogRegBaseline, LabelTransferBaseline):
    m = M().fit(data, progress=False)
    print(M.__name__, evaluate_node_labels(m, data, "val"))
for alpha in (0.05, 0.1, 0.2, 0.4):
    for lw in (1.0, 3.0, 10.0):
        for steps in (10, 30):
            print(alpha, lw, steps, evaluate_node_labels(LP(data, alpha, lw, steps), data, "val"), flush=True)
