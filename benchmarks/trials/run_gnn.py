import sys, time, json, torch, torch.nn.functional as F, numpy as np
sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
torch.set_num_threads(1)
from prep import prep
from mmgraph.models.gnn_model import GNNModel
from mmgraph.evaluation.evaluator import evaluate_links, evaluate_node_labels

task = sys.argv[1]
configs = [json.loads(c) for c in sys.argv[2:]]
data = prep(task)
raw = {t: data.graph[t].x.clone() for t in data.graph.node_types}
for cfg in configs:
    norm = cfg.pop("_norm", None)
    for t in data.graph.node_types:
        x = raw[t]
        if norm:
            rows = torch.as_tensor(np.flatnonzero(data.node_split[t] == "train"))
            x = x - x[rows].mean(0)
            if norm == "unit": x = F.normalize(x, dim=1)
            if norm == "std": x = x / (x[rows].std(0) + 1e-6)
        data.graph[t].x = x
    t0 = time.time()
    m = GNNModel(**cfg).fit(data, progress=False)
    ev = evaluate_links if data.task.kind == "link" else evaluate_node_labels
    r = ev(m, data, "val")
    print(task, norm, cfg, {k: round(v, 4) for k, v in r.items() if k in ("mrr", "accuracy")}, "epochs", len(m.learner.history_), f"{time.time()-t0:.0f}s", flush=True)
