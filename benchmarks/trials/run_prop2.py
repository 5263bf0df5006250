import sys, time, torch
sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
exec(open(__import__("pathlib").Path(__file__).with_name("run_prop.py")).read().split("task = sys.argv[1]")[0])
from mmgraph.models.baselines import SiameseBaseline, TransferBaseline
for task in sys.argv[1:]:
    data = prep(task)
    for M in (KNNTransferBaseline, TransferBaseline):
        print(task, M.__name__, round(evaluate_links(M().fit(data, progress=False), data, "val")["mrr"], 4), flush=True)
    for alpha in (0.1, 0.3):
        for lw in (1.0, 3.0):
            for wt, ws in ((1, 1), (1, 0), (0, 1)):
                r = evaluate_links(Prop(data, alpha=alpha, link_weight=lw, wt=wt, ws=ws), data, "val")
                print(f"{task} alpha {alpha} lw {lw} wt {wt} ws {ws}: val mrr {r['mrr']:.4f} fwd {r['src->dst/mrr']:.4f} rev {r['dst->src/mrr']:.4f}", flush=True)
