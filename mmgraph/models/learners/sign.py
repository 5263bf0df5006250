"""Mini-batch relation learning over precomputed propagation features (SIGN-style).

Full-batch message passing holds every node's activations of every layer at once, so its
memory grows with the graph (about 90 GiB at a million nodes). Here the graph is read once,
before training: sparse products give every node a fixed feature vector made of

- ``x``: its own features;
- ``hop1``: the weighted mean of its similarity neighbours' features (cosine weights);
- ``hop2``: the weighted mean over its 2-step similarity paths that do not come back to it;
- per link type ``(t, r, u)`` of the graph, ``via_r``: the mean of the ``u`` partners of its
  similarity neighbours ("what my look-alikes are linked to"), leaving out the node's own
  partners.

Then per-node-type MLP towers map these vectors to representations, the decoders of
:class:`~mmgraph.models.learners.full.RelationLearner` score pairs, and training runs over
mini-batches of links (and of labelled nodes), so one step costs the same at any graph size.

Cold start without a shortcut: a new sample reaches the graph only through its ``k`` most similar
training nodes and has no link. Its vector is computed by the very same function from those
neighbours' rows. A training node's vector reads no link of its own: its neighbours are other
nodes, 2-step paths back to itself are dropped, and a partner it is itself linked to is dropped
from ``via_r``, so it looks exactly like a cold node at that place in the graph. (The propagation
that refines scores in :class:`~mmgraph.models.gnn_model.GNNModel` is another matter: it works
the same way after either training.)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import HeteroData

from mmgraph.checks import check_positive_int
from mmgraph.data.known import KnownPairs
from mmgraph.errors import NotApplicableError
from mmgraph.graph.builder import SIMILARITY_RELATION
from mmgraph.models.learners.base import Learner, LearnerNetwork, RelationLearnerConfig, TrainingGraph, learner_config
from mmgraph.training import distributed
from mmgraph.training.checkpoint import Checkpoint
from mmgraph.training.loop import train_epochs
from mmgraph.typing import EdgeType, NodeType
from mmgraph.typing import edge_key as _key

MAX_PATHS = 4_000_000  # paths (query, neighbour, partner) held at once while computing features
INFERENCE_ROWS = 65_536  # nodes passed through a tower at once at inference


class PropagatedFeatures:
    """The fixed input vector of every node of a graph, and of new samples attached to it.

    Args:
        data: a graph from :class:`~mmgraph.graph.GraphBuilder` (similarity edges inside each node
            type, with cosine ``edge_weight``; links with their reverses). Directed similarity
            edges (``symmetric=False``: each node receives from its ``k`` nearest) make a
            training node's neighbourhood the same kind as a new sample's.
        similarity_relation: the relation name of the similarity edges.

    Shapes:
        blocks[t]: ``(num_nodes_t, dim)`` with ``dim = 3 * dim_t + sum of dim_u over link types (t, r, u)``.
    """

    def __init__(self, data: HeteroData, *, similarity_relation: str = SIMILARITY_RELATION) -> None:
        self.x = {t: data[t].x.float() for t in data.node_types}
        self.similarity: dict[NodeType, _Rows] = {}
        for t in data.node_types:
            store = data[t, similarity_relation, t]
            edge_index = store.get("edge_index", torch.zeros(2, 0, dtype=torch.long))
            weight = store.get("edge_weight")
            weight = torch.ones(edge_index.shape[1]) if weight is None else weight.float().clamp_min(0.0)
            self.similarity[t] = _Rows(edge_index[1], edge_index[0], weight, num_rows=self.x[t].shape[0])
        self.links: dict[EdgeType, tuple[_Rows, KnownPairs]] = {}
        for edge_type in data.edge_types:
            src, relation, dst = edge_type
            if src == dst and relation == similarity_relation:
                continue
            edge_index = data[edge_type].edge_index
            rows = _Rows(edge_index[0], edge_index[1], torch.ones(edge_index.shape[1]), num_rows=self.x[src].shape[0])
            known = KnownPairs(edge_index, num_query=self.x[src].shape[0], num_target=self.x[dst].shape[0])
            self.links[edge_type] = (rows, known)

    @functools.cached_property
    def blocks(self) -> dict[NodeType, Tensor]:
        """Every graph node's vector, by node type; computed on first use (training and the graph's
        own representations read them; a new sample's vector, :meth:`for_new`, does not, so a loaded
        model's first prediction does not pay for them)."""
        return {
            t: self._vectors(t, self.x[t], self.similarity[t], own=torch.arange(self.x[t].shape[0])) for t in self.x
        }

    def __repr__(self) -> str:
        dims = ", ".join(f"{t}={tuple(x.shape)}" for t, x in self.x.items())
        return f"PropagatedFeatures(inputs: {dims}, link_types={len(self.links)})"

    def names(self, node_type: NodeType) -> list[str]:
        """The blocks of ``node_type``'s vectors, in order."""
        return ["x", "hop1", "hop2"] + [f"via_{r}" for (s, r, _) in self.links if s == node_type]

    def for_new(self, node_type: NodeType, x: Tensor, neighbours: Tensor, weights: Tensor) -> Tensor:
        """The vectors of new samples of ``node_type`` that receive similarity edges from ``neighbours``
        (training nodes) with ``weights`` (cosines, clamped to ``>= 0``): the function that made the
        training nodes' vectors, reading ``k`` rows per sample.

        Shapes:
            x: ``(b, dim_t)``; neighbours, weights: ``(b, k)``; return: ``(b, dim)``.
        """
        b, k = neighbours.shape
        rows = _Rows(
            torch.arange(b).repeat_interleave(k), neighbours.reshape(-1), weights.reshape(-1).float().clamp_min(0.0),
            num_rows=b,
        )
        return self._vectors(node_type, x.float(), rows, own=None)

    def _vectors(self, node_type: NodeType, x: Tensor, rows: _Rows, *, own: Tensor | None) -> Tensor:
        """``[x, hop1, hop2, via_r...]`` of queries whose similarity neighbours are ``rows``;
        ``own``: the queries' node indices when they are nodes of the graph (their own links and
        2-step returns are left out), None for new samples."""
        hop1 = rows.mean_of(self.x[node_type])
        # 2-step paths query -> j -> l, l != query: j's neighbours l through the graph's rows.
        similarity = self.similarity[node_type]
        hop2 = rows.paths_mean(similarity, self.x[node_type], drop=_drop_self(own))
        blocks = [x, hop1, hop2]
        for (src, _, dst), (links, known) in self.links.items():
            if src == node_type:
                drop = None if own is None else _drop_known(own, known)
                blocks.append(rows.paths_mean(links, self.x[dst], drop=drop))
        return torch.cat(blocks, dim=1)


