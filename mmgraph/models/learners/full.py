"""The full-batch learner: message passing over the whole graph in every step (training mode ``"full"``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint as recompute
from torch_geometric.data import HeteroData

from mmgraph.data.known import KnownPairs
from mmgraph.models.gnn import HeteroGNN
from mmgraph.models.learners.base import Learner, LearnerNetwork, TrainingGraph
from mmgraph.training.checkpoint import Checkpoint
from mmgraph.training.loop import train_epochs
from mmgraph.training.masking import cold_start_batch, drop_item_samples
from mmgraph.training.negatives import SimilarNeighbours, split_links
from mmgraph.typing import EdgeType, NodeType
from mmgraph.typing import edge_key as _key


class _Network(LearnerNetwork):
    """The message-passing encoder, the decoders and the label head."""

    def __init__(self, encoder: HeteroGNN, decoders: nn.ModuleDict, label_head: nn.Linear | None) -> None:
        super().__init__()
        self.encoder, self.decoders, self.label_head = encoder, decoders, label_head


class RelationLearner(Learner):
    """Learns cross-modal link scores and node labels over a heterogeneous graph, full batch.

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

    training = "full"

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
        encoder = HeteroGNN(
            in_dims, data.metadata(), hidden_dim=c.hidden_dim, num_layers=c.num_layers,
            conv=c.conv, heads=c.heads, dropout=c.dropout,
        )
        for node_type in data.node_types:
            x = data[node_type].x.float()
            rows = None if train_rows is None else train_rows.get(node_type)
            encoder.standardize[node_type].fit(x if rows is None else x[rows])
        self.network_ = _Network(encoder, *self._build_head(target_edge_types, num_classes))
        self.target_edge_types_ = list(target_edge_types)
        self.num_classes_ = num_classes
        self.in_dims_ = in_dims
        self.metadata_ = data.metadata()

    # ------------------------------------------------------------------ training
    def fit(
        self, problem: TrainingGraph, *, validate: Callable[[], float] | None = None, progress: bool = True,
        checkpoint: Checkpoint | None = None,
    ) -> RelationLearner:
        """Trains on ``problem`` (see :meth:`Learner.fit`), hiding its ``maskable`` link types around
        the supervised nodes of each step."""
        c, data = self.config, problem.graph
        self._build(data, problem.target_edge_types, problem.num_classes, problem.train_rows)
        maskable = problem.maskable()
        network = self.network_
        optimizer = torch.optim.Adam(network.parameters(), lr=c.lr, weight_decay=c.weight_decay)
        generator = torch.Generator().manual_seed(c.seed)
        positives = problem.positives()
        known = problem.known_links()
        labelled = problem.trainable_labels() if network.label_head is not None else {}
        similar = {}
        if c.hard_negatives:
            for src_type, _, dst_type in positives:
                for node_type in (src_type, dst_type):
                    relation = (node_type, problem.similarity_relation, node_type)
                    if relation in data.edge_types and node_type not in similar:
                        similar[node_type] = SimilarNeighbours(data[relation].edge_index, data[node_type].num_nodes)

        def train_epoch(epoch: int) -> float:
            batch = cold_start_batch(
                data, positives, maskable, fraction=c.supervision_fraction, generator=generator
            )
            batch = drop_item_samples(batch, problem.item_edge_types, keep=problem.item_keep, generator=generator)
            h = network.encoder(batch.x_dict, batch.edge_index_dict, batch.edge_weight_dict)
            loss = torch.zeros(())
            for edge_type, supervised in batch.supervised.items():
                if supervised.numel():
                    loss = loss + self._link_loss(h, edge_type, supervised, known[edge_type], similar, generator)
            if network.label_head is not None:
                loss = loss + c.label_weight * self._label_loss(h, data, labelled)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return float(loss.detach())

        trained = train_epochs(
            network, optimizer, generator, epochs=c.epochs, eval_every=c.eval_every, patience=c.patience,
            train_epoch=train_epoch, validate=validate, checkpoint=checkpoint, progress=progress,
            desc=f"train {c.conv}",
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
        decoder = self.network_.decoders[_key(edge_type)]
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

    def _label_loss(self, h: dict[NodeType, Tensor], data: HeteroData, labelled: dict[NodeType, Tensor]) -> Tensor:
        losses = [
            F.cross_entropy(self.network_.label_head(h[node_type][nodes]), data[node_type].y[nodes])
            for node_type, nodes in labelled.items()
        ]
        return torch.stack(losses).mean() if losses else torch.zeros(())

    # ------------------------------------------------------------------ inference
    @torch.inference_mode()
    def layer_states(self, data: HeteroData) -> list[dict[NodeType, Tensor]]:
        """The representations entering each message-passing layer, then :meth:`embed`'s."""
        self._check_fitted()
        self.network_.eval()
        weights = {t: data[t].edge_weight for t in data.edge_types if "edge_weight" in data[t]}
        return self.network_.encoder.layer_states(data.x_dict, data.edge_index_dict, weights)

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
        self.network_.eval()
        weights = weights if "edge_weight" in data[relation] else None
        attached = {relation: (neighbours, weights)}
        return self.network_.encoder.extend(states, data.edge_types, {relation[0]: x}, attached)[relation[0]]

    @torch.inference_mode()
    def extend_items(
        self, states: list[dict[NodeType, Tensor]], data: HeteroData, similarity_relation: str,
        new: Mapping[NodeType, tuple[Tensor, Tensor, Tensor]], partners: Mapping[EdgeType, Tensor],
    ) -> dict[NodeType, Tensor]:
        """Representations of new samples that receive similarity edges from their neighbours of
        ``data`` and ``partners`` edges from each other, in one pass of the attached subgraph (see
        :meth:`Learner.extend_items` and :meth:`HeteroGNN.extend`)."""
        self._check_fitted()
        self.network_.eval()
        x, attached = {}, {}
        for node_type, (features, neighbours, weights) in new.items():
            relation = (node_type, similarity_relation, node_type)
            x[node_type] = features
            attached[relation] = (neighbours, weights if "edge_weight" in data[relation] else None)
        return self.network_.encoder.extend(states, data.edge_types, x, attached, partners)

    # ------------------------------------------------------------------ persistence
    def _state_record(self) -> dict:
        return {"metadata": [list(self.metadata_[0]), [list(t) for t in self.metadata_[1]]]}

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
        with torch.no_grad():  # one forward pass, so that lazily sized layers get their weights' shapes
            learner.network_.encoder(graph.x_dict, graph.edge_index_dict)
        learner.network_.load_state_dict(tensors)
        learner.network_.eval()
        return learner
