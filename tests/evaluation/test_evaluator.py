"""The evaluator on a prepared task's questions: both directions, a subset of links for cheap
checks, the whole set by default, AUC negatives drawn from the candidates."""

from __future__ import annotations

import torch

from mmgraph.data import Task, split_dataset
from mmgraph.data.prepared import PreparedTask
from mmgraph.evaluation.evaluator import evaluate_link_auc, evaluate_link_queries
from mmgraph.testing import tiny_dataset


class _Recorder:
    """Scores by feature dot products (held-out rows after the view's) and records every query."""

    def __init__(self, prepared: PreparedTask, part: str) -> None:
        view, new = prepared.train_view(), prepared.new_samples(part)
        self.x = {m: torch.cat([view.features[m], new[m]]) for m in view.features}
        self.queries, self.candidates = [], []

    def link_scores(self, edge_type, query, candidates, *, reverse):
        src, _, dst = edge_type
        q_type, c_type = (dst, src) if reverse else (src, dst)
        self.queries.append(query)
        self.candidates.append(candidates)
        return self.x[q_type][query] @ self.x[c_type][candidates].T


def _prepared() -> PreparedTask:
    dataset = tiny_dataset(0)
    task = Task(name="tiny", description="", kind="link", source="image", target="text_en")
    split = split_dataset(dataset, seed=0, mode="item", val=0.3, test=0.3)
    return PreparedTask(task, dataset, split, {m: torch.as_tensor(a) for m, a in dataset.features.items()})


def test_max_links_ranks_a_fixed_subset() -> None:
    prepared = _prepared()
    queries = prepared.link_queries("test")
    total = queries["src->dst"].links.shape[1]
    assert total > 3 and set(queries) == {"src->dst", "dst->src"}
    full = evaluate_link_queries(_Recorder(prepared, "test").link_scores, queries)
    assert full["src->dst/num_queries"] == total
    assert full["mrr"] == (full["src->dst/mrr"] + full["dst->src/mrr"]) / 2
    sub = [evaluate_link_queries(_Recorder(prepared, "test").link_scores, queries, max_links=3, seed=1)
           for _ in range(2)]
    assert sub[0] == sub[1], "the same seed must draw the same subset"
    assert sub[0]["src->dst/num_queries"] == 3
    assert evaluate_link_queries(_Recorder(prepared, "test").link_scores, queries, max_links=total + 5) == full


def test_only_declared_candidates_are_scored() -> None:
    prepared = _prepared()
    recorder = _Recorder(prepared, "test")
    queries = prepared.link_queries("test")
    evaluate_link_queries(recorder.link_scores, queries)
    evaluate_link_auc(recorder.link_scores, queries, seed=0)
    allowed = set(queries["src->dst"].candidates.tolist()) | set(queries["dst->src"].candidates.tolist())
    assert set(torch.cat(recorder.candidates).tolist()) <= allowed
    assert set(torch.cat(recorder.queries).tolist()) <= set(queries["src->dst"].links[0].tolist()) | set(
        queries["dst->src"].links[0].tolist()
    )


def test_auc_of_perfect_and_reversed_scores() -> None:
    prepared = _prepared()
    queries = prepared.link_queries("test")

    def perfect(edge_type, query, candidates, *, reverse):
        known = queries["dst->src" if reverse else "src->dst"].known_pairs()
        return known.mask(query, candidates).float()

    def reversed_(edge_type, query, candidates, *, reverse):
        return -perfect(edge_type, query, candidates, reverse=reverse)

    assert evaluate_link_auc(perfect, queries, seed=0) == {"auc": 1.0, "ap": 1.0}
    assert evaluate_link_auc(reversed_, queries, seed=0)["auc"] == 0.0
