"""The trained link baselines' loop: mini-batch AdamW, early stopping on the validation MRR."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmgraph.data.prepared import TrainView
from mmgraph.errors import ConfigError
from mmgraph.models.base import Validate
from mmgraph.models.baselines._common import (
    LinkBaseline,
    check_positive,
    check_positive_ints,
    embedding_scores,
    standardizers,
)
from mmgraph.models.standardize import Standardize
from mmgraph.training.checkpoint import Checkpoint
from mmgraph.training.loop import train_epochs
from mmgraph.typing import EdgeType, NodeType, ScoreFn


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
        self._prepare(train, links)
        standardize = standardizers(train, (self.edge_type_[0], self.edge_type_[2]))
        module, self.chosen_ = self._train(
            links, standardize, self._build, validate=validate, progress=progress, checkpoint=checkpoint
        )
        self.standardize_, self.module_ = standardize, module

    def _train(
        self, links: Tensor, standardize: dict[NodeType, Standardize], build: Callable[[int, int], nn.Module], *,
        validate: Validate | None, progress: bool, checkpoint: Checkpoint | None,
    ) -> tuple[nn.Module, dict[str, Any]]:
        """A module from ``build(source dim, target dim)`` trained on ``links`` over the features
        standardised by ``standardize``, validated through its own scoring; nothing is set on the model.

        Returns:
            The module (its best weights) and what its training chose (``best_epoch``, ``val_mrr``).
        """
        c = self.settings
        torch.manual_seed(c.seed)
        generator = torch.Generator().manual_seed(c.seed)
        src, _, dst = self.edge_type_
        x = {t: standardize[t](self.features_[t]) for t in (src, dst)}
        module = build(x[src].shape[1], x[dst].shape[1])
        optimizer = torch.optim.AdamW(module.parameters(), lr=c.lr, weight_decay=c.weight_decay)
        scoring = self._scoring(lambda rows: self._module_scores(module, standardize, rows))

        def validation_mrr() -> float | None:  # the module as it is trained
            metrics = validate(scoring, max_links=getattr(c, "val_links", None))
            return metrics.get("mrr")  # None: no validation questions, train every epoch

        trained = train_epochs(
            module, optimizer, generator, epochs=c.epochs, eval_every=c.eval_every, patience=c.patience,
            train_epoch=lambda epoch: self._epoch(module, x[src], x[dst], links, optimizer, generator),
            validate=None if validate is None else validation_mrr, checkpoint=checkpoint,
            progress=progress, desc=self.name,
        )
        validated = trained.best_epoch is not None
        return module, {"best_epoch": trained.best_epoch if validated else c.epochs, "val_mrr": trained.best_score}

    def _score_fn(self, x: dict[NodeType, Tensor]) -> ScoreFn:
        return self._module_scores(self.module_, self.standardize_, x)

    def _prepare(self, train: TrainView, links: Tensor) -> None:
        """Keeps what training reads besides the features (known links, ...)."""

    def _build(self, src_dim: int, dst_dim: int) -> nn.Module:
        """The module to train (a model training one module per setting builds them in its own ``_fit_links``)."""
        raise NotImplementedError(f"{type(self).__name__} implements _build or overrides _fit_links.")

    @abstractmethod
    def _epoch(
        self, module: nn.Module, xs: Tensor, xd: Tensor, links: Tensor, optimizer: torch.optim.Optimizer,
        generator: torch.Generator,
    ) -> float:
        """One epoch of ``module`` over the training links; returns the mean loss."""

    @abstractmethod
    def _module_scores(
        self, module: nn.Module, standardize: dict[NodeType, Standardize], x: dict[NodeType, Tensor]
    ) -> ScoreFn:
        """The score function of ``module`` over ``x`` (view rows then new rows, raw features of both
        ends, standardised by ``standardize``)."""


def standardized(
    module: nn.Module, standardize: dict[NodeType, Standardize], x: dict[NodeType, Tensor], edge_type: EdgeType
) -> tuple[Tensor, Tensor]:
    """Both ends' rows of ``x`` standardised, and ``module`` in eval mode for scoring."""
    src, _, dst = edge_type
    module.eval()
    return standardize[src](x[src]), standardize[dst](x[dst])


def tower_scores(
    towers: tuple[nn.Module, nn.Module], module: nn.Module, standardize: dict[NodeType, Standardize],
    x: dict[NodeType, Tensor], edge_type: EdgeType,
) -> ScoreFn:
    """Cosine scores of a two-tower ``module``: ``towers`` (its source and target encoders) map
    both ends' standardised rows of ``x`` into one space, scored both ways."""
    with torch.no_grad():
        xs, xd = standardized(module, standardize, x, edge_type)
        s, d = F.normalize(towers[0](xs), dim=1), F.normalize(towers[1](xd), dim=1)
    return embedding_scores({False: (s, d), True: (d, s)})


def mlp(in_dim: int, hidden_dim: int, out_dim: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(in_dim, hidden_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden_dim, out_dim)
    )
