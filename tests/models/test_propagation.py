"""Propagation over the heterogeneous graph, checked against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch
from torch_geometric.data import HeteroData

from mmgraph.models.propagation import PropagationGraph


def _path_graph() -> HeteroData:
    """a0 -similar(cos 1.0)- a1, and a link a1 -> b0 with its reverse."""
    data = HeteroData()
    data["a"].num_nodes = 2
    data["b"].num_nodes = 1
    data["a", "similar", "a"].edge_index = torch.tensor([[0, 1], [1, 0]])
    data["a", "similar", "a"].edge_weight = torch.tensor([1.0, 1.0])
    data["a", "link", "b"].edge_index = torch.tensor([[1], [0]])
    data["b", "rev_link", "a"].edge_index = torch.tensor([[0], [1]])
    return data


def test_random_walk_reaches_a_cold_node_through_its_neighbour() -> None:
    graph = PropagationGraph(_path_graph(), normalization="random-walk", link_weight=1.0)
    # P rows: a0 <- a1 (1.0); a1 <- a0, b0 (1/2 each); b0 <- a1 (1.0).
    out = graph.propagate({"b": torch.tensor([[1.0]])}, alpha=0.5, steps=2)
    # step 1: z = 0.5 * P z0 + 0.5 z0 -> a0 0, a1 0.25, b0 0.5
    # step 2: a0 = 0.5 * 0.25 = 0.125; a1 = 0.5 * (0 + 0.5) / 2 = 0.125; b0 = 0.5 * 0.25 + 0.5 = 0.625
    assert out["a"].flatten().tolist() == pytest.approx([0.125, 0.125])
    assert out["b"].flatten().tolist() == pytest.approx([0.625])


def test_symmetric_normalisation_matches_gcn() -> None:
    graph = PropagationGraph(_path_graph(), normalization="symmetric", link_weight=1.0)
    dense = graph.matrix.to_dense()
    # With self loops the degrees are a0: 2, a1: 3, b0: 2.
    expected = torch.tensor([
        [1 / 2, 1 / math.sqrt(6), 0.0],
        [1 / math.sqrt(6), 1 / 3, 1 / math.sqrt(6)],
        [0.0, 1 / math.sqrt(6), 1 / 2],
    ])
    assert torch.allclose(dense, expected, atol=1e-6)


def test_similarity_temperature_and_link_weight_shape_the_walk() -> None:
    data = _path_graph()
    data["a", "similar", "a"].edge_weight = torch.tensor([0.9, 0.9])
    graph = PropagationGraph(data, normalization="random-walk", temperature=0.1, link_weight=2.0)
    row = graph.matrix.to_dense()[1]  # a1 receives from a0 (exp(-1)) and b0 (2.0)
    total = math.exp(-1) + 2.0
    assert row.tolist() == pytest.approx([math.exp(-1) / total, 0.0, 2.0 / total])


def test_bad_settings_are_named() -> None:
    with pytest.raises(ValueError, match="normalization.*'sideways'"):
        PropagationGraph(_path_graph(), normalization="sideways")
    with pytest.raises(ValueError, match="temperature=0"):
        PropagationGraph(_path_graph(), temperature=0)
    with pytest.raises(ValueError, match="'alpha' must be in \\(0, 1\\]. Got 0"):
        PropagationGraph(_path_graph()).propagate({"b": torch.ones(1, 1)}, alpha=0, steps=1)


@pytest.mark.parametrize("normalization", ["symmetric", "random-walk"])
def test_new_nodes_read_their_neighbours_like_the_full_graph_at_its_fixed_point(normalization: str) -> None:
    """Attached by edges they only receive, new nodes leave the graph's values unchanged; once those
    values have converged, ``extend`` gives the new nodes what a pass over the whole attached graph does."""
    from mmgraph.graph import GraphBuilder

    torch.manual_seed(0)
    builder = GraphBuilder(k=3)
    graph = builder.build({"a": torch.randn(25, 4), "b": torch.randn(15, 4)},
                          {("a", "to", "b"): torch.stack([torch.arange(10), torch.arange(10)])})
    new_x = torch.randn(5, 4)
    attached, new = builder.attach(graph, "a", new_x)
    signal = {"b": torch.randn(15, 3)}
    settings = {"alpha": 0.3, "steps": 300}  # converged: the values no longer change
    full = PropagationGraph(attached, normalization=normalization).propagate(signal, **settings)
    old = PropagationGraph(graph, normalization=normalization)
    final = old.propagate(signal, **settings)
    assert torch.allclose(full["a"][:25], final["a"], atol=1e-5)  # existing nodes: unchanged by new ones
    neighbours, cosine = builder.neighbours(graph, "a", new_x)
    out = old.extend(final, "a", torch.zeros(5, 3), neighbours, cosine, **settings)
    assert torch.allclose(out, full["a"][new], atol=1e-5)
    # with a signal of their own
    own = torch.randn(5, 3)
    full = PropagationGraph(attached, normalization=normalization).propagate(
        {"a": torch.cat([torch.zeros(25, 3), own])}, **settings)
    final = old.propagate({"a": torch.zeros(25, 3)}, **settings)
    assert torch.allclose(old.extend(final, "a", own, neighbours, cosine, **settings), full["a"][new], atol=1e-5)


def test_new_nodes_are_extended_without_building_the_matrix() -> None:
    """``extend`` reads the degrees only: a loaded model's first prediction does not pay for the
    sparse matrix (a second at 100,000 nodes), which ``propagate`` builds on first use."""
    graph = PropagationGraph(_path_graph())
    final = {"a": torch.ones(2, 1), "b": torch.ones(1, 1)}
    graph.extend(final, "a", torch.zeros(1, 1), torch.tensor([[0]]), torch.tensor([[1.0]]), alpha=0.5, steps=2)
    assert "matrix" not in vars(graph)
    graph.propagate({"b": torch.ones(1, 1)}, alpha=0.5, steps=1)
    assert "matrix" in vars(graph)
