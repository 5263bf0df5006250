"""The heterogeneous message-passing encoder of the relation learner."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import Tensor, nn
from torch_geometric.nn import GATConv, GraphConv, HeteroConv, HGTConv, SAGEConv

from mmgraph.models.standardize import Standardize
from mmgraph.registry import Registry
from mmgraph.typing import EdgeType, NodeType

Metadata = tuple[list[NodeType], list[EdgeType]]


def _sage(metadata: Metadata, dim: int, heads: int) -> nn.Module:
    return HeteroConv({t: SAGEConv((-1, -1), dim) for t in metadata[1]}, aggr="sum")


def _gat(metadata: Metadata, dim: int, heads: int) -> nn.Module:
    return HeteroConv(
        {
            t: GATConv((-1, -1), dim // heads, heads=heads, add_self_loops=False)
            for t in metadata[1]
        },
        aggr="sum",
    )


def _graphconv(metadata: Metadata, dim: int, heads: int) -> nn.Module:
    return HeteroConv({t: GraphConv((-1, -1), dim, aggr="mean") for t in metadata[1]}, aggr="sum")


def _hgt(metadata: Metadata, dim: int, heads: int) -> nn.Module:
    return HGTConv(dim, dim, metadata, heads=heads)


CONVOLUTIONS: Registry[Callable[[Metadata, int, int], nn.Module]] = Registry("convolution")
CONVOLUTIONS.register("sage", _sage)
CONVOLUTIONS.register("gat", _gat)
CONVOLUTIONS.register("graphconv", _graphconv)
CONVOLUTIONS.register("hgt", _hgt)

# Convolutions that take a per-edge weight; the others ignore similarity weights.
WEIGHTED_CONVOLUTIONS = frozenset({"graphconv"})


class HeteroGNN(nn.Module):
    """Per-type input projections, then heterogeneous message-passing layers with residuals.

    Args:
        in_dims: input feature size per node type.
        metadata: ``(node types, edge types)`` of the graph, as ``HeteroData.metadata()``.
        hidden_dim: size of every hidden and output representation.
        num_layers: number of message-passing layers (0 gives the projections alone).
        conv: a registered convolution name (``"sage"``, ``"gat"``, ``"graphconv"``, ``"hgt"``).
        heads: attention heads for ``"gat"`` and ``"hgt"``.
        dropout: dropout on hidden representations.

    Shapes:
        x_dict: ``{node_type: (num_nodes, in_dim)}``
        edge_index_dict: ``{edge_type: (2, num_edges)}``
        return: ``{node_type: (num_nodes, hidden_dim)}``
    """

    def __init__(
        self,
        in_dims: dict[NodeType, int],
        metadata: Metadata,
        *,
        hidden_dim: int = 128,
        num_layers: int = 2,
        conv: str = "sage",
        heads: int = 2,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        build = CONVOLUTIONS.get(conv)
        self.conv = conv
        self.standardize = nn.ModuleDict({t: Standardize(d) for t, d in in_dims.items()})
        self.project = nn.ModuleDict({t: nn.Linear(d, hidden_dim) for t, d in in_dims.items()})
        self.layers = nn.ModuleList(build(metadata, hidden_dim, heads) for _ in range(num_layers))
        self.norms = nn.ModuleList(
            nn.ModuleDict({t: nn.LayerNorm(hidden_dim) for t in in_dims}) for _ in range(num_layers)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        x_dict: dict[NodeType, Tensor],
        edge_index_dict: dict[EdgeType, Tensor],
        edge_weight_dict: dict[EdgeType, Tensor] | None = None,
    ) -> dict[NodeType, Tensor]:
        return self.layer_states(x_dict, edge_index_dict, edge_weight_dict)[-1]

    def layer_states(
        self,
        x_dict: dict[NodeType, Tensor],
        edge_index_dict: dict[EdgeType, Tensor],
        edge_weight_dict: dict[EdgeType, Tensor] | None = None,
    ) -> list[dict[NodeType, Tensor]]:
        """The representations entering each layer, then the output: ``num_layers + 1`` dicts."""
        h = {t: self.project[t](self.standardize[t](x)) for t, x in x_dict.items()}
        states = [h]
        for layer, norms in zip(self.layers, self.norms, strict=True):
            h = self._layer(layer, norms, h, edge_index_dict, edge_weight_dict)
            states.append(h)
        return states

    def extend(
        self,
        states: list[dict[NodeType, Tensor]],
        edge_types: list[EdgeType],
        x: Mapping[NodeType, Tensor],
        attached: Mapping[EdgeType, tuple[Tensor, Tensor | None]],
        partners: Mapping[EdgeType, Tensor] | None = None,
    ) -> dict[NodeType, Tensor]:
        """Output representations of new nodes that receive edges from existing nodes and from each other.

        Exactly what :meth:`forward` gives them on the graph with the new nodes attached, computed
        from the existing nodes' :meth:`layer_states` without a pass over the graph: a node's output
        depends only on what it receives, and existing nodes receive nothing from new ones.

        Args:
            states: :meth:`layer_states` of the graph without the new nodes.
            edge_types: every edge type of that graph (each contributes to a layer's output).
            x: the new nodes' input features, per node type.
            attached: per edge type ``(t, r, t)`` (one for each type of ``x``), the existing nodes each
                new node of ``t`` receives from, and the weights of those edges (used by weighted
                convolutions; None: unweighted).
            partners: per edge type of the graph, edges between new nodes, ``[source, target]`` indices
                into the rows of ``x`` of its two types (an item's samples; default: none).

        Shapes:
            x[t]: ``(b_t, in_dim_t)``; neighbours, weights: ``(b_t, k)``; partners[e]: ``(2, n_e)``;
            return: ``{t: (b_t, hidden_dim)}``.
        """
        partners = partners or {}
        h_new = {t: self.project[t](self.standardize[t](v)) for t, v in x.items()}
        # each new type's rows in a layer: the existing nodes it reads, then the new nodes
        sources = {relation[0]: neighbours.reshape(-1) for relation, (neighbours, _) in attached.items()}
        empty = torch.zeros(2, 0, dtype=torch.long)
        edge_index_dict = {t: empty for t in edge_types}
        weighted = any(weights is not None for _, weights in attached.values())
        edge_weight_dict = {t: torch.zeros(0) for t in edge_types if t not in partners} if weighted else None
        for relation, (neighbours, weights) in attached.items():
            node_type = relation[0]
            edge_index_dict[relation] = torch.stack([
                torch.arange(sources[node_type].numel()),
                sources[node_type].numel() + torch.arange(len(x[node_type])).repeat_interleave(neighbours.shape[1]),
            ])
            if weighted:
                edge_weight_dict[relation] = weights.reshape(-1)
        for (src, relation, dst), edges in partners.items():
            offset = torch.tensor([[sources[src].numel()], [sources[dst].numel()]])
            edge_index_dict[src, relation, dst] = edges + offset
        for state, layer, norms in zip(states, self.layers, self.norms, strict=False):
            h = {t: v[:0] for t, v in state.items()}
            for node_type, own in h_new.items():
                h[node_type] = torch.cat([state[node_type][sources[node_type]], own])
            out = self._layer(layer, norms, h, edge_index_dict, edge_weight_dict)
            h_new = {t: out[t][sources[t].numel():] for t in h_new}
        return h_new

    def _layer(
        self, layer: nn.Module, norms: nn.ModuleDict, h: dict[NodeType, Tensor],
        edge_index_dict: dict[EdgeType, Tensor], edge_weight_dict: dict[EdgeType, Tensor] | None,
    ) -> dict[NodeType, Tensor]:
        if self.conv in WEIGHTED_CONVOLUTIONS and edge_weight_dict:
            out = layer(h, edge_index_dict, edge_weight_dict=edge_weight_dict)
        else:
            out = layer(h, edge_index_dict)
        # A node type that receives no message keeps its representation (residual only).
        return {
            t: norms[t](h[t] + self.dropout(torch.relu(out[t]))) if out.get(t) is not None else h[t]
            for t in h
        }
