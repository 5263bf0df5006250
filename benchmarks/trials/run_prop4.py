import sys, torch, torch.nn.functional as F
sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
torch.set_num_threads(1)
from prep import prep
from mmgraph.models.propagation import PropagationGraph
from mmgraph.evaluation.evaluator import evaluate_links
class P:
    def __init__(s, data, tau, lw, alpha, steps, spaces):
        src, _, dst = data.target_edge_type; g = PropagationGraph(data.graph, temperature=tau, link_weight=lw, normalization=NORM)
        s.z = []
        for sp in spaces:
            x = data.graph[sp].x.float()
            z = g.propagate({sp: F.normalize(x - x.mean(0), dim=1)}, alpha=alpha, steps=steps)
            s.z.append({t: F.normalize(z[t], dim=1) for t in (src, dst)})
        s.src, s.dst = src, dst
    def link_scores(s, et, q, c, reverse):
        qt, ct = (s.dst, s.src) if reverse else (s.src, s.dst)
        return sum(z[qt][q] @ z[ct][c].T for z in s.z)
NORM = "symmetric"
for task in sys.argv[1:]:
    data = prep(task); src, _, dst = data.target_edge_type
    res = []
    for tau in (0.05, 1.0):
        for lw in (1.0, 3.0):
            for alpha, steps in ((0.5, 2), (0.5, 4), (0.1, 10), (0.1, 20)):
                for spaces in ((dst,), (src, dst)):
                    r = evaluate_links(P(data, tau, lw, alpha, steps, spaces), data, "val")["mrr"]
                    res.append((round(r, 4), tau, lw, alpha, steps, len(spaces)))
    res.sort(reverse=True)
    for r in res[:8]: print(task, r)
    print(task, "worst", res[-1])
