from __future__ import annotations

import re
import sys
import types

import numpy as np
import pytest
import torch

from mmgraph.graph import knn_cosine, knn_graph
from mmgraph.graph.knn import knn_recall, resolve_method


def brute_force(query: np.ndarray, base: np.ndarray, k: int, exclude_self: bool = False):
    """Cosine kNN the slow, obvious way: full similarity matrix, stable sort per row."""

    def normalize(x):
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        return x / np.maximum(norms, 1e-12)

    sims = normalize(query) @ normalize(base).T
    if exclude_self:
        np.fill_diagonal(sims, -np.inf)
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(sims, order, axis=1)


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 64, 4096])
@pytest.mark.parametrize("exclude_self", [False, True])
def test_exact_matches_brute_force(chunk_size, exclude_self):
    rng = np.random.default_rng(0)
    base = rng.normal(size=(50, 8))
    query = base if exclude_self else rng.normal(size=(23, 8))
    indices, sims = knn_cosine(
        torch.from_numpy(query),
        torch.from_numpy(base),
        5,
        exclude_self=exclude_self,
        chunk_size=chunk_size,
    )
    expected_indices, expected_sims = brute_force(query, base, 5, exclude_self)
    assert indices.dtype == torch.int64 and sims.dtype == torch.float32
    assert indices.shape == (query.shape[0], 5)
    np.testing.assert_array_equal(indices.numpy(), expected_indices)
    np.testing.assert_allclose(sims.numpy(), expected_sims, atol=1e-6)
    if exclude_self:
        assert not (indices == torch.arange(50).unsqueeze(1)).any()


@pytest.mark.parametrize("chunk_size", [1, 4, 4096])
def test_ties_are_broken_by_lower_index(chunk_size):
    # Base vectors are repeated axis vectors, so many similarities are exactly equal.
    rng = np.random.default_rng(1)
    base = np.eye(3)[rng.integers(0, 3, size=30)]
    query = np.eye(3)[rng.integers(0, 3, size=11)] + np.eye(3)[rng.integers(0, 3, size=11)]
    for k in (1, 4, 12):
        indices, _ = knn_cosine(
            torch.tensor(query, dtype=torch.float32),
            torch.tensor(base, dtype=torch.float32),
            k,
            chunk_size=chunk_size,
        )
        np.testing.assert_array_equal(indices.numpy(), brute_force(query, base, k)[0])


def test_float32_numpy_inputs_are_accepted():
    x = np.random.default_rng(2).normal(size=(12, 4)).astype(np.float32)
    indices, sims = knn_cosine(x, x, 3, exclude_self=True)
    assert indices.shape == sims.shape == (12, 3)
    assert sims.dtype == torch.float32


def test_zero_vectors_give_finite_weights():
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 2.0]])
    indices, sims = knn_cosine(x, x, 3, exclude_self=True)
    assert torch.isfinite(sims).all()
    # A zero vector has cosine 0 with everything: ties, broken by index.
    assert indices[0].tolist() == [1, 2, 3]
    assert sims[0].tolist() == [0.0, 0.0, 0.0]
    edge_index, edge_weight = knn_graph(x, 2, symmetric=True)
    assert torch.isfinite(edge_weight).all()


def test_k_is_clamped_to_the_available_neighbours():
    x = torch.randn(5, 3)
    assert knn_cosine(x, x, 10)[0].shape == (5, 5)
    assert knn_cosine(x, x, 10, exclude_self=True)[0].shape == (5, 4)
    one = torch.randn(1, 3)
    indices, sims = knn_cosine(one, one, 3, exclude_self=True)
    assert indices.shape == sims.shape == (1, 0)
    edge_index, edge_weight = knn_graph(one, 3)
    assert edge_index.shape == (2, 0) and edge_weight.shape == (0,)


