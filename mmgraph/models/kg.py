"""Multi-relational learners for knowledge graphs: R-GCN and CompGCN encoders, DistMult and RotatE decoders.

A knowledge graph is one set of entities joined by edges of many relation types, and completion
asks for the missing end of a triple ``(head, relation, ?)`` or ``(?, relation, tail)``. The
:class:`KGModel` here reads each entity's text features, a learned embedding, or both; optionally
passes messages over the training triples with a relation-aware convolution; and scores every
entity as the answer of a query with a decoder. It trains with 1-N scoring: for a batch of queries
every entity is scored and the true answers are the positives.

Why :data:`KG_CONVOLUTIONS` sits beside :data:`mmgraph.models.gnn.CONVOLUTIONS` and not in it: the
convolutions there build a ``HeteroConv`` over node types, one PyG layer per edge type of a
``HeteroData`` (the modalities of a multimodal graph); these take one node set with a relation id on
every edge (``edge_index``, ``edge_type``), and CompGCN also updates the relation representations,
which the decoders then read. The same holds for :data:`KG_DECODERS` beside
:data:`mmgraph.models.decoders.DECODERS`: those score one edge type with one set of weights, these
take a representation of each query's relation.

Inverse relations: relation ``r`` has the inverse ``r + num_relations``. The message-passing graph
holds every training triple ``(h, r, t)`` as the edge ``h -> t`` of type ``r`` and ``t -> h`` of type
``r + num_relations``; a head query ``(?, r, t)`` is the tail query ``(t, r + num_relations, ?)``.

Shapes (``N`` entities, ``R`` relations, ``E`` training triples, ``d`` = ``KGConfig.dim``):
    features: ``(N, feature_dim)``; entity representations ``(N, d)``; relation representations
    ``(2R, d)``; edge_index ``(2, 2E)``, edge_type ``(2E,)``; scores ``(b, N)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import RGCNConv

from mmgraph.checks import check_choice, check_positive_int
from mmgraph.data.triples import TripleView, check_triples
from mmgraph.errors import ConfigError, DataError, NotApplicableError, NotFittedError
from mmgraph.models.base import RelationModel, Validate
from mmgraph.models.standardize import Standardize
from mmgraph.registry import Registry
from mmgraph.training.budget import CPUBudget
from mmgraph.training.checkpoint import Checkpoint
from mmgraph.training.loop import Trained, train_epochs

INPUTS: tuple[str, ...] = ("text", "embedding", "both")
"""What an entity starts from: its text features projected, a learned embedding, or their sum."""
LOSSES: tuple[str, ...] = ("bce", "softmax")
"""1-N losses: binary cross-entropy per entity (ConvE's), or cross-entropy of a softmax over entities."""
COMPOSITIONS: tuple[str, ...] = ("sub", "mult")
"""CompGCN's composition of an entity ``e`` and a relation ``r``: ``e - r`` (TransE's) or ``e * r`` (DistMult's)."""


@dataclass
class KGConfig:
    """The settings of a :class:`KGModel`.

    Defaults are CompGCN's published ones for WN18RR where they apply (Vashishth et al. 2020:
    200 dims, 1 layer, Adam 0.001, batch 128, label smoothing 0.1), with PyKEEN's multiplication
    composition and DistMult decoder.
    """

    inputs: str = "both"  # see INPUTS
    conv: str = "compgcn"  # a KG_CONVOLUTIONS name; "none" scores the inputs directly
    decoder: str = "distmult"  # a KG_DECODERS name
    dim: int = 200  # every representation; RotatE reads it as dim / 2 complex numbers
    num_layers: int = 1
    num_bases: int | None = None  # rgcn: basis decomposition of the relation weights (Schlichtkrull: 2)
    # rgcn: block-diagonal relation weights; without pyg_lib, PyG's RGCNConv loops over relations and
    # blocks cost least there (WN18RR, 22 relations, 200 dims, 1 thread: 2.4 CPU-s per forward and
    # backward with 10 blocks, 2.8 with 4, 5.0 with 4 bases)
    num_blocks: int | None = 10
    composition: str = "mult"  # compgcn, see COMPOSITIONS
    dropout: float = 0.1  # on the entity representations after every layer
    # see LOSSES; chosen on validation triples (benchmarks/kg_loss_choice.py, experiments.md 2026-12-03): on the
    # 5,000 busiest WN18RR entities, these defaults, MiniLM + embedding inputs, 2 CPU-min each, best dev MRR
    # compgcn+distmult softmax 0.576 / bce 0.009, none+distmult softmax 0.605 / bce 0.189
    loss: str = "softmax"
    label_smoothing: float = 0.1
    lr: float = 0.001
    batch_size: int = 128  # queries per step; a step holds batch_size x N scores
    epochs: int = 500
    eval_every: int = 1
    patience: int = 5
    cpu_minutes: float | None = None  # CPU time of training and validation (every thread together)
    seed: int = 0

    def check(self) -> KGConfig:
        """Returns ``self`` if every setting is valid; raises a ConfigError naming the bad one if not."""
        owner = "KGConfig"
        check_choice(self.inputs, name="inputs", owner=owner, choices=INPUTS)
        KG_CONVOLUTIONS.get(self.conv)
        KG_DECODERS.get(self.decoder)
        check_choice(self.loss, name="loss", owner=owner, choices=LOSSES)
        check_choice(self.composition, name="composition", owner=owner, choices=COMPOSITIONS)
        for name in ("dim", "num_layers", "batch_size", "epochs", "eval_every", "patience"):
            check_positive_int(getattr(self, name), name, owner)
        if self.decoder == "rotate" and self.dim % 2:
            raise ConfigError(
                f"The 'dim' parameter of KGConfig must be even for the RotatE decoder (dim / 2 complex numbers). "
                f"Got {self.dim} instead."
            )
        if self.num_bases is not None and self.num_blocks is not None:
            raise ConfigError(
                f"KGConfig got num_bases={self.num_bases} and num_blocks={self.num_blocks}; R-GCN decomposes its "
                "relation weights one way: set the other to None."
            )
        if self.conv == "rgcn" and self.num_blocks is not None and self.dim % self.num_blocks:
            raise ConfigError(
                f"The 'num_blocks' parameter of KGConfig must divide dim={self.dim}. Got {self.num_blocks} instead."
            )
        if not 0.0 <= self.label_smoothing < 1.0 or not 0.0 <= self.dropout < 1.0:
            raise ConfigError(
                f"KGConfig's label_smoothing and dropout must be in [0, 1). Got {self.label_smoothing} and "
                f"{self.dropout} instead."
            )
        if self.cpu_minutes is not None and not self.cpu_minutes > 0:
            raise ConfigError(
                f"The 'cpu_minutes' parameter of KGConfig must be positive or None. Got {self.cpu_minutes} instead."
            )
        return self


# ---------------------------------------------------------------------------------------- convolutions


class NoConv(nn.Module):
    """No message passing: the decoder scores the input representations (DistMult, RotatE alone)."""

    def forward(self, x: Tensor, relations: Tensor, edge_index: Tensor, edge_type: Tensor) -> tuple[Tensor, Tensor]:
        return x, relations


class RGCNLayer(nn.Module):
    """R-GCN (Schlichtkrull et al. 2018) through PyG's ``RGCNConv``: per relation the mean of the
    neighbours' messages, each relation (and each inverse) with its own weights, plus a self-loop
    weight; then ``tanh`` and dropout. Relation representations pass through unchanged.

    Shapes:
        x: ``(N, d)``, relations: ``(2R, d)``, edge_index: ``(2, 2E)``, edge_type: ``(2E,)``.
    """

    def __init__(self, dim: int, num_relations: int, config: KGConfig) -> None:
        super().__init__()
        self.conv = RGCNConv(dim, dim, num_relations, num_bases=config.num_bases, num_blocks=config.num_blocks)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor, relations: Tensor, edge_index: Tensor, edge_type: Tensor) -> tuple[Tensor, Tensor]:
        return self.dropout(torch.tanh(self.conv(x, edge_index, edge_type))), relations


