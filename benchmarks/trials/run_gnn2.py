import sys, time, json, torch
sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
torch.set_num_threads(1)
from prep import prep
from mmgraph.models.gnn_model import GNNModel
from mmgraph.evaluation.evaluator import evaluate_links, evaluate_node_labels
for task in sys.argv[1:]:
    data = prep(task)
    t0 = time.time()
    m = GNNModel().fit(data, progress=False)
    print(task, "best learned val", round(m.learner.best_val_, 4), "chosen", m.chosen_, "epochs", len(m.learner.history_), f"{time.time()-t0:.0f}s", flush=True)
