"""Personalised propagation of node signals over the whole heterogeneous graph.

The relation learner refines its learned scores with a parameter-free propagation in the
spirit of APPNP and Correct-and-Smooth: a signal (target-modality features for links, label
distributions for labels) starts on the nodes that hold it and spreads along every edge
type, similarity and link alike, restarting at its origin with probability ``alpha``:

    Z <- (1 - alpha) * P @ Z + alpha * Z0,   repeated ``steps`` times,

with ``P`` the random-walk normalised adjacency in which a similarity edge of cosine ``s``
weighs ``exp((s - 1) / temperature)`` and a link edge weighs ``link_weight``. A cold-start
node holds no link, so its signal arrives through its most similar neighbours, their links
and anything further along (a pivot modality, the target's own neighbourhood).

Example:
    >>> import torch
    >>> from torch_geometric.data import HeteroData
    >>> data = HeteroData()
    >>> data["a"].num_nodes = 2
    >>> data["b"].num_nodes = 1
    >>> data["a", "to", "b"].edge_index = torch.tensor([[0], [0]])
    >>> data["b", "rev_to", "a"].edge_index = torch.tensor([[0], [0]])
    >>> graph = PropagationGraph(data, normalization="random-walk")
    >>> out = graph.propagate({"b": torch.ones(1, 1)}, alpha=0.5, steps=1)
    >>> out["a"].flatten().tolist(), out["b"].flatten().tolist()
    ([0.5, 0.0], [0.5])
"""

from __future__ import annotations

import functools

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from mmgraph.errors import ConfigError
from mmgraph.typing import NodeType

NORMALIZATIONS: tuple[str, ...] = ("symmetric", "random-walk")


class PropagationGraph:
    """The random-walk normalised adjacency of a heterogeneous graph, over all node types.

    Args:
        data: the graph; edges with an ``edge_weight`` (cosine) are similarity edges.
        temperature: sharpness of similarity edge weights, ``exp((cos - 1) / temperature)``.
        link_weight: weight of every edge without ``edge_weight`` (the known links).
        normalization: ``"symmetric"`` (APPNP's ``D^-1/2 (A + I) D^-1/2``) or ``"random-walk"``
            (``D^-1 A``: each node takes the weighted mean of what it receives).
    """

    def __init__(
        self, data: HeteroData, *, temperature: float = 0.05, link_weight: float = 1.0,
        normalization: str = "symmetric",
    ) -> None:
        if normalization not in NORMALIZATIONS:
            raise ConfigError(
                f"The 'normalization' of PropagationGraph must be one of {NORMALIZATIONS}. "
                f"Got {normalization!r} instead."
            )
        if temperature <= 0 or link_weight <= 0:
            raise ConfigError(
                f"PropagationGraph needs a positive temperature and link_weight. "
                f"Got temperature={temperature!r} and link_weight={link_weight!r}."
            )
        self.temperature, self.normalization = temperature, normalization
        self.offsets: dict[NodeType, int] = {}
        self.sizes: dict[NodeType, int] = {}
        total = 0
        for node_type in data.node_types:
            self.offsets[node_type], self.sizes[node_type] = total, data[node_type].num_nodes
            total += data[node_type].num_nodes
        rows, cols, values = [], [], []
        for edge_type in data.edge_types:
            src_type, _, dst_type = edge_type
            store = data[edge_type]
            edge_index = store.edge_index
            if edge_index.numel() == 0:
                continue
            if "edge_weight" in store:
                weight = torch.exp((store.edge_weight.float() - 1) / temperature)
            else:
                weight = torch.full((edge_index.shape[1],), float(link_weight))
            rows.append(edge_index[1] + self.offsets[dst_type])
            cols.append(edge_index[0] + self.offsets[src_type])
            values.append(weight)
        if rows:
            row, col, value = torch.cat(rows), torch.cat(cols), torch.cat(values)
        else:
            row = col = torch.zeros(0, dtype=torch.long)
            value = torch.zeros(0)
        if normalization == "symmetric":  # GCN / APPNP: self loops, D^-1/2 (A + I) D^-1/2
            loops = torch.arange(total)
            row, col, value = torch.cat([row, loops]), torch.cat([col, loops]), torch.cat([value, torch.ones(total)])
            degree = torch.zeros(total).index_add_(0, row, value)
            self.degree = degree
            value = degree[row].rsqrt() * value * degree[col].rsqrt()
        else:  # random walk: each node averages what it receives
            degree = torch.zeros(total).index_add_(0, row, value).clamp(min=1e-12)
            value = value / degree[row]
        self._entries = (row, col, value)
        self.num_nodes = total

    @functools.cached_property
    def matrix(self) -> Tensor:
        """The normalised adjacency, ``(num_nodes, num_nodes)`` sparse; built on first use (by
        :meth:`propagate`: :meth:`extend` reads the degrees only), as it takes a second at 100,000 nodes."""
        row, col, value = self._entries
        return torch.sparse_coo_tensor(
            torch.stack([row, col]), value, (self.num_nodes, self.num_nodes), check_invariants=True
        ).coalesce()

    def propagate(self, signals: dict[NodeType, Tensor], *, alpha: float, steps: int) -> dict[NodeType, Tensor]:
        """Spreads ``signals`` (rows of some node types) over the graph.

        Shapes:
            signals: ``{node_type: (num_nodes, dim)}`` for some types (others start at zero).
            return: ``{node_type: (num_nodes, dim)}`` for every type.
        """
        if not 0 < alpha <= 1:
            raise ConfigError(f"The restart probability 'alpha' must be in (0, 1]. Got {alpha!r} instead.")
        dim = next(iter(signals.values())).shape[1]
        start = torch.zeros(self.num_nodes, dim)
        for node_type, signal in signals.items():
            offset = self.offsets[node_type]
            start[offset : offset + self.sizes[node_type]] = signal
        z = start
        for _ in range(steps):
            z = (1 - alpha) * (self.matrix @ z) + alpha * start
        return {t: z[o : o + self.sizes[t]] for t, o in self.offsets.items()}

    def extend(
        self, final: dict[NodeType, Tensor], node_type: NodeType, start: Tensor, neighbours: Tensor,
        cosine: Tensor, *, alpha: float, steps: int,
    ) -> Tensor:
        """The propagated signal of new nodes that receive similarity edges from existing nodes.

        A new node sends nothing, so the existing nodes keep what :meth:`propagate` gave them
        (``final``). Each new node runs the recursion of :meth:`propagate` with its neighbours held
        at those values: ``z <- (1 - alpha) * (self-loop share * z + what the neighbours send)
        + alpha * start``. This reads ``k`` rows per new node, never the whole graph.

        Shapes:
            final: ``{node_type: (num_nodes, dim)}``; start: ``(b, dim)``; neighbours, cosine:
            ``(b, k)``; return: ``(b, dim)``.
        """
        weight = torch.exp((cosine.clamp_min(0.0).float() - 1) / self.temperature)
        held = final[node_type][neighbours]  # (b, k, dim)
        if self.normalization == "symmetric":
            degree = 1 + weight.sum(1, keepdim=True)
            share = weight * (degree * self.degree[self.offsets[node_type] + neighbours]).rsqrt()
            own = 1 / degree
        else:
            share = weight / weight.sum(1, keepdim=True).clamp_min(1e-12)
            own = torch.zeros(len(start), 1)
        received = (share.unsqueeze(-1) * held).sum(1)
        z = start
        for _ in range(steps):
            z = (1 - alpha) * (own * z + received) + alpha * start
        return z
