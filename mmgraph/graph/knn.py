"""Cosine k-nearest neighbours: exact by chunked matrix products, or approximate with faiss.

The exact backend holds one chunk of queries times all base vectors in memory at a time, so
its memory use is ``O(chunk_size * num_base)`` whatever the number of queries. Results are
deterministic: neighbours come in order of decreasing similarity, ties broken by the lower
base index, whatever the chunk size and whatever other queries share the call.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from mmgraph.checks import check_choice, check_positive_int
from mmgraph.errors import ConfigTypeError, DataError, MissingDependencyError

logger = logging.getLogger(__name__)

KnnMethod = Literal["auto", "exact", "flat", "hnsw", "ivf"]
KNN_METHODS: tuple[str, ...] = ("auto", "exact", "flat", "hnsw", "ivf")

AUTO_EXACT_LIMIT = 1e9
"""``method="auto"`` uses the exact path without measuring while ``num_query * num_base`` is at
most this (a 31,600-node kNN graph: below it the exact path took at most about 20 s on 2 cores);
beyond, a probe decides (:data:`AUTO_IVF_SHARE`)."""

AUTO_IVF_SHARE = 0.8
"""Beyond :data:`AUTO_EXACT_LIMIT`, ``method="auto"`` probes: it builds an IVF index on a seeded
sample of :data:`AUTO_PROBE_BASE` base vectors, tunes it to the target recall and times it and the
exact path on the same 256 queries of that sample (best of 3 each); it builds the IVF index of
the whole set only if the probe's IVF search took less than this share of the exact path's time,
else it runs the exact path. On a sample, IVF's share of exact's time overstates its share on the
whole set (lists grow with the square root of the size), so the rule errs towards exact."""

AUTO_PROBE_BASE = 10_000
"""Base vectors of the probe's sample: its index costs a few percent of the exact path at the
smallest size that probes (31,600), less beyond."""

_SIMILARITY_STEP = 2.0**-24
"""Exact similarities are computed in float64 and rounded to multiples of this step (the float32
resolution near 1) before neighbours are chosen. A matrix product rounds differently with the
number of rows it holds, so without it two equal similarities (a zero vector and an orthogonal
one) could come out in either order: a new sample would get other neighbours alone than in a
batch, and the result would depend on ``chunk_size``."""

_CANDIDATE_MARGIN = 8
"""Extra float32 candidates per query, beyond ``k``, rescored in float64 by the exact path."""

_RESCORE_ROWS = 32
"""Queries whose candidates are rescored in float64 at once (bounds a ``rows x (k + margin) x dim`` gather)."""

_FAISS_HNSW_M = 32
"""Links per node of the faiss HNSW index: more is more accurate, slower and larger."""

_FAISS_EF_SEARCH = 128
"""Candidate list size of an HNSW search (raised to ``2 * k`` when k is larger)."""

_IVF_LISTS_PER_SQRT = 4
"""An IVF index has ``4 * sqrt(num_base)`` lists (at most one per 39 base vectors, faiss' training minimum)."""

_IVF_TRAIN_PER_LIST = 50
"""Base vectors per list in the seeded subsample the IVF centroids are trained on."""

_IVF_NPROBE = 16
"""Lists an IVF search visits per query at least; doubled until the recall on a sample reaches
``_IVF_TARGET_RECALL`` (see :func:`_tune_nprobe`)."""

_IVF_TARGET_RECALL = 0.95
"""Recall@k against exact search that an IVF index is tuned to reach on a sample of its base."""

_IVF_RECALL_SAMPLE = 256
"""Base vectors (seeded) whose exact neighbours tune an IVF index's ``nprobe``."""


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


def _rounded(sims: Tensor) -> Tensor:
    """Float64 similarities rounded to multiples of ``_SIMILARITY_STEP``."""
    return torch.round(sims / _SIMILARITY_STEP) * _SIMILARITY_STEP


def _norms64(x: Tensor, rows: int = 65536) -> Tensor:
    """Float64 row norms (at least ``1e-12``), a block of rows at a time to bound the float64 copy."""
    norms = [x[i : i + rows].to(torch.float64).norm(dim=1, keepdim=True) for i in range(0, x.shape[0], rows)]
    return torch.cat(norms).clamp_min(1e-12)


def _unit32(x: Tensor, norms: Tensor, rows: int = 65536) -> Tensor:
    """The rows of ``x`` divided by their float64 ``norms``, as float32 (no overflow or underflow of float32 norms)."""
    return torch.cat([(x[i : i + rows].to(torch.float64) / norms[i : i + rows]).to(torch.float32)
                      for i in range(0, x.shape[0], rows)])


def _float32_error(dim: int) -> float:
    """A bound on ``|float32 cosine - float64 cosine|`` for rows normalised in each precision.

    Rows are normalised in float64 and cast to float32 (a relative error of ``u = 2**-24`` per
    component); the float32 dot product of unit vectors is then off by at most ``(dim + 2) * u``.
    The bound returned is twice that and more, to stay safe whatever order the product sums in.
    """
    return (2 * dim + 8) * 2.0**-24


def _knn_exact(
    query: Tensor, base: Tensor, k: int, exclude_self: bool, chunk_size: int
) -> tuple[Tensor, Tensor]:
    """Exact kNN: float32 matrix products pick candidates, float64 rescoring decides among them.

    The result is the one of the plain float64 computation (every similarity in float64,
    rounded to ``_SIMILARITY_STEP``, ties by lower index): a query whose float32 candidates may
    miss a near-tie at the ``k``-th place is redone against every base vector in float64.
    """
    num_query, num_base = query.shape[0], base.shape[0]
    query_norm = _norms64(query)
    base_norm = query_norm if base is query else _norms64(base)
    query32 = _unit32(query, query_norm)
    base32 = query32 if base is query else _unit32(base, base_norm)
    width = min(k + _CANDIDATE_MARGIN, num_base)
    # Any neighbour of the float64 result is within this of the float32 k-th value.
    window = 2 * _float32_error(query.shape[1]) + _SIMILARITY_STEP
    base64: Tensor | None = None  # the float64 base, built only if some query needs it
    all_indices, all_values = [], []
    for start in range(0, num_query, chunk_size):
        stop = min(start + chunk_size, num_query)
        sims = query32[start:stop] @ base32.T
        if exclude_self:
            rows = torch.arange(stop - start)
            sims[rows, rows + start] = -torch.inf
        values32, candidates = torch.topk(sims, width, dim=1)
        del sims
        unsafe = values32[:, -1] >= values32[:, k - 1] - window
        if width == num_base:
            unsafe[:] = False
        values, indices = _rescore(
            query, query_norm, base, base_norm, start, candidates, values32, window, k, exclude_self
        )
        if bool(unsafe.any()):
            if base64 is None:
                base64 = base.to(torch.float64) / base_norm
            rows = unsafe.nonzero().squeeze(1)
            exact = _rounded((query[start + rows].to(torch.float64) / query_norm[start + rows]) @ base64.T)
            if exclude_self:
                exact[torch.arange(rows.numel()), rows + start] = -torch.inf
            values[rows], indices[rows] = _topk_rows(exact, k)
        all_indices.append(indices)
        all_values.append(values)
    return torch.cat(all_indices), torch.cat(all_values).to(torch.float32)


def _rescore(
    query: Tensor,
    query_norm: Tensor,
    base: Tensor,
    base_norm: Tensor,
    start: int,
    candidates: Tensor,
    values32: Tensor,
    window: float,
    k: int,
    exclude_self: bool,
) -> tuple[Tensor, Tensor]:
    """The ``k`` best of each row's candidates by rounded float64 similarity, ties by lower index.

    ``candidates`` come in order of decreasing float32 similarity ``values32``. Where every gap
    between the first ``k + 1`` of them exceeds ``window``, the float64 order is the float32
    order, so only the ``k`` winners are rescored (for their values); the other rows rescore
    every candidate and sort.
    """
    num_rows = candidates.shape[0]
    ordered = torch.zeros(num_rows, dtype=torch.bool)
    if candidates.shape[1] > k:
        ordered = (values32[:, :k] - values32[:, 1 : k + 1]).amin(dim=1) > window
    values = torch.empty(num_rows, k, dtype=torch.float64)
    indices = candidates[:, :k].clone()
    rows = ordered.nonzero().squeeze(1)
    values[rows] = _similarities64(query, query_norm, base, base_norm, rows + start, candidates[rows, :k])
    rows = (~ordered).nonzero().squeeze(1)
    if rows.numel():
        scores = _similarities64(query, query_norm, base, base_norm, rows + start, candidates[rows])
        if exclude_self:  # the row's own node is a candidate only where fewer than ``width`` others exist
            scores = scores.masked_fill(candidates[rows] == (rows + start).unsqueeze(1), -torch.inf)
        scores, order = _sort_ties_by_index(scores, candidates[rows])
        values[rows], indices[rows] = scores[:, :k], order[:, :k]
    return values, indices


def _similarities64(query: Tensor, query_norm: Tensor, base: Tensor, base_norm: Tensor, rows: Tensor,
                    columns: Tensor) -> Tensor:
    """Rounded float64 cosine of query ``rows[i]`` with base ``columns[i, j]``, ``(len(rows), columns.shape[1])``."""
    out = torch.empty(columns.shape, dtype=torch.float64)
    for first in range(0, len(rows), _RESCORE_ROWS):
        block = columns[first : first + _RESCORE_ROWS]
        picked = rows[first : first + _RESCORE_ROWS]
        q = query.index_select(0, picked).to(torch.float64) / query_norm.index_select(0, picked)
        flat = block.reshape(-1)  # index_select of flat rows: several times faster than base[block]
        b = base.index_select(0, flat).to(torch.float64) / base_norm.index_select(0, flat)
        b = b.view(*block.shape, base.shape[1])
        out[first : first + block.shape[0]] = _rounded(torch.bmm(b, q.unsqueeze(2)).squeeze(2))
    return out


def _import_faiss(method: str):
    try:
        import faiss
    except ImportError as error:
        raise MissingDependencyError(
            f"The {method!r} method of knn_cosine needs the faiss package, which is not installed. "
            "Install it with `pip install faiss-cpu` (or faiss-gpu), or use method='exact'."
        ) from error
    return faiss


@dataclass(frozen=True)
class IvfProbe:
    """What tuning an IVF index measured on a seeded sample of base vectors (as queries).

    Attributes:
        nprobe: the lists each search visits, the smallest doubling that reached the target recall.
        recall: its recall@k against the exact path.
        ivf_seconds: the time of the IVF search of the sample at ``nprobe``.
        exact_seconds: the time of the exact path on the same sample.
    """

    nprobe: int
    recall: float
    ivf_seconds: float
    exact_seconds: float


def _faiss_index(faiss, method: str, base: np.ndarray, k: int) -> tuple[object, IvfProbe | None]:
    """A faiss inner-product index of ``method`` holding ``base`` (normalised float32 rows), and
    for IVF what tuning it measured."""
    num_base, dim = base.shape
    if method == "flat":
        index = faiss.IndexFlatIP(dim)
    elif method == "hnsw":
        index = faiss.IndexHNSWFlat(dim, _FAISS_HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = max(_FAISS_EF_SEARCH, 2 * k)
    else:
        num_lists = max(1, min(round(_IVF_LISTS_PER_SQRT * num_base**0.5), num_base // 39))
        index = faiss.index_factory(dim, f"IVF{num_lists},Flat", faiss.METRIC_INNER_PRODUCT)
        sample = min(num_base, _IVF_TRAIN_PER_LIST * num_lists)
        rows = np.sort(np.random.default_rng(0).choice(num_base, size=sample, replace=False))
        index.train(base[rows])
        index.add(base)
        return index, _tune_nprobe(index, base, k, num_lists)
    index.add(base)
    return index, None


def _tune_nprobe(index, base: np.ndarray, k: int, num_lists: int) -> IvfProbe:
    """Sets the lists an IVF search visits: ``_IVF_NPROBE``, doubled until the recall@k of a seeded
    sample of base vectors (as queries, against the exact path) reaches ``_IVF_TARGET_RECALL``. Data
    with cluster structure stays at 16 lists; structureless data needs many more (measured on the
    synthetic generator, 100,000 384-d vectors: recall 0.39 at 16 lists)."""
    rows = np.sort(np.random.default_rng(1).choice(len(base), size=min(len(base), _IVF_RECALL_SAMPLE), replace=False))
    sample, base_t = torch.from_numpy(base[rows]), torch.from_numpy(base)
    exact_seconds, (truth, _) = _best_time(lambda: _knn_exact(sample, base_t, min(k, len(base)), False, len(rows)))
    nprobe = min(num_lists, _IVF_NPROBE)
    while True:
        index.nprobe = nprobe
        _, found = index.search(base[rows], k)
        recall = knn_recall(found, truth)
        if nprobe >= num_lists or recall >= _IVF_TARGET_RECALL:
            ivf_seconds, _ = _best_time(lambda: index.search(base[rows], k))
            return IvfProbe(nprobe, recall, ivf_seconds, exact_seconds)
        nprobe = min(num_lists, 2 * nprobe)


def _best_time(call, repeats: int = 3):
    """The shortest of ``repeats`` wall times of ``call()`` (the least disturbed by other work), and its result."""
    best, out = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = call()
        best = min(best, time.perf_counter() - start)
    return best, out


def _knn_faiss(
    query: Tensor, base: Tensor, k: int, exclude_self: bool, method: str, chunk_size: int
) -> tuple[Tensor, Tensor]:
    """Cosine kNN with a faiss inner-product index (``flat``, ``hnsw`` or ``ivf``) on normalised
    vectors; ``method="auto"`` is an IVF index kept only if its probe beat the exact path."""
    faiss = _import_faiss(method)
    b = _normalize(base.to(torch.float32)).numpy()
    q = b if query is base else _normalize(query.to(torch.float32)).numpy()
    searched = k + int(exclude_self)
    if method == "auto":
        rows = np.sort(np.random.default_rng(2).choice(len(b), size=min(len(b), AUTO_PROBE_BASE), replace=False))
        _, probe = _faiss_index(faiss, "ivf", b[rows], searched)
        method = "ivf" if probe.ivf_seconds < AUTO_IVF_SHARE * probe.exact_seconds else "exact"
        logger.info(
            "kNN of %d queries among %d: auto chose %s (probe on %d of them: IVF nprobe %d, recall %.3f, %.4f s; "
            "exact %.4f s)", q.shape[0], b.shape[0], method, len(rows), probe.nprobe, probe.recall,
            probe.ivf_seconds, probe.exact_seconds, extra={"knn_method": method},
        )
        if method == "exact":
            return _knn_exact(query, base, k, exclude_self, chunk_size)
    index, _ = _faiss_index(faiss, method, b, searched)
    sims, found = index.search(q, searched)
    values, indices = torch.from_numpy(sims), torch.from_numpy(found)
    # Push missing results (-1) and, for the same set, each query itself to the end.
    drop = indices < 0
    if exclude_self:
        drop |= indices == torch.arange(q.shape[0]).unsqueeze(1)
    values = values.masked_fill(drop, -torch.inf)
    values, indices = _sort_ties_by_index(values, indices)
    values, indices = values[:, :k].contiguous(), indices[:, :k].contiguous()
    if bool(torch.isinf(values).any()):
        raise DataError(
            f"The {method!r} index of knn_cosine found fewer than k={k} neighbours for some queries. "
            "Use method='exact' or 'flat' for this set, or a smaller k."
        )
    return indices, values


def resolve_method(method: str, num_query: int, num_base: int) -> str:
    """The method ``knn_cosine`` runs for ``method`` on sets of these sizes, as far as sizes decide.

    ``"auto"`` is ``"exact"`` up to ``num_query * num_base = AUTO_EXACT_LIMIT`` (``1e9``) and when
    faiss is not installed; beyond, it stays ``"auto"``: a probe on the data decides between IVF and
    exact (:data:`AUTO_IVF_SHARE`; the choice is logged at INFO level with its measurements).

    Example:
        >>> resolve_method("auto", 10_000, 10_000), resolve_method("auto", 10**6, 10**6)
        ('exact', 'auto')
    """
    method = check_choice(method, name="method", owner="knn_cosine", choices=KNN_METHODS)
    if method != "auto":
        return method
    if num_query * num_base <= AUTO_EXACT_LIMIT:
        return "exact"
    try:
        import faiss  # noqa: F401
    except ImportError:
        return "exact"
    return "auto"


def knn_recall(approx_indices: Tensor | np.ndarray, exact_indices: Tensor | np.ndarray) -> float:
    """The share of exact neighbours that an approximate search found (recall@k).

    Each query's approximate neighbour list is compared with its exact one as sets, whatever
    the order; the result is the number found over the number of exact neighbours.

    Args:
        approx_indices: the neighbours an approximate method returned.
        exact_indices: the exact neighbours of the same queries.

    Returns:
        A float in ``[0, 1]``; 1.0 when there are no exact neighbours.

    Shapes:
        approx_indices: ``(num_query, k_approx)``, exact_indices: ``(num_query, k)``.

    Example:
        >>> knn_recall(torch.tensor([[1, 2], [0, 3]]), torch.tensor([[2, 1], [0, 2]]))
        0.75
    """
    approx = torch.as_tensor(approx_indices)
    exact = torch.as_tensor(exact_indices)
    if approx.dim() != 2 or exact.dim() != 2 or approx.shape[0] != exact.shape[0]:
        raise DataError(
            "The 'approx_indices' and 'exact_indices' arguments of knn_recall must be 2-D with one row per "
            f"query each. Got shapes {tuple(approx.shape)} and {tuple(exact.shape)} instead."
        )
    if exact.numel() == 0:
        return 1.0
    found = (exact.unsqueeze(2) == approx.unsqueeze(1)).any(dim=2)
    return float(found.sum()) / exact.numel()


def knn_cosine(
    query: Tensor | np.ndarray,
    base: Tensor | np.ndarray,
    k: int,
    *,
    exclude_self: bool = False,
    chunk_size: int = 1024,
    method: KnnMethod = "auto",
) -> tuple[Tensor, Tensor]:
    """Finds the ``k`` base vectors of highest cosine similarity to each query vector.

    Methods:

    - ``"exact"``: L2-normalises both sets and scores one chunk of ``chunk_size`` queries against
      all base vectors at a time with a float32 matrix product; the best ``k + 8`` candidates
      of each query are rescored in float64 and rounded to multiples of ``2**-24``, and a query
      whose float32 candidates may miss a near-tie at the ``k``-th place is redone against every
      base vector in float64. Neighbours are sorted by decreasing similarity, equal similarities
      broken by the lower base index, so the result depends neither on ``chunk_size`` nor on the
      other queries of the call (a sample gets the same neighbours alone as in a batch).
    - ``"flat"``: faiss ``IndexFlatIP``, exact up to float32 rounding (near-ties may come out in
      another order than with ``"exact"``).
    - ``"hnsw"``: faiss HNSW graph (32 links per node, ``efSearch=128``), approximate; built in
      parallel, so with several threads its neighbours may differ slightly from run to run.
    - ``"ivf"``: faiss ``IndexIVFFlat`` with ``4 * sqrt(num_base)`` lists trained on a seeded
      subsample, approximate and deterministic; it searches 16 lists per query, doubled until
      the recall@k of 256 seeded base vectors against exact search reaches 0.95.
    - ``"auto"`` (default): ``"exact"`` while ``num_query * num_base <= 1e9`` (a 31,600-node
      kNN graph) or faiss is not installed; beyond, an IVF index tuned on a sample of 10,000 base
      vectors and the exact path are timed on the same 256 sample queries, and the IVF index of
      the whole set is built only if it took less than 0.8 of the exact time, else the exact path
      runs (:data:`AUTO_IVF_SHARE`). On structureless data the tuned index searches most of its
      lists and loses to exact (40,000 random 384-d vectors: IVF 104.6 s against exact 26.3 s
      when ``auto`` chose IVF by size alone); ``benchmarks/knn_auto.py`` measures both cases.
      Measured on 2 cores, one thread, CPU seconds for the 50,000-node
      graph of clustered 384-d vectors (k=10): exact 32 s (1.3x the float32 matrix-product
      floor), HNSW 18 s (recall 0.996), IVF 8.6 s (recall 1.0); exact costs ``n**2`` and
      catches up with the indexes near 30,000 nodes. IVF was faster than HNSW at equal recall
      up to 200,000 nodes. Unstructured data (the synthetic generator's 384-d features) is the
      hard case: at 60,000 nodes, 2 threads, load 4, IVF with its lists tuned took 106 s (recall
      0.995; 0.39 untuned at 100,000), HNSW 111 s (recall 0.956), where exact takes about 45 s.
      Measure the recall of an approximate method against exact with :func:`knn_recall`.

    The faiss methods need ``pip install faiss-cpu`` (a dependency of mmgraph) and ignore
    ``chunk_size``. A zero vector has cosine 0 with every vector.

    ``k`` is clamped, silently, to the number of available neighbours: ``num_base``, or
    ``num_base - 1`` with ``exclude_self``. The result then has fewer than ``k`` columns
    (possibly 0).

    Args:
        query: the vectors to find neighbours for.
        base: the vectors to search among.
        k: the number of neighbours per query, a positive int.
        exclude_self: ``query`` and ``base`` are the same set (query ``i`` is base ``i``) and
            a query never returns itself. Needs ``num_query == num_base``.
        chunk_size: queries scored at once by the exact method; bounds its memory to
            ``chunk_size * num_base`` float32 values.
        method: ``"auto"``, ``"exact"``, ``"flat"``, ``"hnsw"`` or ``"ivf"``.

    Returns:
        ``(indices, similarities)``: int64 base indices and their float32 cosine similarities.

    Shapes:
        query: ``(num_query, dim)``, base: ``(num_base, dim)``,
        indices and similarities: ``(num_query, min(k, num_base - exclude_self))``.

    Example:
        >>> x = torch.tensor([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]])
        >>> knn_cosine(x, x, k=1, exclude_self=True)[0].flatten().tolist()
        [1, 0, 1]
        >>> knn_cosine(x, x, k=1, exclude_self=True, method="flat")[0].flatten().tolist()
        [1, 0, 1]
    """
    owner = "knn_cosine"
    k = check_positive_int(k, "k", owner)
    chunk_size = check_positive_int(chunk_size, "chunk_size", owner)
    method = check_choice(method, name="method", owner=owner, choices=KNN_METHODS)
    same = exclude_self and query is base
    query = _as_matrix(query, "query", owner)
    base = query if same else _as_matrix(base, "base", owner)
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
    method = resolve_method(method, num_query, num_base)
    if method == "exact":
        return _knn_exact(query, base, k, exclude_self, chunk_size)
    return _knn_faiss(query, base, k, exclude_self, method, chunk_size)


def knn_graph(
    x: Tensor | np.ndarray,
    k: int,
    *,
    symmetric: bool = False,
    chunk_size: int = 1024,
    method: KnnMethod = "auto",
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