class _Rows:
    """A row-normalised sparse matrix given by its entries ``(row, col, weight)``, rows sorted.

    Row ``i`` holds the weighted edges a query ``i`` reads; a row without weight gives zeros.
    """

    def __init__(self, row: Tensor, col: Tensor, weight: Tensor, *, num_rows: int) -> None:
        order = torch.argsort(row, stable=True)
        self.row, self.col, weight = row[order].long(), col[order].long(), weight[order].float()
        self.num_rows = int(num_rows)
        total = torch.zeros(self.num_rows).index_add_(0, self.row, weight)
        self.weight = weight / total[self.row].clamp_min(1e-12)
        self.ptr = torch.zeros(self.num_rows + 1, dtype=torch.long)
        self.ptr[1:] = torch.cumsum(torch.bincount(self.row, minlength=self.num_rows), 0)

    def mean_of(self, table: Tensor) -> Tensor:
        """``W @ table``: each row's weighted mean of the rows of ``table`` it reads.

        Shapes:
            table: ``(num_cols, d)``; return: ``(num_rows, d)``.
        """
        out = torch.zeros(self.num_rows, table.shape[1])
        for start, end in self._chunks(torch.ones(self.row.numel(), dtype=torch.long)):
            lo, hi = int(self.ptr[start]), int(self.ptr[end])
            matrix = torch.sparse_coo_tensor(  # indices valid by construction
                torch.stack([self.row[lo:hi] - start, self.col[lo:hi]]), self.weight[lo:hi],
                (end - start, table.shape[0]),
                check_invariants=False,
            )
            out[start:end] = torch.sparse.mm(matrix, table)
        return out

    def paths_mean(self, then: _Rows, table: Tensor, *, drop: Callable[[Tensor, Tensor], Tensor] | None) -> Tensor:
        """Each row's weighted mean of ``table`` over the 2-step paths ``row -> j -> l`` (``j`` read
        here, ``l`` read by ``then``'s row ``j``), renormalised over the paths kept.

        Without ``drop`` (and with no empty row in ``then``) this is ``W @ (then @ table)``.
        ``drop(row, l)`` marks the paths to leave out; their weight is taken away and each row is
        renormalised. Training nodes and new samples both go through here, so their vectors are
        made alike.

        Shapes:
            table: ``(num_cols of then, d)``; return: ``(num_rows, d)``.
        """
        degree = then.ptr[1:] - then.ptr[:-1]
        per_edge = degree[self.col]  # paths through each entry of this matrix
        out = torch.zeros(self.num_rows, table.shape[1])
        for start, end in self._chunks(per_edge):
            lo, hi = int(self.ptr[start]), int(self.ptr[end])
            row, mid, weight = self.row[lo:hi], self.col[lo:hi], self.weight[lo:hi]
            count = degree[mid]
            path_row = row.repeat_interleave(count)
            first = then.ptr[mid].repeat_interleave(count)
            offset = torch.arange(path_row.numel()) - (torch.cumsum(count, 0) - count).repeat_interleave(count)
            at = first + offset
            end_node, path_weight = then.col[at], weight.repeat_interleave(count) * then.weight[at]
            if drop is not None and path_row.numel():
                keep = ~drop(path_row, end_node)
                path_row, end_node, path_weight = path_row[keep], end_node[keep], path_weight[keep]
            total = torch.zeros(end - start).index_add_(0, path_row - start, path_weight)
            path_weight = path_weight / total[path_row - start].clamp_min(1e-12)
            matrix = torch.sparse_coo_tensor(  # indices valid by construction
                torch.stack([path_row - start, end_node]), path_weight, (end - start, table.shape[0]),
                check_invariants=False,
            )
            out[start:end] = torch.sparse.mm(matrix, table)
        return out

    def _chunks(self, cost_per_entry: Tensor) -> list[tuple[int, int]]:
        """Consecutive row ranges whose entries cost at most about ``MAX_PATHS`` in all."""
        row_cost = torch.zeros(self.num_rows, dtype=torch.long).index_add_(0, self.row, cost_per_entry)
        cumulative = torch.cumsum(row_cost, 0)
        chunks, start = [], 0
        while start < self.num_rows:
            before = int(cumulative[start - 1]) if start else 0
            end = int(torch.searchsorted(cumulative, before + MAX_PATHS, right=True))
            end = min(max(end, start + 1), self.num_rows)
            chunks.append((start, end))
            start = end
        return chunks


