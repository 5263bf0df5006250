import sys, time, torch, torch.nn.functional as F
sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
torch.set_num_threads(1)
from prep import prep
from prop import unit, adjacency, appnp
from mmgraph.evaluation.evaluator import evaluate_links
from mmgraph.models.baselines import KNNTransferBaseline
import numpy as np

class Prop:
    def __init__(self, data, alpha=0.2, steps=10, link_weight=1.0, wt=1.0, ws=1.0):
        s, _, d = data.target_edge_type
        A, off = adjacency(data.graph, link_weight)
        n = A.shape[0]
        def z(t):
            rows = torch.as_tensor(np.flatnonzero(data.node_split[t] == "train"))
            u = unit(data.features[t].float(), rows)
            z0 = torch.zeros(n, u.shape[1]); z0[off[t]:off[t]+len(u)] = u
            out = F.normalize(appnp(A, z0, alpha, steps), dim=1)
            return {tt: out[off[tt]:off[tt]+data.graph[tt].num_nodes] for tt in (s, d)}
        self.zs, self.zd = z(s), z(d)
        self.s, self.d, self.wt, self.ws = s, d, wt, ws
    def link_scores(self, et, q, c, reverse):
        qt, ct = (self.d, self.s) if reverse else (self.s, self.d)
        return self.wt * self.zd[qt][q] @ self.zd[ct][c].T + self.ws * self.zs[qt][q] @ self.zs[ct][c].T

task = sys.argv[1]
t0 = time.time()
data = prep(task)
print("prep", time.time() - t0)
knn = KNNTransferBaseline().fit(data, progress=False)
print("knn val", evaluate_links(knn, data, "val")["mrr"])
for alpha in (0.1, 0.2, 0.4):
    for lw in (1.0, 3.0):
        for wt, ws in ((1, 1), (1, 0), (0, 1)):
            t0 = time.time()
            m = Prop(data, alpha=alpha, link_weight=lw, wt=wt, ws=ws)
            r = evaluate_links(m, data, "val")
            print(f"alpha {alpha} lw {lw} wt {wt} ws {ws}: val mrr {r['mrr']:.4f} fwd {r['src->dst/mrr']:.4f} rev {r['dst->src/mrr']:.4f} ({time.time()-t0:.1f}s)", flush=True)
