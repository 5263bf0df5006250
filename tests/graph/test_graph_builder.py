from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from torch_geometric.data import HeteroData

from mmgraph.graph import GraphBuilder

S = 1 / math.sqrt(2)


def edges(data: HeteroData, edge_type) -> dict[tuple[int, int], float | None]:
    """The edges of one type as {(source, target): weight}; checks there are no duplicates."""
    store = data[edge_type]
    pairs = [tuple(pair) for pair in store.edge_index.t().tolist()]
    assert len(pairs) == len(set(pairs)), f"duplicate edges in {edge_type}"
    weights = store.edge_weight.tolist() if "edge_weight" in store else [None] * len(pairs)
    return dict(zip(pairs, weights, strict=True))


def approx(expected: dict) -> dict:
    return {pair: pytest.approx(w, abs=1e-6) for pair, w in expected.items()}


def test_repr_shows_settings():
    assert repr(GraphBuilder()) == (
        "GraphBuilder(k=10, similarity_relation='similar', reverse_prefix='rev_', "
        "symmetric=True, weight='cosine', chunk_size=1024, method='auto')"
    )
    assert repr(GraphBuilder(k=3, symmetric=False, weight="none")).startswith(
        "GraphBuilder(k=3, similarity_relation='similar', reverse_prefix='rev_', "
        "symmetric=False, weight='none'"
    )


def test_build_hand_graph(hand_features, hand_links):
    labels = {"text": torch.tensor([2, -1, 0])}
    data = GraphBuilder(k=1).build(hand_features, hand_links, labels=labels)
    data.validate()

    assert data.node_types == ["image", "text"]
    assert data.edge_types == [
        ("image", "similar", "image"),
        ("text", "similar", "text"),
        ("image", "caption", "text"),
        ("text", "rev_caption", "image"),
        ("image", "part_of", "image"),
        ("image", "rev_part_of", "image"),
    ]
    for node_type, x in hand_features.items():
        assert data[node_type].x.dtype == torch.float32
        assert torch.equal(data[node_type].x, x)
        assert data[node_type].num_nodes == x.shape[0]
    assert data["text"].y.tolist() == [2, -1, 0] and data["text"].y.dtype == torch.int64
    assert "y" not in data["image"]

    # Nearest image of each image: 0 -> 1 (s); 1 -> 0 (s, tied with 2, lower index wins);
    # 2 -> 1 (s); 3 -> 0 (-s, tied with 2; negative cosine clamped to weight 0).
    # Made symmetric, each pair appears both ways.
    assert edges(data, ("image", "similar", "image")) == approx(
        {(0, 1): S, (1, 0): S, (1, 2): S, (2, 1): S, (0, 3): 0.0, (3, 0): 0.0}
    )
    # Text: 0 -> 1 (1), 1 -> 0 (1); the zero vector 2 has cosine 0 with both -> 0.
    assert edges(data, ("text", "similar", "text")) == approx(
        {(0, 1): 1.0, (1, 0): 1.0, (0, 2): 0.0, (2, 0): 0.0}
    )
    assert edges(data, ("image", "caption", "text")) == {(0, 0): None, (1, 2): None, (3, 1): None}
    assert edges(data, ("text", "rev_caption", "image")) == {
        (0, 0): None,
        (2, 1): None,
        (1, 3): None,
    }
    assert edges(data, ("image", "part_of", "image")) == {(0, 3): None}
    assert edges(data, ("image", "rev_part_of", "image")) == {(3, 0): None}
    assert data["image", "caption", "text"].edge_index.tolist() == [[0, 1, 3], [0, 2, 1]]


def test_build_directed_unweighted(hand_features):
    data = GraphBuilder(k=1, symmetric=False, weight="none").build(hand_features)
    assert data.edge_types == [("image", "similar", "image"), ("text", "similar", "text")]
    store = data["image", "similar", "image"]
    assert "edge_weight" not in store
    # Grouped by target node: edge neighbour -> node.
    assert store.edge_index.tolist() == [[1, 0, 1, 0], [0, 1, 2, 3]]
    assert data["text", "similar", "text"].edge_index.tolist() == [[1, 0, 0], [0, 1, 2]]


def test_build_custom_names_and_numpy_inputs(hand_features):
    features = {t: x.numpy().astype(np.float64) for t, x in hand_features.items()}
    links = {("text", "describes", "image"): np.array([[2], [3]])}
    data = GraphBuilder(k=1, similarity_relation="knn", reverse_prefix="inv_").build(
        features, links, labels={"image": np.array([0, 1, 1, -1])}
    )
    assert data.edge_types == [
        ("image", "knn", "image"),
        ("text", "knn", "text"),
        ("text", "describes", "image"),
        ("image", "inv_describes", "text"),
    ]
    assert data["image"].x.dtype == torch.float32
    assert data["image"].y.tolist() == [0, 1, 1, -1]
    assert data["image", "inv_describes", "text"].edge_index.tolist() == [[3], [2]]


def test_k_larger_than_a_node_type(hand_features):
    data = GraphBuilder(k=10).build(hand_features | {"audio": torch.randn(1, 4)})
    # Every image links to all 3 others, both ways: 12 edges; the lone audio node to none.
    assert data["image", "similar", "image"].edge_index.shape == (2, 12)
    assert data["audio", "similar", "audio"].edge_index.shape == (2, 0)
    assert data["audio", "similar", "audio"].edge_weight.shape == (0,)


