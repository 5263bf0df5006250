"""Classical baselines, run on the very same split, features and evaluator as the GNN.

Link baselines rank cross-modal candidates; label baselines classify nodes. Each one follows
the pipeline's model interface (``fit(data)``, ``link_scores`` or ``predict_labels``,
``config()``), reads only training links, masked training labels and the features of all
nodes, and chooses its hyper-parameters (or its stopping epoch) on the validation split.

Link baselines:

- ``cosine``: cosine similarity of the raw features. Meaningful only where one encoder
  embeds both modalities into one space; it needs equal feature dimensions.
- ``siamese``: one MLP tower per modality into a shared space, symmetric InfoNCE with
  in-batch negatives and a learned temperature.
- ``fusion``: an MLP on the concatenated features of a pair, a binary classifier trained
  with sampled non-links.
- ``attention-fusion``: both features projected to tokens, a small self-attention and a
  HAN-style attention pooling over the two tokens, then an MLP classifier.
- ``transfer``: ridge maps from one feature space to the other (one per direction).
- ``knn-transfer``: a query takes the similarity-weighted target-space embedding of its
  nearest training samples of its own modality.

Label baselines (``logreg``, ``label-transfer``) train on the training labels of the node
type. A node type without training labels of its own (``digits-audio-label``: only images
are labelled) borrows them through the training links: a training node linked to labelled
nodes of another modality takes their majority label, and those nodes are its training set.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge
from torch import Tensor, nn
from tqdm.auto import tqdm

from mmgraph.evaluation.evaluator import evaluate_links, evaluate_node_labels
from mmgraph.typing import EdgeType, NodeType

if TYPE_CHECKING:
    from mmgraph.pipeline import TaskData

LINK_BASELINES: tuple[str, ...] = (
    "cosine", "siamese", "fusion", "attention-fusion", "transfer", "knn-transfer",
)
LABEL_BASELINES: tuple[str, ...] = ("logreg", "label-transfer")


class NotApplicableError(ValueError):
    """A model does not apply to a task: the wrong kind of task, or feature spaces it cannot compare.

    The benchmark records such a run as skipped, with the message as the reason.
    """


# ---------------------------------------------------------------------- settings
@dataclass
class CosineConfig:
    """Settings of :class:`CosineBaseline` (it learns nothing)."""

    seed: int = 0


@dataclass
class SiameseConfig:
    """Settings of :class:`SiameseBaseline`."""

    hidden_dim: int = 512
    out_dim: int = 256  # dimension of the shared space
    dropout: float = 0.1
    temperature: float = 0.07  # initial softmax temperature of the InfoNCE logits
    learn_temperature: bool = True
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 256  # links per step; the other links of the batch are the negatives
    epochs: int = 200
    eval_every: int = 5  # epochs between validation checks
    patience: int = 6  # validation checks without improvement before stopping
    seed: int = 0


@dataclass
class FusionConfig:
    """Settings of :class:`FusionBaseline`."""

    hidden_dim: int = 256
    dropout: float = 0.1
    # Validation links ranked at each early-stopping check (a fixed random subset when there are
    # more): pair scoring costs queries x candidates network calls, 7 minutes a run on the
    # digits task with all 3,500 validation links.
    val_links: int = 500
    # Sampled non-links per training link, half with a corrupted target, half with a corrupted
    # source; more negatives sharpen the ranking but slow each epoch.
    negatives: int = 4
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 512  # pairs per step
    epochs: int = 200
    eval_every: int = 5
    patience: int = 6
    seed: int = 0


@dataclass
class AttentionFusionConfig(FusionConfig):
    """Settings of :class:`AttentionFusionBaseline`."""

    # Width of the two modality tokens. Every pair pays a few token_dim^2 products, and
    # scoring a test pool is (queries x candidates) pairs: keep it small.
    token_dim: int = 64


@dataclass
class TransferConfig:
    """Settings of :class:`TransferBaseline`."""

    alphas: tuple[float, ...] = (0.1, 1.0, 10.0, 100.0, 1000.0)  # ridge penalties tried on validation
    default_alpha: float = 10.0  # used when the task has no validation links
    center: bool = True  # compare in the target space centred on its training mean
    seed: int = 0


@dataclass
class KNNTransferConfig:
    """Settings of :class:`KNNTransferBaseline`."""

    ks: tuple[int, ...] = (1, 3, 5, 10, 20, 50)  # neighbour counts tried on validation
    temperatures: tuple[float, ...] = (0.02, 0.05, 0.1, 1.0)  # softmax temperatures of the weights
    default_k: int = 10  # used when the task has no validation links
    default_temperature: float = 0.1
    center: bool = True  # cosine on features centred on their training mean
    seed: int = 0


@dataclass
class LogRegConfig:
    """Settings of :class:`LogRegBaseline`."""

    cs: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)  # inverse penalties tried on validation
    default_c: float = 1.0  # used when the task has no labelled validation nodes
    max_iter: int = 1000
    seed: int = 0


@dataclass
class LabelTransferConfig:
    """Settings of :class:`LabelTransferBaseline`."""

    ks: tuple[int, ...] = (1, 3, 5, 10, 20)
    temperatures: tuple[float, ...] = (0.05, 0.1, 1.0)
    default_k: int = 5
    default_temperature: float = 0.1
    center: bool = True
    seed: int = 0


def _check_positive(config: Any, model: str, names: tuple[str, ...]) -> None:
    for name in names:
        value = getattr(config, name)
        values = value if isinstance(value, tuple | list) else (value,)
        if not values or any(isinstance(v, bool) or not isinstance(v, int | float) or v <= 0 for v in values):
            what = "positive numbers, at least one" if isinstance(value, tuple | list) else "positive"
            raise ValueError(
                f"The {name!r} parameter of the {model!r} model must be {what}. Got {value!r} instead."
            )


# ---------------------------------------------------------------------- shared helpers
def _train_nodes(data: TaskData, node_type: NodeType) -> Tensor:
    """The training nodes of one modality (all nodes if none is marked training)."""
    nodes = torch.as_tensor(np.flatnonzero(data.node_split[node_type] == "train"))
    return nodes if nodes.numel() else torch.arange(len(data.node_split[node_type]))


def _standardize(x: Tensor, rows: Tensor) -> Tensor:
    """Zero mean, unit variance per feature, with statistics of ``rows`` only.

    Shapes:
        x: ``(num_nodes, dim)``, rows: ``(r,)``, returns ``(num_nodes, dim)``.
    """
    ref = x[rows]
    std = ref.std(0) if len(rows) > 1 else torch.ones(x.shape[1])
    return (x - ref.mean(0)) / torch.where(std > 1e-6, std, torch.ones_like(std))


def _unit(x: Tensor, rows: Tensor | None = None) -> Tensor:
    """Rows scaled to unit length, after centring on the mean of ``rows`` when given."""
    if rows is not None:
        x = x - x[rows].mean(0)
    return F.normalize(x.float(), dim=1)


def _has_val_links(data: TaskData) -> bool:
    return data.links("val").numel() > 0


def _has_val_labels(data: TaskData) -> bool:
    node_type = data.task.source
    y = data.labels.get(node_type)
    return y is not None and bool(np.any((data.node_split[node_type] == "val") & (y.numpy() >= 0)))


def _topk_similar(queries: Tensor, keys: Tensor, k: int, chunk: int = 4096) -> tuple[Tensor, Tensor]:
    """The ``k`` most cosine-similar keys of every query (rows already unit length).

    Shapes:
        queries: ``(n, d)``, keys: ``(m, d)``, returns values and indices ``(n, min(k, m))``.
    """
    k = min(k, keys.shape[0])
    values, indices = [], []
    for start in range(0, queries.shape[0], chunk):
        top = (queries[start : start + chunk] @ keys.T).topk(k, dim=1)
        values.append(top.values)
        indices.append(top.indices)
    return torch.cat(values), torch.cat(indices)


# ---------------------------------------------------------------------- the common base
class _Baseline:
    """Shared habits: settings in a config dataclass, unknown settings raise, a clear
    not-fitted error, a wrong kind of task raises :class:`NotApplicableError`."""

    name: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]]  # the task kinds the model does
    Config: ClassVar[type]

    def __init__(self, **options: Any) -> None:
        valid = {f.name for f in dataclasses.fields(self.Config)}
        unknown = sorted(set(options) - valid)
        if unknown:
            raise TypeError(
                f"The {self.name!r} model got unknown setting(s) {unknown}. Valid settings: {sorted(valid)}."
            )
        self.settings = self.Config(**options)
        self._validate()

    def _validate(self) -> None:
        pass

    def __repr__(self) -> str:
        settings = dataclasses.asdict(self.settings)
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in settings.items())})"

    def config(self) -> dict[str, Any]:
        """The settings, and once fitted the values chosen on validation under ``"chosen"``."""
        out = dataclasses.asdict(self.settings)
        if hasattr(self, "chosen_"):
            out["chosen"] = self.chosen_
        return out

    def _check_task(self, data: TaskData) -> None:
        kind = data.task.kind
        if kind not in self.kinds:
            if kind == "label":
                what, others = "ranks cross-modal links", "'logreg', 'label-transfer' or 'gnn'"
            else:
                what, others = "predicts node labels", f"one of {list(LINK_BASELINES)} or 'gnn'"
            raise NotApplicableError(
                f"The {self.name!r} model {what}; the task {data.task.name!r} is a {kind} task. "
                f"For {kind} tasks use {others}."
            )

    def _check_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet. Call 'fit' with a task's data first."
            )


# ---------------------------------------------------------------------- link baselines
class _LinkBaseline(_Baseline):
    """A link baseline: fits on the target links, scores (queries x candidates)."""

    kinds = ("link",)

    def fit(self, data: TaskData, *, progress: bool = True) -> _LinkBaseline:
        """Fits on the training links of the task's target type; returns ``self``."""
        self._check_task(data)
        edge_type = data.target_edge_type
        links = data.train_links.get(edge_type, torch.zeros((2, 0), dtype=torch.long))
        if links.shape[1] == 0:
            raise ValueError(
                f"The task {data.task.name!r} has no training links of type {edge_type}; "
                f"the {self.name!r} model learns from them."
            )
        self.edge_type_ = edge_type
        self._fit(data, links.long(), progress=progress)
        return self

    def _fit(self, data: TaskData, links: Tensor, *, progress: bool) -> None:
        raise NotImplementedError

    def link_scores(self, edge_type: EdgeType, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        """Scores of every query against every candidate; higher means more likely linked.

        Shapes:
            query: ``(b,)`` source nodes (targets if ``reverse``), candidates: ``(c,)``,
            returns ``(b, c)``.
        """
        self._check_fitted("edge_type_")
        if tuple(edge_type) != tuple(self.edge_type_):
            raise ValueError(
                f"This {self.name!r} model was fitted for {self.edge_type_} links. "
                f"Got {tuple(edge_type)} instead."
            )
        with torch.no_grad():
            return self._scores(query.long(), candidates.long(), reverse=reverse)

    def _scores(self, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        raise NotImplementedError

    def predict_labels(self, node_type: NodeType) -> Tensor:
        raise NotApplicableError(
            f"The {self.name!r} model ranks cross-modal links; it does not predict labels."
        )


class _EmbeddingLinkBaseline(_LinkBaseline):
    """Scores are dot products of unit vectors: ``query_[reverse][q] @ candidate_[reverse][c].T``."""

    def _set(self, forward: tuple[Tensor, Tensor], backward: tuple[Tensor, Tensor]) -> None:
        """Stores (query side, candidate side) unit embeddings of both directions."""
        self.query_ = {False: forward[0], True: backward[0]}
        self.candidate_ = {False: forward[1], True: backward[1]}

    def _scores(self, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        return self.query_[reverse][query] @ self.candidate_[reverse][candidates].T


class CosineBaseline(_EmbeddingLinkBaseline):
    """Cosine similarity of the raw features of both modalities.

    Only meaningful where the same encoder embeds both modalities (``emoji-style``: two
    image styles through one image network); ``fit`` raises :class:`NotApplicableError` when
    the feature dimensions differ. Equal dimensions do not prove a shared space: two encoders
    with the same width are still two spaces, and cosine then scores about chance.
    """

    name = "cosine"
    Config = CosineConfig

    def _fit(self, data: TaskData, links: Tensor, *, progress: bool) -> None:
        src, _, dst = self.edge_type_
        xs, xd = data.features[src], data.features[dst]
        if xs.shape[1] != xd.shape[1]:
            raise NotApplicableError(
                f"The 'cosine' model compares raw features, so both modalities must share one feature space "
                f"(one encoder on both sides); {src!r} has {xs.shape[1]}-d features and {dst!r} "
                f"{xd.shape[1]}-d. Use a model that learns a map between spaces: 'transfer', "
                f"'knn-transfer', 'siamese', 'fusion', 'attention-fusion' or 'gnn'."
            )
        s, d = _unit(xs), _unit(xd)
        self._set((s, d), (d, s))
        self.chosen_ = {}


# ---------------------------------------------------------------------- trained link baselines
class _TrainedLinkBaseline(_LinkBaseline):
    """Mini-batch training with AdamW, early stopping on the validation MRR."""

    _positive: ClassVar[tuple[str, ...]] = (
        "hidden_dim", "lr", "batch_size", "epochs", "eval_every", "patience",
    )

    def _validate(self) -> None:
        _check_positive(self.settings, self.name, self._positive)
        if not 0 <= self.settings.dropout < 1:
            raise ValueError(
                f"The 'dropout' parameter of the {self.name!r} model must be in [0, 1). "
                f"Got {self.settings.dropout!r} instead."
            )

    def _fit(self, data: TaskData, links: Tensor, *, progress: bool) -> None:
        c = self.settings
        torch.manual_seed(c.seed)
        generator = torch.Generator().manual_seed(c.seed)
        src, _, dst = self.edge_type_
        # Features standardised with statistics of the training nodes of each modality.
        self.xs_ = _standardize(data.features[src].float(), _train_nodes(data, src))
        self.xd_ = _standardize(data.features[dst].float(), _train_nodes(data, dst))
        self.module_ = self._build()
        optimizer = torch.optim.AdamW(self.module_.parameters(), lr=c.lr, weight_decay=c.weight_decay)
        validate = _has_val_links(data)
        best, best_state, best_epoch, stale = -math.inf, None, c.epochs, 0
        epochs = tqdm(range(1, c.epochs + 1), desc=self.name, disable=not progress, leave=False)
        for epoch in epochs:
            self.module_.train()
            loss = self._epoch(links, optimizer, generator)
            epochs.set_postfix(loss=f"{loss:.4f}")
            if validate and (epoch % c.eval_every == 0 or epoch == c.epochs):
                self._refresh()
                mrr = evaluate_links(self, data, "val", max_links=getattr(c, "val_links", None))["mrr"]
                if mrr > best:
                    best, best_epoch, stale = mrr, epoch, 0
                    best_state = copy.deepcopy(self.module_.state_dict())
                else:
                    stale += 1
                    if stale >= c.patience:
                        break
        if best_state is not None:
            self.module_.load_state_dict(best_state)
        self._refresh()
        self.chosen_ = {"best_epoch": best_epoch, "val_mrr": best if validate else None}

    def _build(self) -> nn.Module:
        raise NotImplementedError

    def _epoch(self, links: Tensor, optimizer: torch.optim.Optimizer, generator: torch.Generator) -> float:
        raise NotImplementedError

    def _refresh(self) -> None:
        """Recomputes what scoring reads from the current weights."""
        raise NotImplementedError


def _mlp(in_dim: int, hidden_dim: int, out_dim: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(in_dim, hidden_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden_dim, out_dim)
    )


class _Towers(nn.Module):
    def __init__(self, src_dim: int, dst_dim: int, c: SiameseConfig) -> None:
        super().__init__()
        self.src = _mlp(src_dim, c.hidden_dim, c.out_dim, c.dropout)
        self.dst = _mlp(dst_dim, c.hidden_dim, c.out_dim, c.dropout)
        # log(1 / temperature); the logits are exp(log_scale) * cosine
        self.log_scale = nn.Parameter(
            torch.tensor(math.log(1 / c.temperature)), requires_grad=c.learn_temperature
        )


class SiameseBaseline(_EmbeddingLinkBaseline, _TrainedLinkBaseline):
    """Two towers (one MLP per modality) into a shared space, trained with InfoNCE.

    Each step takes a batch of training links ``(s_i, d_i)`` and asks every ``s_i`` to pick
    ``d_i`` among the batch's targets and every ``d_i`` to pick ``s_i`` (symmetric softmax
    cross-entropy on cosine similarities over a learned temperature). Other training links
    that fall inside the batch are removed from the negatives. Scores are the cosine
    similarities in the shared space.
    """

    name = "siamese"
    Config = SiameseConfig
    _positive = (*_TrainedLinkBaseline._positive, "out_dim", "temperature")

    def _build(self) -> nn.Module:
        return _Towers(self.xs_.shape[1], self.xd_.shape[1], self.settings)

    def _fit(self, data: TaskData, links: Tensor, *, progress: bool) -> None:
        num_dst = data.features[self.edge_type_[2]].shape[0]
        self._link_keys = torch.unique(links[0] * num_dst + links[1])
        self._num_dst = num_dst
        super()._fit(data, links, progress=progress)

    def _epoch(self, links: Tensor, optimizer: torch.optim.Optimizer, generator: torch.Generator) -> float:
        order = torch.randperm(links.shape[1], generator=generator)
        total = 0.0
        for start in range(0, len(order), self.settings.batch_size):
            s, d = links[:, order[start : start + self.settings.batch_size]]
            zs = F.normalize(self.module_.src(self.xs_[s]), dim=1)
            zd = F.normalize(self.module_.dst(self.xd_[d]), dim=1)
            logits = self.module_.log_scale.clamp(max=math.log(100.0)).exp() * zs @ zd.T
            # Another training link inside the batch is not a negative.
            linked = torch.isin(s[:, None] * self._num_dst + d[None, :], self._link_keys)
            logits = logits.masked_fill(linked & ~torch.eye(len(s), dtype=torch.bool), -torch.inf)
            target = torch.arange(len(s))
            loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(s)
        return total / links.shape[1]

    def _refresh(self) -> None:
        self.module_.eval()
        with torch.no_grad():
            s = F.normalize(self.module_.src(self.xs_), dim=1)
            d = F.normalize(self.module_.dst(self.xd_), dim=1)
        self._set((s, d), (d, s))


class _ConcatPair(nn.Module):
    """``MLP([x_s, x_d])`` written as ``head(A x_s + B x_d)``: the same first layer, computed
    once per node, so that scoring (queries x candidates) pairs is a broadcast sum."""

    def __init__(self, src_dim: int, dst_dim: int, c: FusionConfig) -> None:
        super().__init__()
        self.src = nn.Linear(src_dim, c.hidden_dim)
        self.dst = nn.Linear(dst_dim, c.hidden_dim, bias=False)
        self.head = nn.Sequential(
            nn.GELU(), nn.Dropout(c.dropout), nn.Linear(c.hidden_dim, c.hidden_dim // 2), nn.GELU(),
            nn.Dropout(c.dropout), nn.Linear(c.hidden_dim // 2, 1),
        )

    def combine(self, hs: Tensor, hd: Tensor) -> Tensor:
        """Pair logits from per-node parts ``hs`` and ``hd`` of broadcastable shapes ``(..., h)``."""
        return self.head(hs + hd).squeeze(-1)


class _AttentionPair(nn.Module):
    """Two modality tokens, one self-attention step between them, HAN-style attention pooling
    (a learned query scores each token through ``tanh``; softmax over the two tokens), then
    an MLP on the attention-weighted tokens."""

    def __init__(self, src_dim: int, dst_dim: int, c: AttentionFusionConfig) -> None:
        super().__init__()
        d = c.token_dim
        self.src = nn.Linear(src_dim, d)  # a LayerNorm here learned worse on synthetic data
        self.dst = nn.Linear(dst_dim, d)
        self.modality = nn.Parameter(torch.zeros(2, d))  # a learned embedding per modality token
        self.qkv = nn.Linear(d, 3 * d)
        self.pool = nn.Sequential(nn.Linear(d, d), nn.Tanh(), nn.Linear(d, 1, bias=False))
        self.head = nn.Sequential(
            nn.Linear(2 * d, c.hidden_dim), nn.GELU(), nn.Dropout(c.dropout), nn.Linear(c.hidden_dim, 1)
        )

    def combine(self, hs: Tensor, hd: Tensor) -> Tensor:
        """Pair logits from the projected tokens ``hs`` and ``hd`` of broadcastable shapes ``(..., d)``."""
        hs, hd = torch.broadcast_tensors(hs, hd)
        tokens = torch.stack([hs, hd], dim=-2) + self.modality  # (..., 2, d)
        q, k, v = self.qkv(tokens).chunk(3, dim=-1)
        attention = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)  # (..., 2, 2)
        tokens = tokens + attention @ v
        weights = torch.softmax(self.pool(tokens), dim=-2)  # (..., 2, 1): weight of each modality
        return self.head((weights * tokens).flatten(-2)).squeeze(-1)


class FusionBaseline(_TrainedLinkBaseline):
    """Feature-concatenation fusion: an MLP classifies a pair ``[x_s, x_d]`` as linked or not.

    Trained with binary cross-entropy on the training links against sampled non-links: each
    link gives ``negatives`` pairs with a random training target (or source) in its place,
    and a draw that is itself a training link is dropped. The logit is the score; scoring
    ``b x c`` pairs reuses each node's first-layer part and runs in chunks.
    """

    name = "fusion"
    Config = FusionConfig
    _positive = (*_TrainedLinkBaseline._positive, "negatives", "val_links")
    _pair_budget = 1 << 16  # pairs per forward pass when scoring

    def _build(self) -> nn.Module:
        return _ConcatPair(self.xs_.shape[1], self.xd_.shape[1], self.settings)

    def _fit(self, data: TaskData, links: Tensor, *, progress: bool) -> None:
        num_dst = data.features[self.edge_type_[2]].shape[0]
        self._num_dst = num_dst
        self._link_keys = torch.unique(links[0] * num_dst + links[1])
        self._train_src, self._train_dst = torch.unique(links[0]), torch.unique(links[1])
        super()._fit(data, links, progress=progress)

    def _pairs(self, links: Tensor, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """The training links and freshly sampled non-links, with their 0/1 targets."""
        n, k = links.shape[1], self.settings.negatives
        negatives = links.repeat(1, k)
        corrupt_dst = torch.arange(n * k) % 2 == 0
        negatives[1, corrupt_dst] = self._train_dst[
            torch.randint(len(self._train_dst), (int(corrupt_dst.sum()),), generator=generator)
        ]
        negatives[0, ~corrupt_dst] = self._train_src[
            torch.randint(len(self._train_src), (int((~corrupt_dst).sum()),), generator=generator)
        ]
        negatives = negatives[:, ~torch.isin(negatives[0] * self._num_dst + negatives[1], self._link_keys)]
        pairs = torch.cat([links, negatives], dim=1)
        target = torch.cat([torch.ones(n), torch.zeros(negatives.shape[1])])
        return pairs, target

    def _epoch(self, links: Tensor, optimizer: torch.optim.Optimizer, generator: torch.Generator) -> float:
        pairs, target = self._pairs(links, generator)
        order = torch.randperm(pairs.shape[1], generator=generator)
        total = 0.0
        for start in range(0, len(order), self.settings.batch_size):
            batch = order[start : start + self.settings.batch_size]
            s, d = pairs[:, batch]
            logits = self.module_.combine(self.module_.src(self.xs_[s]), self.module_.dst(self.xd_[d]))
            loss = F.binary_cross_entropy_with_logits(logits, target[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(batch)
        return total / pairs.shape[1]

    def _refresh(self) -> None:
        self.module_.eval()
        with torch.no_grad():
            self.hs_, self.hd_ = self.module_.src(self.xs_), self.module_.dst(self.xd_)

    def _scores(self, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        hq = (self.hd_ if reverse else self.hs_)[query]
        hc = (self.hs_ if reverse else self.hd_)[candidates]
        chunk = max(1, self._pair_budget // max(1, len(candidates)))
        out = []
        for start in range(0, len(query), chunk):
            q = hq[start : start + chunk, None, :]  # (chunk, 1, h) against (1, c, h)
            out.append(self.module_.combine(hc[None], q) if reverse else self.module_.combine(q, hc[None]))
        return torch.cat(out) if out else torch.zeros((0, len(candidates)))


class AttentionFusionBaseline(FusionBaseline):
    """Attention fusion: both modalities projected to ``token_dim`` tokens, a self-attention
    step between the two tokens, attention pooling over them (as the semantic-level attention
    of hierarchical attention networks), then an MLP classifier. Trained and scored as
    :class:`FusionBaseline`."""

    name = "attention-fusion"
    Config = AttentionFusionConfig
    _positive = (*FusionBaseline._positive, "token_dim")
    _pair_budget = 1 << 14

    def _build(self) -> nn.Module:
        return _AttentionPair(self.xs_.shape[1], self.xd_.shape[1], self.settings)


# ---------------------------------------------------------------------- transfer baselines
class TransferBaseline(_EmbeddingLinkBaseline):
    """Cross-modal transfer by ridge regression, one map per direction.

    On the training links, a ridge map takes standardised source features to (centred)
    target features, and another one the other way. A query is mapped into the candidates'
    space and scored by cosine similarity. The penalty of each direction is chosen on the
    validation MRR of that direction from ``alphas``.
    """

    name = "transfer"
    Config = TransferConfig

    def _validate(self) -> None:
        _check_positive(self.settings, self.name, ("alphas", "default_alpha"))

    def _fit(self, data: TaskData, links: Tensor, *, progress: bool) -> None:
        c = self.settings
        src, _, dst = self.edge_type_
        rows_s, rows_d = _train_nodes(data, src), _train_nodes(data, dst)
        inputs = {src: _standardize(data.features[src].float(), rows_s),
                  dst: _standardize(data.features[dst].float(), rows_d)}
        outputs = {src: data.features[src].float(), dst: data.features[dst].float()}
        if c.center:
            outputs[src] = outputs[src] - outputs[src][rows_s].mean(0)
            outputs[dst] = outputs[dst] - outputs[dst][rows_d].mean(0)

        def maps(alpha: float) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
            forward = _ridge(inputs[src][links[0]], outputs[dst][links[1]], alpha, inputs[src])
            backward = _ridge(inputs[dst][links[1]], outputs[src][links[0]], alpha, inputs[dst])
            return (_unit(forward), _unit(outputs[dst])), (_unit(backward), _unit(outputs[src]))

        if not _has_val_links(data):
            self._set(*maps(c.default_alpha))
            self.chosen_ = {"alpha": {"src->dst": c.default_alpha, "dst->src": c.default_alpha}}
            return
        best = {"src->dst": (-math.inf, None, None), "dst->src": (-math.inf, None, None)}
        for alpha in tqdm(c.alphas, desc=self.name, disable=not progress, leave=False):
            forward, backward = maps(alpha)
            self._set(forward, backward)
            metrics = evaluate_links(self, data, "val")
            for direction, pair in (("src->dst", forward), ("dst->src", backward)):
                if metrics[f"{direction}/mrr"] > best[direction][0]:
                    best[direction] = (metrics[f"{direction}/mrr"], alpha, pair)
        self._set(best["src->dst"][2], best["dst->src"][2])
        self.chosen_ = {
            "alpha": {d: b[1] for d, b in best.items()}, "val_mrr": {d: b[0] for d, b in best.items()},
        }


def _ridge(x_train: Tensor, y_train: Tensor, alpha: float, x_all: Tensor) -> Tensor:
    """Fits ``Ridge(alpha)`` on the training pairs and maps every row of ``x_all``."""
    model = Ridge(alpha=alpha).fit(x_train.numpy(), y_train.numpy())
    return torch.as_tensor(model.predict(x_all.numpy()), dtype=torch.float32)


class KNNTransferBaseline(_LinkBaseline):
    """Transfer through the nearest training samples of the query's own modality.

    A training sample's target-space embedding is the mean (unit, centred) feature of the
    targets it is linked to. A query finds its ``k`` most cosine-similar training samples of
    its own modality, weights them by ``softmax(similarity / temperature)``, and takes the
    weighted mean of their target-space embeddings; the score of a candidate is the cosine
    similarity of that embedding and the candidate's feature. ``k`` and the temperature are
    chosen per direction on the validation MRR.
    """

    name = "knn-transfer"
    Config = KNNTransferConfig

    def _validate(self) -> None:
        _check_positive(self.settings, self.name, ("ks", "temperatures", "default_k", "default_temperature"))
        if any(not isinstance(k, int) for k in (*self.settings.ks, self.settings.default_k)):
            raise ValueError(
                f"The 'ks' of the 'knn-transfer' model must be ints. Got {self.settings.ks!r} instead."
            )

    def _fit(self, data: TaskData, links: Tensor, *, progress: bool) -> None:
        c = self.settings
        src, _, dst = self.edge_type_
        unit = {
            t: _unit(data.features[t].float(), _train_nodes(data, t) if c.center else None)
            for t in (src, dst)
        }
        self.unit_ = {False: (unit[src], unit[dst]), True: (unit[dst], unit[src])}
        self.neighbours_, self.transferred_ = {}, {}
        ks = sorted({*c.ks, c.default_k})
        for reverse, (own, other) in ((False, links), (True, links.flip(0))):
            query_type, target_type = (dst, src) if reverse else (src, dst)
            # Training samples of the query's modality and the mean unit feature of their targets.
            keys, inverse = torch.unique(own, return_inverse=True)
            sums = torch.zeros(len(keys), unit[target_type].shape[1])
            sums.index_add_(0, inverse, unit[target_type][other])
            self.transferred_[reverse] = sums / torch.bincount(inverse, minlength=len(keys))[:, None]
            self.neighbours_[reverse] = _topk_similar(unit[query_type], unit[query_type][keys], max(ks))

        grid = [(k, t) for k in c.ks for t in c.temperatures]
        if not _has_val_links(data):
            self.k_ = {False: c.default_k, True: c.default_k}
            self.temperature_ = {False: c.default_temperature, True: c.default_temperature}
            self.chosen_ = {"k": c.default_k, "temperature": c.default_temperature}
            return
        best = {False: (-math.inf, None), True: (-math.inf, None)}
        for k, temperature in tqdm(grid, desc=self.name, disable=not progress, leave=False):
            self.k_ = {False: k, True: k}
            self.temperature_ = {False: temperature, True: temperature}
            metrics = evaluate_links(self, data, "val")
            for reverse, direction in ((False, "src->dst"), (True, "dst->src")):
                if metrics[f"{direction}/mrr"] > best[reverse][0]:
                    best[reverse] = (metrics[f"{direction}/mrr"], (k, temperature))
        self.k_ = {r: b[1][0] for r, b in best.items()}
        self.temperature_ = {r: b[1][1] for r, b in best.items()}
        self.chosen_ = {
            direction: {"k": self.k_[r], "temperature": self.temperature_[r], "val_mrr": best[r][0]}
            for r, direction in ((False, "src->dst"), (True, "dst->src"))
        }

    def _scores(self, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        values, indices = self.neighbours_[reverse]
        k = self.k_[reverse]
        weights = torch.softmax(values[query, :k] / self.temperature_[reverse], dim=1)  # (b, k)
        embedded = torch.einsum("bk,bkd->bd", weights, self.transferred_[reverse][indices[query, :k]])
        return F.normalize(embedded, dim=1) @ self.unit_[reverse][1][candidates].T


# ---------------------------------------------------------------------- label baselines
def label_sources(data: TaskData, node_type: NodeType) -> tuple[Tensor, Tensor, str]:
    """The training nodes of ``node_type`` with a label a model may learn from.

    The node type's own training labels if it has any. Otherwise the labels borrowed
    through training links: a training node linked to labelled nodes of other modalities
    takes the majority of their training labels (ties to the smaller class index).

    Returns:
        ``(nodes, labels, how)``, ``how`` saying where the labels came from.

    Raises:
        NotApplicableError: the node type has neither labels nor links to labelled nodes.

    Shapes:
        nodes: ``(n,)``, labels: ``(n,)`` class indices.
    """
    mask = data.label_train_mask.get(node_type)
    if mask is not None and bool(mask.any()):
        nodes = mask.nonzero().flatten()
        return nodes, data.labels[node_type][mask], "own training labels"
    num_classes = len(data.classes)
    votes = torch.zeros(len(data.node_split[node_type]), num_classes)
    via = set()
    for (src, _, dst), links in data.train_links.items():
        for here, there, other in ((0, 1, dst), (1, 0, src)):
            if (src, dst)[here] != node_type or other == node_type or other not in data.label_train_mask:
                continue
            readable = data.label_train_mask[other][links[there]]
            if not bool(readable.any()):
                continue
            labels = data.labels[other][links[there][readable]]
            votes.index_put_((links[here][readable], labels), torch.ones(len(labels)), accumulate=True)
            via.add(other)
    nodes = (votes.sum(1) > 0).nonzero().flatten()
    if nodes.numel() == 0:
        labelled = sorted(t for t, m in data.label_train_mask.items() if bool(m.any()))
        raise NotApplicableError(
            f"The node type {node_type!r} has no training labels and no training links to labelled "
            f"nodes (labelled modalities: {labelled}); its labels cannot be learned."
        )
    return nodes, votes[nodes].argmax(1), f"labels of linked {sorted(via)} nodes"


class _LabelBaseline(_Baseline):
    """A label baseline: one prediction per node of the node types it could learn."""

    kinds = ("label",)

    def fit(self, data: TaskData, *, progress: bool = True) -> _LabelBaseline:
        """Fits on the training labels (own or borrowed through links); returns ``self``."""
        self._check_task(data)
        self.num_classes_ = len(data.classes)
        self._fit(data, progress=progress)
        return self

    def _fit(self, data: TaskData, *, progress: bool) -> None:
        raise NotImplementedError

    def predict_labels(self, node_type: NodeType) -> Tensor:
        """Class indices of every node of ``node_type``, shape ``(num_nodes,)``."""
        self._check_fitted("predictions_")
        if node_type not in self.predictions_:
            raise ValueError(
                f"This {self.name!r} model has labels for {sorted(self.predictions_)}. "
                f"Got {node_type!r} instead."
            )
        return self.predictions_[node_type]

    def link_scores(self, edge_type: EdgeType, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        raise NotApplicableError(f"The {self.name!r} model predicts node labels; it does not score links.")

    def _select(self, data: TaskData, grid: list[Any], predict: Any, default: Any, progress: bool) -> Any:
        """Chooses the setting of ``grid`` with the best validation accuracy on the task's
        source; ``predict(setting) -> {node_type: labels}``. Leaves its predictions in place."""
        if not _has_val_labels(data):
            self.predictions_ = predict(default)
            self.chosen_ = {"setting": default}
            return default
        best = (-math.inf, None, None)
        for setting in tqdm(grid, desc=self.name, disable=not progress, leave=False):
            self.predictions_ = predict(setting)
            accuracy = evaluate_node_labels(self, data, "val")["accuracy"]
            if accuracy > best[0]:
                best = (accuracy, setting, self.predictions_)
        self.predictions_ = best[2]
        self.chosen_ = {"setting": best[1], "val_accuracy": best[0]}
        return best[1]

    def _learnable(self, data: TaskData) -> dict[NodeType, tuple[Tensor, Tensor, str]]:
        """Label sources of every modality that has some; the task's source must have them."""
        sources = {}
        for node_type in data.node_split:
            try:
                sources[node_type] = label_sources(data, node_type)
            except NotApplicableError:
                if node_type == data.task.source:
                    raise
        return sources


class LogRegBaseline(_LabelBaseline):
    """Logistic regression on each node type's standardised features.

    Trained on the node type's training labels; a node type without any (the audio clips of
    ``digits-audio-label``) trains on its linked training nodes, labelled with the labels of
    the nodes they link to (see :func:`label_sources`), so its own features are classified
    directly. ``C`` is chosen on the validation accuracy of the task's source.
    """

    name = "logreg"
    Config = LogRegConfig

    def _validate(self) -> None:
        _check_positive(self.settings, self.name, ("cs", "default_c", "max_iter"))

    def _fit(self, data: TaskData, *, progress: bool) -> None:
        c = self.settings
        sources = self._learnable(data)
        features = {t: _standardize(data.features[t].float(), _train_nodes(data, t)).numpy() for t in sources}

        def predict(C: float) -> dict[NodeType, Tensor]:
            out = {}
            for node_type, (nodes, labels, _) in sources.items():
                if labels.unique().numel() == 1:
                    out[node_type] = torch.full((len(features[node_type]),), int(labels[0]))
                    continue
                model = LogisticRegression(C=C, max_iter=c.max_iter, random_state=c.seed)
                model.fit(features[node_type][nodes.numpy()], labels.numpy())
                out[node_type] = torch.as_tensor(model.predict(features[node_type]), dtype=torch.long)
            return out

        self._select(data, list(c.cs), predict, c.default_c, progress)
        self.chosen_["labels_from"] = {t: s[2] for t, s in sources.items()}


class LabelTransferBaseline(_LabelBaseline):
    """Label transfer by similarity: a node takes the weighted vote of the labels of its ``k``
    most cosine-similar labelled training nodes of its own modality (weights
    ``softmax(similarity / temperature)``). Without own labels, those neighbours are the
    training nodes linked to labelled nodes, carrying the labels reached through their links
    (see :func:`label_sources`). ``k`` and the temperature are chosen on validation accuracy.
    """

    name = "label-transfer"
    Config = LabelTransferConfig

    def _validate(self) -> None:
        _check_positive(self.settings, self.name, ("ks", "temperatures", "default_k", "default_temperature"))

    def _fit(self, data: TaskData, *, progress: bool) -> None:
        c = self.settings
        sources = self._learnable(data)
        neighbours = {}
        for node_type, (nodes, labels, _) in sources.items():
            rows = _train_nodes(data, node_type) if c.center else None
            unit = _unit(data.features[node_type].float(), rows)
            values, indices = _topk_similar(unit, unit[nodes], max(*c.ks, c.default_k))
            neighbours[node_type] = (values, labels[indices])

        def predict(setting: tuple[int, float]) -> dict[NodeType, Tensor]:
            k, temperature = setting
            out = {}
            for node_type, (values, labels) in neighbours.items():
                weights = torch.softmax(values[:, :k] / temperature, dim=1)
                votes = torch.zeros(len(values), self.num_classes_).scatter_add_(1, labels[:, :k], weights)
                out[node_type] = votes.argmax(1)
            return out

        grid = [(k, t) for k in c.ks for t in c.temperatures]
        self._select(data, grid, predict, (c.default_k, c.default_temperature), progress)
        self.chosen_["labels_from"] = {t: s[2] for t, s in sources.items()}


BASELINES: dict[str, type] = {
    cls.name: cls
    for cls in (
        CosineBaseline, SiameseBaseline, FusionBaseline, AttentionFusionBaseline, TransferBaseline,
        KNNTransferBaseline, LogRegBaseline, LabelTransferBaseline,
    )
}
"""Every baseline by its registered name."""
