from __future__ import annotations

import math
import re

import pytest
import torch

from mmgraph.graph import GraphBuilder

SIM = ("image", "similar", "image")


def snapshot(data):
    return {
        (key, name): value.clone()
        for key in data.node_types + data.edge_types
        for name, value in data[key].items()
        if torch.is_tensor(value)
    }


def assert_unchanged(data, before):
    after = snapshot(data)
    assert after.keys() == before.keys()
    for key, value in before.items():
        assert torch.equal(after[key], value), key


def test_attach_links_new_nodes_to_nearest_existing(hand_features, hand_links):
    builder = GraphBuilder(k=1)
    data = builder.build(hand_features, hand_links)
    data["image"].train_mask = torch.tensor([True, False, True, True])
    before = snapshot(data)
    new_x = torch.tensor([[1.0, 0.1], [-1.0, 1.0]])

    new_data, new_indices = builder.attach(data, "image", new_x)

    assert_unchanged(data, before)
    assert new_indices.tolist() == [4, 5] and new_indices.dtype == torch.int64
    assert new_data["image"].num_nodes == 6
    assert torch.equal(new_data["image"].x, torch.cat([hand_features["image"], new_x]))
    assert new_data["image"].train_mask.tolist() == [True, False, True, True, False, False]
    # (1, 0.1) is nearest to image 0; (-1, 1) to image 2 (cosine 1/sqrt(2)).
    old_edges = data[SIM].edge_index
    num_old = old_edges.shape[1]
    store = new_data[SIM]
    assert torch.equal(store.edge_index[:, :num_old], old_edges)
    assert torch.equal(store.edge_weight[:num_old], data[SIM].edge_weight)
    added = dict(
        zip(
            map(tuple, store.edge_index[:, num_old:].t().tolist()),
            store.edge_weight[num_old:].tolist(),
            strict=True,
        )
    )
    w0, w2 = 1 / math.sqrt(1.01), 1 / math.sqrt(2)
    # Messages flow from the graph to the new nodes only: no edge leaves a new node.
    assert added == {(0, 4): pytest.approx(w0), (2, 5): pytest.approx(w2)}
    # Nothing else touches the new nodes.
    for edge_type in new_data.edge_types:
        if edge_type != SIM:
            assert torch.equal(new_data[edge_type].edge_index, data[edge_type].edge_index)
    new_data.validate()


def test_new_nodes_are_not_linked_to_each_other(hand_features, hand_links):
    builder = GraphBuilder(k=1)
    data = builder.build(hand_features, hand_links, labels={"text": torch.tensor([0, 1, 1])})
    # Two identical new texts would be each other's nearest neighbour if allowed.
    new_x = torch.tensor([[0.0, 3.0, 0.0], [0.0, 3.0, 0.0]])
    new_data, new_indices = builder.attach(data, "text", new_x)
    assert new_indices.tolist() == [3, 4]
    assert new_data["text"].y.tolist() == [0, 1, 1, -1, -1]
    num_old = data["text", "similar", "text"].edge_index.shape[1]
    added = new_data["text", "similar", "text"].edge_index[:, num_old:]
    # Cosine 0 with every old text: tie broken by the lowest index, text 0.
    assert sorted(map(tuple, added.t().tolist())) == [(0, 3), (0, 4)]
    assert "y" not in new_data["image"]


def test_attach_clamps_k_and_follows_unweighted_graphs(hand_features):
    data = GraphBuilder(k=1, weight="none").build(hand_features)
    new_data, _ = GraphBuilder(k=10).attach(data, "image", torch.randn(2, 2))
    store = new_data[SIM]
    assert "edge_weight" not in store
    # Each new node receives an edge from all 4 old images.
    assert store.edge_index.shape[1] == data[SIM].edge_index.shape[1] + 2 * 4


def test_attach_errors(hand_features):
    builder = GraphBuilder(k=1)
    data = builder.build(hand_features)
    with pytest.raises(ValueError, match=re.escape("Unknown node type 'audio' in GraphBuilder")):
        builder.attach(data, "audio", torch.randn(1, 2))
    with pytest.raises(ValueError, match="must have dimension 2 like data\\['image'\\].x. Got 3"):
        builder.attach(data, "image", torch.randn(1, 3))
    with pytest.raises(ValueError, match="must be 2-D"):
        builder.attach(data, "image", torch.randn(2))
    with pytest.raises(TypeError, match="must be a HeteroData. Got dict instead"):
        builder.attach({}, "image", torch.randn(1, 2))
    data["image"].degree = torch.ones(4)
    with pytest.raises(ValueError, match="cannot extend the node attribute data\\['image'\\]"):
        builder.attach(data, "image", torch.randn(1, 2))


def test_a_new_node_scores_the_same_alone_or_in_a_batch(hand_features, hand_links):
    """No attached node changes another: one GNN layer gives the same output for a node
    attached alone or beside others, and the old nodes' outputs do not move."""
    from mmgraph.models import HeteroGNN

    builder = GraphBuilder(k=2)
    data = builder.build(hand_features, hand_links)
    torch.manual_seed(0)
    model = HeteroGNN({t: data[t].x.shape[1] for t in data.node_types}, data.metadata(), hidden_dim=4).eval()
    new_x = torch.randn(3, 2)
    alone, _ = builder.attach(data, "image", new_x[:1])
    batch, _ = builder.attach(data, "image", new_x)
    with torch.no_grad():
        out_alone = model(alone.x_dict, alone.edge_index_dict)["image"]
        out_batch = model(batch.x_dict, batch.edge_index_dict)["image"]
        out_plain = model(data.x_dict, data.edge_index_dict)["image"]
    assert torch.allclose(out_alone[4], out_batch[4], atol=1e-6)
    assert torch.allclose(out_batch[:4], out_plain, atol=1e-6)
