import sys, time, torch, torch.nn.functional as F, numpy as np
sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
torch.set_num_threads(1)
from prep import prep
from mmgraph.evaluation.evaluator import evaluate_links

def rw_adjacency(data, tau, lw):
    off, n = {}, 0
    for t in data.node_types: off[t] = n; n += data[t].num_nodes
    rows, cols, vals = [], [], []
    for et in data.edge_types:
        s, r, d = et; ei = data[et].edge_index
        if ei.numel() == 0: continue
        w = torch.exp((data[et].edge_weight - 1) / tau) if "edge_weight" in data[et] else torch.full((ei.shape[1],), float(lw))
        rows.append(ei[1] + off[d]); cols.append(ei[0] + off[s]); vals.append(w)
    rows, cols, vals = torch.cat(rows), torch.cat(cols), torch.cat(vals)
    deg = torch.zeros(n).index_add_(0, rows, vals).clamp(min=1e-12)
    A = torch.sparse_coo_tensor(torch.stack([rows, cols]), vals / deg[rows], (n, n)).coalesce().to_sparse_csr()
    return A, off

class Prop:
    def __init__(self, data, alpha, steps, tau, lw):
        s, _, d = data.target_edge_type
        A, off = rw_adjacency(data.graph, tau, lw)
        n = A.shape[0]; self.z = {}
        for t in (s, d):
            rows = torch.as_tensor(np.flatnonzero(data.node_split[t] == "train"))
            x = data.features[t].float(); u = F.normalize(x - x[rows].mean(0), dim=1)
            z0 = torch.zeros(n, u.shape[1]); z0[off[t]:off[t]+len(u)] = u
            z = z0
            for _ in range(steps): z = (1 - alpha) * (A @ z) + alpha * z0
            z = F.normalize(z, dim=1)
            self.z[t] = {tt: z[off[tt]:off[tt]+data.graph[tt].num_nodes] for tt in (s, d)}
        self.s, self.d = s, d
    def link_scores(self, et, q, c, reverse):
        qt, ct = (self.d, self.s) if reverse else (self.s, self.d)
        return sum(self.z[t][qt][q] @ self.z[t][ct][c].T for t in (self.s, self.d))

for task in sys.argv[1:]:
    data = prep(task)
    best = (0, None)
    for alpha in (0.1, 0.3, 0.5):
        for steps in (2, 4):
            for tau in (0.02, 0.05, 0.1):
                for lw in (1.0,):
                    r = evaluate_links(Prop(data, alpha, steps, tau, lw), data, "val")
                    print(task, alpha, steps, tau, lw, round(r["mrr"], 4), flush=True)
                    best = max(best, (r["mrr"], (alpha, steps, tau, lw)))
    print("BEST", task, best)
