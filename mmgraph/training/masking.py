"""Splitting training links between message passing and supervision, one step at a time."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from mmgraph.typing import EdgeType, NodeType


@dataclass
class MaskedBatch:
    """The graph the model reads in one step, and the links it is asked to recover.

    Attributes:
        x_dict: node features per type.
        edge_index_dict: message-passing edges per type (supervised links removed).
        edge_weight_dict: edge weights per type, where the graph has them.
        supervised: per target edge type, the links to recover, ``(2, num_supervised)``.
    """

    x_dict: dict[NodeType, Tensor]
    edge_index_dict: dict[EdgeType, Tensor]
    edge_weight_dict: dict[EdgeType, Tensor]
    supervised: dict[EdgeType, Tensor]


def cold_start_batch(
    data: HeteroData,
    positives: dict[EdgeType, Tensor],
    maskable: Collection[EdgeType],
    *,
    fraction: float,
    generator: torch.Generator,
) -> MaskedBatch:
    """Draws supervision links and hides them, cold-start style, from message passing.

    A random ``fraction`` of the source nodes of each target type is drawn; all their links
    of that type are supervised. Every node at either end of a supervised link then loses all
    its edges of the ``maskable`` types, as a held-out node has none, so the model never reads
    a link it is asked to predict and learns to score nodes that reach the graph through
    similarity alone.

    Shapes:
        positives: ``{edge_type: (2, num_links)}``; supervised: ``{edge_type: (2, n)}``.
    """
    hidden = {t: torch.zeros(data[t].num_nodes, dtype=torch.bool) for t in data.node_types}
    supervised = {}
    for edge_type, links in positives.items():
        src_type, _, dst_type = edge_type
        chosen = torch.rand(data[src_type].num_nodes, generator=generator) < fraction
        picked = links[:, chosen[links[0]]]
        if picked.shape[1] == 0 and links.shape[1] > 0:  # keep at least one supervised link
            picked = links[:, torch.randint(links.shape[1], (1,), generator=generator)]
        supervised[edge_type] = picked
        hidden[src_type][picked[0]] = True
        hidden[dst_type][picked[1]] = True
    edge_index_dict, edge_weight_dict = {}, {}
    for edge_type in data.edge_types:
        store = data[edge_type]
        keep = None
        if edge_type in maskable:
            src_type, _, dst_type = edge_type
            keep = ~(hidden[src_type][store.edge_index[0]] | hidden[dst_type][store.edge_index[1]])
        edge_index_dict[edge_type] = store.edge_index if keep is None else store.edge_index[:, keep]
        if "edge_weight" in store:
            weight = store.edge_weight
            edge_weight_dict[edge_type] = weight if keep is None else weight[keep]
    return MaskedBatch(data.x_dict, edge_index_dict, edge_weight_dict, supervised)


def drop_item_samples(
    batch: MaskedBatch, item_edge_types: Collection[EdgeType], *, keep: float, generator: torch.Generator
) -> MaskedBatch:
    """Each node keeps its links of ``item_edge_types`` (those joining one item's samples) with
    probability ``keep``, both directions; a node that loses them stands alone, as a sample a
    held-out item did not keep would (held-out items keep each sample with probability ``keep``:
    :mod:`mmgraph.data.items`).

    Returns ``batch`` itself when ``keep`` is 1 or there is no such type; otherwise a batch whose
    edges of those types are the links with both ends kept (one draw per node and call).
    """
    types = [t for t in item_edge_types if t in batch.edge_index_dict]
    if keep >= 1.0 or not types:
        return batch
    sizes = {t: int(batch.x_dict[t].shape[0]) for t in batch.x_dict}
    kept = {t: torch.rand(n, generator=generator) < keep for t, n in sorted(sizes.items())}
    edge_index_dict, edge_weight_dict = dict(batch.edge_index_dict), dict(batch.edge_weight_dict)
    for edge_type in types:
        index = edge_index_dict[edge_type]
        mask = kept[edge_type[0]][index[0]] & kept[edge_type[2]][index[1]]
        edge_index_dict[edge_type] = index[:, mask]
        if edge_type in edge_weight_dict:
            edge_weight_dict[edge_type] = edge_weight_dict[edge_type][mask]
    return MaskedBatch(batch.x_dict, edge_index_dict, edge_weight_dict, batch.supervised)