def test_build_is_deterministic_and_copies_inputs(hand_features, hand_links):
    builder = GraphBuilder(k=2)
    first = builder.build(hand_features, hand_links)
    second = builder.build(hand_features, hand_links)
    for key in first.node_types + first.edge_types:
        for name, value in first[key].items():
            if torch.is_tensor(value):
                assert torch.equal(value, second[key][name])
            else:
                assert value == second[key][name]
    hand_features["image"][0, 0] = 100.0
    hand_links["image", "caption", "text"][0, 0] = 2
    assert first["image"].x[0, 0] == 1.0
    assert first["image", "caption", "text"].edge_index[0, 0] == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": -3}, "The 'k' parameter of GraphBuilder must be a positive int. Got -3 instead."),
        ({"k": 0}, "The 'k' parameter of GraphBuilder must be a positive int. Got 0 instead."),
        ({"k": 1.5}, "The 'k' parameter of GraphBuilder must be a positive int. Got 1.5 instead."),
        ({"chunk_size": 0}, "The 'chunk_size' parameter of GraphBuilder must be a positive int."),
        (
            {"weight": "dot"},
            "The 'weight' parameter of GraphBuilder must be one of "
            "['cosine', 'none']. Got 'dot' instead.",
        ),
        ({"method": "annoy"}, "The 'method' parameter of GraphBuilder must be one of "),
        ({"symmetric": "yes"}, "The 'symmetric' parameter of GraphBuilder must be a bool."),
        (
            {"reverse_prefix": ""},
            "The 'reverse_prefix' parameter of GraphBuilder must be a "
            "non-empty str. Got '' instead.",
        ),
        ({"similarity_relation": None}, "The 'similarity_relation' parameter of GraphBuilder"),
    ],
)
def test_bad_builder_arguments(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        GraphBuilder(**kwargs)


def test_positional_arguments_are_refused():
    with pytest.raises(TypeError):
        GraphBuilder(3)


LINK = ("image", "caption", "text")


@pytest.mark.parametrize(
    ("links", "message"),
    [
        (
            {LINK: torch.tensor([[0, 1], [0, 1], [0, 1]])},
            "The links of type ('image', 'caption', 'text') must be a tensor of shape "
            "(2, num_links): sources in row 0, targets in row 1. Got (3, 2) instead.",
        ),
        ({LINK: torch.tensor([0, 1])}, "must be a tensor of shape (2, num_links)"),
        (
            {LINK: torch.tensor([[0.0], [1.0]])},
            "must hold integer indices. Got dtype torch.float32",
        ),
        (
            {LINK: torch.tensor([[0, 4], [0, 1]])},
            "hold the source index 4 (column 1), but node type 'image' has 4 nodes: "
            "valid indices are 0 to 3.",
        ),
        (
            {LINK: torch.tensor([[0, 1], [-1, 1]])},
            "hold the target index -1 (column 0), but node type 'text' has 3 nodes",
        ),
        (
            {("image", "caption", "audio"): torch.tensor([[0], [0]])},
            "Unknown node type 'audio' in link type ('image', 'caption', 'audio'). "
            "Known node types: ['image', 'text'].",
        ),
        (
            {("image", "text"): torch.tensor([[0], [0]])},
            "Link types must be (source node type, relation, target node type) tuples",
        ),
        (
            {("image", "similar", "image"): torch.tensor([[0], [1]])},
            "The edge type ('image', 'similar', 'image') would be made both by the similarity "
            "edges and by the links ('image', 'similar', 'image').",
        ),
        (
            {
                LINK: torch.tensor([[0], [0]]),
                ("text", "rev_caption", "image"): torch.tensor([[0], [0]]),
            },
            "would be made both by the reverse of the links ('image', 'caption', 'text') and by "
            "the links ('text', 'rev_caption', 'image')",
        ),
    ],
)
def test_bad_links(hand_features, links, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        GraphBuilder(k=1).build(hand_features, links)


def test_bad_features_and_labels(hand_features):
    builder = GraphBuilder(k=1)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "features['image'] in GraphBuilder.build must be 2-D with shape "
            "(num_vectors, dim). Got shape (4,) instead."
        ),
    ):
        builder.build({"image": torch.ones(4)})
    with pytest.raises(ValueError, match=re.escape("Got shape (2, 2, 2) instead.")):
        builder.build({"image": torch.ones(2, 2, 2)})
    with pytest.raises(ValueError, match="must be a non-empty mapping"):
        builder.build({})
    with pytest.raises(ValueError, match="NaN or infinite"):
        builder.build({"image": torch.tensor([[1.0, float("inf")]])})
    with pytest.raises(
        ValueError,
        match=re.escape(
            "labels['text'] must be a tensor of shape (3,), one label per node. Got (2,) instead."
        ),
    ):
        builder.build(hand_features, labels={"text": torch.tensor([0, 1])})
    with pytest.raises(ValueError, match=re.escape("Unknown node type 'audio' in labels.")):
        builder.build(hand_features, labels={"audio": torch.tensor([0])})
    with pytest.raises(ValueError, match="must hold labels >= 0, or -1 for unknown. Got -2"):
        builder.build(hand_features, labels={"text": torch.tensor([0, -2, 1])})
    with pytest.raises(ValueError, match="must hold integer labels"):
        builder.build(hand_features, labels={"text": torch.tensor([0.0, 1.0, 1.0])})
