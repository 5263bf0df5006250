from __future__ import annotations

from collections import Counter

import networkx as nx
import pytest
import torch

from mmgraph.graph import GraphBuilder, from_networkx, to_networkx


def edge_multiset(data, edge_type) -> Counter:
    store = data[edge_type]
    weights = store.edge_weight.tolist() if "edge_weight" in store else [None] * store.num_edges
    pairs = map(tuple, store.edge_index.t().tolist())
    return Counter(zip(pairs, weights, strict=True))


@pytest.fixture
def graph_data(hand_features, hand_links):
    features = hand_features | {"audio": torch.randn(1, 5)}  # one node: no similarity edges
    return GraphBuilder(k=2).build(
        features, hand_links, labels={"image": torch.tensor([0, 1, -1, 1])}
    )


def test_to_networkx_nodes_and_edges(graph_data):
    graph = to_networkx(graph_data)
    assert isinstance(graph, nx.MultiDiGraph)
    assert graph.number_of_nodes() == 4 + 3 + 1
    assert graph.nodes["image", 2]["type"] == "image"
    assert graph.nodes["image", 2]["y"] == -1
    assert graph.nodes["text", 1]["x"].tolist() == [2.0, 0.0, 0.0]
    assert graph.number_of_edges() == sum(graph_data[t].num_edges for t in graph_data.edge_types)
    caption = [
        (u, v, a)
        for u, v, a in graph.edges(data=True)
        if a["edge_type"] == ("image", "caption", "text")
    ]
    assert sorted((u, v) for u, v, _ in caption) == [
        (("image", 0), ("text", 0)),
        (("image", 1), ("text", 2)),
        (("image", 3), ("text", 1)),
    ]
    assert all("weight" not in a for _, _, a in caption)
    similar = graph.get_edge_data(("text", 0), ("text", 1))
    assert [a["weight"] for a in similar.values()] == [pytest.approx(1.0)]


def test_round_trip_preserves_types_edges_and_features(graph_data):
    back = from_networkx(to_networkx(graph_data))
    assert back.node_types == graph_data.node_types
    assert back.edge_types == graph_data.edge_types
    for node_type in graph_data.node_types:
        assert back[node_type].num_nodes == graph_data[node_type].num_nodes
        assert torch.equal(back[node_type].x, graph_data[node_type].x)
    assert torch.equal(back["image"].y, graph_data["image"].y)
    assert "y" not in back["text"]
    for edge_type in graph_data.edge_types:
        assert edge_multiset(back, edge_type) == edge_multiset(graph_data, edge_type), edge_type
    empty = ("audio", "similar", "audio")
    assert back[empty].edge_index.shape == (2, 0) and back[empty].edge_weight.shape == (0,)
    back.validate()


def test_round_trip_without_features(graph_data):
    back = from_networkx(to_networkx(graph_data, with_features=False))
    assert "x" not in back["image"]
    assert back["image"].num_nodes == 4


def test_from_networkx_of_a_hand_made_graph():
    graph = nx.MultiDiGraph()
    graph.add_nodes_from([("a", 0), ("a", 1), ("b", 0)])
    graph.add_edge(("a", 1), ("b", 0), edge_type=("a", "to", "b"), weight=0.5)
    graph.add_edge(("a", 0), ("a", 1), edge_type=("a", "near", "a"))
    data = from_networkx(graph)
    assert data["a"].num_nodes == 2 and data["b"].num_nodes == 1
    assert "x" not in data["a"]
    assert data["a", "to", "b"].edge_index.tolist() == [[1], [0]]
    assert data["a", "to", "b"].edge_weight.tolist() == [0.5]
    assert "edge_weight" not in data["a", "near", "a"]


def test_from_networkx_errors():
    with pytest.raises(ValueError, match="needs a directed graph"):
        from_networkx(nx.Graph())
    with pytest.raises(ValueError, match="needs node keys \\(node_type, index\\). Got 'n1'"):
        from_networkx(nx.MultiDiGraph([("n1", "n2")]))
    graph = nx.MultiDiGraph()
    graph.add_edge(("a", 0), ("a", 1))
    with pytest.raises(ValueError, match="needs an edge_type attribute"):
        from_networkx(graph)
    graph = nx.MultiDiGraph()
    graph.add_edge(("a", 0), ("a", 2), edge_type=("a", "r", "a"))
    with pytest.raises(ValueError, match="must have the indices 0 to 1, each once"):
        from_networkx(graph)
    graph = nx.MultiDiGraph()
    graph.add_edge(("a", 0), ("b", 0), edge_type=("a", "r", "a"))
    with pytest.raises(ValueError, match="disagree with the edge's end nodes"):
        from_networkx(graph)