class CompGCNLayer(nn.Module):
    """CompGCN (Vashishth et al. 2020), after PyKEEN's ``CompGCNLayer``.

    A node receives ``phi(x_u, z_r) W_dir`` from every edge ``u -r-> v``, where ``phi`` composes the
    neighbour with the edge's relation (``sub``: ``x - z``, ``mult``: ``x * z``) and ``W_dir`` is one of
    three weights: original edges, inverse edges, and the self-loop (composed with a learned
    self-loop relation). Each direction's messages are summed with the symmetric norm
    ``1 / sqrt(out-degree(u) in-degree(v))`` of that direction's edges; the node's new representation
    is the mean of the three parts, then bias, batch norm, ``tanh`` and dropout. Relations are updated
    by a linear map, ``z' = z W_rel``.

    Shapes:
        x: ``(N, d)``, relations: ``(2R, d)`` (original relations first, then their inverses),
        edge_index: ``(2, 2E)``, edge_type: ``(2E,)``.
    """

    def __init__(self, dim: int, num_relations: int, config: KGConfig) -> None:
        super().__init__()
        self.num_original = num_relations // 2
        self.composition = config.composition
        self.w_original = nn.Parameter(torch.empty(dim, dim))
        self.w_inverse = nn.Parameter(torch.empty(dim, dim))
        self.w_loop = nn.Parameter(torch.empty(dim, dim))
        self.loop_relation = nn.Parameter(torch.empty(1, dim))
        for weight in (self.w_original, self.w_inverse, self.w_loop, self.loop_relation):
            nn.init.xavier_uniform_(weight)
        self.w_relation = nn.Linear(dim, dim, bias=False)
        self.bias = nn.Parameter(torch.zeros(dim))
        self.norm = nn.BatchNorm1d(dim)
        self.dropout = nn.Dropout(config.dropout)

    def __repr__(self) -> str:
        return f"CompGCNLayer(dim={self.w_loop.shape[0]}, composition={self.composition!r})"

    def compose(self, x: Tensor, relation: Tensor) -> Tensor:
        return x - relation if self.composition == "sub" else x * relation

    def _messages(self, x: Tensor, relations: Tensor, edge_index: Tensor, edge_type: Tensor, weight: Tensor) -> Tensor:
        source, target = edge_index
        num_nodes = x.shape[0]
        out_degree = torch.bincount(source, minlength=num_nodes).clamp(min=1).float()
        in_degree = torch.bincount(target, minlength=num_nodes).clamp(min=1).float()
        norm = (out_degree[source] * in_degree[target]).rsqrt()
        messages = (self.compose(x[source], relations[edge_type]) @ weight) * norm[:, None]
        return x.new_zeros(num_nodes, weight.shape[1]).index_add_(0, target, messages)

    def forward(self, x: Tensor, relations: Tensor, edge_index: Tensor, edge_type: Tensor) -> tuple[Tensor, Tensor]:
        original = edge_type < self.num_original
        inverse = ~original
        out = (
            self.compose(x, self.loop_relation) @ self.w_loop
            + self._messages(x, relations, edge_index[:, original], edge_type[original], self.w_original)
            + self._messages(x, relations, edge_index[:, inverse], edge_type[inverse], self.w_inverse)
        ) / 3
        out = self.dropout(torch.tanh(self.norm(out + self.bias)))
        return out, self.w_relation(relations)


