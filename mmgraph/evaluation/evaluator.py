"""Evaluation of a scoring function on the questions of a prepared task.

The evaluator knows nothing of models: it takes a score function (a fitted model's
``scorer(new).link_scores``, the very function prediction uses) and the questions of
:meth:`mmgraph.data.prepared.PreparedTask.link_queries` / ``label_queries``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import numpy as np
import torch
from torch import Tensor

from mmgraph.data.prepared import LabelQueries, LinkQueries
from mmgraph.evaluation.classification import evaluate_labels
from mmgraph.evaluation.metrics import metric_names
from mmgraph.evaluation.ranking import evaluate_link_classification, link_ranks, ranking_metrics
from mmgraph.typing import EdgeType, ScoreFn

LinkScores = Callable[..., Tensor]
"""A fitted model's ``Scorer.link_scores``: ``(edge_type, query, candidates, *, reverse) -> (b, c)``,
the :data:`~mmgraph.typing.ScoreFn` of every link type."""


def of_type(link_scores: LinkScores, edge_type: EdgeType) -> ScoreFn:
    """The :data:`~mmgraph.typing.ScoreFn` of one link type of ``link_scores``."""

    def score(query: Tensor, candidates: Tensor, reverse: bool) -> Tensor:
        return link_scores(edge_type, query, candidates, reverse=reverse)

    return score


def subsample(queries: LinkQueries, max_links: int | None, seed: int = 0) -> LinkQueries:
    """The same questions restricted to a fixed random subset of ``max_links`` links (all if fewer)."""
    n = queries.links.shape[1]
    if max_links is None or n <= max_links:
        return queries
    keep = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:max_links].sort().values
    return LinkQueries(
        edge_type=queries.edge_type, direction=queries.direction, candidate_set=queries.candidate_set,
        links=queries.links[:, keep], candidates=queries.candidates, known=queries.known,
        num_query=queries.num_query, num_answer=queries.num_answer,
    )


def score_queries(
    score_fn: LinkScores, queries: LinkQueries, *, batch_size: int = 512
) -> Iterator[tuple[Tensor, Tensor]]:
    """Scores the distinct queries of ``queries`` against its candidates, a batch at a time.

    Yields:
        ``(query nodes (b,), scores (b, num_candidates))``, candidates in the order of
        ``queries.candidates``.
    """
    distinct = torch.unique(queries.links[0])
    for start in range(0, distinct.numel(), batch_size):
        batch = distinct[start : start + batch_size]
        yield batch, of_type(score_fn, queries.edge_type)(batch, queries.candidates, queries.reverse)


def evaluate_link_queries(
    score_fn: LinkScores,
    queries: Mapping[str, LinkQueries],
    *,
    batch_size: int = 512,
    max_links: int | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Filtered, realistic rank metrics of the questions of every direction.

    Returns:
        ``"<direction>/<metric>"`` for every registered link metric (``mrr``, ``hits@k``, see
        :mod:`mmgraph.evaluation.metrics`), ``"<direction>/num_queries"`` (links ranked) and
        ``"<direction>/num_candidates"`` per direction asked, and ``"<metric>"``: the means over
        the directions asked. Empty if no direction is asked.
    """
    metrics: dict[str, float] = {}
    for direction, asked in queries.items():
        asked = subsample(asked, max_links, seed)
        ranks = link_ranks(
            _asked_as(of_type(score_fn, asked.edge_type), asked.reverse), asked.links,
            num_src=asked.num_query, num_dst=asked.num_answer,
            known_edges=asked.known, candidates=asked.candidates, batch_size=batch_size,
        )
        for name, value in ranking_metrics(ranks).items():
            metrics[f"{direction}/{name}"] = value
        metrics[f"{direction}/num_queries"] = int(asked.links.shape[1])
        metrics[f"{direction}/num_candidates"] = int(asked.candidates.numel())
    for name in metric_names("link"):
        values = [metrics[f"{d}/{name}"] for d in queries]
        if values:
            metrics[name] = float(np.mean(values))
    return metrics


def _asked_as(score_fn: ScoreFn, reverse: bool) -> ScoreFn:
    """``score_fn`` in the direction of a question: :func:`link_ranks` ranks its ``(query, answer)``
    links, stored query first, as ``"src->dst"``."""
    return lambda query, candidates, _: score_fn(query, candidates, reverse)


def evaluate_link_auc(score_fn: LinkScores, queries: Mapping[str, LinkQueries], *, seed: int) -> dict[str, float]:
    """AUC and AP of the asked links against as many non-links, drawn like the ranking candidates.

    Each asked link ``(q, a)`` of each direction gives one negative ``(q, c)``, ``c`` drawn
    uniformly from the same candidate set among those not known to be linked to ``q``.
    """
    generator = torch.Generator().manual_seed(seed)
    positives, negatives = [], []
    for asked in queries.values():
        known = asked.known_pairs()
        query = asked.links[0]
        drawn = torch.empty_like(query)
        todo = torch.arange(query.numel())
        for _ in range(100):
            if todo.numel() == 0:
                break
            picks = torch.randint(asked.candidates.numel(), (todo.numel(),), generator=generator)
            drawn[todo] = asked.candidates[picks]
            todo = todo[known.contains(query[todo], drawn[todo])]
        ok = torch.ones(query.numel(), dtype=torch.bool)
        ok[todo] = False  # queries linked to every candidate have no negative
        one_type = of_type(score_fn, asked.edge_type)
        positives.append(_pair_scores(one_type, asked.links, asked.reverse))
        negatives.append(_pair_scores(one_type, torch.stack([query[ok], drawn[ok]]), asked.reverse))
    positives, negatives = torch.cat([torch.zeros(0), *positives]), torch.cat([torch.zeros(0), *negatives])
    if not positives.numel() or not negatives.numel():
        return {}  # undefined: nothing asked, or every candidate is an answer
    return evaluate_link_classification(positives, negatives)


def _pair_scores(score_fn: ScoreFn, pairs: Tensor, reverse: bool, chunk: int = 512) -> Tensor:
    out = [torch.zeros(0)]
    for start in range(0, pairs.shape[1], chunk):
        q, c = pairs[0, start : start + chunk], pairs[1, start : start + chunk]
        out.append(score_fn(q, c, reverse).diagonal().float())
    return torch.cat(out)


def evaluate_label_queries(predict_fn: Callable[[str], Tensor], queries: LabelQueries) -> dict[str, float]:
    """Accuracy and macro-F1 of ``predict_fn(node_type)`` (a class per node) on the asked nodes."""
    if queries.nodes.numel() == 0:
        return {}
    predicted = predict_fn(queries.node_type)[queries.nodes]
    classes = np.asarray(queries.classes, dtype=object)
    return evaluate_labels(classes[queries.labels.numpy()].tolist(), classes[predicted.numpy()].tolist())