def test_knn_graph_points_from_neighbour_to_node():
    x = torch.from_numpy(np.random.default_rng(3).normal(size=(20, 5)))
    indices, sims = knn_cosine(x, x, 3, exclude_self=True)
    edge_index, edge_weight = knn_graph(x, 3)
    assert edge_index.shape == (2, 60) and edge_weight.shape == (60,)
    assert torch.equal(edge_index[1], torch.arange(20).repeat_interleave(3))
    assert torch.equal(edge_index[0], indices.reshape(-1))
    assert torch.equal(edge_weight, sims.reshape(-1))
    assert not (edge_index[0] == edge_index[1]).any()


def test_symmetric_knn_graph_is_the_union_with_max_weights():
    x = torch.from_numpy(np.random.default_rng(4).normal(size=(20, 5)))
    directed, directed_weight = knn_graph(x, 3)
    edge_index, edge_weight = knn_graph(x, 3, symmetric=True)
    expected: dict[tuple[int, int], float] = {}
    for (u, v), w in zip(directed.t().tolist(), directed_weight.tolist(), strict=True):
        for pair in ((u, v), (v, u)):
            expected[pair] = max(expected.get(pair, -np.inf), w)
    pairs = [tuple(pair) for pair in edge_index.t().tolist()]
    assert pairs == sorted(expected)  # each once, sorted by (source, target)
    assert edge_weight.tolist() == pytest.approx([expected[p] for p in pairs])


def test_faiss_missing_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "faiss", None)  # makes `import faiss` fail
    x = torch.randn(6, 3)
    for method in ("flat", "hnsw", "ivf"):
        with pytest.raises(ImportError, match="pip install faiss-cpu"):
            knn_cosine(x, x, 2, method=method)
    with pytest.raises(ImportError, match="pip install faiss-cpu"):
        knn_graph(x, 2, method="hnsw")
    assert resolve_method("auto", 10**6, 10**6) == "exact"  # auto falls back without faiss


def reference_float64(query: np.ndarray, base: np.ndarray, k: int, exclude_self: bool):
    """The plain float64 path: every similarity in float64, rounded to 2**-24, stable sort by index."""
    q = torch.as_tensor(query, dtype=torch.float64)
    b = torch.as_tensor(base, dtype=torch.float64)
    q = q / q.norm(dim=1, keepdim=True).clamp_min(1e-12)
    b = b / b.norm(dim=1, keepdim=True).clamp_min(1e-12)
    sims = torch.round(q @ b.T / 2.0**-24) * 2.0**-24
    if exclude_self:
        sims.fill_diagonal_(-torch.inf)
    values, indices = torch.sort(sims, dim=1, descending=True, stable=True)
    k = min(k, base.shape[0] - int(exclude_self))
    return indices[:, :k], values[:, :k].to(torch.float32)


