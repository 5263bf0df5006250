"""Embedding link baselines: a query and a candidate meet as unit vectors of one space.

- ``cosine``: cosine similarity of the raw or centred features (chosen on validation).
  Meaningful only where one encoder embeds both modalities into one space; it needs equal
  feature dimensions.
- ``siamese``: one MLP tower per modality into a shared space, symmetric InfoNCE with
  in-batch negatives and a learned temperature.
- ``siamese-l2``: the same towers trained with the squared-distance shared-space objective
  ``sum_i ||f(x_i) - g(y_i)||^2`` on unit vectors, with a hinge on in-batch negatives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmgraph.data.known import KnownPairs
from mmgraph.data.prepared import TrainView
from mmgraph.errors import ConfigError, NotApplicableError
from mmgraph.models.base import Scoring, Validate
from mmgraph.models.baselines._common import (
    EmbeddingLinkBaseline,
    LinkBaselineConfig,
    embedding_scores,
    per_direction_record,
    row_mean,
    saved_standardizers,
    standardizer_tensors,
    statistic_rows,
    unit,
)
from mmgraph.models.baselines._training import TrainedLinkBaseline, mlp, tower_scores
from mmgraph.models.standardize import Standardize
from mmgraph.training.checkpoint import Checkpoint
from mmgraph.typing import NodeType, ScoreFn


@dataclass
class CosineConfig(LinkBaselineConfig):
    """Settings of :class:`CosineBaseline` (it learns only each modality's training mean)."""

    # Tried on validation per direction: raw features (False) and features minus their
    # modality's training mean (True; removes the offset between two styles of one encoder).
    centers: tuple[bool, ...] = (False, True)
    default_center: bool = False  # used when the task has no validation links
    seed: int = 0


@dataclass
class SiameseConfig(LinkBaselineConfig):
    """Settings of :class:`SiameseBaseline`."""

    hidden_dim: int = 512
    out_dim: int = 256  # dimension of the shared space
    dropout: float = 0.1
    temperature: float = 0.07  # initial softmax temperature of the InfoNCE logits
    learn_temperature: bool = True
    # "infonce" (softmax over in-batch targets) or "squared-distance" (pull linked pairs
    # together, push in-batch non-links apart up to ``margin``; see SiameseBaseline).
    loss: str = "infonce"
    # squared-distance only: in-batch non-links closer than this squared distance (unit vectors,
    # 0..4; 1.0 is cosine 0.5) are pushed apart.
    margin: float = 1.0
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 256  # links per step; the other links of the batch are the negatives
    epochs: int = 200
    eval_every: int = 5  # epochs between validation checks
    patience: int = 6  # validation checks without improvement before stopping
    seed: int = 0


class CosineBaseline(EmbeddingLinkBaseline):
    """Cosine similarity of the raw or centred features of both modalities.

    Only meaningful where the same encoder embeds both modalities (``emoji-style``: two
    image styles through one image network); ``fit`` raises :class:`NotApplicableError` when
    the feature dimensions differ. Equal dimensions do not prove a shared space: two encoders
    with the same width are still two spaces, and cosine then scores about chance. Whether each
    modality's training mean is subtracted first (``centers``) is chosen per direction on the
    validation MRR.
    """

    name = "cosine"
    Config = CosineConfig

    def _validate_settings(self) -> None:
        c = self.settings
        if not c.centers or any(not isinstance(v, bool) for v in (*c.centers, c.default_center)):
            raise ConfigError(
                f"The 'centers' parameter of the {self.name!r} model must be bools, at least one (False, True). "
                f"Got {c.centers!r} instead."
            )

    def _fit_links(
        self, train: TrainView, links: Tensor, *, validate: Validate | None, progress: bool,
        checkpoint: Checkpoint | None,
    ) -> None:
        c = self.settings
        src, _, dst = self.edge_type_
        xs, xd = self.features_[src], self.features_[dst]
        if xs.shape[1] != xd.shape[1]:
            raise NotApplicableError(
                f"The 'cosine' model compares raw features, so both modalities must share one feature space "
                f"(one encoder on both sides); {src!r} has {xs.shape[1]}-d features and {dst!r} "
                f"{xd.shape[1]}-d. Use a model that learns a map between spaces: 'transfer', "
                f"'knn-transfer', 'siamese', 'fusion', 'attention-fusion' or 'gnn'."
            )
        self.mean_ = {t: row_mean(self.features_[t], statistic_rows(train, t)) for t in (src, dst)}
        def scoring(centers: dict[bool, bool]) -> Scoring:
            return self._scoring(lambda x: embedding_scores(self._embed_with(x, centers)))

        self.center_, scores = self._choose_per_direction(
            list(c.centers), c.default_center, scoring, validate=validate, progress=progress
        )
        self.chosen_ = per_direction_record(lambda reverse: {"center": self.center_[reverse]}, scores)

    def _embed(self, x: dict[NodeType, Tensor]) -> dict[bool, tuple[Tensor, Tensor]]:
        return self._embed_with(x, self.center_)

    def _embed_with(self, x: dict[NodeType, Tensor], centers: dict[bool, bool]) -> dict[bool, tuple[Tensor, Tensor]]:
        """Unit rows of each direction's query and candidate side, centred where ``centers`` says."""
        src, _, dst = self.edge_type_
        out = {}
        for reverse, (query_type, candidate_type) in ((False, (src, dst)), (True, (dst, src))):
            center = centers[reverse]
            out[reverse] = tuple(
                unit(x[t], self.mean_[t] if center else None) for t in (query_type, candidate_type)
            )
        return out


class _Towers(nn.Module):
    def __init__(self, src_dim: int, dst_dim: int, c: SiameseConfig) -> None:
        super().__init__()
        self.src = mlp(src_dim, c.hidden_dim, c.out_dim, c.dropout)
        self.dst = mlp(dst_dim, c.hidden_dim, c.out_dim, c.dropout)
        # log(1 / temperature); the logits are exp(log_scale) * cosine
        self.log_scale = nn.Parameter(torch.tensor(math.log(1 / c.temperature)), requires_grad=c.learn_temperature)


LOSSES: tuple[str, ...] = ("infonce", "squared-distance")
"""The training objectives of the two-tower models."""


class SiameseBaseline(TrainedLinkBaseline):
    """Two towers (one MLP per modality) into a shared space, trained with InfoNCE.

    Each step takes a batch of training links ``(s_i, d_i)`` and asks every ``s_i`` to pick
    ``d_i`` among the batch's targets and every ``d_i`` to pick ``s_i`` (symmetric softmax
    cross-entropy on cosine similarities over a learned temperature). Other training links
    that fall inside the batch are removed from the negatives. Scores are the cosine
    similarities in the shared space.

    With ``loss="squared-distance"`` (registered as ``siamese-l2``) the objective is the
    shared-space one, ``mean_i ||u_i - v_i||^2`` over the batch's links, with ``u = f(x) / |f(x)|``
    and ``v = g(y) / |g(y)|``. Alone it collapses (every sample mapped to one point gives zero
    loss); two things prevent it: the outputs are unit vectors (no shrinking to the origin), and
    a hinge on the batch's non-links, ``mean_{i != j} max(0, margin - ||u_i - v_j||^2)``, pushes
    them apart (the contrastive loss of Hadsell et al., 2006, on squared distances). In-batch
    pairs that are training links are not negatives. The temperature is unused.
    """

    name = "siamese"
    Config = SiameseConfig
    _positive = (*TrainedLinkBaseline._positive, "temperature", "margin")
    _positive_ints = (*TrainedLinkBaseline._positive_ints, "out_dim")

    def _validate_settings(self) -> None:
        super()._validate_settings()
        if self.settings.loss not in LOSSES:
            raise ConfigError(
                f"The 'loss' parameter of the {self.name!r} model must be one of {list(LOSSES)}. "
                f"Got {self.settings.loss!r} instead."
            )

    def _build(self, src_dim: int, dst_dim: int) -> nn.Module:
        return _Towers(src_dim, dst_dim, self.settings)

    def _prepare(self, train: TrainView, links: Tensor) -> None:
        src, _, dst = self.edge_type_
        self._known = KnownPairs(links, num_query=train.num_nodes(src), num_target=train.num_nodes(dst))

    def _epoch(
        self, module: nn.Module, xs: Tensor, xd: Tensor, links: Tensor, optimizer: torch.optim.Optimizer,
        generator: torch.Generator,
    ) -> float:
        order = torch.randperm(links.shape[1], generator=generator)
        total = 0.0
        for start in range(0, len(order), self.settings.batch_size):
            s, d = links[:, order[start : start + self.settings.batch_size]]
            zs = F.normalize(module.src(xs[s]), dim=1)
            zd = F.normalize(module.dst(xd[d]), dim=1)
            # Another training link inside the batch is not a negative.
            linked = self._known.contains(s.repeat_interleave(len(d)), d.repeat(len(s))).view(len(s), len(d))
            loss = self._loss(module, zs, zd, linked)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(s)
        return total / links.shape[1]

    def _loss(self, module: nn.Module, zs: Tensor, zd: Tensor, linked: Tensor) -> Tensor:
        """The batch loss of unit vectors ``zs``, ``zd`` (``(b, out_dim)``) of the links ``(s_i, d_i)``;
        ``linked`` ``(b, b)`` marks pairs ``(s_i, d_j)`` that are training links."""
        if self.settings.loss == "squared-distance":
            distances = 2 - 2 * zs @ zd.T  # squared distances of unit vectors, (b, b) in [0, 4]
            pull = distances.diagonal().mean()
            push = (self.settings.margin - distances).clamp(min=0)[~linked]  # the diagonal is linked
            return pull + (push.mean() if push.numel() else distances.new_zeros(()))
        logits = module.log_scale.clamp(max=math.log(100.0)).exp() * zs @ zd.T
        logits = logits.masked_fill(linked & ~torch.eye(len(zs), dtype=torch.bool), -torch.inf)
        target = torch.arange(len(zs))
        return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2

    def _state(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        src, _, dst = self.edge_type_
        tensors = {f"module.{k}": v for k, v in self.module_.state_dict().items()}
        tensors.update(standardizer_tensors(self.standardize_, self.edge_type_))
        return tensors, {"edge_type": list(self.edge_type_)}

    def _restore(self, tensors: dict[str, Tensor], state: dict[str, Any], train: TrainView) -> None:
        self.edge_type_ = tuple(state["edge_type"])
        src, _, dst = self.edge_type_
        self.features_ = {t: train.features[t].float() for t in (src, dst)}
        self.standardize_ = saved_standardizers(tensors, self.edge_type_)
        self.module_ = self._build(self.standardize_[src].mean.numel(), self.standardize_[dst].mean.numel())
        self.module_.load_state_dict({k[len("module.") :]: v for k, v in tensors.items() if k.startswith("module.")})
        self.module_.eval()

    def _module_scores(
        self, module: nn.Module, standardize: dict[NodeType, Standardize], x: dict[NodeType, Tensor]
    ) -> ScoreFn:
        return tower_scores((module.src, module.dst), module, standardize, x, self.edge_type_)


@dataclass
class SiameseL2Config(SiameseConfig):
    """Settings of :class:`SiameseL2Baseline`: the two towers with the squared-distance loss."""

    loss: str = "squared-distance"


class SiameseL2Baseline(SiameseBaseline):
    """The two towers of :class:`SiameseBaseline` trained with the squared-distance shared-space
    objective (unit vectors, a hinge on in-batch non-links; see there). Its own name so that a
    benchmark shows both objectives side by side."""

    name = "siamese-l2"
    Config = SiameseL2Config
