"""Knowledge-graph completion: filtered rank metrics of triples, head and tail, in bounded memory.

The standard protocol (Bordes et al. 2013, "filtered"; realistic ties as in PyKEEN's
``RankBasedEvaluator``): for every test triple ``(h, r, t)`` every entity is ranked as the tail
of ``(h, r, ?)`` and as the head of ``(?, r, t)``; every other true triple of train, val and test
is removed from the competition. A tail query ``(h, r)`` is a query node ``h * num_relations + r``
whose targets are entities, and a head query ``(t, r)`` is ``t * num_relations + r``, so ranking
is :func:`mmgraph.evaluation.ranking.link_ranks` over those query nodes: one rank function, one
filter lookup, for links and triples alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor

from mmgraph.checks import check_positive_int
from mmgraph.data.triples import ColdEntities, check_triples
from mmgraph.errors import DataError
from mmgraph.evaluation.ranking import RankKind, link_ranks, ranking_metrics

Side = Literal["tail", "head"]
SIDES: tuple[str, ...] = ("tail", "head")
"""The entity ranked: ``"tail"`` answers ``(h, r, ?)``, ``"head"`` answers ``(?, r, t)`` (PyKEEN's names)."""

TripleScoreFn = Callable[[Tensor, Tensor], Tensor]
"""``score(entity, relation) -> (b, num_entities)``: the given end of each triple and its relation
(shapes ``(b,)``) scored against every entity as the other end; higher means more likely."""

SUBSET_PREFIX = "known_entities/"
"""The prefix of the metrics of the triples whose entities all occur in training."""


class KnownTriples:
    """Every true triple known in any split, for filtering: the other answers of each query.

    Args:
        triples: the true triples of train, val and test, ``[head, relation, tail]`` rows.
        num_entities: the number of entities.
        num_relations: the number of relations.

    Shapes:
        triples: ``(m, 3)`` long.

    Example:
        >>> known = KnownTriples(torch.tensor([[0, 0, 1], [0, 0, 2]]), num_entities=3, num_relations=1)
        >>> known
        KnownTriples(num_triples=2, num_entities=3, num_relations=1)
        >>> known.pairs("tail").tolist()  # query (h=0, r=0) is node 0; its tails 1 and 2
        [[0, 0], [1, 2]]
    """

    def __init__(self, triples: Tensor, *, num_entities: int, num_relations: int) -> None:
        where = "KnownTriples"
        self.num_entities = check_positive_int(num_entities, "num_entities", where)
        self.num_relations = check_positive_int(num_relations, "num_relations", where)
        self.triples = check_triples(triples, "triples", where, self.num_entities, self.num_relations).cpu()

    def __len__(self) -> int:
        return len(self.triples)

    def __repr__(self) -> str:
        return (
            f"KnownTriples(num_triples={len(self)}, num_entities={self.num_entities}, "
            f"num_relations={self.num_relations})"
        )

    def pairs(self, side: Side, triples: Tensor | None = None) -> Tensor:
        """``triples`` (default the known ones) as ``[query node, answer entity]`` pairs for ``side``.

        Shapes:
            triples: ``(n, 3)``, returns ``(2, n)``.
        """
        triples = self.triples if triples is None else triples
        head, relation, tail = triples.long().unbind(1)
        if side == "tail":
            return torch.stack([head * self.num_relations + relation, tail])
        return torch.stack([tail * self.num_relations + relation, head])


def triple_ranks(
    score_tails: TripleScoreFn,
    score_heads: TripleScoreFn,
    test: Tensor,
    known: KnownTriples,
    *,
    batch_size: int = 256,
    kind: RankKind = "realistic",
) -> dict[str, Tensor]:
    """The filtered rank of every test triple as tail and as head.

    Args:
        score_tails: ``score_tails(head, relation)`` scores every entity as the tail.
        score_heads: ``score_heads(tail, relation)`` scores every entity as the head.
        test: the triples to rank.
        known: every true triple of train, val and test; must include ``test``.
        batch_size: the triples scored at once; memory holds ``batch_size x num_entities`` scores.
        kind: the rank variant, see :func:`mmgraph.evaluation.ranking.rank_of_true`; report
            ``"realistic"``.

    Returns:
        ``{"tail": ranks, "head": ranks}``, in the order of ``test``.

    Shapes:
        test: ``(n, 3)``; the score functions map ``(b,), (b,)`` to ``(b, num_entities)``;
        ranks: ``(n,)`` float.
    """
    where = "triple_ranks"
    test = check_triples(test, "test", where, known.num_entities, known.num_relations)
    if len(test) == 0:
        raise DataError(f"The 'test' argument of {where} holds no triple. Give at least one.")
    score_of = {"tail": score_tails, "head": score_heads}
    return {side: _side_ranks(score_of[side], side, test, known, batch_size=batch_size, kind=kind) for side in SIDES}


def _side_ranks(
    score: TripleScoreFn, side: Side, rows: Tensor, known: KnownTriples, *, candidates: Tensor | None = None,
    batch_size: int, kind: RankKind,
) -> Tensor:
    """The filtered ranks of the answers of ``side`` of ``rows`` among ``candidates`` (default every
    entity): the query ``(entity, relation)`` is the query node ``entity * num_relations + relation``
    of :func:`~mmgraph.evaluation.ranking.link_ranks`.

    Shapes:
        rows: ``(n, 3)``; candidates: ``(c,)``; returns ``(n,)`` float.
    """

    def score_pool(query: Tensor, pool: Tensor, reverse: bool) -> Tensor:
        scores = score(query // known.num_relations, query % known.num_relations)  # every entity
        return scores if candidates is None else scores[:, pool]

    return link_ranks(
        score_pool,
        known.pairs(side, rows),  # type: ignore[arg-type]
        num_src=known.num_entities * known.num_relations,
        num_dst=known.num_entities,
        known_edges=known.pairs(side),  # type: ignore[arg-type]
        candidates=candidates,
        batch_size=batch_size,
        kind=kind,
    )


def triple_metrics(ranks: dict[str, Tensor]) -> dict[str, float]:
    """MRR and Hits@k of each side that asked something (``"tail/mrr"``, ``"head/hits@10"``, ...) and of both sides
    together (``"mrr"``, ``"hits@10"``: PyKEEN's ``"both"``, the mean over the two sides), and
    ``"num_test"``."""
    metrics: dict[str, float] = {}
    for side in SIDES:
        if not len(ranks[side]):  # a side asked nothing (cold triples: every new entity a tail)
            continue
        for name, value in ranking_metrics(ranks[side]).items():
            metrics[f"{side}/{name}"] = value
    metrics.update(ranking_metrics(torch.cat([ranks[side] for side in SIDES])))
    metrics["num_test"] = len(ranks["tail"])
    return metrics


def evaluate_triples(
    score_tails: TripleScoreFn,
    score_heads: TripleScoreFn,
    test: Tensor,
    known: KnownTriples,
    *,
    known_entities: Tensor | None = None,
    batch_size: int = 256,
    kind: RankKind = "realistic",
) -> dict[str, float]:
    """Filtered rank metrics of knowledge-graph completion, both sides, on all test triples and on
    those whose entities all occur in training.

    Args:
        score_tails: ``score_tails(head, relation)`` scores every entity as the tail.
        score_heads: ``score_heads(tail, relation)`` scores every entity as the head.
        test: the triples to rank.
        known: every true triple of train, val and test, for filtering.
        known_entities: optional ``True`` for every entity of a training triple (see
            :meth:`mmgraph.data.triples.Triples.entities_of`); adds the metrics of the test triples
            whose head and tail are both such entities, under ``"known_entities/"``.
        batch_size: the triples scored at once (memory: ``batch_size x num_entities`` scores).
        kind: the rank variant; report ``"realistic"``.

    Returns:
        See :func:`triple_metrics`; with ``known_entities`` also ``"known_entities/mrr"``,
        ``"known_entities/tail/mrr"``, ..., ``"known_entities/num_test"``.

    Shapes:
        test: ``(n, 3)``, known_entities: ``(num_entities,)`` bool.

    Example:
        >>> scores = torch.tensor([[0.0, 2.0, 1.0], [3.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
        >>> def tails(head, relation):
        ...     return scores[head]
        >>> def heads(tail, relation):
        ...     return scores[:, tail].T
        >>> test = torch.tensor([[0, 0, 2]])
        >>> known = KnownTriples(torch.tensor([[0, 0, 1], [0, 0, 2]]), num_entities=3, num_relations=1)
        >>> metrics = evaluate_triples(tails, heads, test, known)
        >>> metrics["tail/mrr"], metrics["head/mrr"]  # tail: 1 is filtered; head: 1 and 2 tie with 0
        (1.0, 0.5)
    """
    ranks = triple_ranks(score_tails, score_heads, test, known, batch_size=batch_size, kind=kind)
    metrics = triple_metrics(ranks)
    if known_entities is not None:
        if (
            not isinstance(known_entities, Tensor)
            or known_entities.dtype != torch.bool
            or known_entities.shape != (known.num_entities,)
        ):
            shape = tuple(known_entities.shape) if isinstance(known_entities, Tensor) else type(known_entities)
            raise DataError(
                "The 'known_entities' argument of evaluate_triples must be a bool tensor with one "
                f"entry per entity, ({known.num_entities},). Got {shape} instead. Use "
                "Triples.entities_of('train')."
            )
        test = test.long().cpu()
        subset = known_entities.cpu()[test[:, 0]] & known_entities.cpu()[test[:, 2]]
        if subset.any():
            sub_ranks = {side: ranks[side][subset] for side in SIDES}
            metrics.update({SUBSET_PREFIX + name: value for name, value in triple_metrics(sub_ranks).items()})
        else:
            metrics[SUBSET_PREFIX + "num_test"] = 0
    return metrics



def evaluate_cold_triples(
    score_tails: TripleScoreFn,
    score_heads: TripleScoreFn,
    cold: ColdEntities,
    known: KnownTriples,
    *,
    split: str = "test",
    batch_size: int = 256,
    kind: RankKind = "realistic",
) -> dict[str, float]:
    """Filtered rank metrics of the cold triples of ``split``, each asked from its new entity.

    A triple whose head is new is a tail question ``(new, r, ?)``, one whose tail is new a head
    question ``(?, r, new)``; the answer is ranked among the known entities only (a new entity
    is never a candidate), and every other true triple of ``known`` is filtered, as in
    :func:`triple_ranks`.

    Args:
        score_tails: ``score_tails(head, relation)`` scores every entity as the tail.
        score_heads: ``score_heads(tail, relation)`` scores every entity as the head.
        cold: the split (:func:`mmgraph.data.triples.cold_entity_split`).
        known: every true triple of the source graph, for filtering.
        split: ``"val"`` or ``"test"``.
        batch_size: the questions scored at once.
        kind: the rank variant; report ``"realistic"``.

    Returns:
        ``"tail/..."`` (new heads), ``"head/..."`` (new tails) and both together (``"mrr"``,
        ``"hits@10"``, ...), and ``"num_test"`` (see :func:`triple_metrics`).
    """
    rows = cold.triples[split]
    if len(rows) == 0:
        raise DataError(f"The cold-entity split has no {split!r} triple to rank. Hold out a larger share of entities.")
    candidates = cold.known.nonzero().flatten()
    score_of = {"tail": score_tails, "head": score_heads}
    asks_tail = cold.query_is_head(split)
    ranks = {
        side: _side_ranks(score_of[side], side, rows[mask], known, candidates=candidates, batch_size=batch_size,
                          kind=kind) if mask.any() else torch.zeros(0)
        for side, mask in (("tail", asks_tail), ("head", ~asks_tail))
    }
    metrics = triple_metrics(ranks)
    metrics["num_test"] = len(rows)  # one question per cold triple
    return metrics
