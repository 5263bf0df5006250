"""What every relation model is: ``fit(train, validate=...)`` then ``scorer(new)``.

A model learns from a :class:`~mmgraph.data.prepared.TrainView` only. Held-out samples reach it
afterwards, exactly as new samples do at prediction time: :meth:`RelationModel.scorer` takes
their features and returns a :class:`Scorer` over the training view's nodes followed by the new
ones. Evaluation and prediction both go through it, so a reported metric is what prediction
gives. Models never import the evaluator: model selection gets a ``validate`` callback.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from sklearn.exceptions import NotFittedError
from torch import Tensor

from mmgraph.data.prepared import TrainView
from mmgraph.errors import NotApplicableError
from mmgraph.typing import EdgeType, NodeType


class Scorer(Protocol):
    """Scores of a fitted model over the training view's nodes and the new samples after them.

    Node ``i`` of a modality is node ``i`` of the training view for ``i < n`` and new sample
    ``i - n`` otherwise (``n`` the number of view nodes of that modality).
    """

    def link_scores(self, edge_type: EdgeType, query: Tensor, candidates: Tensor, *, reverse: bool) -> Tensor:
        """Scores of every query against every candidate; higher means more likely linked.

        Shapes:
            query: ``(b,)`` nodes of the source type (target type if ``reverse``);
            candidates: ``(c,)`` nodes of the other side; return: ``(b, c)``.
        """

    def predict_labels(self, node_type: NodeType) -> Tensor:
        """The predicted class of every node of ``node_type``, ``(num_nodes,)``."""


class Validate(Protocol):
    """The validation callback: metrics of a model's scorer on the validation questions.

    Keys: ``"mrr"`` and ``"<direction>/mrr"`` (and Hits@k) for link tasks, ``"accuracy"`` and
    ``"macro_f1"`` for label tasks. ``max_links`` ranks a fixed random subset of links (cheap
    early-stopping checks); model selection over settings uses all of them.
    """

    def __call__(self, model: RelationModel, *, max_links: int | None = None) -> dict[str, float]: ...


class RelationModel(ABC):
    """The base of every model: settings in a config dataclass, unknown settings raise.

    Subclasses set ``name``, ``kinds`` (the task kinds they do) and ``Config``, and implement
    :meth:`_fit` and :meth:`scorer`. Learned state ends in ``_``.
    """

    name: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]]
    Config: ClassVar[type]

    def __init__(self, **options: Any) -> None:
        valid = {f.name for f in dataclasses.fields(self.Config)}
        unknown = sorted(set(options) - valid)
        if unknown:
            raise TypeError(
                f"The {self.name!r} model got unknown setting(s) {unknown}. Valid settings: {sorted(valid)}."
            )
        self.settings = self.Config(**options)
        self._validate_settings()

    def _validate_settings(self) -> None:  # noqa: B027 - optional hook
        """Checks settings beyond their types (a subclass hook; nothing by default)."""

    def __repr__(self) -> str:
        settings = dataclasses.asdict(self.settings)
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in settings.items())})"

    def config(self) -> dict[str, Any]:
        """The settings, and once fitted the values chosen on validation under ``"chosen"``."""
        out = dataclasses.asdict(self.settings)
        if hasattr(self, "chosen_"):
            out["chosen"] = self.chosen_
        return out

    def fit(self, train: TrainView, *, validate: Validate | None = None, progress: bool = True) -> RelationModel:
        """Fits on the training view; ``validate`` (if given) drives model selection. Returns ``self``."""
        if train.kind not in self.kinds:
            raise NotApplicableError(_wrong_kind(self.name, self.kinds, train))
        self._fitting = True  # validate() scores the model while it is being fitted
        try:
            self._fit(train, validate=validate, progress=progress)
        finally:
            self._fitting = False
        self.fitted_ = True
        return self

    @abstractmethod
    def _fit(self, train: TrainView, *, validate: Validate | None, progress: bool) -> None: ...

    @abstractmethod
    def scorer(self, new: Mapping[NodeType, Tensor] | None = None) -> Scorer:
        """A :class:`Scorer` over the training view's nodes and the ``new`` samples after them.

        Args:
            new: features of new samples per modality, in the feature space of the training
                view; each new sample is scored on its own (no new sample changes another's
                score).
        """

    def _check_fitted(self) -> None:
        """Raises ``NotFittedError`` unless fitted (or inside ``fit``, where validation scores it)."""
        if not (getattr(self, "fitted_", False) or getattr(self, "_fitting", False)):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet. Call 'fit' with a training view first."
            )


def _wrong_kind(name: str, kinds: tuple[str, ...], train: TrainView) -> str:
    if "link" in kinds:
        return (
            f"The {name!r} model ranks cross-modal links; the task {train.task!r} is a {train.kind} task. "
            "For label tasks use 'logreg', 'label-transfer' or 'gnn'."
        )
    return (
        f"The {name!r} model predicts node labels; the task {train.task!r} is a {train.kind} task. "
        "For link tasks use 'knn-transfer', 'transfer', 'siamese' or 'gnn'."
    )