def _drop_self(own: Tensor | None) -> Callable[[Tensor, Tensor], Tensor] | None:
    if own is None:
        return None
    return lambda row, end: own[row] == end


def _drop_known(own: Tensor, known: KnownPairs) -> Callable[[Tensor, Tensor], Tensor]:
    return lambda row, end: known.contains(own[row], end)


class Tower(nn.Module):
    """An MLP from a node type's propagated features to a representation, inputs standardised with
    the training rows' statistics.

    Shapes:
        x: ``(b, in_dim)``; return: ``(b, hidden_dim)``.
    """

    def __init__(self, in_dim: int, hidden_dim: int, *, num_layers: int = 2, dropout: float = 0.1) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(in_dim))
        self.register_buffer("std", torch.ones(in_dim))
        layers: list[nn.Module] = [nn.Linear(in_dim, hidden_dim)]
        for _ in range(max(num_layers, 1) - 1):
            layers += [nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden_dim, hidden_dim)]
        self.mlp = nn.Sequential(nn.Dropout(dropout), *layers)

    def fit_statistics(self, x: Tensor) -> None:
        self.mean.copy_(x.mean(0))
        self.std.copy_(x.std(0, unbiased=False).clamp_min(1e-6) if len(x) > 1 else torch.ones(x.shape[1]))

    def forward(self, x: Tensor) -> Tensor:
        return self.mlp((x - self.mean) / self.std)


