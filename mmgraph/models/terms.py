"""Score terms: a link score as named parts with weights, chosen on validation in one place.

A composite model (the GNN: learned logits, propagation, a ridge map; late fusion: four transfer
predictors) scores a link as a :class:`WeightedSum` of :class:`LinkTerm` s. The hubness
correction (CSLS) is a wrapper any scorer can take, :class:`HubnessCorrected`. Weights and other
settings are chosen by :func:`choose`, which scores each candidate's own scorer on validation, so
trying a setting changes nothing in the model.

Example:
    >>> import torch
    >>> class Ones:
    ...     def link_scores(self, edge_type, query, candidates, *, reverse):
    ...         return torch.ones(len(query), len(candidates))
    >>> total = WeightedSum([Ones(), Ones()], [1.0, 2.0])
    >>> total
    WeightedSum(weights=(1.0, 2.0))
    >>> total.link_scores(("a", "to", "b"), torch.arange(1), torch.arange(2), reverse=False).tolist()
    [[3.0, 3.0]]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar

import torch
from torch import Tensor

from mmgraph.errors import ConfigError, NotApplicableError
from mmgraph.models.base import Scoring, Validate
from mmgraph.training.selection import Choice, grid_search
from mmgraph.typing import EdgeType, NodeType

S = TypeVar("S")

# A candidate's hub score is its mean score over this many training queries that score it highest
# (CSLS's neighbourhood size, Conneau et al. 2018, who found 10 best for word translation).
HUBNESS_NEIGHBOURS = 10
# Weights of the hubness correction tried on validation, by the gnn and by every link baseline
# (0 first: no correction, which a tie keeps).
HUBNESS_WEIGHTS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
# Candidates whose hub scores are computed at once: a (training queries x chunk) score matrix.
HUB_CHUNK = 4096


class LinkTerm(Protocol):
    """One part of a link score: the ``link_scores`` of a :class:`~mmgraph.models.base.Scorer`."""

    def link_scores(self, edge_type: EdgeType, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        """Scores of every query against every candidate, ``(b, c)`` (see ``Scorer``)."""


class WeightedSum:
    """The sum of link terms times their weights; a term of weight 0 is not asked at all.

    Labels, if asked, are the first term's (the base of the sum: the GNN's learned scores).

    Args:
        terms: the link terms, in the order their weights name them.
        weights: one weight per term.
    """

    def __init__(self, terms: Sequence[LinkTerm], weights: Sequence[float]) -> None:
        if len(terms) != len(weights) or not terms:
            raise ConfigError(
                f"WeightedSum needs one weight per term, at least one term. Got {len(terms)} term(s) and "
                f"{len(weights)} weight(s)."
            )
        self.terms, self.weights = list(terms), tuple(float(w) for w in weights)

    def __repr__(self) -> str:
        return f"WeightedSum(weights={self.weights})"

    def link_scores(self, edge_type: EdgeType, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        """Shapes: query ``(b,)``, candidates ``(c,)``; return ``(b, c)``."""
        total = None
        for term, weight in zip(self.terms, self.weights, strict=True):
            if weight:
                scores = weight * term.link_scores(edge_type, query, candidates, reverse=reverse)
                total = scores if total is None else total + scores
        if total is None:
            return torch.zeros(len(query), len(candidates))
        return total

    def predict_labels(self, node_type: NodeType) -> Tensor:
        return _labels(self.terms[0], node_type)


class Transposed:
    """A term read the other way round: a pair's score as ``base`` gives it with the candidate as
    the query (late fusion's "carry the candidate over" predictors)."""

    def __init__(self, base: LinkTerm) -> None:
        self.base = base

    def __repr__(self) -> str:
        return f"Transposed({self.base!r})"

    def link_scores(self, edge_type: EdgeType, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        return self.base.link_scores(edge_type, candidates, query, reverse=not reverse).T


class PerDirection:
    """One term per scoring direction (a choice made per direction): ``forward`` scores
    ``reverse=False``, ``backward`` scores ``reverse=True``."""

    def __init__(self, forward: LinkTerm, backward: LinkTerm) -> None:
        self.forward, self.backward = forward, backward

    def __repr__(self) -> str:
        return f"PerDirection(forward={self.forward!r}, backward={self.backward!r})"

    def link_scores(self, edge_type: EdgeType, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        term = self.backward if reverse else self.forward
        return term.link_scores(edge_type, query, candidates, reverse=reverse)

    def predict_labels(self, node_type: NodeType) -> Tensor:
        return _labels(self.forward, node_type)


class HubnessCorrected:
    """Link scores minus ``weight`` times each candidate's hub score (CSLS, Conneau et al. 2018).

    A candidate's hub score is its mean score over the ``HUBNESS_NEIGHBOURS`` training queries
    that score it highest: a map fitted on training pairs pulls every query towards a few
    candidates, which then rank high everywhere, and this takes their lead back.

    Args:
        base: the scorer corrected (any :class:`~mmgraph.models.base.Scorer`).
        weight: the correction's weight (0: none).
        train_rows: the training queries of each node type (view rows).
        num_view: nodes of each type in the training view; the candidates after them are new.
        num_new: new samples of each type (missing: none).
        hubs: where the view candidates' hub scores are kept, shared by scorers of one ``base``
            (keyed by edge type and direction); a new candidate's are computed per scorer.
    """

    def __init__(
        self, base: LinkTerm, weight: float, *, train_rows: Mapping[NodeType, Tensor], num_view: Mapping[NodeType, int],
        num_new: Mapping[NodeType, int] | None = None, hubs: dict[tuple[EdgeType, bool], Tensor] | None = None,
    ) -> None:
        self.base, self.weight, self.train_rows, self.num_view = base, weight, train_rows, num_view
        self.num_new = dict(num_new or {})
        self.hubs = {} if hubs is None else hubs
        self._new_hubs: dict[tuple[EdgeType, bool], Tensor] = {}

    def __repr__(self) -> str:
        return f"HubnessCorrected({self.base!r}, weight={self.weight})"

    def hub_scores(self, edge_type: EdgeType, candidates: Tensor, *, reverse: bool) -> Tensor:
        """The hub score of each candidate, ``(c,)``."""
        query_type, cand_type = (edge_type[2], edge_type[0]) if reverse else (edge_type[0], edge_type[2])
        queries = self.train_rows[query_type]
        num_view = self.num_view[cand_type]
        num_all = num_view + self.num_new.get(cand_type, 0)
        key = (edge_type, reverse)
        if key not in self.hubs:
            self.hubs[key] = self._mean_top_scores(edge_type, queries, torch.arange(num_view), reverse=reverse)
        if key not in self._new_hubs:
            self._new_hubs[key] = self._mean_top_scores(
                edge_type, queries, torch.arange(num_view, num_all), reverse=reverse
            )
        return torch.cat([self.hubs[key], self._new_hubs[key]])[candidates]

    def _mean_top_scores(self, edge_type: EdgeType, queries: Tensor, nodes: Tensor, *, reverse: bool) -> Tensor:
        """Each of ``nodes``' mean score over its ``HUBNESS_NEIGHBOURS`` best ``queries``, ``(len(nodes),)``."""
        out = []
        for part in nodes.split(HUB_CHUNK):
            scores = self.base.link_scores(edge_type, queries, part, reverse=reverse)
            out.append(scores.topk(min(HUBNESS_NEIGHBOURS, scores.shape[0]), dim=0).values.mean(0))
        return torch.cat(out) if out else torch.zeros(0)

    def link_scores(self, edge_type: EdgeType, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        scores = self.base.link_scores(edge_type, query, candidates, reverse=reverse)
        return scores - self.weight * self.hub_scores(edge_type, candidates, reverse=reverse)

    def predict_labels(self, node_type: NodeType) -> Tensor:
        return self.base.predict_labels(node_type)


def _labels(term: LinkTerm, node_type: NodeType) -> Tensor:
    """The labels of a term that is a whole scorer; a link term alone predicts none."""
    predict = getattr(term, "predict_labels", None)
    if predict is None:
        raise NotApplicableError(f"The link term {term!r} scores links; it does not predict labels.")
    return predict(node_type)


def choose(
    settings: Sequence[S], scoring: Callable[[S], Scoring], validate: Validate, *,
    keys: Sequence[str] = ("mrr",), desc: str = "grid", progress: bool = False,
) -> dict[str, Choice[S]]:
    """The setting with the best validation score per metric key, each setting scored through
    its own scorer (``scoring(setting)``); ties go to the earlier setting, so list the smaller
    (a weight of 0, no change) first. Keys the metrics never hold are left out.

    Example:
        >>> best = choose([0.0, 1.0, 2.0], lambda w: w, lambda scoring, **_: {"mrr": min(scoring, 1.0)})
        >>> best["mrr"]
        Choice(setting=1.0, score=1.0)
    """
    return grid_search(settings, lambda setting: validate(scoring(setting)), keys=keys, desc=desc, progress=progress)
