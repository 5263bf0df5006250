"""What every relation learner is: its settings, the graph it trains on, and the ``Learner`` contract.

A learner turns a heterogeneous graph (:class:`mmgraph.graph.GraphBuilder`'s) into node
representations, link scores and label logits. :class:`~mmgraph.models.gnn_model.GNNModel` picks
one from :data:`LEARNERS` by its training mode and uses it only through :class:`Learner`'s methods.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from torch_geometric.data import HeteroData

from mmgraph.checks import check_positive_int
from mmgraph.data.known import KnownPairs
from mmgraph.errors import ConfigError, ConfigTypeError, DataError, NotApplicableError, NotFittedError
from mmgraph.graph.builder import SIMILARITY_RELATION
from mmgraph.models.decoders import DECODERS
from mmgraph.models.gnn import CONVOLUTIONS
from mmgraph.registry import Registry
from mmgraph.training.checkpoint import Checkpoint
from mmgraph.typing import EdgeType, NodeType
from mmgraph.typing import edge_key as _key


@dataclass
class RelationLearnerConfig:
    """Settings of a :class:`Learner` (the mini-batch learner reads the ones it has a use for)."""

    conv: str = "sage"
    hidden_dim: int = 256
    num_layers: int = 2
    heads: int = 2  # attention heads of "gat" and "hgt"
    dropout: float = 0.1
    decoder: str = "dot"
    temperature: float = 0.1  # initial softmax temperature of the link scores (learned)
    lr: float = 1e-3
    weight_decay: float = 1e-5
    epochs: int = 300
    # Share of the training sources whose links are hidden from message passing and used as
    # supervision in each step: the model is trained on nodes that look like cold-start nodes.
    supervision_fraction: float = 0.3
    label_weight: float = 1.0  # weight of the label loss beside the link loss
    # Most supervised links in one in-batch softmax. A step's supervised links are split into
    # chunks of at most this many (the loss is the mean over chunks), so the logits and masks
    # hold at most batch_size^2 entries whatever the training pool. 4096 is above the supervised
    # pool of every benchmark task (at most 2313 links on digits-audio-image over 300 steps and
    # 5 seeds; under 900 on the emoji and openmoji tasks): each is one chunk, trained exactly
    # as with one softmax over the whole pool (no reordering, no extra random draws).
    batch_size: int = 4096
    # Extra candidates per supervised query, drawn from the similarity-graph neighbours of its
    # true target (plausible confusions); true links among them are masked. 0: in-batch only.
    # Unlike in-batch candidates, a neighbour may keep links the model reads in that step; its
    # effect on quality is not measured yet, hence off by default.
    hard_negatives: int = 0
    eval_every: int = 5  # epochs between validation checks (when a validation function is given)
    patience: int = 6  # validation checks without improvement before stopping early
    seed: int = 0

    def __post_init__(self) -> None:
        CONVOLUTIONS.get(self.conv)
        DECODERS.get(self.decoder)
        for name in ("hidden_dim", "epochs", "heads", "eval_every", "patience", "batch_size"):
            check_positive_int(getattr(self, name), name, "RelationLearner")
        if not isinstance(self.num_layers, int) or self.num_layers < 0:
            raise ConfigError(
                f"The 'num_layers' parameter of RelationLearner must be an int >= 0. Got {self.num_layers!r} instead."
            )
        if not isinstance(self.hard_negatives, int) or self.hard_negatives < 0:
            raise ConfigError(
                "The 'hard_negatives' parameter of RelationLearner must be an int >= 0. "
                f"Got {self.hard_negatives!r} instead."
            )
        if not 0 < self.supervision_fraction <= 1:
            raise ConfigError(
                "The 'supervision_fraction' parameter of RelationLearner must be in (0, 1]. "
                f"Got {self.supervision_fraction!r} instead."
            )
        if self.hidden_dim % self.heads:
            raise ConfigError(
                f"The 'hidden_dim' ({self.hidden_dim}) of RelationLearner must be divisible by "
                f"'heads' ({self.heads})."
            )


def learner_config(settings: Any) -> dict[str, Any]:
    """The fields of :class:`RelationLearnerConfig` of a settings dataclass holding them (the GNN's)."""
    fields = {f.name for f in dataclasses.fields(RelationLearnerConfig)}
    return {k: v for k, v in dataclasses.asdict(settings).items() if k in fields}


@dataclass(frozen=True)
class TrainingGraph:
    """The graph a learner trains on and what it learns from it.

    Args:
        graph: the graph; its link edges must be training links only.
        target_edge_types: the link types to learn to predict (edge types of ``graph``).
        num_classes: size of the label head (0: no labels); labels are ``graph[t].y``.
        maskable_edge_types: link types that a held-out node lacks and that are therefore hidden
            around supervised nodes by a learner that passes messages over links (default: every
            type that is not a similarity type ``(t, similarity_relation, t)``).
        similarity_relation: the relation name of the graph's similarity edges.
        label_train_mask: per node type, the nodes whose labels may be trained on.
        train_rows: per node type, the rows whose statistics standardise the inputs (default: all rows).
        item_edge_types: item tasks: the link types joining the samples of one item.
        item_keep: item tasks: the probability that a node keeps its links of ``item_edge_types``
            at a training step (:func:`~mmgraph.training.masking.drop_item_samples`), so that the
            training items come as partial as held-out items do; 1 keeps them all.

    Raises:
        DataError: a target edge type is not in the graph.
        ConfigError: nothing to learn (no target edge type, no class).
    """

    graph: HeteroData
    target_edge_types: Sequence[EdgeType] = ()
    num_classes: int = 0
    maskable_edge_types: Sequence[EdgeType] | None = None
    similarity_relation: str = SIMILARITY_RELATION
    label_train_mask: Mapping[NodeType, Tensor] | None = None
    train_rows: Mapping[NodeType, Tensor] | None = None
    item_edge_types: Sequence[EdgeType] = ()
    item_keep: float = 1.0

    def __post_init__(self) -> None:
        for edge_type in self.target_edge_types:
            if edge_type not in self.graph.edge_types:
                raise DataError(
                    f"The target edge type {edge_type} is not in the graph. Edge types: {self.graph.edge_types}."
                )
        if not self.target_edge_types and not self.num_classes:
            raise ConfigError("A learner needs target_edge_types, num_classes, or both to learn from.")
        if not 0 < self.item_keep <= 1:
            raise ConfigError(
                f"item_keep is the probability of keeping a sample's item links, in (0, 1]; got {self.item_keep!r}."
            )

    def maskable(self) -> set[EdgeType]:
        """The link types hidden around supervised nodes (see ``maskable_edge_types``)."""
        if self.maskable_edge_types is not None:
            return set(self.maskable_edge_types)
        return {t for t in self.graph.edge_types if not (t[0] == t[2] and t[1] == self.similarity_relation)}

    def positives(self) -> dict[EdgeType, Tensor]:
        """The training links of each target type, ``{edge_type: (2, num_links)}``."""
        return {t: self.graph[t].edge_index for t in self.target_edge_types}

    def known_links(self) -> dict[EdgeType, tuple[KnownPairs, KnownPairs]]:
        """Per target edge type, its links as known pairs from the source side and from the target side."""
        data, out = self.graph, {}
        for t in self.target_edge_types:
            p = data[t].edge_index
            out[t] = (KnownPairs(p, num_query=data[t[0]].num_nodes, num_target=data[t[2]].num_nodes),
                      KnownPairs(p.flip(0), num_query=data[t[2]].num_nodes, num_target=data[t[0]].num_nodes))
        return out

    def trainable_labels(self) -> dict[NodeType, Tensor]:
        """Per node type, the nodes whose label a learner may train on: labelled (``y >= 0``) and in
        ``label_train_mask`` (every labelled node when it is None; none of a type it leaves out).
        Types without any are left out."""
        out, mask = {}, self.label_train_mask
        for node_type in self.graph.node_types:
            y = self.graph[node_type].get("y")
            if y is None:
                continue
            use = y >= 0
            if mask is not None:
                use = use & mask.get(node_type, torch.zeros_like(use))
            if use.any():
                out[node_type] = use.nonzero().flatten()
        return out


class LearnerNetwork(nn.Module):
    """A learner's trained parts, built once: what gives node representations (a subclass's), one
    decoder per target link type (``decoders``, keyed by ``edge_key``) and the label head (None
    without labels)."""

    decoders: nn.ModuleDict
    label_head: nn.Linear | None


class Learner(ABC):
    """A relation learner: fitted on a :class:`TrainingGraph`, then representations of the nodes of
    a graph (and of new samples attached to it), link scores and label logits from them.

    Subclasses set ``training`` (their key in :data:`LEARNERS`), build ``network_`` in :meth:`fit`
    and implement :meth:`fit`, :meth:`layer_states`, :meth:`extend`, :meth:`extend_items`, :meth:`_state_record` and
    :meth:`from_state`.

    Args:
        config: a :class:`RelationLearnerConfig` or a dict of its fields.
        **overrides: fields of the config to override.
    """

    training: ClassVar[str]

    def __init__(self, config: RelationLearnerConfig | dict | None = None, **overrides: Any) -> None:
        base = dataclasses.asdict(config) if isinstance(config, RelationLearnerConfig) else dict(config or {})
        base.update(overrides)
        valid = {f.name for f in dataclasses.fields(RelationLearnerConfig)}
        unknown = sorted(set(base) - valid)
        if unknown:
            raise ConfigTypeError(
                f"{type(self).__name__} got unknown setting(s) {unknown}. Valid settings: {sorted(valid)}."
            )
        self.config = RelationLearnerConfig(**base)

    @classmethod
    def from_settings(cls, settings: Any) -> Learner:
        """An unfitted learner of a settings dataclass holding the config's fields (the GNN's)."""
        return cls(learner_config(settings))

    @abstractmethod
    def fit(
        self, problem: TrainingGraph, *, validate: Callable[[], float] | None = None, progress: bool = True,
        checkpoint: Checkpoint | None = None,
    ) -> Learner:
        """Trains on ``problem``.

        Args:
            problem: the graph and what to learn from it.
            validate: called every ``eval_every`` epochs to score the learner as it stands; higher is
                better; the best state is kept and training stops after ``patience`` checks without
                improvement.
            progress: show a progress bar.
            checkpoint: saves the training state every few epochs; a checkpoint of the same run found
                there is resumed (the result is the same as without interruption).

        Returns:
            ``self``.
        """

    @abstractmethod
    def layer_states(self, data: HeteroData) -> list[dict[NodeType, Tensor]]:
        """Representations of every node of ``data`` (the graph the learner reads), the last being
        :meth:`embed`'s; what :meth:`extend` starts from."""

    @abstractmethod
    def extend(
        self, states: list[dict[NodeType, Tensor]], data: HeteroData, relation: EdgeType, x: Tensor,
        neighbours: Tensor, weights: Tensor,
    ) -> Tensor:
        """Representations of new samples of ``relation[0]`` with features ``x`` that receive
        ``relation`` edges from ``neighbours`` of ``data`` with ``weights``; ``states`` are
        ``layer_states(data)``.

        Shapes:
            x: ``(b, in_dim)``; neighbours, weights: ``(b, k)``; return: ``(b, hidden_dim)``.
        """

    @abstractmethod
    def extend_items(
        self, states: list[dict[NodeType, Tensor]], data: HeteroData, similarity_relation: str,
        new: Mapping[NodeType, tuple[Tensor, Tensor, Tensor]], partners: Mapping[EdgeType, Tensor],
    ) -> dict[NodeType, Tensor]:
        """Representations of the samples of new items: each receives ``(t, similarity_relation, t)``
        edges from its neighbours of ``data``, as in :meth:`extend`, and the ``partners`` edges from
        the other samples of its item, so that an item's samples exchange messages.

        Args:
            states: ``layer_states(data)``.
            data: the graph the learner reads.
            similarity_relation: the relation name of ``data``'s similarity edges.
            new: per node type, the new samples' features, neighbours in ``data`` and edge weights.
            partners: per edge type of ``data``, ``[source, target]`` row indices into ``new`` of
                its two types.

        Raises:
            NotApplicableError: the learner has no way to let new samples exchange messages.

        Shapes:
            new[t]: ``((b_t, in_dim_t), (b_t, k), (b_t, k))``; partners[e]: ``(2, n_e)``;
            return: ``{t: (b_t, hidden_dim)}``.
        """

    def embed(self, data: HeteroData) -> dict[NodeType, Tensor]:
        """Representations of every node of ``data``.

        Shapes:
            return: ``{node_type: (num_nodes, hidden_dim)}``
        """
        return self.layer_states(data)[-1]

    def _check_fitted(self) -> None:
        if not hasattr(self, "network_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet. Call 'fit' with a graph before using it."
            )

    @torch.inference_mode()
    def score(
        self, h: dict[NodeType, Tensor], edge_type: EdgeType, query: Tensor,
        candidates: Tensor | None = None, *, reverse: bool = False,
    ) -> Tensor:
        """Scores queries against candidates for one link type. Inputs go to the decoder's device
        and scores come back to the CPU.

        Args:
            h: node representations from :meth:`embed`.
            edge_type: a target edge type given to :meth:`fit`.
            query: indices of query nodes (source nodes, or targets with ``reverse=True``).
            candidates: indices of candidate nodes of the other side (default: all).
            reverse: score from the target side of ``edge_type`` to its source side.

        Shapes:
            query: ``(b,)``; candidates: ``(c,)``; return: ``(b, c)``.
        """
        self._check_fitted()
        if edge_type not in self.target_edge_types_:
            raise DataError(f"The edge type {edge_type} was not a target of fit. Targets: {self.target_edge_types_}.")
        src_type, _, dst_type = edge_type
        decoder = self.network_.decoders[_key(edge_type)]
        query_type, cand_type = (dst_type, src_type) if reverse else (src_type, dst_type)
        device = next(decoder.parameters(), torch.zeros(())).device
        cand, queries = take_rows(h[cand_type], candidates).to(device), h[query_type][query].to(device)
        return (decoder(cand, queries).T if reverse else decoder(queries, cand)).cpu()

    @torch.inference_mode()
    def label_logits(self, h: dict[NodeType, Tensor], node_type: NodeType) -> Tensor:
        """Label logits of every node of one type, ``(num_nodes, num_classes)``."""
        self._check_fitted()
        head = self.network_.label_head
        if head is None:
            raise NotApplicableError(f"This {type(self).__name__} was fitted without labels (num_classes=0).")
        return head(h[node_type].to(head.weight.device)).cpu()

    def _build_head(
        self, target_edge_types: Sequence[EdgeType], num_classes: int
    ) -> tuple[nn.ModuleDict, nn.Linear | None]:
        """The decoders of the target link types and the label head (None without classes), in this
        order (the seeded initialisation depends on it)."""
        c = self.config
        decoder = DECODERS.get(c.decoder)
        decoders = nn.ModuleDict({_key(t): decoder(c.hidden_dim, c.temperature) for t in target_edge_types})
        return decoders, (nn.Linear(c.hidden_dim, num_classes) if num_classes else None)

    # ------------------------------------------------------------------ persistence
    def state(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        """What rebuilds the fitted learner (:meth:`from_state`): its weights and a JSON-able description."""
        self._check_fitted()
        meta = {
            "config": dataclasses.asdict(self.config), "in_dims": self.in_dims_,
            "target_edge_types": [list(t) for t in self.target_edge_types_], "num_classes": self.num_classes_,
            **self._state_record(),
        }
        return dict(self.network_.state_dict()), meta

    @abstractmethod
    def _state_record(self) -> dict[str, Any]:
        """What :meth:`state` records beside the config, the input sizes, the targets and the classes."""

    @classmethod
    @abstractmethod
    def from_state(cls, tensors: dict[str, Tensor], meta: dict[str, Any]) -> Learner:
        """Rebuilds a learner from :meth:`state`."""


LEARNERS: Registry[type[Learner]] = Registry("learner")
"""Every learner by its training mode (``"full"``, ``"minibatch"``); :mod:`mmgraph.models.learners`
registers them, and the GNN's ``training`` setting and the CLI's ``--training`` read it."""


def take_rows(matrix: Tensor, index: Tensor | None) -> Tensor:
    """``matrix[index]``, without a copy when ``index`` is None or every row in order (a whole catalogue)."""
    if index is None:
        return matrix
    n = matrix.shape[0]
    if index.numel() == n and (n == 0 or (int(index[0]) == 0 and bool((index.diff() == 1).all()))):
        return matrix
    return matrix[index]