class _Network(LearnerNetwork):
    """Towers, decoders and label head; ``forward`` is one step's loss (what DDP wraps)."""

    def __init__(self, towers: nn.ModuleDict, decoders: nn.ModuleDict, label_head: nn.Linear | None) -> None:
        super().__init__()
        self.towers, self.decoders, self.label_head = towers, decoders, label_head

    def forward(
        self, links: dict[str, tuple[Tensor, Tensor, Tensor, Tensor, Tensor]],
        labels: dict[str, tuple[Tensor, Tensor]], label_weight: float,
    ) -> Tensor:
        loss = torch.zeros((), device=next(self.parameters()).device)
        for key, (src_type, dst_type, xs, xd, src_col, dst_col, masks) in links.items():
            # xs, xd: the step's distinct sources and targets; link i joins xs[src_col[i]] and xd[dst_col[i]]
            logits = self.decoders[key](self.towers[src_type](xs), self.towers[dst_type](xd))
            forward = logits[src_col].masked_fill(masks[0], float("-inf"))  # each link's source ranks the targets
            backward = logits.T[dst_col].masked_fill(masks[1], float("-inf"))  # its target ranks the sources
            loss = loss + (F.cross_entropy(forward, dst_col) + F.cross_entropy(backward, src_col)) / 2
        for node_type, (x, y) in labels.items():
            loss = loss + label_weight * F.cross_entropy(self.label_head(self.towers[node_type](x)), y)
        return loss


