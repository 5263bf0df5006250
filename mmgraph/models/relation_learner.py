"""The GNN relation learner: link scores and labels from a heterogeneous graph."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint as recompute
from torch_geometric.data import HeteroData

from mmgraph.checks import check_positive_int
from mmgraph.data.known import KnownPairs
from mmgraph.errors import ConfigError, ConfigTypeError, DataError, NotApplicableError, NotFittedError
from mmgraph.graph.builder import SIMILARITY_RELATION
from mmgraph.io import atomic_write, load_json, load_tensors, save_tensors
from mmgraph.models.decoders import DECODERS
from mmgraph.models.gnn import CONVOLUTIONS, HeteroGNN
from mmgraph.training.checkpoint import Checkpoint
from mmgraph.training.loop import train_epochs
from mmgraph.training.masking import cold_start_batch
from mmgraph.training.negatives import SimilarNeighbours, split_links
from mmgraph.typing import EdgeType, NodeType
from mmgraph.typing import edge_key as _key


@dataclass
class RelationLearnerConfig:
    """Settings of :class:`RelationLearner`."""

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


def _config_from(config: RelationLearnerConfig | dict | None, overrides: dict) -> RelationLearnerConfig:
    base = dataclasses.asdict(config) if isinstance(config, RelationLearnerConfig) else dict(config or {})
    base.update(overrides)
    valid = {f.name for f in dataclasses.fields(RelationLearnerConfig)}
    unknown = sorted(set(base) - valid)
    if unknown:
        raise ConfigTypeError(
            f"RelationLearner got unknown setting(s) {unknown}. Valid settings: {sorted(valid)}."
        )
    return RelationLearnerConfig(**base)


class RelationLearner:
    """Learns cross-modal link scores and node labels over a heterogeneous graph.

    The graph comes from :class:`mmgraph.graph.GraphBuilder`: node features ``x`` per type,
    optional labels ``y`` (``-1`` where unknown), similarity edges inside each type and the
    training links as edges with reverse types. Each step hides the links of a random share of
    training sources from message passing and asks the model to recover them, ranking each
    true target against the other supervised targets of its chunk of at most ``batch_size``
    links (in-batch softmax cross-entropy, other true targets of the same source removed; with
    ``hard_negatives``, also against similarity neighbours of the true target), so memory does
    not grow with the square of the training pool, a predicted link is never
    an edge the model reads in that step, training nodes look like the cold-start nodes of the
    test, and every candidate of the loss has lost its links alike: "holds no link" tells the
    answer from nothing.

    Args:
        config: a :class:`RelationLearnerConfig` or a dict of its fields.
        **overrides: fields of the config to override.

    Example:
        >>> learner = RelationLearner(conv="gat", epochs=50)
        >>> learner
        RelationLearner(conv='gat', hidden_dim=256, num_layers=2, decoder='dot', epochs=50, seed=0)
    """

    def __init__(self, config: RelationLearnerConfig | dict | None = None, **overrides) -> None:
        self.config = _config_from(config, overrides)

    def __repr__(self) -> str:
        c = self.config
        return (
            f"RelationLearner(conv={c.conv!r}, hidden_dim={c.hidden_dim}, num_layers={c.num_layers}, "
            f"decoder={c.decoder!r}, epochs={c.epochs}, seed={c.seed})"
        )

    # ------------------------------------------------------------------ building
    def _build(
        self, data: HeteroData, target_edge_types: Sequence[EdgeType], num_classes: int,
        train_rows: dict[NodeType, Tensor] | None = None,
    ) -> None:
        c = self.config
        torch.manual_seed(c.seed)
        in_dims = {t: int(data[t].x.shape[1]) for t in data.node_types}
        self.encoder_ = HeteroGNN(
            in_dims, data.metadata(), hidden_dim=c.hidden_dim, num_layers=c.num_layers,
            conv=c.conv, heads=c.heads, dropout=c.dropout,
        )
        for node_type in data.node_types:
            x = data[node_type].x.float()
            rows = None if train_rows is None else train_rows.get(node_type)
            self.encoder_.standardize[node_type].fit(x if rows is None else x[rows])
        decoder = DECODERS.get(c.decoder)
        self.decoders_ = nn.ModuleDict(
            {_key(t): decoder(c.hidden_dim, c.temperature) for t in target_edge_types}
        )
        self.label_head_ = nn.Linear(c.hidden_dim, num_classes) if num_classes else None
        self.target_edge_types_ = list(target_edge_types)
        self.num_classes_ = num_classes
        self.in_dims_ = in_dims
        self.metadata_ = data.metadata()

    def _modules(self) -> nn.ModuleDict:
        modules = {"encoder": self.encoder_, "decoders": self.decoders_}
        if self.label_head_ is not None:
            modules["label_head"] = self.label_head_
        return nn.ModuleDict(modules)

    # ------------------------------------------------------------------ training
    def fit(
        self,
        data: HeteroData,
        *,
        target_edge_types: Sequence[EdgeType],
        maskable_edge_types: Sequence[EdgeType] | None = None,
        similarity_relation: str = SIMILARITY_RELATION,
        num_classes: int = 0,
        label_train_mask: dict[NodeType, Tensor] | None = None,
        train_rows: dict[NodeType, Tensor] | None = None,
        validate: Callable[[RelationLearner], float] | None = None,
        progress: bool = True,
        checkpoint: Checkpoint | None = None,
    ) -> RelationLearner:
        """Trains on ``data``.

        Args:
            data: the graph; its link edges must be training links only.
            target_edge_types: the link types to learn to predict (edge types of ``data``).
            maskable_edge_types: link types that a held-out node lacks and that are therefore
                hidden around supervised nodes (default: every type that is not a similarity
                type ``(t, similarity_relation, t)``).
            similarity_relation: the relation name of the graph's similarity edges.
            num_classes: size of the label head (0: no labels); labels are ``data[t].y``.
            label_train_mask: per node type, the nodes whose labels may be trained on.
            train_rows: per node type, the rows whose statistics standardise the inputs
                (default: all rows).
            validate: called as ``validate(self)`` every ``eval_every`` epochs; higher is
                better; the best state is kept and training stops after ``patience`` checks
                without improvement.
            progress: show a progress bar.
            checkpoint: saves the training state every few epochs; a checkpoint of the same run
                found there is resumed (the result is the same as without interruption).

        Returns:
            ``self``.
        """
        c = self.config
        check_targets(data, target_edge_types, num_classes, "RelationLearner")
        self._build(data, target_edge_types, num_classes, train_rows)
        if maskable_edge_types is None:
            maskable_edge_types = [t for t in data.edge_types if not (t[0] == t[2] and t[1] == similarity_relation)]
        maskable = set(maskable_edge_types)
        modules = self._modules()
        optimizer = torch.optim.Adam(modules.parameters(), lr=c.lr, weight_decay=c.weight_decay)
        generator = torch.Generator().manual_seed(c.seed)
        positives = {t: data[t].edge_index for t in target_edge_types}
        known = known_links(data, target_edge_types)
        similar = {}
        if c.hard_negatives:
            for src_type, _, dst_type in positives:
                for node_type in (src_type, dst_type):
                    relation = (node_type, similarity_relation, node_type)
                    if relation in data.edge_types and node_type not in similar:
                        similar[node_type] = SimilarNeighbours(data[relation].edge_index, data[node_type].num_nodes)

        def train_epoch(epoch: int) -> float:
            batch = cold_start_batch(
                data, positives, maskable, fraction=c.supervision_fraction, generator=generator
            )
            h = self.encoder_(batch.x_dict, batch.edge_index_dict, batch.edge_weight_dict)
            loss = torch.zeros(())
            for edge_type, supervised in batch.supervised.items():
                if supervised.numel():
                    loss = loss + self._link_loss(h, edge_type, supervised, known[edge_type], similar, generator)
            if self.label_head_ is not None:
                loss = loss + c.label_weight * self._label_loss(h, data, label_train_mask)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return float(loss.detach())

        trained = train_epochs(
            modules, optimizer, generator, epochs=c.epochs, eval_every=c.eval_every, patience=c.patience,
            train_epoch=train_epoch, validate=None if validate is None else lambda: validate(self),
            checkpoint=checkpoint, progress=progress, desc=f"train {c.conv}",
        )
        self.history_, self.best_val_ = trained.history, trained.best_score
        return self

    def _link_loss(
        self, h: dict[NodeType, Tensor], edge_type: EdgeType, supervised: Tensor,
        known: tuple[KnownPairs, KnownPairs], similar: dict[NodeType, SimilarNeighbours],
        generator: torch.Generator,
    ) -> Tensor:
        """The mean over chunks of at most ``batch_size`` supervised links of :meth:`_chunk_loss`.

        With several chunks, each chunk's logits are recomputed in the backward pass rather than
        kept, so memory holds one chunk's ``batch_size x batch_size`` logits at a time.
        """
        c = self.config
        chunks = split_links(supervised, c.batch_size, generator)
        losses = []
        for chunk in chunks:
            extra = (None, None)
            if c.hard_negatives:
                extra = tuple(self._hard_candidates(edge_type, chunk, side, similar, generator) for side in (0, 1))
            if len(chunks) == 1:
                return self._chunk_loss(h, edge_type, chunk, known, extra)
            losses.append(recompute(self._chunk_loss, h, edge_type, chunk, known, extra, use_reentrant=False))
        return torch.stack(losses).mean()

    def _hard_candidates(
        self, edge_type: EdgeType, links: Tensor, side: int, similar: dict[NodeType, SimilarNeighbours],
        generator: torch.Generator,
    ) -> Tensor | None:
        """``hard_negatives`` similarity neighbours of the true target of each query of ``side``."""
        cand_type = edge_type[2] if side == 0 else edge_type[0]
        if cand_type not in similar:
            return None
        return similar[cand_type].draw(links[1 - side], self.config.hard_negatives, generator)

    def _chunk_loss(
        self, h: dict[NodeType, Tensor], edge_type: EdgeType, supervised: Tensor,
        known: tuple[KnownPairs, KnownPairs], extra: tuple[Tensor | None, Tensor | None],
    ) -> Tensor:
        """In-batch softmax cross-entropy in both directions: each supervised query ranks its
        target among the chunk's supervised targets (all hidden alike) and the ``extra``
        candidates of its direction, true links masked."""
        src_type, _, dst_type = edge_type
        decoder = self.decoders_[_key(edge_type)]
        loss = torch.zeros(())
        for side in (0, 1):
            query_type, cand_type = (src_type, dst_type) if side == 0 else (dst_type, src_type)
            queries, targets = supervised[side], supervised[1 - side]
            if extra[side] is None:
                pool, target_col = torch.unique(targets, return_inverse=True)
            else:
                pool = torch.unique(torch.cat([targets, extra[side]]))
                target_col = torch.searchsorted(pool, targets)
            if side == 0:
                logits = decoder(h[query_type][queries], h[cand_type][pool])
            else:
                logits = decoder(h[cand_type][pool], h[query_type][queries]).T
            other = known[side].mask(queries, pool)
            other[torch.arange(len(queries)), target_col] = False
            logits = logits.masked_fill(other, float("-inf"))
            loss = loss + F.cross_entropy(logits, target_col)
        return loss / 2

    def _label_loss(
        self, h: dict[NodeType, Tensor], data: HeteroData, mask: dict[NodeType, Tensor] | None
    ) -> Tensor:
        losses = [
            F.cross_entropy(self.label_head_(h[node_type][nodes]), data[node_type].y[nodes])
            for node_type, nodes in trainable_labels(data, mask).items()
        ]
        return torch.stack(losses).mean() if losses else torch.zeros(())

    # ------------------------------------------------------------------ inference
    def _check_fitted(self) -> None:
        if not hasattr(self, "encoder_"):
            raise NotFittedError(
                "This RelationLearner is not fitted yet. Call 'fit' with a graph before using it."
            )

    @torch.inference_mode()
    def embed(self, data: HeteroData) -> dict[NodeType, Tensor]:
        """Representations of every node of ``data`` (the graph the model reads).

        Shapes:
            return: ``{node_type: (num_nodes, hidden_dim)}``
        """
        return self.layer_states(data)[-1]

    @torch.inference_mode()
    def layer_states(self, data: HeteroData) -> list[dict[NodeType, Tensor]]:
        """The representations entering each message-passing layer, then :meth:`embed`'s."""
        self._check_fitted()
        self._modules().eval()
        weights = {t: data[t].edge_weight for t in data.edge_types if "edge_weight" in data[t]}
        return self.encoder_.layer_states(data.x_dict, data.edge_index_dict, weights)

    @torch.inference_mode()
    def extend(
        self, states: list[dict[NodeType, Tensor]], data: HeteroData, relation: EdgeType, x: Tensor,
        neighbours: Tensor, weights: Tensor,
    ) -> Tensor:
        """Representations of new nodes that receive ``relation`` edges from ``neighbours`` of ``data``
        (see :meth:`HeteroGNN.extend`); ``states`` are ``layer_states(data)``.

        Shapes:
            x: ``(b, in_dim)``; neighbours, weights: ``(b, k)``; return: ``(b, hidden_dim)``.
        """
        self._check_fitted()
        self._modules().eval()
        weights = weights if "edge_weight" in data[relation] else None
        return self.encoder_.extend(states, data.edge_types, relation[0], x, relation, neighbours, weights)

    @torch.inference_mode()
    def score(
        self, h: dict[NodeType, Tensor], edge_type: EdgeType, query: Tensor,
        candidates: Tensor | None = None, *, reverse: bool = False,
    ) -> Tensor:
        """Scores queries against candidates for one link type.

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
        return score_links(self.decoders_, self.target_edge_types_, h, edge_type, query, candidates, reverse=reverse)

    @torch.inference_mode()
    def label_logits(self, h: dict[NodeType, Tensor], node_type: NodeType) -> Tensor:
        """Label logits of every node of one type, ``(num_nodes, num_classes)``."""
        self._check_fitted()
        if self.label_head_ is None:
            raise NotApplicableError("This RelationLearner was fitted without labels (num_classes=0).")
        return self.label_head_(h[node_type])

    # ------------------------------------------------------------------ persistence
    def state(self) -> tuple[dict[str, Tensor], dict]:
        """What rebuilds the fitted learner: its weights and a JSON-able description."""
        self._check_fitted()
        meta = {
            "config": dataclasses.asdict(self.config),
            "in_dims": self.in_dims_,
            "metadata": [list(self.metadata_[0]), [list(t) for t in self.metadata_[1]]],
            "target_edge_types": [list(t) for t in self.target_edge_types_],
            "num_classes": self.num_classes_,
        }
        return dict(self._modules().state_dict()), meta

    @classmethod
    def from_state(cls, tensors: dict[str, Tensor], meta: dict) -> RelationLearner:
        """Rebuilds a learner from :meth:`state`."""
        learner = cls(meta["config"])
        graph = HeteroData()
        for node_type, dim in meta["in_dims"].items():
            graph[node_type].x = torch.zeros(1, dim)
        for edge_type in meta["metadata"][1]:
            graph[tuple(edge_type)].edge_index = torch.zeros(2, 0, dtype=torch.long)
        learner._build(graph, [tuple(t) for t in meta["target_edge_types"]], meta["num_classes"])
        _materialise_lazy(learner, graph)
        learner._modules().load_state_dict(tensors)
        learner._modules().eval()
        return learner

    def save(self, directory: str | os.PathLike) -> None:
        """Writes ``learner.json`` (config and shapes) and ``learner.safetensors`` (the weights)."""
        tensors, meta = self.state()
        directory = Path(directory)
        save_tensors(directory / "learner.safetensors", tensors)
        atomic_write(directory / "learner.json", json.dumps(meta, indent=2))

    @classmethod
    def load(cls, directory: str | os.PathLike) -> RelationLearner:
        """Rebuilds a learner written by :meth:`save`."""
        directory = Path(directory)
        return cls.from_state(load_tensors(directory / "learner.safetensors"), load_json(directory / "learner.json"))


def score_links(
    decoders: nn.ModuleDict, targets: Sequence[EdgeType], h: dict[NodeType, Tensor], edge_type: EdgeType,
    query: Tensor, candidates: Tensor | None, *, reverse: bool,
) -> Tensor:
    """Scores of ``query`` nodes against ``candidates`` (all when None) by the decoder of ``edge_type``,
    from its target side with ``reverse``: the scoring of both learners. Inputs go to the decoder's
    device and scores come back to the CPU.

    Shapes:
        query: ``(b,)``; candidates: ``(c,)``; return: ``(b, c)``.
    """
    if edge_type not in targets:
        raise DataError(f"The edge type {edge_type} was not a target of fit. Targets: {list(targets)}.")
    src_type, _, dst_type = edge_type
    decoder = decoders[_key(edge_type)]
    query_type, cand_type = (dst_type, src_type) if reverse else (src_type, dst_type)
    device = next(decoder.parameters(), torch.zeros(())).device
    cand, queries = take_rows(h[cand_type], candidates).to(device), h[query_type][query].to(device)
    return (decoder(cand, queries).T if reverse else decoder(queries, cand)).cpu()


def trainable_labels(data: HeteroData, mask: dict[NodeType, Tensor] | None) -> dict[NodeType, Tensor]:
    """Per node type, the nodes whose label a learner may train on: labelled (``y >= 0``) and in ``mask``
    (every labelled node when ``mask`` is None; none of a type ``mask`` leaves out). Types without any
    are left out."""
    out = {}
    for node_type in data.node_types:
        y = data[node_type].get("y")
        if y is None:
            continue
        use = y >= 0
        if mask is not None:
            use = use & mask.get(node_type, torch.zeros_like(use))
        if use.any():
            out[node_type] = use.nonzero().flatten()
    return out


def check_targets(data: HeteroData, target_edge_types: Sequence[EdgeType], num_classes: int, owner: str) -> None:
    """Raises unless every target edge type is in ``data`` and there is something to learn."""
    for edge_type in target_edge_types:
        if edge_type not in data.edge_types:
            raise DataError(f"The target edge type {edge_type} is not in the graph. Edge types: {data.edge_types}.")
    if not target_edge_types and not num_classes:
        raise ConfigError(f"{owner}.fit needs target_edge_types, num_classes, or both.")


def known_links(
    data: HeteroData, target_edge_types: Sequence[EdgeType]
) -> dict[EdgeType, tuple[KnownPairs, KnownPairs]]:
    """Per target edge type, its links as known pairs from the source side and from the target side."""
    out = {}
    for t in target_edge_types:
        p = data[t].edge_index
        out[t] = (KnownPairs(p, num_query=data[t[0]].num_nodes, num_target=data[t[2]].num_nodes),
                  KnownPairs(p.flip(0), num_query=data[t[2]].num_nodes, num_target=data[t[0]].num_nodes))
    return out


def _materialise_lazy(learner: RelationLearner, graph: HeteroData) -> None:
    """Runs one forward pass so that lazily sized layers get their weights' shapes."""
    with torch.no_grad():
        learner.encoder_(graph.x_dict, graph.edge_index_dict)


def take_rows(matrix: Tensor, index: Tensor | None) -> Tensor:
    """``matrix[index]``, without a copy when ``index`` is None or every row in order (a whole catalogue)."""
    if index is None:
        return matrix
    n = matrix.shape[0]
    if index.numel() == n and (n == 0 or (int(index[0]) == 0 and bool((index.diff() == 1).all()))):
        return matrix
    return matrix[index]
