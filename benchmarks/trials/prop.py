import torch, torch.nn.functional as F
from torch_geometric.data import HeteroData

def unit(x, rows=None):
    mu = x[rows].mean(0) if rows is not None else x.mean(0)
    return F.normalize(x - mu, dim=1)

def adjacency(data: HeteroData, link_weight=1.0, sim_weight=1.0):
    offsets, n = {}, 0
    for t in data.node_types:
        offsets[t] = n; n += data[t].num_nodes
    rows, cols, vals = [], [], []
    for et in data.edge_types:
        s, r, d = et
        ei = data[et].edge_index
        if ei.numel() == 0: continue
        w = data[et].edge_weight.clamp(min=0) * sim_weight if "edge_weight" in data[et] else torch.full((ei.shape[1],), float(link_weight))
        rows.append(ei[1] + offsets[d]); cols.append(ei[0] + offsets[s]); vals.append(w)
    rows = torch.cat(rows + [torch.arange(n)]); cols = torch.cat(cols + [torch.arange(n)])
    vals = torch.cat(vals + [torch.ones(n)])
    deg = torch.zeros(n).index_add_(0, rows, vals)
    dinv = deg.pow(-0.5)
    vals = dinv[rows] * vals * dinv[cols]
    A = torch.sparse_coo_tensor(torch.stack([rows, cols]), vals, (n, n)).coalesce().to_sparse_csr()
    return A, offsets

def appnp(A, z0, alpha, steps):
    z = z0
    for _ in range(steps):
        z = (1 - alpha) * (A @ z) + alpha * z0
    return z
