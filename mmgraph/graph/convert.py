"""Conversion between ``HeteroData`` and ``networkx.MultiDiGraph``."""

from __future__ import annotations

from collections import defaultdict

import networkx as nx
import numpy as np
import torch
from torch_geometric.data import HeteroData

from mmgraph.errors import DataError
from mmgraph.typing import EdgeType, NodeType


def to_networkx(data: HeteroData, *, with_features: bool = True) -> nx.MultiDiGraph:
    """Converts a heterogeneous graph to a networkx multigraph.

    Node ``i`` of type ``t`` becomes the node ``(t, i)`` with attribute ``type=t``, plus
    ``x`` (a float numpy row of ``data[t].x``) when ``with_features`` and ``y`` (an int)
    when ``data[t].y`` exists. Edge ``j`` of type ``(s, r, d)`` becomes an edge from
    ``(s, edge_index[0, j])`` to ``(d, edge_index[1, j])`` with attribute
    ``edge_type=(s, r, d)`` and ``weight`` (a float) when the type has ``edge_weight``.
    Other attributes are not carried. The graph attributes ``node_types``, ``edge_types`` and
    ``weighted_edge_types`` keep types without nodes or edges, so that :func:`from_networkx`
    restores them.

    Args:
        data: the graph; every node type needs ``num_nodes`` (or ``x``).
        with_features: store the ``x`` row of every node.

    Returns:
        A ``networkx.MultiDiGraph``.
    """
    graph = nx.MultiDiGraph(
        node_types=list(data.node_types),
        edge_types=list(data.edge_types),
        weighted_edge_types=[t for t in data.edge_types if "edge_weight" in data[t]],
    )
    for node_type in data.node_types:
        store = data[node_type]
        x = store.get("x") if with_features else None
        y = store.get("y")
        for i in range(store.num_nodes):
            attributes: dict[str, object] = {"type": node_type}
            if x is not None:
                attributes["x"] = x[i].numpy().copy()
            if y is not None:
                attributes["y"] = int(y[i])
            graph.add_node((node_type, i), **attributes)
    for edge_type in data.edge_types:
        src, _, dst = edge_type
        store = data[edge_type]
        edge_weight = store.get("edge_weight")
        for j, (u, v) in enumerate(store.edge_index.t().tolist()):
            attributes = {"edge_type": edge_type}
            if edge_weight is not None:
                attributes["weight"] = float(edge_weight[j])
            graph.add_edge((src, u), (dst, v), **attributes)
    return graph


def from_networkx(graph: nx.DiGraph | nx.MultiDiGraph) -> HeteroData:
    """Converts a networkx graph, as made by :func:`to_networkx`, back to ``HeteroData``.

    Nodes must be keys ``(node_type, index)`` with the indices of each type exactly
    ``0 .. num_nodes - 1``; a ``type`` attribute, if present, must agree with the key. Every
    edge needs an ``edge_type`` attribute ``(source type, relation, target type)``.

    Features are not carried unless the nodes have the attribute ``x``: a node type gets
    ``x`` (float32) only if all its nodes have ``x``, and ``y`` (int64) only if all have ``y``.
    An edge type gets ``edge_weight`` (float32) only if all its edges have ``weight`` (an
    edge type without edges gets it if listed in the graph attribute ``weighted_edge_types``). Edges
    come in networkx iteration order, which may differ from the original order.

    Args:
        graph: a directed networkx graph.

    Returns:
        A ``HeteroData`` with ``num_nodes`` per node type, ``edge_index`` per edge type and
        ``x``, ``y``, ``edge_weight`` where carried.
    """
    if not graph.is_directed():
        raise DataError(
            "from_networkx needs a directed graph (a DiGraph or MultiDiGraph); an undirected "
            "edge has no source and target. Convert it with graph.to_directed() first."
        )
    nodes: dict[NodeType, dict[int, dict]] = defaultdict(dict)
    for key, attributes in graph.nodes(data=True):
        if not (isinstance(key, tuple) and len(key) == 2 and isinstance(key[1], int | np.integer)):
            raise DataError(
                f"from_networkx needs node keys (node_type, index). Got {key!r} instead."
            )
        node_type, index = key
        if attributes.get("type", node_type) != node_type:
            raise DataError(
                f"Node {key!r} has the attribute type={attributes['type']!r}, which disagrees "
                f"with its key."
            )
        nodes[node_type][int(index)] = attributes

    edges: dict[EdgeType, list[tuple[int, int, float | None]]] = defaultdict(list)
    for u, v, attributes in graph.edges(data=True):
        edge_type = attributes.get("edge_type")
        if not (isinstance(edge_type, tuple) and len(edge_type) == 3):
            raise DataError(
                f"The edge {u!r} -> {v!r} needs an edge_type attribute "
                f"(source type, relation, target type). Got {edge_type!r} instead."
            )
        if (u[0], v[0]) != (edge_type[0], edge_type[2]):
            raise DataError(
                f"The edge {u!r} -> {v!r} has edge_type={edge_type!r}, whose node types "
                "disagree with the edge's end nodes."
            )
        edges[edge_type].append((int(u[1]), int(v[1]), attributes.get("weight")))

    data = HeteroData()
    node_types = list(graph.graph.get("node_types", [])) + list(nodes)
    for node_type in dict.fromkeys(node_types):
        by_index = nodes.get(node_type, {})
        if sorted(by_index) != list(range(len(by_index))):
            raise DataError(
                f"The nodes of type {node_type!r} must have the indices 0 to "
                f"{len(by_index) - 1}, each once. Got {sorted(by_index)[:10]} ..."
            )
        rows = [by_index[i] for i in range(len(by_index))]
        store = data[node_type]
        store.num_nodes = len(rows)
        if rows and all("x" in row for row in rows):
            x = np.stack([np.asarray(row["x"], dtype=np.float32) for row in rows])
            store.x = torch.from_numpy(x)
        if rows and all("y" in row for row in rows):
            store.y = torch.tensor([int(row["y"]) for row in rows], dtype=torch.int64)

    edge_types = [tuple(t) for t in graph.graph.get("edge_types", [])] + list(edges)
    weighted = {tuple(t) for t in graph.graph.get("weighted_edge_types", [])}
    for edge_type in dict.fromkeys(edge_types):
        triples = edges.get(edge_type, [])
        store = data[edge_type]
        store.edge_index = torch.tensor(
            [[u for u, _, _ in triples], [v for _, v, _ in triples]], dtype=torch.int64
        ).reshape(2, -1)
        weights = [w for _, _, w in triples]
        if all(w is not None for w in weights) and (triples or edge_type in weighted):
            store.edge_weight = torch.tensor(weights, dtype=torch.float32)
    return data
