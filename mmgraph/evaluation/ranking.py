"""Link evaluation: filtered rank metrics first, AUC and AP on sampled negatives second.

Edges are given as ``(2, num_edges)`` index tensors between two node sets, the sources
(``0 .. num_src - 1``) and the targets (``0 .. num_dst - 1``), usually two modalities of one
edge type ``(src_type, relation, dst_type)``.

Ranking follows PyKEEN's rank-based evaluator: each test link ``(s, d)`` is ranked in both
directions, ``"src->dst"`` (query ``s``, rank ``d`` among the candidate targets) and
``"dst->src"`` (query ``d``, rank ``s`` among the candidate sources); the other known true links
of the query are removed from the competition ("filtered" ranking), and ties count half
("realistic" rank).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from sklearn.metrics import average_precision_score, roc_auc_score
from torch import Tensor

from mmgraph.checks import check_positive_int
from mmgraph.data.known import KnownPairs, SameLabelPairs
from mmgraph.errors import ConfigError, DataError
from mmgraph.evaluation.metrics import metrics_of
from mmgraph.typing import DIRECTIONS, Direction, ScoreFn

RankKind = Literal["realistic", "optimistic", "pessimistic"]
RANK_KINDS: tuple[str, ...] = ("realistic", "optimistic", "pessimistic")


def rank_of_true(
    scores: Tensor,
    true_index: Tensor,
    filter_mask: Tensor | None = None,
    *,
    kind: RankKind = "realistic",
) -> Tensor:
    """Returns the rank of the true candidate of every query (1 is best).

    With ``higher`` the number of competing candidates scoring strictly higher than the true
    one and ``equal`` the number of *other* competing candidates scoring exactly the same:

    - ``"optimistic"``: ``1 + higher`` (the true candidate wins every tie; flatters a model
      that gives everything the same score),
    - ``"pessimistic"``: ``1 + higher + equal`` (it loses every tie),
    - ``"realistic"``: ``1 + higher + equal / 2``, the mean of the two, which is the expected
      rank when ties are broken at random. This is the one to report.

    Candidates where ``filter_mask`` is ``True`` are other true links of the query: they are
    removed from the competition ("filtered" setting). The true candidate itself always
    competes, whatever ``filter_mask`` says at its position.

    Args:
        scores: the score of every candidate for every query; higher means more likely.
        true_index: the column of the true candidate of every query.
        filter_mask: optional ``True`` where a candidate is another known true link.
        kind: ``"realistic"``, ``"optimistic"`` or ``"pessimistic"``.

    Returns:
        The ranks, as floats (realistic ranks can end in ``.5``).

    Shapes:
        scores: ``(b, num_candidates)``, true_index: ``(b,)``,
        filter_mask: ``(b, num_candidates)`` bool, returns ``(b,)`` float.

    Example:
        >>> scores = torch.tensor([[0.9, 0.5, 0.5, 0.1]])
        >>> rank_of_true(scores, torch.tensor([1]))
        tensor([2.5000])
        >>> rank_of_true(scores, torch.tensor([1]), torch.tensor([[True, False, False, False]]))
        tensor([1.5000])
    """
    where = "rank_of_true"
    if kind not in RANK_KINDS:
        raise ConfigError(
            f"The 'kind' parameter of {where} must be one of {list(RANK_KINDS)}. "
            f"Got {kind!r} instead."
        )
    if not isinstance(scores, Tensor) or scores.dim() != 2:
        raise DataError(
            f"The 'scores' argument of {where} must be a tensor of shape (b, num_candidates). "
            f"Got {_describe(scores)} instead."
        )
    b, num_candidates = scores.shape
    _check_index_vector(true_index, "true_index", where, length=b, upper=num_candidates)
    if scores.is_floating_point() and torch.isnan(scores).any():
        raise DataError(
            f"The 'scores' argument of {where} contains NaN in "
            f"{int(torch.isnan(scores).any(dim=1).sum())} of its {b} rows. Scores must be numbers."
        )
    true_index = true_index.to(device=scores.device, dtype=torch.long)
    true_score = scores.gather(1, true_index.unsqueeze(1))

    competing = torch.ones_like(scores, dtype=torch.bool)
    if filter_mask is not None:
        if not isinstance(filter_mask, Tensor) or filter_mask.shape != scores.shape:
            raise DataError(
                f"The 'filter_mask' argument of {where} must be a bool tensor of the shape of "
                f"'scores', {tuple(scores.shape)}. Got {_describe(filter_mask)} instead."
            )
        competing = ~filter_mask.to(device=scores.device, dtype=torch.bool)
    # The true candidate is not its own competitor; it is counted by the leading ``1 +``.
    competing = competing.scatter(1, true_index.unsqueeze(1), False)

    higher = ((scores > true_score) & competing).sum(dim=1).to(torch.float)
    equal = ((scores == true_score) & competing).sum(dim=1).to(torch.float)
    if kind == "optimistic":
        return 1.0 + higher
    if kind == "pessimistic":
        return 1.0 + higher + equal
    return 1.0 + higher + equal / 2.0


def ranking_metrics(ranks: Tensor) -> dict[str, float]:
    """Returns every registered link metric (:mod:`mmgraph.evaluation.metrics`) of some ranks.

    Args:
        ranks: ranks as returned by :func:`rank_of_true` (1 is best).

    Returns:
        ``{"mrr": ..., "hits@1": ..., "hits@3": ..., "hits@10": ...}`` with the default registry.

    Shapes:
        ranks: ``(n,)``.

    Example:
        >>> ranking_metrics(torch.tensor([1.0, 2.0, 3.5, 20.0]))["hits@3"]
        0.5
    """
    if not isinstance(ranks, Tensor) or ranks.dim() != 1 or ranks.numel() == 0:
        raise DataError(
            "The 'ranks' argument of ranking_metrics must be a non-empty tensor of shape (n,). "
            f"Got {_describe(ranks)} instead."
        )
    # Sorted, so that the metrics depend on the ranks and not on the order of the links: a float
    # sum in another order can differ in its last digit.
    ranks = ranks.to(torch.double).sort().values
    return {metric.name: metric.compute(ranks) for metric in metrics_of("link")}


def link_ranks(
    score_fn: ScoreFn,
    test_edges: Tensor,
    *,
    num_src: int,
    num_dst: int,
    known_edges: Tensor | SameLabelPairs,
    direction: Direction = "src->dst",
    candidates: Tensor | None = None,
    batch_size: int = 1024,
    kind: RankKind = "realistic",
) -> Tensor:
    """Returns the filtered rank of every test link in one direction.

    For a test link ``(s, d)``, direction ``"src->dst"`` scores source ``s`` against every
    candidate target and ranks ``d`` among them; the other known true targets of ``s`` are left
    out of the ranking. ``"dst->src"`` does the reverse. Queries are scored ``batch_size`` at a
    time, so memory stays at one batch of scores.

    Args:
        score_fn: ``score_fn(query, candidates, reverse)`` (:data:`~mmgraph.typing.ScoreFn`),
            called with ``reverse=True`` for ``"dst->src"``; higher means more likely linked.
        test_edges: the links to rank, ``[source indices, target indices]``.
        num_src: the number of source nodes.
        num_dst: the number of target nodes.
        known_edges: every true link known in any split (train, val and test), used for
            filtering; it must include the test links. Also a :class:`SameLabelPairs` (sources
            to targets): a same-label relation, filtered from the labels without materialising
            its pairs.
        direction: ``"src->dst"`` or ``"dst->src"``.
        candidates: the pool of the side being ranked (targets for ``"src->dst"``, sources for
            ``"dst->src"``), in the order ``score_fn`` gets it; default all of them.
        batch_size: the number of queries scored at once.
        kind: the rank variant, see :func:`rank_of_true`; report ``"realistic"``.

    Shapes:
        test_edges: ``(2, n)``, known_edges: ``(2, m)``, candidates: ``(num_candidates,)``,
        returns ``(n,)`` float, in the order of ``test_edges``.

    Example:
        >>> scores = torch.tensor([[0.9, 0.1], [0.3, 0.2]])
        >>> def score_fn(query, candidates, reverse):
        ...     return scores.T[query][:, candidates] if reverse else scores[query][:, candidates]
        >>> edges = torch.tensor([[0, 1], [0, 1]])
        >>> link_ranks(score_fn, edges, num_src=2, num_dst=2, known_edges=edges).tolist()
        [1.0, 2.0]
    """
    where = "link_ranks"
    num_src = check_positive_int(num_src, "num_src", where)
    num_dst = check_positive_int(num_dst, "num_dst", where)
    batch_size = check_positive_int(batch_size, "batch_size", where)
    if direction not in DIRECTIONS:
        raise ConfigError(
            f"The 'direction' parameter of {where} must be one of {list(DIRECTIONS)}. "
            f"Got {direction!r} instead."
        )
    _check_edges(test_edges, "test_edges", where, num_src, num_dst, allow_empty=False)
    device = test_edges.device
    test_edges = test_edges.long()
    # The known pairs are looked up on the CPU; their masks are moved to ``device`` where they meet the scores.
    if isinstance(known_edges, SameLabelPairs):
        if (known_edges.num_query, known_edges.num_target) != (num_src, num_dst):
            raise DataError(
                f"The SameLabelPairs given to {where} must label num_src={num_src} sources and num_dst={num_dst} "
                f"targets. Got {known_edges.num_query} and {known_edges.num_target} instead."
            )
        known = known_edges
    else:
        _check_edges(known_edges, "known_edges", where, num_src, num_dst, allow_empty=True)
        known_edges = known_edges.cpu().long()
        known = KnownPairs(known_edges, num_query=num_src, num_target=num_dst)
    _check_test_in_known(test_edges, known, where)

    if direction == "src->dst":
        query, target = test_edges[0], test_edges[1]
        num_query, num_target, side = num_src, num_dst, "target"
    else:
        query, target = test_edges[1], test_edges[0]
        num_query, num_target, side = num_dst, num_src, "source"
        if isinstance(known, SameLabelPairs):
            known = known.flip()
        else:
            known = KnownPairs(known_edges.flip(0), num_query=num_query, num_target=num_target)

    # ``position[node]`` is the column of ``node`` in the scores, -1 if it is not in the pool.
    if candidates is None:
        num_candidates = num_target
        candidates = torch.arange(num_target, device=device)
        position = candidates
    else:
        name = "candidates_dst" if direction == "src->dst" else "candidates_src"
        _check_index_vector(candidates, name, where, length=None, upper=num_target)
        candidates = candidates.to(device=device, dtype=torch.long)
        if candidates.numel() == 0 or candidates.unique().numel() != candidates.numel():
            raise DataError(
                f"The '{name}' argument of {where} must hold distinct {side} indices, at least "
                f"one. Got {candidates.numel()} indices, {candidates.unique().numel()} distinct."
            )
        num_candidates = candidates.numel()
        position = torch.full((num_target,), -1, dtype=torch.long, device=device)
        position[candidates] = torch.arange(num_candidates, device=device)
        missing = position[target] < 0
        if missing.any():
            first = int(missing.nonzero()[0, 0])
            raise DataError(
                f"The true {side} of {int(missing.sum())} test links is not in '{name}' "
                f"(the first is test link {first}, {side} {int(target[first])}). The pool must "
                f"hold the true {side} of every test link; add them or drop those test links."
            )

    ranks = []
    for start in range(0, query.numel(), batch_size):
        batch_query = query[start : start + batch_size]
        batch_true = position[target[start : start + batch_size]]
        scores = score_fn(batch_query, candidates, direction == "dst->src")
        _check_scores(scores, len(batch_query), num_candidates, direction)
        scores = scores.detach()

        if isinstance(known, SameLabelPairs):
            mask = known.mask(batch_query.cpu(), candidates.cpu()).to(device)
        else:
            row, other_target = known.targets_of(batch_query.cpu())
            row, column = row.to(device), position[other_target.to(device)]
            in_pool = column >= 0
            mask = torch.zeros(len(batch_query), num_candidates, dtype=torch.bool, device=device)
            mask[row[in_pool], column[in_pool]] = True
        ranks.append(rank_of_true(scores, batch_true, mask, kind=kind).cpu())
    return torch.cat(ranks)


def evaluate_link_classification(pos_scores: Tensor, neg_scores: Tensor) -> dict[str, float]:
    """Returns the ROC AUC and the average precision of positive against negative scores.

    These come second to the ranks of :func:`link_ranks`: they depend on how the negatives were
    drawn.

    Args:
        pos_scores: the scores of true links.
        neg_scores: the scores of sampled non-links.

    Returns:
        ``{"auc": ..., "ap": ...}``.

    Shapes:
        pos_scores: ``(num_pos,)``, neg_scores: ``(num_neg,)``.
    """
    where = "evaluate_link_classification"
    pos = _score_vector(pos_scores, "pos_scores", where)
    neg = _score_vector(neg_scores, "neg_scores", where)
    y_true = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    y_score = np.concatenate([pos, neg])
    return {
        "auc": float(roc_auc_score(y_true, y_score)),
        "ap": float(average_precision_score(y_true, y_score)),
    }


def _check_test_in_known(test_edges: Tensor, known: KnownPairs | SameLabelPairs, where: str) -> None:
    """Raises unless every test link is in ``known`` (pairs ``(source, target)``)."""
    missing = ~known.contains(test_edges[0].cpu(), test_edges[1].cpu())
    if missing.any():
        first = int(missing.nonzero()[0, 0])
        raise DataError(
            f"The 'known_edges' argument of {where} must include every test link, but "
            f"{int(missing.sum())} of the {test_edges.shape[1]} test links are missing (the first "
            f"is ({int(test_edges[0, first])}, {int(test_edges[1, first])})). Pass the true "
            "links of all splits (train, val and test) as 'known_edges'."
        )


def _check_scores(scores: object, b: int, num_candidates: int, direction: str) -> None:
    if not isinstance(scores, Tensor) or tuple(scores.shape) != (b, num_candidates):
        raise DataError(
            f"The score_fn given to link_ranks must return a tensor of shape "
            f"(num_queries, num_candidates) = ({b}, {num_candidates}) for direction "
            f"{direction!r}. Got {_describe(scores)} instead. Score every query against every "
            "candidate of the pool, in the pool's order."
        )
    if scores.is_floating_point() and torch.isnan(scores).any():
        raise DataError(
            f"The score_fn given to link_ranks returned NaN scores for direction "
            f"{direction!r} ({int(torch.isnan(scores).sum())} of {scores.numel()} values). "
            "Check the model for NaN weights or inputs."
        )


def _check_edges(
    edges: object, name: str, where: str, num_src: int, num_dst: int, *, allow_empty: bool
) -> None:
    if not isinstance(edges, Tensor) or edges.dim() != 2 or edges.shape[0] != 2:
        raise DataError(
            f"The '{name}' argument of {where} must be a tensor of shape (2, num_edges) "
            f"holding [source indices, target indices]. Got {_describe(edges)} instead."
        )
    if not _is_integer(edges):
        raise DataError(
            f"The '{name}' argument of {where} must hold integer node indices. "
            f"Got dtype {edges.dtype} instead."
        )
    if edges.shape[1] == 0:
        if allow_empty:
            return
        raise DataError(f"The '{name}' argument of {where} is empty. Give at least one link.")
    for row, side, upper in ((0, "source", num_src), (1, "target", num_dst)):
        bad = (edges[row] < 0) | (edges[row] >= upper)
        if bad.any():
            first = int(bad.nonzero()[0, 0])
            raise DataError(
                f"The '{name}' argument of {where} has {int(bad.sum())} {side} indices outside "
                f"[0, {upper}) (the first is {int(edges[row, first])} in column {first}). "
                f"Check 'num_src'/'num_dst' and the node indexing."
            )


def _check_index_vector(
    index: object, name: str, where: str, *, length: int | None, upper: int
) -> None:
    if not isinstance(index, Tensor) or index.dim() != 1 or not _is_integer(index):
        raise DataError(
            f"The '{name}' argument of {where} must be a 1-D tensor of integer indices. "
            f"Got {_describe(index)} instead."
        )
    if length is not None and index.numel() != length:
        raise DataError(
            f"The '{name}' argument of {where} must hold one index per row, {length}. "
            f"Got {index.numel()} instead."
        )
    bad = (index < 0) | (index >= upper)
    if bad.any():
        raise DataError(
            f"The '{name}' argument of {where} has indices outside [0, {upper}): "
            f"{index[bad][:5].tolist()}."
        )


def _score_vector(scores: object, name: str, where: str) -> np.ndarray:
    if isinstance(scores, Tensor):
        scores = scores.detach().cpu().numpy()
    array = np.asarray(scores, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise DataError(
            f"The '{name}' argument of {where} must be a non-empty 1-D array of scores. "
            f"Got shape {array.shape} instead."
        )
    if not np.isfinite(array).all():
        raise DataError(
            f"The '{name}' argument of {where} holds {int((~np.isfinite(array)).sum())} NaN or "
            "infinite scores. Scores must be finite numbers."
        )
    return array


def _is_integer(tensor: Tensor) -> bool:
    return not (tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool)


def _describe(value: object) -> str:
    if isinstance(value, Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"
