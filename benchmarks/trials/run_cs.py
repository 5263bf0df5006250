import sys, time, torch, torch.nn.functional as F
sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
torch.set_num_threads(1)
from prep import prep
from prop import adjacency, appnp
from mmgraph.evaluation.evaluator import evaluate_node_labels
from mmgraph.models.baselines import label_sources
from sklearn.linear_model import LogisticRegression
import numpy as np

task = sys.argv[1]
data = prep(task)
C = len(data.classes)
base = {}
for t in data.graph.node_types:
    try:
        nodes, labels, _ = label_sources(data, t)
    except Exception as e:
        print(t, e); continue
    if len(nodes) == 0: continue
    x = data.features[t].numpy(); x = (x - x[nodes.numpy()].mean(0)) / (x[nodes.numpy()].std(0) + 1e-6)
    lr = LogisticRegression(C=1.0, max_iter=2000).fit(x[nodes.numpy()], labels.numpy())
    p = np.zeros((len(x), C)); p[:, lr.classes_] = lr.predict_proba(x)
    p[nodes.numpy()] = np.eye(C)[labels.numpy()]
    base[t] = torch.tensor(p, dtype=torch.float32)
    print(t, len(nodes))
class CS:
    def __init__(self, alpha, lw, steps=10):
        A, off = adjacency(data.graph, lw)
        y0 = torch.zeros(A.shape[0], C)
        for t, p in base.items():
            y0[off[t]:off[t]+len(p)] = p
        z = appnp(A, y0, alpha, steps)
        self.z = {t: z[off[t]:off[t]+data.graph[t].num_nodes] for t in data.graph.node_types}
    def predict_labels(self, t): return self.z[t].argmax(1)
class Base:
    def predict_labels(self, t): return base[t].argmax(1)
print("base", evaluate_node_labels(Base(), data, "val"))
for alpha in (0.1, 0.2, 0.4, 0.6):
    for lw in (1.0, 3.0):
        for steps in (10, 30):
            print(alpha, lw, steps, evaluate_node_labels(CS(alpha, lw, steps), data, "val"), flush=True)