class SIGNLearner(Learner):
    """Link scores and labels from precomputed propagation features, trained over mini-batches.

    The mini-batch counterpart of :class:`~mmgraph.models.learners.full.RelationLearner`, with
    the same settings, decoders, loss (in-batch softmax cross-entropy in both directions, other
    true links masked) and early stopping. ``num_layers`` is the depth of each tower; ``conv``,
    ``heads``, ``supervision_fraction``, ``batch_size`` and ``hard_negatives`` are unused (no
    feature reads a node's own links, so nothing needs hiding, and ``maskable_edge_types`` is
    not read either). Under ``torchrun`` the epochs' batches are shared among the ranks (see
    :mod:`mmgraph.training.distributed`).

    Args:
        config: a :class:`RelationLearnerConfig` or a dict of its fields.
        minibatch_size: links (or labelled nodes) per step, shared among the processes under
            ``torchrun``: the steps of an epoch are the same for any number of processes.
        **overrides: fields of the config to override.

    Example:
        >>> SIGNLearner(epochs=5, minibatch_size=256)
        SIGNLearner(hidden_dim=256, num_layers=2, decoder='dot', epochs=5, minibatch_size=256, seed=0)
    """

    training = "minibatch"

    def __init__(self, config: RelationLearnerConfig | dict | None = None, *, minibatch_size: int = 1024,
                 **overrides) -> None:
        super().__init__(config, **overrides)
        self.minibatch_size = check_positive_int(minibatch_size, "minibatch_size", "SIGNLearner")

    @classmethod
    def from_settings(cls, settings) -> SIGNLearner:
        """An unfitted learner of the GNN's settings (the config's fields and ``minibatch_size``)."""
        return cls(learner_config(settings), minibatch_size=settings.minibatch_size)

    def __repr__(self) -> str:
        c = self.config
        return (
            f"SIGNLearner(hidden_dim={c.hidden_dim}, num_layers={c.num_layers}, decoder={c.decoder!r}, "
            f"epochs={c.epochs}, minibatch_size={self.minibatch_size}, seed={c.seed})"
        )

    # ------------------------------------------------------------------ building
    def _build(self, in_dims: dict[NodeType, int], target_edge_types: Sequence[EdgeType], num_classes: int) -> None:
        c = self.config
        torch.manual_seed(c.seed)
        towers = nn.ModuleDict(
            {t: Tower(d, c.hidden_dim, num_layers=c.num_layers, dropout=c.dropout) for t, d in in_dims.items()}
        )
        self.network_ = _Network(towers, *self._build_head(target_edge_types, num_classes))
        self.target_edge_types_ = list(target_edge_types)
        self.num_classes_ = num_classes
        self.in_dims_ = dict(in_dims)

    def features(self, data: HeteroData) -> PropagatedFeatures:
        """The propagated features of ``data``, computed once per graph."""
        cached = getattr(self, "_features", None)
        if cached is None or cached[0] is not data:
            self._features = (data, PropagatedFeatures(data, similarity_relation=self.similarity_relation_))
        return self._features[1]

    # ------------------------------------------------------------------ training
    def fit(
        self, problem: TrainingGraph, *, validate: Callable[[], float] | None = None, progress: bool = True,
        checkpoint: Checkpoint | None = None,
    ) -> SIGNLearner:
        """Trains on ``problem`` (see :meth:`Learner.fit`). ``validate`` runs on rank 0 and its score is
        broadcast; checkpoints are written by rank 0.

        Returns:
            ``self``.
        """
        c, data = self.config, problem.graph
        ctx = distributed.context()
        self.similarity_relation_ = problem.similarity_relation
        features = self.features(data)
        self._build({t: int(b.shape[1]) for t, b in features.blocks.items()}, problem.target_edge_types,
                    problem.num_classes)
        for t, tower in self.network_.towers.items():
            rows = None if problem.train_rows is None else problem.train_rows.get(t)
            tower.fit_statistics(features.blocks[t] if rows is None else features.blocks[t][rows])
        network = self.network_.to(ctx.device)
        optimizer = torch.optim.Adam(network.parameters(), lr=c.lr, weight_decay=c.weight_decay)
        generator = torch.Generator().manual_seed(c.seed)  # the same on every rank: all agree on the batches
        positives = problem.positives()
        known = problem.known_links()
        labelled = problem.trainable_labels() if problem.num_classes else {}
        counts = [_num_batches(p.shape[1], self.minibatch_size) for p in positives.values()]
        counts += [_num_batches(len(n), self.minibatch_size) for n in labelled.values()]
        used = {t for edge_type in positives for t in (edge_type[0], edge_type[2])} | set(labelled)
        # DDP must be told when a step leaves a part unused: a tower no batch reaches, a shorter batch list
        model = ctx.wrap(network, find_unused_parameters=used != set(data.node_types) or len(set(counts)) > 1)

        def train_epoch(epoch: int) -> float:
            size = self.minibatch_size
            link_batches = {t: _global_batches(p.shape[1], size, generator) for t, p in positives.items()}
            label_batches = {t: _global_batches(len(n), size, generator) for t, n in labelled.items()}
            steps = max((len(b) for b in [*link_batches.values(), *label_batches.values()]), default=0)
            total = 0.0
            for step in range(steps):
                links = {}
                for edge_type, batches in link_batches.items():
                    if step < len(batches):
                        chosen = positives[edge_type][:, ctx.share(batches[step])]
                        links[_key(edge_type)] = self._link_inputs(features, edge_type, chosen, known[edge_type], ctx)
                labels = {}
                for node_type, batches in label_batches.items():
                    if step < len(batches):
                        nodes = labelled[node_type][ctx.share(batches[step])]
                        labels[node_type] = (features.blocks[node_type][nodes].to(ctx.device),
                                             data[node_type].y[nodes].to(ctx.device))
                loss = model(links, labels, c.label_weight)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss.detach())
            return total / max(steps, 1)

        def validation_score() -> float:  # rank 0 validates, every rank gets its score
            return ctx.broadcast(float(validate()) if ctx.is_main else 0.0)

        trained = train_epochs(
            network, optimizer, generator, epochs=c.epochs, eval_every=c.eval_every, patience=c.patience,
            train_epoch=train_epoch, validate=None if validate is None else validation_score,
            checkpoint=checkpoint, progress=progress and ctx.is_main, desc="train sign", writes=ctx.is_main,
        )
        self.network_ = network.cpu().eval()
        self.history_, self.best_val_ = trained.history, trained.best_score
        return self

    @staticmethod
    def _link_inputs(
        features: PropagatedFeatures, edge_type: EdgeType, chosen: Tensor, known: tuple[KnownPairs, KnownPairs],
        ctx: distributed.Context,
    ) -> tuple:
        """One step's link inputs, as :meth:`RelationLearner._link_loss` ranks them: in each direction a
        link's query ranks the step's distinct nodes of the other side, other true links masked."""
        src_type, _, dst_type = edge_type
        sources, targets = chosen
        src_pool, src_col = torch.unique(sources, return_inverse=True)
        dst_pool, dst_col = torch.unique(targets, return_inverse=True)
        rows = torch.arange(len(sources))
        forward = known[0].mask(sources, dst_pool)
        forward[rows, dst_col] = False
        backward = known[1].mask(targets, src_pool)
        backward[rows, src_col] = False
        device = ctx.device
        return (
            src_type, dst_type, features.blocks[src_type][src_pool].to(device),
            features.blocks[dst_type][dst_pool].to(device), src_col.to(device), dst_col.to(device),
            (forward.to(device), backward.to(device)),
        )

    # ------------------------------------------------------------------ inference
    @torch.inference_mode()
    def layer_states(self, data: HeteroData) -> list[dict[NodeType, Tensor]]:
        """``[representations of every node of data]`` (one state: there is no message passing at inference)."""
        self._check_fitted()
        self.network_.eval()
        features = self.features(data)
        return [{t: self._tower(t, b) for t, b in features.blocks.items()}]

    @torch.inference_mode()
    def extend(
        self, states: list[dict[NodeType, Tensor]], data: HeteroData, relation: EdgeType, x: Tensor,
        neighbours: Tensor, weights: Tensor,
    ) -> Tensor:
        """Representations of new samples of ``relation[0]`` attached to ``neighbours`` of ``data`` with
        ``weights``: the towers over the features :meth:`PropagatedFeatures.for_new` reads from the
        neighbours' rows (``states`` are not needed: no message passing at inference).

        Shapes:
            x: ``(b, in_dim)``; neighbours, weights: ``(b, k)``; return: ``(b, hidden_dim)``.
        """
        self._check_fitted()
        self.network_.eval()
        node_type = relation[0]
        if "edge_weight" not in data[relation]:
            weights = torch.ones_like(weights)
        return self._tower(node_type, self.features(data).for_new(node_type, x, neighbours, weights))

    def extend_items(
        self, states: list[dict[NodeType, Tensor]], data: HeteroData, similarity_relation: str,
        new: Mapping[NodeType, tuple[Tensor, Tensor, Tensor]], partners: Mapping[EdgeType, Tensor],
    ) -> dict[NodeType, Tensor]:
        """Not available: the towers were trained on vectors that never read a node's own links (a
        training node's ``via_<relation>`` blocks leave its own partners out, so that it looks like
        a cold node); no block of theirs has learned to carry an item partner's message."""
        raise NotApplicableError(
            "The mini-batch learner (training='minibatch') does not answer item queries: its towers never read a "
            "node's own links, so an item's samples cannot exchange messages through them. Fit the 'gnn' model "
            "with training='full' (what training='auto' picks up to 200,000 nodes, outside torchrun)."
        )

    def _tower(self, node_type: NodeType, vectors: Tensor) -> Tensor:
        tower = self.network_.towers[node_type]
        device = tower.mean.device  # the training device while validating inside fit, else the CPU
        rows = range(0, len(vectors), INFERENCE_ROWS)
        parts = [tower(vectors[i : i + INFERENCE_ROWS].to(device)).cpu() for i in rows]
        return torch.cat(parts) if parts else torch.zeros(0, self.config.hidden_dim)

    # ------------------------------------------------------------------ persistence
    def _state_record(self) -> dict:
        return {"minibatch_size": self.minibatch_size, "similarity_relation": self.similarity_relation_}

    @classmethod
    def from_state(cls, tensors: dict[str, Tensor], meta: dict) -> SIGNLearner:
        """Rebuilds a learner from :meth:`state`; the features are computed again from the graph it reads."""
        learner = cls(meta["config"], minibatch_size=meta["minibatch_size"])
        learner._build(meta["in_dims"], [tuple(t) for t in meta["target_edge_types"]], meta["num_classes"])
        learner.similarity_relation_ = meta["similarity_relation"]
        learner.network_.load_state_dict(tensors)
        learner.network_.eval()
        return learner


def _global_batches(n: int, size: int, generator: torch.Generator) -> list[Tensor]:
    """A seeded shuffle of ``range(n)`` cut into batches of at least ``size`` (the rest goes to the last
    one, so no rank ever gets an empty share); at least one batch when ``n > 0``."""
    if n == 0:
        return []
    order = torch.randperm(n, generator=generator)
    return list(torch.tensor_split(order, _num_batches(n, size)))


def _num_batches(n: int, size: int) -> int:
    return max(1, n // size)
