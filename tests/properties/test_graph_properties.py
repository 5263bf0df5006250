"""Properties of graph building and kNN over random small feature matrices.

Feature values are drawn from a few small integers, so that zero rows, duplicate rows and tied
similarities come up often.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mmgraph.graph import GraphBuilder
from mmgraph.graph.knn import knn_cosine, knn_graph

VALUES = st.integers(-2, 2).map(float)


def matrices(rows: st.SearchStrategy[int] | None = None, dim: int | None = None) -> st.SearchStrategy:
    rows = rows if rows is not None else st.integers(1, 12)
    dims = st.just(dim) if dim is not None else st.integers(1, 4)
    return st.tuples(rows, dims).flatmap(lambda s: hnp.arrays(np.float32, s, elements=VALUES))


def brute_cosine(query: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Cosine similarity in float64; a zero row has cosine 0 with every row."""
    def unit(x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float64)
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    return unit(query) @ unit(base).T


@st.composite
def knn_cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int, bool]:
    dim = draw(st.integers(1, 4))
    exclude_self = draw(st.booleans())
    base = draw(matrices(st.integers(1, 12), dim))
    query = base if exclude_self else draw(matrices(st.integers(1, 6), dim))
    return query, base, draw(st.integers(1, 14)), exclude_self


ORTHOGONAL_AND_ZEROS = np.array([*[[0, 0, 0]] * 10, [0, -1, -1], [0, 1, -1]], dtype=np.float32)


@given(case=knn_cases())
@example(  # found by Hypothesis: the last two rows are orthogonal (cosine 0, as with the zero rows); one
    # query at a time, the product rounded it above 0 and node 10 took node 11 instead of node 0.
    # Fixed in knn_cosine (float64, rounded to 2**-24).
    case=(ORTHOGONAL_AND_ZEROS, ORTHOGONAL_AND_ZEROS, 1, True)
)
@settings(max_examples=50)
def test_knn_neighbours_are_the_true_nearest(case) -> None:
    query, base, k, exclude_self = case
    indices, sims = knn_cosine(query, base, k, exclude_self=exclude_self)
    truth = brute_cosine(query, base)
    if exclude_self:
        np.fill_diagonal(truth, -np.inf)
    expected_k = min(k, len(base) - int(exclude_self))
    assert indices.shape == sims.shape == (len(query), expected_k)
    for i, (row, values) in enumerate(zip(indices.numpy(), sims.numpy(), strict=True)):
        assert len(set(row)) == len(row), "a neighbour is returned twice"
        assert not (exclude_self and i in row), "a node is its own neighbour"
        np.testing.assert_allclose(values, truth[i, row], atol=1e-5)  # the similarities are the true ones
        assert np.all(np.diff(values) <= 0), "neighbours are not nearest first"
        if len(row):
            others = np.delete(truth[i], row)
            assert others.size == 0 or values[-1] >= others.max() - 1e-5, "a nearer base vector was left out"
        # equal vectors tie: the lower index goes first
        for position, j in enumerate(row):
            for earlier in range(j):
                if np.array_equal(base[earlier], base[j]) and not (exclude_self and earlier == i):
                    assert earlier in row[:position], f"base {earlier} equals {j} but is not before it"
    again = knn_cosine(query, base, k, exclude_self=exclude_self, chunk_size=1)
    assert torch.equal(again[0], indices), "the neighbours depend on chunk_size"
    torch.testing.assert_close(again[1], sims, rtol=0, atol=1e-6)


@given(x=matrices(), k=st.integers(1, 5), symmetric=st.booleans())
@settings(max_examples=40)
def test_knn_graph_edges_are_the_neighbour_lists(x: np.ndarray, k: int, symmetric: bool) -> None:
    edge_index, edge_weight = knn_graph(x, k, symmetric=symmetric)
    indices, _ = knn_cosine(x, x, k, exclude_self=True)
    n = len(x)
    wanted = {(int(j), i) for i in range(n) for j in indices[i]}  # j -> i: j is among the nearest of i
    if symmetric:
        wanted |= {(i, j) for j, i in wanted}
    edges = [tuple(e) for e in edge_index.T.tolist()]
    assert set(edges) == wanted and len(edges) == len(wanted), "missing, extra or duplicate edges"
    assert edge_weight.shape == (len(edges),)
    truth = brute_cosine(x, x)
    np.testing.assert_allclose(edge_weight.numpy(), [truth[a, b] for a, b in edges], atol=1e-5)


@st.composite
def graphs(draw: st.DrawFn):
    """Features of one to three node types and a few link types among them (a node type may link to itself)."""
    node_types = ["a", "b", "c"][: draw(st.integers(1, 3))]
    features = {t: draw(matrices()) for t in node_types}
    links = {}
    for relation in ("r", "s")[: draw(st.integers(0, 2))]:
        src, dst = draw(st.sampled_from(node_types)), draw(st.sampled_from(node_types))
        pairs = draw(st.lists(st.tuples(st.integers(0, len(features[src]) - 1),
                                        st.integers(0, len(features[dst]) - 1)), max_size=10))
        links[(src, relation, dst)] = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2).T
    return features, links


@given(graph=graphs(), k=st.integers(1, 5), symmetric=st.booleans(), weight=st.sampled_from(["cosine", "none"]))
@settings(max_examples=50)
def test_built_graphs_are_consistent(graph, k: int, symmetric: bool, weight: str) -> None:
    features, links = graph
    builder = GraphBuilder(k=k, symmetric=symmetric, weight=weight)
    data = builder.build(features, links)
    for (src, _, dst), store in data.edge_items():
        edge_index = store.edge_index
        assert edge_index.dtype == torch.int64 and edge_index.dim() == 2 and edge_index.shape[0] == 2
        if edge_index.numel():
            assert 0 <= int(edge_index[0].min()) and int(edge_index[0].max()) < len(features[src])
            assert 0 <= int(edge_index[1].min()) and int(edge_index[1].max()) < len(features[dst])
    for (src, relation, dst), given_links in links.items():
        forward = data[src, relation, dst].edge_index
        assert torch.equal(forward, given_links), "the known links are not kept as given"
        reverse = data[dst, builder.reverse_prefix + relation, src].edge_index
        assert torch.equal(reverse, forward.flip(0)), "the reverse edges are not the forward edges flipped"
    for t in features:
        store = data[t, builder.similarity_relation, t]
        assert not bool((store.edge_index[0] == store.edge_index[1]).any()), f"a self loop among {t} similarity edges"
        assert (weight == "cosine") == ("edge_weight" in store)
        if weight == "cosine":
            assert store.edge_weight.shape == (store.edge_index.shape[1],) and bool((store.edge_weight >= 0).all())
        if not symmetric:  # every node receives from its own k nearest
            counts = torch.bincount(store.edge_index[1], minlength=len(features[t]))
            assert bool((counts == min(k, len(features[t]) - 1)).all())
        assert torch.equal(data[t].x, torch.as_tensor(features[t]))