def tied_vectors(seed: int, num: int, dim: int) -> np.ndarray:
    """Random vectors with many exact ties: duplicate, zero, axis (orthogonal) and rounded rows."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(num, dim))
    x[: num // 4] = np.round(x[: num // 4])
    x[rng.integers(0, num, size=num // 3)] = x[rng.integers(0, num, size=num // 3)]
    x[rng.integers(0, num, size=num // 10)] = 0.0
    x[rng.integers(0, num, size=num // 8)] = np.eye(dim)[rng.integers(0, dim, size=num // 8)]
    return x


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("exclude_self", [False, True])
def test_exact_is_identical_to_the_float64_path(seed, exclude_self):
    """Float32 candidates rescored in float64 give exactly the plain float64 result, ties included."""
    base = tied_vectors(seed, 150, 12)
    query = base if exclude_self else tied_vectors(seed + 100, 40, 12)
    for dtype in (np.float64, np.float32):
        expected = reference_float64(query.astype(dtype), base.astype(dtype), 7, exclude_self)
        for chunk_size in (1, 16, 1024):
            indices, sims = knn_cosine(
                query.astype(dtype), base.astype(dtype), 7, exclude_self=exclude_self, chunk_size=chunk_size,
                method="exact",
            )
            assert torch.equal(indices, expected[0])
            assert torch.equal(sims, expected[1])


def test_exact_is_identical_to_the_float64_path_for_tiny_and_huge_vectors():
    x = tied_vectors(9, 60, 6)
    x[::3] *= 1e-30
    x[1::3] *= 1e30
    for dtype in (np.float64, np.float32):
        expected = reference_float64(x.astype(dtype), x.astype(dtype), 5, True)
        indices, sims = knn_cosine(x.astype(dtype), x.astype(dtype), 5, exclude_self=True, method="exact")
        assert torch.equal(indices, expected[0]) and torch.equal(sims, expected[1])


def test_auto_is_exact_on_small_sets_and_a_probe_decides_on_large_ones():
    x = tied_vectors(0, 60, 5)
    assert resolve_method("auto", 60, 60) == "exact"
    assert resolve_method("auto", 31_000, 31_000) == "exact"
    assert resolve_method("auto", 100_000, 100_000) == "auto"
    assert resolve_method("auto", 100, 10**6) == "exact"  # a few new samples against a large graph
    assert resolve_method("ivf", 10, 10) == "ivf"
    auto, exact = knn_cosine(x, x, 4, exclude_self=True), knn_cosine(x, x, 4, exclude_self=True, method="exact")
    assert torch.equal(auto[0], exact[0]) and torch.equal(auto[1], exact[1])


@pytest.mark.parametrize("method", ["flat", "hnsw", "ivf"])
def test_faiss_methods_find_the_exact_neighbours_of_a_small_set(method):
    pytest.importorskip("faiss")
    x = np.random.default_rng(6).normal(size=(400, 16)).astype(np.float32)
    for exclude_self in (False, True):
        exact = knn_cosine(x, x, 5, exclude_self=exclude_self, method="exact")
        approx = knn_cosine(x, x, 5, exclude_self=exclude_self, method=method)
        assert approx[0].dtype == torch.int64 and approx[1].dtype == torch.float32
        assert approx[0].shape == approx[1].shape == (400, 5)
        assert knn_recall(approx[0], exact[0]) >= (1.0 if method == "flat" else 0.9)
        if exclude_self:
            assert not (approx[0] == torch.arange(400).unsqueeze(1)).any()
    assert torch.equal(knn_cosine(x, x, 5, method="ivf")[0], knn_cosine(x, x, 5, method="ivf")[0])  # seeded


def test_knn_recall():
    exact = torch.tensor([[1, 2, 3], [4, 5, 6]])
    assert knn_recall(exact, exact) == 1.0
    assert knn_recall(torch.tensor([[3, 9, 1], [7, 8, 9]]), exact) == pytest.approx(2 / 6)
    assert knn_recall(np.array([[2, 1, 3, 0]]), np.array([[0, 1, 2, 3]])) == 1.0
    assert knn_recall(torch.empty(2, 0, dtype=torch.int64), torch.empty(2, 0, dtype=torch.int64)) == 1.0
    with pytest.raises(ValueError, match=r"one row per query each. Got shapes \(2, 3\) and \(3, 3\)"):
        knn_recall(exact, torch.zeros(3, 3, dtype=torch.int64))


def test_faiss_path_with_a_stand_in_index(monkeypatch):
    """Checks our side of the faiss call with a brute-force stand-in for the index."""

    class FakeIndex:
        def __init__(self, dim, m, metric):
            self.hnsw = types.SimpleNamespace(efSearch=16)
            self.base = np.empty((0, dim), dtype=np.float32)

        def add(self, x):
            assert x.dtype == np.float32 and x.flags.c_contiguous
            self.base = np.concatenate([self.base, x])

        def search(self, q, k):
            sims = q @ self.base.T
            order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
            return np.take_along_axis(sims, order, axis=1), order

    fake = types.SimpleNamespace(IndexHNSWFlat=FakeIndex, METRIC_INNER_PRODUCT=0)
    monkeypatch.setitem(sys.modules, "faiss", fake)
    x = torch.from_numpy(np.random.default_rng(5).normal(size=(30, 6)))
    for exclude_self in (False, True):
        exact = knn_cosine(x, x, 4, exclude_self=exclude_self)
        approx = knn_cosine(x, x, 4, exclude_self=exclude_self, method="hnsw")
        assert torch.equal(approx[0], exact[0])
        assert torch.allclose(approx[1], exact[1], atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0}, "The 'k' parameter of knn_cosine must be a positive int. Got 0 instead."),
        ({"k": -3}, "The 'k' parameter of knn_cosine must be a positive int. Got -3 instead."),
        ({"k": 2.5}, "The 'k' parameter of knn_cosine must be a positive int. Got 2.5 instead."),
        ({"k": True}, "must be a positive int. Got True instead."),
        ({"chunk_size": 0}, "The 'chunk_size' parameter of knn_cosine must be a positive int"),
        (
            {"method": "annoy"},
            "The 'method' parameter of knn_cosine must be one of ['auto', 'exact', 'flat', 'hnsw', 'ivf']. "
            "Got 'annoy' instead.",
        ),
    ],
)
def test_bad_parameters(kwargs, message):
    x = torch.randn(4, 2)
    arguments = {"k": 2} | kwargs
    with pytest.raises(ValueError, match=re.escape(message)):
        knn_cosine(x, x, **arguments)


def test_bad_inputs():
    x = torch.randn(4, 2)
    with pytest.raises(ValueError, match=r"'query' argument .* must be 2-D .* Got shape \(4,\)"):
        knn_cosine(torch.randn(4), x, 1)
    with pytest.raises(ValueError, match="same dimension. Got 3 and 2 instead"):
        knn_cosine(torch.randn(4, 3), x, 1)
    with pytest.raises(ValueError, match="exclude_self=True .* have 3 and 4 vectors"):
        knn_cosine(torch.randn(3, 2), x, 1, exclude_self=True)
    with pytest.raises(ValueError, match="NaN or infinite"):
        knn_cosine(torch.tensor([[float("nan"), 0.0]]), x, 1)
    with pytest.raises(TypeError, match="must be a torch.Tensor or a numpy array. Got list"):
        knn_cosine([[1.0, 0.0]], x, 1)


def test_ivf_reaches_its_recall_target_on_structureless_data() -> None:
    """Gaussian vectors have no clusters, so 16 visited lists find few true neighbours; the index
    visits more until a sample of its base reaches the target recall."""
    from mmgraph.graph.knn import _IVF_TARGET_RECALL

    x = torch.randn(8000, 32, generator=torch.Generator().manual_seed(0))
    found, _ = knn_cosine(x, x, 10, exclude_self=True, method="ivf")
    exact, _ = knn_cosine(x, x, 10, exclude_self=True, method="exact")
    assert knn_recall(found, exact) >= _IVF_TARGET_RECALL - 0.03


@pytest.mark.parametrize(("ivf_seconds", "chosen"), [(1.0, "exact"), (0.79, "ivf"), (0.1, "ivf")])
def test_auto_keeps_the_ivf_index_only_if_its_probe_beat_exact(monkeypatch, caplog, ivf_seconds, chosen):
    """Beyond the size limit the probe's timings decide (0.8 of exact's time); both paths give the
    exact neighbours of this clustered set, so the result is the same either way."""
    pytest.importorskip("faiss")
    import mmgraph.graph.knn as knn

    tune = knn._tune_nprobe

    def timed(*args, **kwargs):
        probe = tune(*args, **kwargs)
        return knn.IvfProbe(probe.nprobe, probe.recall, ivf_seconds=ivf_seconds, exact_seconds=1.0)

    monkeypatch.setattr(knn, "_tune_nprobe", timed)
    monkeypatch.setattr(knn, "AUTO_EXACT_LIMIT", 0)
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(20, 16))
    x = (centres[rng.integers(0, 20, size=800)] + 0.05 * rng.normal(size=(800, 16))).astype(np.float32)
    exact = knn_cosine(x, x, 5, exclude_self=True, method="exact")
    with caplog.at_level("INFO", logger="mmgraph.graph.knn"):
        auto = knn_cosine(x, x, 5, exclude_self=True)
    [record] = [r for r in caplog.records if getattr(r, "knn_method", None)]
    assert record.knn_method == chosen and f"auto chose {chosen}" in record.getMessage()
    if chosen == "exact":
        assert torch.equal(auto[0], exact[0]) and torch.equal(auto[1], exact[1])
    else:
        assert knn_recall(auto[0], exact[0]) >= 0.95
