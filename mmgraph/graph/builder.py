"""GraphBuilder: node features and known links -> a ``torch_geometric.data.HeteroData``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from mmgraph.checks import check_choice, check_positive_int
from mmgraph.errors import ConfigError, ConfigTypeError, DataError
from mmgraph.graph.knn import (
    KNN_METHODS,
    KnnMethod,
    _as_matrix,
    knn_cosine,
    knn_graph,
)
from mmgraph.typing import EdgeType, NodeType

WEIGHT_MODES: tuple[str, ...] = ("cosine", "none")

SIMILARITY_RELATION = "similar"
"""The default relation name of similarity edges inside one modality."""


def _check_name(value: object, name: str, owner: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(
            f"The {name!r} parameter of {owner} must be a non-empty str. Got {value!r} instead."
        )
    return value


def _check_edge_type(edge_type: object) -> EdgeType:
    if (
        not isinstance(edge_type, tuple)
        or len(edge_type) != 3
        or not all(isinstance(part, str) and part for part in edge_type)
    ):
        raise ConfigError(
            "Link types must be (source node type, relation, target node type) tuples of "
            f"non-empty strings. Got {edge_type!r} instead."
        )
    return edge_type


class GraphBuilder:
    """Builds the heterogeneous graph of a multimodal dataset.

    Every modality is a node type whose nodes carry the sample features. Inside each
    modality, nodes are linked to their ``k`` nearest neighbours by cosine similarity of
    their features (edge type ``(t, similarity_relation, t)``, no self loops). Each given
    cross-modal link type ``(s, r, d)`` becomes an edge type, together with its reverse
    ``(d, reverse_prefix + r, s)`` so that messages flow both ways.

    Args:
        k: similarity neighbours per node, a positive int; clamped to ``num_nodes - 1`` for a
            node type with fewer nodes.
        similarity_relation: the relation name of the similarity edges.
        reverse_prefix: prefixed to a link relation to name its reverse edge type.
        symmetric: make the similarity edges symmetric (the union of ``j -> i`` and ``i -> j``,
            see :func:`~mmgraph.graph.knn.knn_graph`); otherwise each node receives edges only
            from its own ``k`` nearest neighbours.
        weight: ``"cosine"`` stores the cosine similarity of each similarity edge as
            ``edge_weight``, clamped to ``>= 0`` (a neighbour with negative similarity gets
            weight 0, which weighted convolutions ignore); ``"none"`` stores no weights.
        chunk_size: queries scored at once by the exact kNN; bounds its memory.
        method: the kNN method, ``"auto"`` (exact on small modalities, IVF on large ones),
            ``"exact"``, ``"flat"``, ``"hnsw"`` or ``"ivf"``; see :func:`~mmgraph.graph.knn.knn_cosine`.

    Example:
        >>> builder = GraphBuilder(k=2)
        >>> data = builder.build(
        ...     {"image": torch.randn(5, 8), "text": torch.randn(4, 16)},
        ...     {("image", "caption", "text"): torch.tensor([[0, 1], [2, 3]])})
        >>> data.edge_types  # doctest: +NORMALIZE_WHITESPACE
        [('image', 'similar', 'image'), ('text', 'similar', 'text'),
         ('image', 'caption', 'text'), ('text', 'rev_caption', 'image')]
    """

    def __init__(
        self,
        *,
        k: int = 10,
        similarity_relation: str = SIMILARITY_RELATION,
        reverse_prefix: str = "rev_",
        symmetric: bool = True,
        weight: Literal["cosine", "none"] = "cosine",
        chunk_size: int = 1024,
        method: KnnMethod = "auto",
    ) -> None:
        owner = type(self).__name__
        self.k = check_positive_int(k, "k", owner)
        self.similarity_relation = _check_name(similarity_relation, "similarity_relation", owner)
        self.reverse_prefix = _check_name(reverse_prefix, "reverse_prefix", owner)
        if not isinstance(symmetric, bool):
            raise ConfigError(
                f"The 'symmetric' parameter of {owner} must be a bool. Got {symmetric!r} instead."
            )
        self.symmetric = symmetric
        self.weight = check_choice(weight, name="weight", owner=owner, choices=WEIGHT_MODES)
        self.chunk_size = check_positive_int(chunk_size, "chunk_size", owner)
        self.method = check_choice(method, name="method", owner=owner, choices=KNN_METHODS)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(k={self.k}, "
            f"similarity_relation={self.similarity_relation!r}, "
            f"reverse_prefix={self.reverse_prefix!r}, symmetric={self.symmetric}, "
            f"weight={self.weight!r}, chunk_size={self.chunk_size}, method={self.method!r})"
        )

    def build(
        self,
        features: Mapping[NodeType, Tensor | np.ndarray],
        links: Mapping[EdgeType, Tensor | np.ndarray] | None = None,
        *,
        labels: Mapping[NodeType, Tensor | np.ndarray] | None = None,
        similarity: Mapping[NodeType, tuple[Tensor, Tensor | None]] | None = None,
    ) -> HeteroData:
        """Builds the graph from node features and known links.

        WARNING: every link passed here becomes a message-passing edge of the graph. Pass
        only TRAINING links; validation and test links passed here leak into the model.

        Node types come in the order of ``features``, then edge types: the similarity types
        in the same order, then each link type followed by its reverse. Links are kept as
        given (in order, duplicates included). The result is deterministic.

        Args:
            features: the features of each node type; row ``i`` is node ``i``.
            links: known links per edge type ``(source type, relation, target type)``;
                column ``j`` links node ``links[0, j]`` of the source type to node
                ``links[1, j]`` of the target type. Both node types must have features.
            labels: optional node labels per node type, ``-1`` for unknown.
            similarity: the similarity edges of each node type, ``(edge_index, edge_weight)``, as
                an earlier build made them (a saved model restores its graph without a kNN search).

        Returns:
            A ``HeteroData`` with, per node type ``t``: ``x`` (float32), ``num_nodes`` and,
            if labelled, ``y`` (int64); per similarity type ``(t, similarity_relation, t)``:
            ``edge_index`` and, with ``weight="cosine"``, ``edge_weight`` (float32, ``>= 0``);
            per link type: ``edge_index``, and the reverse type with the flipped
            ``edge_index``.

        Shapes:
            features[t]: ``(num_nodes_t, dim_t)``; links[(s, r, d)]: ``(2, num_links)``;
            labels[t]: ``(num_nodes_t,)``.
        """
        owner = f"{type(self).__name__}.build"
        if not isinstance(features, Mapping) or not features:
            raise DataError(
                f"The 'features' argument of {owner} must be a non-empty mapping from node "
                f"type to a (num_nodes, dim) matrix. Got {features!r} instead."
            )
        data = HeteroData()
        for node_type, matrix in features.items():
            _check_name(node_type, "node type", owner)
            x = _as_matrix(matrix, f"features[{node_type!r}]", owner)
            data[node_type].x = x.to(torch.float32, copy=True)
            data[node_type].num_nodes = x.shape[0]
        for node_type, y in (labels or {}).items():
            self._known(data, node_type, "labels")
            data[node_type].y = self._labels(data, node_type, y)

        edge_indices: dict[EdgeType, Tensor] = {}
        for edge_type, edge_index in (links or {}).items():
            edge_type = _check_edge_type(edge_type)
            self._known(data, edge_type[0], f"link type {edge_type!r}")
            self._known(data, edge_type[2], f"link type {edge_type!r}")
            edge_indices[edge_type] = self._links(data, edge_type, edge_index)
        self._check_no_clash(data.node_types, list(edge_indices))

        for node_type in data.node_types:
            store = data[node_type, self.similarity_relation, node_type]
            if similarity is not None:
                store.edge_index, edge_weight = similarity[node_type]
            else:
                store.edge_index, edge_weight = knn_graph(
                    data[node_type].x,
                    self.k,
                    symmetric=self.symmetric,
                    chunk_size=self.chunk_size,
                    method=self.method,
                )
            if self.weight == "cosine":
                store.edge_weight = edge_weight.clamp_min(0.0)

        for (src, relation, dst), edge_index in edge_indices.items():
            data[src, relation, dst].edge_index = edge_index
            data[dst, self.reverse_prefix + relation, src].edge_index = edge_index.flip(0)
        return data

    def attach(
        self, data: HeteroData, node_type: NodeType, new_features: Tensor | np.ndarray
    ) -> tuple[HeteroData, Tensor]:
        """Adds brand-new nodes to a graph, linked only by feature similarity.

        Each new node receives an edge from each of its ``k`` nearest EXISTING nodes of
        ``node_type`` (edge type ``(node_type, similarity_relation, node_type)``), and sends
        none: messages flow from the graph to the new node only, so no existing node and no
        other new node changes because a sample was attached, and a sample scores the same
        alone or in a batch. New nodes are not linked to each other and get no cross-modal
        links: this is how a sample unseen at training time reaches the graph at prediction
        time.

        The input graph is not modified. In the copy, ``x`` grows by the new rows, ``y`` (if
        present) by ``-1`` (unknown) and boolean node masks by ``False``. New edges come after
        the existing ones; they carry cosine weights clamped to ``>= 0`` if the existing
        similarity edges have an ``edge_weight`` (or, when the graph has no such edge type
        yet, if ``weight="cosine"``).

        Args:
            data: a graph from :meth:`build` (or any graph whose ``node_type`` has ``x``).
            node_type: the node type of the new samples.
            new_features: their features, in the feature space of ``data[node_type].x``.

        Returns:
            ``(new_data, new_indices)``: the extended copy and the int64 indices of the new
            nodes in it (``num_nodes_old, ..., num_nodes_old + num_new - 1``).

        Shapes:
            new_features: ``(num_new, dim)``; new_indices: ``(num_new,)``.
        """
        owner = f"{type(self).__name__}.attach"
        if not isinstance(data, HeteroData):
            raise ConfigTypeError(
                f"The 'data' argument of {owner} must be a HeteroData. "
                f"Got {type(data).__name__} instead."
            )
        self._known(data, node_type, owner)
        old_x = data[node_type].get("x")
        if not isinstance(old_x, Tensor) or old_x.dim() != 2:
            raise DataError(
                f"{owner} needs node features data[{node_type!r}].x of shape (num_nodes, dim), "
                "but there are none."
            )
        new_x = _as_matrix(new_features, "new_features", owner).to(old_x.dtype)
        if new_x.shape[1] != old_x.shape[1]:
            raise DataError(
                f"The 'new_features' argument of {owner} must have dimension "
                f"{old_x.shape[1]} like data[{node_type!r}].x. Got {new_x.shape[1]} instead."
            )
        num_old, num_new = old_x.shape[0], new_x.shape[0]
        new_indices = torch.arange(num_old, num_old + num_new)

        data = data.clone()
        store = data[node_type]
        for key in list(store.keys()):
            value = store[key]
            if key in ("x", "num_nodes") or not isinstance(value, Tensor):
                continue
            if value.dim() == 0 or value.shape[0] != num_old or not store.is_node_attr(key):
                continue
            if key == "y" or value.dtype == torch.bool:
                fill = -1 if key == "y" else False
                pad = torch.full((num_new, *value.shape[1:]), fill, dtype=value.dtype)
                store[key] = torch.cat([value, pad])
            else:
                raise DataError(
                    f"{owner} cannot extend the node attribute data[{node_type!r}].{key}; "
                    "it knows how to extend only x, y and boolean masks. Remove it first."
                )
        store.x = torch.cat([old_x, new_x])
        store.num_nodes = num_old + num_new

        edge_type = (node_type, self.similarity_relation, node_type)
        sim_store = data[edge_type]
        if "edge_index" in sim_store:
            with_weight = "edge_weight" in sim_store
        else:
            with_weight = self.weight == "cosine"
        extra = set(sim_store.keys()) - {"edge_index", "edge_weight"}
        if extra:
            raise DataError(
                f"{owner} cannot extend the edge attributes {sorted(extra)} of {edge_type}; "
                "it knows how to extend only edge_index and edge_weight."
            )
        neighbours, sims = knn_cosine(
            new_x, old_x, self.k, chunk_size=self.chunk_size, method=self.method
        )
        old = neighbours.reshape(-1)
        new = new_indices.repeat_interleave(neighbours.shape[1])
        added = torch.stack([old, new])  # messages flow from old (row 0) to new (row 1) nodes
        old_edges = sim_store.get("edge_index", torch.empty(2, 0, dtype=torch.int64))
        sim_store.edge_index = torch.cat([old_edges, added], dim=1)
        if with_weight:
            weights = sims.reshape(-1).clamp_min(0.0)
            old_weights = sim_store.get("edge_weight", torch.empty(0))
            sim_store.edge_weight = torch.cat([old_weights, weights])
        return data, new_indices

    def neighbours(self, data: HeteroData, node_type: NodeType, new_features: Tensor) -> tuple[Tensor, Tensor]:
        """The ``k`` nearest existing nodes of ``node_type`` for each new sample, and their cosines:
        the edges :meth:`attach` would add, without copying the graph.

        Shapes:
            new_features: ``(b, dim)``; return: two ``(b, k)`` tensors.
        """
        return knn_cosine(new_features, data[node_type].x, self.k, chunk_size=self.chunk_size, method=self.method)

    # Checks ---------------------------------------------------------------------------------

    @staticmethod
    def _known(data: HeteroData, node_type: object, where: str) -> NodeType:
        if node_type not in data.node_types:
            raise DataError(
                f"Unknown node type {node_type!r} in {where}. "
                f"Known node types: {sorted(data.node_types)}."
            )
        return node_type

    @staticmethod
    def _labels(data: HeteroData, node_type: NodeType, y: Tensor | np.ndarray) -> Tensor:
        y = torch.from_numpy(y) if isinstance(y, np.ndarray) else y
        num_nodes = data[node_type].num_nodes
        where = f"labels[{node_type!r}]"
        if not isinstance(y, Tensor) or y.shape != (num_nodes,):
            shape = tuple(y.shape) if isinstance(y, Tensor) else type(y).__name__
            raise DataError(
                f"{where} must be a tensor of shape ({num_nodes},), one label per node. "
                f"Got {shape} instead."
            )
        if y.dtype.is_floating_point or y.dtype.is_complex or y.dtype == torch.bool:
            raise DataError(f"{where} must hold integer labels. Got dtype {y.dtype} instead.")
        if y.numel() and int(y.min()) < -1:
            raise DataError(
                f"{where} must hold labels >= 0, or -1 for unknown. Got {int(y.min())} instead."
            )
        return y.to(torch.int64, copy=True)

    @staticmethod
    def _links(data: HeteroData, edge_type: EdgeType, links: Tensor | np.ndarray) -> Tensor:
        links = torch.from_numpy(links) if isinstance(links, np.ndarray) else links
        where = f"The links of type {edge_type!r}"
        if not isinstance(links, Tensor) or links.dim() != 2 or links.shape[0] != 2:
            shape = tuple(links.shape) if isinstance(links, Tensor) else type(links).__name__
            raise DataError(
                f"{where} must be a tensor of shape (2, num_links): sources in row 0, targets "
                f"in row 1. Got {shape} instead."
            )
        if links.dtype.is_floating_point or links.dtype.is_complex or links.dtype == torch.bool:
            raise DataError(f"{where} must hold integer indices. Got dtype {links.dtype} instead.")
        for row, node_type in ((0, edge_type[0]), (1, edge_type[2])):
            if links.shape[1] == 0:
                break
            num_nodes = data[node_type].num_nodes
            bad = (links[row] < 0) | (links[row] >= num_nodes)
            if bool(bad.any()):
                position = int(bad.nonzero()[0])
                raise DataError(
                    f"{where} hold the {'source' if row == 0 else 'target'} index "
                    f"{int(links[row, position])} (column {position}), but node type "
                    f"{node_type!r} has {num_nodes} nodes: valid indices are 0 to "
                    f"{num_nodes - 1}."
                )
        return links.to(torch.int64, copy=True)

    def _check_no_clash(self, node_types: list[NodeType], link_types: list[EdgeType]) -> None:
        """Raises if two parts of the graph would write the same edge type."""
        made_by: dict[EdgeType, str] = {
            (t, self.similarity_relation, t): "the similarity edges" for t in node_types
        }
        for src, relation, dst in link_types:
            reverse = (dst, self.reverse_prefix + relation, src)
            for edge_type, what in (
                ((src, relation, dst), f"the links {(src, relation, dst)}"),
                (reverse, f"the reverse of the links {(src, relation, dst)}"),
            ):
                if edge_type in made_by:
                    raise ConfigError(
                        f"The edge type {edge_type} would be made both by {made_by[edge_type]} "
                        f"and by {what}. Rename the relation, or change similarity_relation "
                        "or reverse_prefix of GraphBuilder."
                    )
                made_by[edge_type] = what
