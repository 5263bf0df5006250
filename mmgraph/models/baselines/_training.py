"""The trained link baselines' loop: mini-batch AdamW, early stopping on the validation MRR."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import torch
from torch import Tensor, nn

from mmgraph.data.prepared import TrainView
from mmgraph.errors import ConfigError
from mmgraph.models.base import Validate
from mmgraph.models.baselines._common import (
    LinkBaseline,
    check_positive,
    check_positive_ints,
    standardizers,
)
from mmgraph.training.checkpoint import Checkpoint
from mmgraph.training.loop import train_epochs
from mmgraph.typing import NodeType


class TrainedLinkBaseline(LinkBaseline):
    """Mini-batch training with AdamW, early stopping on the validation MRR.

    Features are standardised with statistics of each modality's training rows
    (``standardize_``). Without ``validate`` (or without validation questions) the model trains
    for all ``epochs``.
    """

    _positive: ClassVar[tuple[str, ...]] = ("lr",)
    _positive_ints: ClassVar[tuple[str, ...]] = ("hidden_dim", "batch_size", "epochs", "eval_every", "patience")

    def _validate_settings(self) -> None:
        check_positive(self.settings, self.name, self._positive)
        check_positive_ints(self.settings, self.name, self._positive_ints)
        if not 0 <= self.settings.dropout < 1:
            raise ConfigError(
                f"The 'dropout' parameter of the {self.name!r} model must be in [0, 1). "
                f"Got {self.settings.dropout!r} instead."
            )

    def _fit_links(
        self, train: TrainView, links: Tensor, *, validate: Validate | None, progress: bool,
        checkpoint: Checkpoint | None,
    ) -> None:
        c = self.settings
        torch.manual_seed(c.seed)
        generator = torch.Generator().manual_seed(c.seed)
        src, _, dst = self.edge_type_
        # Features standardised with statistics of the training rows of each modality.
        self.standardize_ = standardizers(train, (src, dst))
        x = {t: self.standardize_[t](self.features_[t]) for t in (src, dst)}
        self._prepare(train, links)
        self.module_ = self._build(x[src].shape[1], x[dst].shape[1])
        optimizer = torch.optim.AdamW(self.module_.parameters(), lr=c.lr, weight_decay=c.weight_decay)

        def validation_mrr() -> float | None:  # the module as it is trained
            metrics = validate(self._scoring(self._score_fn), max_links=getattr(c, "val_links", None))
            return metrics.get("mrr")  # None: no validation questions, train every epoch

        trained = train_epochs(
            self.module_, optimizer, generator, epochs=c.epochs, eval_every=c.eval_every, patience=c.patience,
            train_epoch=lambda epoch: self._epoch(x[src], x[dst], links, optimizer, generator),
            validate=None if validate is None else validation_mrr, checkpoint=self._loop_checkpoint(checkpoint),
            progress=progress, desc=self.name,
        )
        validated = trained.best_epoch is not None
        self.chosen_ = {"best_epoch": trained.best_epoch if validated else c.epochs, "val_mrr": trained.best_score}

    def _loop_checkpoint(self, checkpoint: Checkpoint | None) -> Checkpoint | None:
        """The checkpoint of the training loop about to run (a model training several settings
        gives each its own part of the fit's ``checkpoint``)."""
        return checkpoint

    def _standardized(self, x: dict[NodeType, Tensor]) -> tuple[Tensor, Tensor]:
        """Both ends' rows of ``x`` standardised, and the module in eval mode for scoring."""
        src, _, dst = self.edge_type_
        self.module_.eval()
        return self.standardize_[src](x[src]), self.standardize_[dst](x[dst])

    def _prepare(self, train: TrainView, links: Tensor) -> None:
        """Keeps what training reads besides the features (known links, ...)."""

    @abstractmethod
    def _build(self, src_dim: int, dst_dim: int) -> nn.Module: ...

    @abstractmethod
    def _epoch(
        self, xs: Tensor, xd: Tensor, links: Tensor, optimizer: torch.optim.Optimizer, generator: torch.Generator
    ) -> float:
        """One epoch over the training links; returns the mean loss."""


def mlp(in_dim: int, hidden_dim: int, out_dim: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(in_dim, hidden_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden_dim, out_dim)
    )
