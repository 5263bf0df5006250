from __future__ import annotations

import re
import sys
import types

import numpy as np
import pytest
import torch

from mmgraph.graph import knn_cosine, knn_graph


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
    with pytest.raises(ImportError, match="pip install faiss-cpu"):
        knn_cosine(x, x, 2, method="faiss")
    with pytest.raises(ImportError, match="pip install faiss-cpu"):
        knn_graph(x, 2, method="faiss")


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
        approx = knn_cosine(x, x, 4, exclude_self=exclude_self, method="faiss")
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
        ({"method": "annoy"}, "must be one of ['exact', 'faiss']. Got 'annoy' instead."),
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
