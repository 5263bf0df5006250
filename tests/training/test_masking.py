"""Item dropout in training: a node keeps its item links with probability ``keep`` at each step."""

from __future__ import annotations

import torch
from torch_geometric.data import HeteroData

from mmgraph.training.masking import MaskedBatch, drop_item_samples

ITEM = ("a", "same_item", "b")
BACK = ("b", "rev_same_item", "a")
SIMILAR = ("a", "similar", "a")


def _batch(n: int = 400) -> MaskedBatch:
    data = HeteroData()
    data["a"].x, data["b"].x = torch.randn(n, 2), torch.randn(n, 2)
    pairs = torch.arange(n).repeat(2, 1)  # item i: sample i of a and sample i of b
    edges = {ITEM: pairs, BACK: pairs.flip(0), SIMILAR: torch.randint(n, (2, 3 * n))}
    weights = {ITEM: torch.rand(n)}
    return MaskedBatch(data.x_dict, edges, weights, supervised={})


def test_keeping_everything_changes_nothing() -> None:
    batch = _batch()
    assert drop_item_samples(batch, [ITEM, BACK], keep=1.0, generator=torch.Generator().manual_seed(0)) is batch


def test_a_node_that_drops_its_item_links_loses_them_both_ways_and_nothing_else() -> None:
    batch = _batch()
    dropped = drop_item_samples(batch, [ITEM, BACK], keep=0.5, generator=torch.Generator().manual_seed(0))
    forward, backward = dropped.edge_index_dict[ITEM], dropped.edge_index_dict[BACK]
    assert torch.equal(forward, backward.flip(0)), "an item link is kept in both directions or in neither"
    share = forward.shape[1] / batch.edge_index_dict[ITEM].shape[1]
    assert abs(share - 0.25) < 0.07, share  # both ends kept, each with probability 0.5
    kept = forward[0]
    assert torch.equal(dropped.edge_weight_dict[ITEM], batch.edge_weight_dict[ITEM][kept]), "weights follow edges"
    assert dropped.edge_index_dict[SIMILAR] is batch.edge_index_dict[SIMILAR], "other link types are untouched"
    again = drop_item_samples(batch, [ITEM, BACK], keep=0.5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again.edge_index_dict[ITEM], forward), "seeded by the generator"
