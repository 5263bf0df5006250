"""Cosine k-nearest neighbours: exact by chunked matrix products, or approximate with faiss.

The exact backend holds one chunk of queries times all base vectors in memory at a time, so
its memory use is ``O(chunk_size * num_base)`` whatever the number of queries. Results are
deterministic: neighbours come in order of decreasing similarity, ties broken by the lower
base index, whatever the chunk size and whatever other queries share the call.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from torch import Tensor

from mmgraph.checks import check_positive_int
from mmgraph.errors import ConfigError, ConfigTypeError, DataError, MissingDependencyError

KnnMethod = Literal["exact", "faiss"]
KNN_METHODS: tuple[str, ...] = ("exact", "faiss")

_SIMILARITY_STEP = 2.0**-24
"""Exact similarities are computed in float64 and rounded to multiples of this step (the float32
resolution near 1) before neighbours are chosen. A matrix product rounds differently with the
number of rows it holds, so without it two equal similarities (a zero vector and an orthogonal
one) could come out in either order: a new sample would get other neighbours alone than in a
batch, and the result would depend on ``chunk_size``."""

_FAISS_HNSW_M = 32
"""Links per node of the faiss HNSW index: more is more accurate, slower and larger."""

_FAISS_EF_SEARCH = 128
"""Candidate list size of an HNSW search (raised to ``2 * k`` when k is larger)."""


def _check_choice(value: object, name: str, owner: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(
            f"The {name!r} parameter of {owner} must be one of {list(choices)}. "
            f"Got {value!r} instead."
        )
    return str(value)


def _as_matrix(x: object, name: str, owner: str) -> Tensor:
    """Returns ``x`` as a finite floating 2-D tensor (float64 kept, anything else float32)."""
    what = f"The {name!r} argument of {owner}" if name.isidentifier() else f"{name} in {owner}"
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, Tensor):
        raise ConfigTypeError(
            f"{what} must be a torch.Tensor or a numpy array. Got {type(x).__name__} instead."
        )
    if x.dim() != 2:
        raise DataError(
            f"{what} must be 2-D with shape (num_vectors, dim). Got shape {tuple(x.shape)} instead."
        )
    x = x.detach()
    x = x.to(torch.float64) if x.dtype == torch.float64 else x.to(torch.float32)
    if not bool(torch.isfinite(x).all()):
        raise DataError(f"{what} holds NaN or infinite values; clean or impute them first.")
    return x


def _normalize(x: Tensor) -> Tensor:
    """L2-normalises rows; a zero row stays zero (cosine 0 with everything, never NaN)."""
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


def _sort_ties_by_index(values: Tensor, indices: Tensor) -> tuple[Tensor, Tensor]:
    """Orders each row by decreasing value, equal values by increasing index."""
    order = torch.argsort(indices, dim=1, stable=True)
    values, indices = values.gather(1, order), indices.gather(1, order)
    order = torch.sort(values, dim=1, descending=True, stable=True).indices
    return values.gather(1, order), indices.gather(1, order)


def _topk_rows(sims: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """Top-k of each row of ``sims`` with ties broken by the lower column index.

    ``torch.topk`` gives no tie order, so rows with a tie across the k-th place are redone
    with a stable full sort; the other rows only need their k winners reordered.
    """
    values, indices = torch.topk(sims, k, dim=1)
    values, indices = _sort_ties_by_index(values, indices)
    tied = (sims >= values[:, -1:]).sum(dim=1) > k
    if bool(tied.any()):
        rows = tied.nonzero().squeeze(1)
        sorted_values, sorted_indices = torch.sort(sims[rows], dim=1, descending=True, stable=True)
        values[rows] = sorted_values[:, :k]
        indices[rows] = sorted_indices[:, :k]
    return values, indices


def _import_faiss():
    try:
        import faiss
    except ImportError as error:
        raise MissingDependencyError(
            "The 'faiss' method of knn_cosine needs the faiss package, which is not installed. "
            "Install it with `pip install faiss-cpu` (or faiss-gpu), or use method='exact'."
        ) from error
    return faiss


def _knn_faiss(query: Tensor, base: Tensor, k: int, exclude_self: bool) -> tuple[Tensor, Tensor]:
    """Approximate cosine kNN with a faiss HNSW inner-product index on normalised vectors."""
    faiss = _import_faiss()
    num_query = query.shape[0]
    q = np.ascontiguousarray(_normalize(query).numpy(), dtype=np.float32)
    b = np.ascontiguousarray(_normalize(base).numpy(), dtype=np.float32)
    index = faiss.IndexHNSWFlat(b.shape[1], _FAISS_HNSW_M, faiss.METRIC_INNER_PRODUCT)
    searched = k + int(exclude_self)
    index.hnsw.efSearch = max(_FAISS_EF_SEARCH, 2 * searched)
    index.add(b)
    sims, indices = index.search(q, searched)
    values = torch.from_numpy(np.asarray(sims, dtype=np.float64))
    indices = torch.from_numpy(np.asarray(indices, dtype=np.int64))
    # Push missing results (-1) and, for the same set, each query itself to the end.
    drop = indices < 0
    if exclude_self:
        drop |= indices == torch.arange(num_query).unsqueeze(1)
    values = values.masked_fill(drop, -torch.inf)
    values, indices = _sort_ties_by_index(values, indices)
    values, indices = values[:, :k], indices[:, :k]
    if bool(torch.isinf(values).any()):
        raise RuntimeError(
            f"faiss found fewer than k={k} neighbours for some queries. "
            "Use method='exact' for small sets, or a smaller k."
        )
    return indices, values.to(torch.float32)


def knn_cosine(
    query: Tensor | np.ndarray,
    base: Tensor | np.ndarray,
    k: int,
    *,
    exclude_self: bool = False,
    chunk_size: int = 4096,
    method: KnnMethod = "exact",
) -> tuple[Tensor, Tensor]:
    """Finds the ``k`` base vectors of highest cosine similarity to each query vector.

    The exact method L2-normalises both sets and scores one chunk of ``chunk_size`` queries
    against all base vectors at a time, with ``torch.topk``. Neighbours are sorted by
    decreasing similarity; equal similarities are broken by the lower base index. Similarities
    are computed in float64 and rounded to multiples of ``2**-24`` first, so that equal
    similarities stay equal however the matrix product rounds: the result depends neither on
    ``chunk_size`` nor on the other queries of the call (a sample gets the same neighbours alone
    as in a batch). A zero vector has cosine 0 with every vector.

    ``k`` is clamped, silently, to the number of available neighbours: ``num_base``, or
    ``num_base - 1`` with ``exclude_self``. The result then has fewer than ``k`` columns
    (possibly 0).

    Args:
        query: the vectors to find neighbours for.
        base: the vectors to search among.
        k: the number of neighbours per query, a positive int.
        exclude_self: ``query`` and ``base`` are the same set (query ``i`` is base ``i``) and
            a query never returns itself. Needs ``num_query == num_base``.
        chunk_size: queries scored at once; bounds the memory to ``chunk_size * num_base``.
        method: ``"exact"``, or ``"faiss"`` for an approximate HNSW index (for large sets;
            needs ``pip install faiss-cpu``; ``chunk_size`` is then unused).

    Returns:
        ``(indices, similarities)``: int64 base indices and their float32 cosine similarities.

    Shapes:
        query: ``(num_query, dim)``, base: ``(num_base, dim)``,
        indices and similarities: ``(num_query, min(k, num_base - exclude_self))``.

    Example:
        >>> x = torch.tensor([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]])
        >>> knn_cosine(x, x, k=1, exclude_self=True)[0].flatten().tolist()
        [1, 0, 1]
    """
    owner = "knn_cosine"
    k = check_positive_int(k, "k", owner)
    chunk_size = check_positive_int(chunk_size, "chunk_size", owner)
    method = _check_choice(method, "method", owner, KNN_METHODS)
    query = _as_matrix(query, "query", owner)
    base = _as_matrix(base, "base", owner)
    if query.shape[1] != base.shape[1]:
        raise DataError(
            f"The 'query' and 'base' arguments of {owner} must have the same dimension. "
            f"Got {query.shape[1]} and {base.shape[1]} instead."
        )
    if exclude_self and query.shape[0] != base.shape[0]:
        raise DataError(
            f"exclude_self=True in {owner} needs query and base to be the same set, but they "
            f"have {query.shape[0]} and {base.shape[0]} vectors."
        )
    num_query, num_base = query.shape[0], base.shape[0]
    k = min(k, num_base - int(exclude_self))
    if k <= 0 or num_query == 0:
        k = max(k, 0)
        return (
            torch.empty(num_query, k, dtype=torch.int64),
            torch.empty(num_query, k, dtype=torch.float32),
        )
    if method == "faiss":
        return _knn_faiss(query, base, k, exclude_self)

    query, base = _normalize(query.to(torch.float64)), _normalize(base.to(torch.float64))
    all_indices, all_values = [], []
    for start in range(0, num_query, chunk_size):
        sims = torch.round(query[start : start + chunk_size] @ base.T / _SIMILARITY_STEP) * _SIMILARITY_STEP
        if exclude_self:
            rows = torch.arange(sims.shape[0])
            sims[rows, rows + start] = -torch.inf
        values, indices = _topk_rows(sims, k)
        all_indices.append(indices)
        all_values.append(values)
    return torch.cat(all_indices), torch.cat(all_values).to(torch.float32)


def knn_graph(
    x: Tensor | np.ndarray,
    k: int,
    *,
    symmetric: bool = False,
    chunk_size: int = 4096,
    method: KnnMethod = "exact",
) -> tuple[Tensor, Tensor]:
    """Builds the cosine kNN graph of one set of vectors, without self loops.

    Edges point from a neighbour to the node it is a neighbour of (PyG's ``source_to_target``
    flow), so each node receives messages from its ``k`` nearest neighbours: the edge
    ``j -> i`` exists when ``j`` is among the ``k`` nearest of ``i``. ``k`` is clamped to
    ``num_nodes - 1`` as in :func:`knn_cosine`.

    With ``symmetric=True`` the graph is the union of ``j -> i`` and ``i -> j``; an edge found
    in both directions appears once, with the larger of its two weights, and edges are sorted
    by (source, target). Otherwise edges are grouped by target node, nearest first.

    Args:
        x: the vectors, one per node.
        k: neighbours per node, a positive int.
        symmetric: add the reverse of every edge.
        chunk_size: see :func:`knn_cosine`.
        method: see :func:`knn_cosine`.

    Returns:
        ``(edge_index, edge_weight)``: int64 edges and their float32 cosine similarities
        (which may be negative).

    Shapes:
        x: ``(num_nodes, dim)``; edge_index: ``(2, num_edges)``; edge_weight: ``(num_edges,)``,
        with ``num_edges = num_nodes * k`` when not symmetric, at most twice that when symmetric.
    """
    indices, values = knn_cosine(x, x, k, exclude_self=True, chunk_size=chunk_size, method=method)
    num_nodes, k = indices.shape
    target = torch.arange(num_nodes).repeat_interleave(k)
    edge_index = torch.stack([indices.reshape(-1), target])
    edge_weight = values.reshape(-1)
    if symmetric:
        edge_index, edge_weight = _symmetrize(edge_index, edge_weight, num_nodes)
    return edge_index, edge_weight


def _symmetrize(edge_index: Tensor, edge_weight: Tensor, num_nodes: int) -> tuple[Tensor, Tensor]:
    """Union of the edges and their reverses, duplicates merged with the larger weight."""
    both = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    weights = torch.cat([edge_weight, edge_weight])
    keys, inverse = torch.unique(both[0] * num_nodes + both[1], sorted=True, return_inverse=True)
    merged = torch.full((keys.numel(),), -torch.inf, dtype=weights.dtype)
    merged = merged.scatter_reduce(0, inverse, weights, reduce="amax", include_self=True)
    return torch.stack([keys // num_nodes, keys % num_nodes]), merged