KG_CONVOLUTIONS: Registry[Callable[[int, int, KGConfig], nn.Module]] = Registry("knowledge-graph convolution")
"""Name -> layer class built as ``Layer(dim, 2 * num_relations, config)``; every layer maps
``(x, relations, edge_index, edge_type)`` to new ``(x, relations)``."""
KG_CONVOLUTIONS.register("none", lambda dim, num_relations, config: NoConv())
KG_CONVOLUTIONS.register("rgcn", RGCNLayer)
KG_CONVOLUTIONS.register("compgcn", CompGCNLayer)


# -------------------------------------------------------------------------------------------- decoders


class DistMultScore(nn.Module):
    """DistMult (Yang et al. 2015): ``<e_query, z_relation, e_candidate>``.

    Shapes:
        query: ``(b, d)``, relation: ``(b, d)``, entities: ``(N, d)``; returns ``(b, N)``.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()

    def forward(self, query: Tensor, relation: Tensor, entities: Tensor) -> Tensor:
        return (query * relation) @ entities.T


class RotatEScore(nn.Module):
    """RotatE (Sun et al. 2019): ``margin - ||e_query o u_relation - e_candidate||``.

    Representations are ``d / 2`` complex numbers (real parts, then imaginary parts); the relation's
    ``u`` is its representation with each complex entry scaled to modulus 1 (a rotation, PyKEEN's
    ``complex_normalize``). The distance is the Euclidean norm over the complex vector, as PyKEEN's
    RotatE computes it (the paper sums the entries' moduli); it expands to
    ``sqrt(|a|^2 + |t|^2 - 2 a.t)``, so scoring every entity costs one matrix product and no
    ``(b, N, d)`` tensor. The margin (the paper's gamma, 6 on WN18RR) is learned.

    Shapes:
        query: ``(b, d)``, relation: ``(b, d)``, entities: ``(N, d)``; returns ``(b, N)``.
    """

    def __init__(self, dim: int, margin: float = 6.0) -> None:
        super().__init__()
        self.margin = nn.Parameter(torch.tensor(float(margin)))

    def forward(self, query: Tensor, relation: Tensor, entities: Tensor) -> Tensor:
        half = query.shape[1] // 2
        q_re, q_im = query[:, :half], query[:, half:]
        modulus = torch.sqrt(relation[:, :half] ** 2 + relation[:, half:] ** 2).clamp(min=1e-9)
        u_re, u_im = relation[:, :half] / modulus, relation[:, half:] / modulus
        rotated = torch.cat([q_re * u_re - q_im * u_im, q_re * u_im + q_im * u_re], dim=1)
        squared = (rotated**2).sum(1, keepdim=True) + (entities**2).sum(1)[None, :] - 2 * rotated @ entities.T
        return self.margin - squared.clamp(min=1e-9).sqrt()


KG_DECODERS: Registry[type[nn.Module]] = Registry("knowledge-graph decoder")
"""Name -> decoder class ``Decoder(dim)`` scoring ``(query, relation, entities) -> (b, N)``."""
KG_DECODERS.register("distmult", DistMultScore)
KG_DECODERS.register("rotate", RotatEScore)


# ----------------------------------------------------------------------------------------------- model


class KGNet(nn.Module):
    """Inputs, message-passing layers and decoder of a :class:`KGModel` (the learned operators).

    Args:
        num_entities: ``N``.
        num_relations: ``R``, without inverses.
        config: the settings.
        features: the entities' text features, ``(N, feature_dim)``, for inputs ``"text"``/``"both"``.
        edge_index: the message-passing graph with inverse edges, ``(2, 2E)``.
        edge_type: the relation of each edge (inverses ``r + R``), ``(2E,)``.
    """

    def __init__(
        self, num_entities: int, num_relations: int, config: KGConfig, *, features: Tensor | None,
        edge_index: Tensor, edge_type: Tensor,
    ) -> None:
        super().__init__()
        dim = config.dim
        self.register_buffer("edge_index", edge_index)
        self.register_buffer("edge_type", edge_type)
        self.features: Tensor | None
        if config.inputs in ("text", "both"):
            assert features is not None  # KGModel.fit checks it
            self.register_buffer("features", features.float())
            self.standardize = Standardize(features.shape[1])
            self.project = nn.Linear(features.shape[1], dim)
        else:
            self.features = None
        self.embedding = None
        if config.inputs in ("embedding", "both"):
            self.embedding = nn.Parameter(torch.empty(num_entities, dim))
            nn.init.xavier_normal_(self.embedding)
        self.relations = nn.Parameter(torch.empty(2 * num_relations, dim))
        nn.init.xavier_normal_(self.relations)
        build = KG_CONVOLUTIONS.get(config.conv)
        self.layers = nn.ModuleList(build(dim, 2 * num_relations, config) for _ in range(config.num_layers))
        self.decoder = KG_DECODERS.get(config.decoder)(dim)
        self.input_dropout = nn.Dropout(config.dropout)

    def encode(self) -> tuple[Tensor, Tensor]:
        """Entity and relation representations after message passing, ``(N, d)`` and ``(2R, d)``."""
        parts = []
        if self.features is not None:
            parts.append(self.project(self.standardize(self.features)))
        if self.embedding is not None:
            parts.append(self.embedding)
        x, relations = self.input_dropout(sum(parts)), self.relations  # type: ignore[arg-type]
        for layer in self.layers:
            x, relations = layer(x, relations, self.edge_index, self.edge_type)
        return x, relations

    def score(self, x: Tensor, relations: Tensor, entity: Tensor, relation: Tensor) -> Tensor:
        """Every entity as the tail of ``(entity, relation, ?)``, ``(b, N)``; ``relation`` may be an inverse."""
        return self.decoder(x[entity], relations[relation], x)


def training_graph(train: Tensor, num_relations: int) -> tuple[Tensor, Tensor]:
    """The message-passing graph of the training triples: ``h -> t`` of type ``r``, ``t -> h`` of type ``r + R``.

    Shapes:
        train: ``(E, 3)``; returns edge_index ``(2, 2E)`` and edge_type ``(2E,)``.
    """
    head, relation, tail = train.unbind(1)
    edge_index = torch.stack([torch.cat([head, tail]), torch.cat([tail, head])])
    return edge_index, torch.cat([relation, relation + num_relations])


class Queries:
    """The 1-N training queries of some triples: each ``(entity, relation)`` with all its true answers,
    tail queries ``(h, r)`` and head queries as ``(t, r + R)``.

    Shapes:
        triples: ``(E, 3)``; ``entity``, ``relation``: ``(q,)``; :meth:`targets` ``(b, N)``.
    """

    def __init__(self, triples: Tensor, num_entities: int, num_relations: int) -> None:
        head, relation, tail = triples.unbind(1)
        keys = torch.cat([head * 2 * num_relations + relation, tail * 2 * num_relations + relation + num_relations])
        answers = torch.cat([tail, head])
        unique, inverse = torch.unique(keys, return_inverse=True)
        order = torch.argsort(inverse, stable=True)
        self.answers = answers[order]  # grouped by query
        self.counts = torch.bincount(inverse, minlength=len(unique))
        self.starts = torch.cumsum(self.counts, 0) - self.counts
        self.entity, self.relation = unique // (2 * num_relations), unique % (2 * num_relations)
        self.num_entities = num_entities

    def __len__(self) -> int:
        return len(self.entity)

    def targets(self, batch: Tensor) -> Tensor:
        """``1`` at every true answer of each query of ``batch``, ``(b, N)``."""
        counts = self.counts[batch]
        rows = torch.arange(len(batch)).repeat_interleave(counts)
        offsets = torch.arange(int(counts.sum())) - (torch.cumsum(counts, 0) - counts).repeat_interleave(counts)
        targets = torch.zeros(len(batch), self.num_entities)
        targets[rows, self.answers[self.starts[batch].repeat_interleave(counts) + offsets]] = 1.0
        return targets


class KGModel:
    """A knowledge-graph completion learner: entity inputs, a relation-aware convolution, a decoder.

    ``fit`` trains on the training triples alone, 1-N (every entity scored for each query of a
    batch, heads through inverse relations), with Adam, early stopping on a validation callback
    (:func:`mmgraph.training.loop.train_epochs`) and an optional CPU-time budget. Then
    :meth:`score_tails` and :meth:`score_heads` are the score functions of
    :func:`mmgraph.evaluation.evaluate_triples`.

    Args:
        config: the settings (:class:`KGConfig`); keywords may be given instead.

    Example:
        >>> KGModel(conv="rgcn", decoder="rotate")
        KGModel(inputs='both', conv='rgcn', decoder='rotate', dim=200, num_layers=1, loss='softmax')
    """

    def __init__(self, config: KGConfig | None = None, **settings: object) -> None:
        if config is not None and settings:
            raise ConfigError(f"KGModel got a config and settings {sorted(settings)}; give one or the other.")
        if config is None:
            valid = set(KGConfig.__dataclass_fields__)
            unknown = sorted(set(settings) - valid)
            if unknown:
                raise ConfigError(f"KGModel got unknown setting(s) {unknown}; valid ones are {sorted(valid)}.")
            config = KGConfig(**settings)  # type: ignore[arg-type]
        self.config = config.check()
        self.net_: KGNet | None = None
        self._encoded: tuple[Tensor, Tensor] | None = None

    def __repr__(self) -> str:
        c = self.config
        return (
            f"KGModel(inputs={c.inputs!r}, conv={c.conv!r}, decoder={c.decoder!r}, dim={c.dim}, "
            f"num_layers={c.num_layers}, loss={c.loss!r})"
        )

    def fit(
        self,
        train: Tensor,
        *,
        num_entities: int,
        num_relations: int,
        features: Tensor | None = None,
        validate: Callable[[], float | None] | None = None,
        checkpoint: Checkpoint | None = None,
        progress: bool = True,
    ) -> KGModel:
        """Trains on ``train``, the graph and the queries alike; returns ``self``.

        Args:
            train: the training triples, ``[head, relation, tail]`` rows.
            num_entities: ``N``; every entity is a candidate answer.
            num_relations: ``R``, without inverses.
            features: the entities' text features (inputs ``"text"`` and ``"both"``), standardised
                with the statistics of the entities of a training triple.
            validate: the validation score of the model as it stands (higher is better; e.g. the
                filtered MRR on the validation triples through :meth:`score_tails` and
                :meth:`score_heads`); ``None`` trains every epoch.
            checkpoint: where to save and resume training.
            progress: show progress bars.

        Shapes:
            train: ``(E, 3)``, features: ``(N, feature_dim)``.
        """
        c = self.config
        train = check_triples(train, "train", "KGModel.fit", num_entities, num_relations)
        if c.inputs in ("text", "both"):
            if not isinstance(features, Tensor) or features.dim() != 2 or features.shape[0] != num_entities:
                found = tuple(features.shape) if isinstance(features, Tensor) else type(features).__name__
                raise DataError(
                    f"KGModel with inputs={c.inputs!r} needs the entities' text features, a tensor of shape "
                    f"({num_entities}, feature_dim). Got {found} instead. Pass features=, or inputs='embedding'."
                )
        torch.manual_seed(c.seed)
        edge_index, edge_type = training_graph(train, num_relations)
        self.net_ = net = KGNet(num_entities, num_relations, c, features=features if c.inputs != "embedding" else None,
                                edge_index=edge_index, edge_type=edge_type)
        if net.features is not None:
            seen = torch.zeros(num_entities, dtype=torch.bool)
            seen[train[:, 0]] = seen[train[:, 2]] = True
            net.standardize.fit(net.features[seen])
        queries = Queries(train, num_entities, num_relations)
        optimizer = torch.optim.Adam(net.parameters(), lr=c.lr)
        generator = torch.Generator().manual_seed(c.seed)
        self.budget_ = budget = CPUBudget(c.cpu_minutes * 60.0 if c.cpu_minutes else math.inf)

        def train_epoch(epoch: int) -> dict[str, float]:
            order = torch.randperm(len(queries), generator=generator)
            total, steps = 0.0, 0
            for batch in order.split(c.batch_size):
                if budget.spent():
                    break
                total += self._step(queries, batch, optimizer)
                steps += 1
            return {"loss": total / max(steps, 1), "steps": steps}

        def validate_fresh() -> float | None:
            self._encoded = None  # the weights changed since the last scores
            return validate() if validate is not None else None

        self.trained_: Trained = train_epochs(
            net, optimizer, generator, epochs=c.epochs, eval_every=c.eval_every, patience=c.patience,
            train_epoch=train_epoch, validate=validate_fresh if validate is not None else None,
            checkpoint=checkpoint, progress=progress, desc=f"KGModel {c.conv}+{c.decoder}", budget=budget,
        )
        self._encoded = None
        return self

    @property
    def steps_(self) -> int:
        """The optimizer steps taken, over every epoch of the training history (a resumed run's too)."""
        return int(sum(record["steps"] for record in self.trained_.history))

    def _step(self, queries: Queries, batch: Tensor, optimizer: torch.optim.Optimizer) -> float:
        net, c = self.net_, self.config
        assert net is not None
        x, relations = net.encode()
        scores = net.score(x, relations, queries.entity[batch], queries.relation[batch])
        targets = queries.targets(batch)
        num_entities = targets.shape[1]
        if c.loss == "bce":  # ConvE's smoothing: every entity gets label_smoothing / N
            loss = F.binary_cross_entropy_with_logits(
                scores, (1.0 - c.label_smoothing) * targets + c.label_smoothing / num_entities
            )
        else:
            wanted = targets / targets.sum(1, keepdim=True)
            wanted = (1.0 - c.label_smoothing) * wanted + c.label_smoothing / num_entities
            loss = -(wanted * F.log_softmax(scores, dim=1)).sum(1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    def _representations(self) -> tuple[Tensor, Tensor]:
        if self.net_ is None:
            raise NotFittedError("This KGModel is not fitted yet. Call fit(train, ...) before scoring.")
        if self._encoded is None:
            self.net_.eval()
            with torch.no_grad():
                self._encoded = self.net_.encode()
        return self._encoded

    def score_tails(self, head: Tensor, relation: Tensor) -> Tensor:
        """Every entity as the tail of ``(head, relation, ?)``; higher is more likely.

        Shapes:
            head, relation: ``(b,)``; returns ``(b, N)``.
        """
        x, relations = self._representations()
        with torch.no_grad():
            return self.net_.score(x, relations, head, relation)  # type: ignore[union-attr]

    def score_heads(self, tail: Tensor, relation: Tensor) -> Tensor:
        """Every entity as the head of ``(?, relation, tail)``, through the inverse relation.

        Shapes:
            tail, relation: ``(b,)``; returns ``(b, N)``.
        """
        return self.score_tails(tail, relation + self._representations()[1].shape[0] // 2)

    def settings(self) -> dict[str, object]:
        """The configuration as JSON values (for a record)."""
        return asdict(self.config)


# ------------------------------------------------------------------------------ the models by name


class KGRelationModel(RelationModel):
    """A :class:`KGModel` as a registered model of ``kg`` tasks (``mmgraph run --task wn18rr``,
    ``mmgraph bench``): ``fit`` reads a :class:`~mmgraph.data.triples.TripleView`, validation
    scores the model through ``validate(scoring)`` (``scoring(None)`` is the fitted
    :class:`KGModel`, whose :meth:`~KGModel.score_tails` and :meth:`~KGModel.score_heads` rank every
    entity), and :meth:`scorer` returns the fitted :class:`KGModel`. One class per convolution
    (its ``conv``); the decoder and every other :class:`KGConfig` setting are options.
    """

    kinds = ("kg",)
    Config = KGConfig
    conv: str

    def __init__(self, **options: object) -> None:
        options.setdefault("conv", self.conv)
        super().__init__(**options)

    def _validate_settings(self) -> None:
        if self.settings.conv != self.conv:
            raise ConfigError(
                f"The {self.name!r} model has the {self.conv!r} convolution; got conv={self.settings.conv!r}. For "
                f"another convolution run the model 'kg-{self.settings.conv}' (models: "
                f"{[f'kg-{c}' for c in KG_CONVOLUTIONS.names()]})."
            )
        self.settings.check()

    def _fit(self, train: TripleView, *, validate: Validate | None, progress: bool,
             checkpoint: Checkpoint | None) -> None:
        self.model_ = model = KGModel(self.settings)

        def score() -> float:
            return validate(lambda new: model)["mrr"]  # type: ignore[misc]

        model.fit(train.train, num_entities=train.num_entities, num_relations=train.num_relations,
                  features=train.features if self.settings.inputs != "embedding" else None,
                  validate=score if validate is not None else None, checkpoint=checkpoint, progress=progress)
        self.chosen_ = {"best_epoch": model.trained_.best_epoch, "best_validation_mrr": model.trained_.best_score,
                        "epochs": len(model.trained_.history), "steps": model.steps_,
                        "cpu_seconds": model.budget_.used()}

    def scorer(self, new: object = None) -> KGModel:  # type: ignore[override]
        """The fitted :class:`KGModel` (``score_tails``, ``score_heads``); new entities are not taken yet."""
        self._check_fitted()
        if new:
            raise NotApplicableError(f"The {self.name!r} model scores the entities it was fitted with; new ones "
                                     "are not taken yet.")
        return self.model_

    def _state(self) -> tuple[dict[str, Tensor], dict[str, object]]:
        net = self.model_.net_
        assert net is not None
        entities = net.features if net.features is not None else net.embedding
        return dict(net.state_dict()), {"num_entities": int(entities.shape[0]),  # type: ignore[union-attr]
                                        "num_relations": int(net.relations.shape[0] // 2)}

    def _restore(self, tensors: dict[str, Tensor], state: dict[str, object], train: object) -> None:
        model = KGModel(self.settings)
        model.net_ = KGNet(int(state["num_entities"]), int(state["num_relations"]), self.settings,  # type: ignore
                           features=tensors.get("features"), edge_index=tensors["edge_index"],
                           edge_type=tensors["edge_type"])
        model.net_.load_state_dict(tensors)
        self.model_ = model


class KGCompGCN(KGRelationModel):
    """CompGCN over the training triples, then a knowledge-graph decoder (DistMult or RotatE)."""

    name = "kg-compgcn"
    conv = "compgcn"


class KGRGCN(KGRelationModel):
    """R-GCN over the training triples (PyG's RGCNConv), then a knowledge-graph decoder."""

    name = "kg-rgcn"
    conv = "rgcn"


class KGNoConv(KGRelationModel):
    """No message passing: the decoder (DistMult or RotatE) scores the entity inputs directly."""

    name = "kg-none"
    conv = "none"


KG_MODELS: tuple[type[KGRelationModel], ...] = (KGCompGCN, KGRGCN, KGNoConv)
"""The models of ``kg`` tasks, one per :data:`KG_CONVOLUTIONS` name (``kg-<conv>``); a test checks
that every convolution has its model."""


__all__ = [
    "COMPOSITIONS", "INPUTS", "KG_CONVOLUTIONS", "KG_DECODERS", "KG_MODELS", "LOSSES", "CompGCNLayer", "DistMultScore",
    "KGCompGCN", "KGConfig", "KGModel", "KGNet", "KGNoConv", "KGRGCN", "KGRelationModel", "NoConv", "RGCNLayer",
    "RotatEScore", "training_graph",
]
