"""The evaluator on a prepared task: a subset of links for cheap checks, the whole set by default."""

from __future__ import annotations

import torch

from mmgraph.evaluation.evaluator import evaluate_links
from mmgraph.graph import GraphBuilder
from mmgraph.pipeline import prepare_task
from mmgraph.tasks import Task
from mmgraph.testing import tiny_dataset


class _Recorder:
    """Scores by feature dot products and records every query it was asked about."""

    def __init__(self, data) -> None:
        self.data, self.queries = data, []

    def link_scores(self, edge_type, query, candidates, *, reverse):
        src, _, dst = edge_type
        q_type, c_type = (dst, src) if reverse else (src, dst)
        self.queries.append(query)
        return self.data.features[q_type][query] @ self.data.features[c_type][candidates].T


def test_max_links_ranks_a_fixed_subset() -> None:
    dataset = tiny_dataset(0)
    task = Task(name="tiny", description="", kind="link", source="image", target="text_en",
                split={"mode": "item", "val": 0.3, "test": 0.3})
    features = {m: torch.as_tensor(a) for m, a in dataset.features.items()}
    data = prepare_task(task, dataset, seed=0, features=features, builder=GraphBuilder(k=3))
    total = data.links("test").shape[1]
    assert total > 3
    full = evaluate_links(_Recorder(data), data, "test")
    assert full["num_test"] == total
    sub = [evaluate_links(_Recorder(data), data, "test", max_links=3, seed=1) for _ in range(2)]
    assert sub[0] == sub[1], "the same seed must draw the same subset"
    assert sub[0]["num_test"] == 3
    assert evaluate_links(_Recorder(data), data, "test", max_links=total + 5) == full
