"""What every relation model is: ``fit(train, validate=...)`` then ``scorer(new)``.

A model learns from a :class:`~mmgraph.data.prepared.TrainView` only. Held-out samples reach it
afterwards, exactly as new samples do at prediction time: :meth:`RelationModel.scorer` takes
their features and returns a :class:`Scorer` over the training view's nodes followed by the new
ones. Evaluation and prediction both go through it, so a reported metric is what prediction
gives. Models never import the evaluator: model selection gets a ``validate`` callback.

Held-out items (:class:`~mmgraph.data.prepared.ItemQueries`, item tasks) reach a model that
answers them through :meth:`RelationModel.item_scorer`: the same new samples, plus which of them
form each item. :func:`item_models` names the models that answer items.
"""

from __future__ import annotations

import dataclasses
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from torch import Tensor

from mmgraph.data.prepared import ItemQueries, TrainView
from mmgraph.data.triples import TripleView
from mmgraph.errors import ConfigTypeError, NotApplicableError, NotFittedError, SavedFileError
from mmgraph.io import atomic_write, load_json, load_tensors, save_tensors
from mmgraph.registry import Registry
from mmgraph.training.checkpoint import Checkpoint
from mmgraph.typing import EdgeType, NodeType

SAVE_FORMAT = 5  # 2: the GNN stores its kNN graph; 3: the training view keys link types by edge_key;
# 4: the GNN's ridge map as a whole model record; 5: the GNN stores what its first prediction computed
# over the training graph (layer states, propagated signals, hub scores: ``warm.*`` tensors)
"""The version of the saved-model layout (``model.json`` + ``weights.safetensors``)."""


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


Scoring = Callable[[Mapping[NodeType, Tensor] | None], Scorer]
"""What validation scores: new samples' features in, a :class:`Scorer` out. A fitted model's
:meth:`RelationModel.scorer` is one; during ``fit``, each candidate setting gives its own, so
trying a setting changes nothing in the model."""


ItemScoring = Callable[[Mapping[NodeType, Tensor] | None, ItemQueries], Scorer]
"""What item validation scores: the new samples' features and the items they form in, a
:class:`Scorer` of the items out (:meth:`RelationModel.item_scorer` is one)."""


class Validate(Protocol):
    """The validation callback: metrics of a scoring on the validation questions.

    ``scoring`` gets the validation samples' features (as new samples) and returns the scorer to
    rank them with. Keys: ``"mrr"`` and ``"<direction>/mrr"`` (and Hits@k) for link tasks,
    ``"accuracy"`` and ``"macro_f1"`` for label tasks. ``max_links`` ranks a fixed random subset of
    links (cheap early-stopping checks); model selection over settings uses all of them.
    """

    def __call__(self, scoring: Scoring, *, max_links: int | None = None) -> dict[str, float]: ...


@runtime_checkable
class ItemValidate(Validate, Protocol):
    """The validation callback of an item task: :meth:`items` scores the validation items.

    Calling it scores the task's single-sample question beside the items (the task's ``source``
    samples), so a model that selects its settings on single samples fits on an item task as on
    any other; :meth:`items` scores an :data:`ItemScoring` on the validation part's
    :class:`~mmgraph.data.prepared.ItemQueries`, with the same metric keys as the single-sample
    question (``"mrr"``, ``"<direction>/mrr"``, Hits@k; ``"accuracy"``, ``"macro_f1"``).
    """

    def items(self, scoring: ItemScoring, *, max_links: int | None = None) -> dict[str, float]: ...


class RelationModel(ABC):
    """The base of every model: settings in a config dataclass, unknown settings raise.

    Subclasses set ``name``, ``kinds`` (the task kinds they do) and ``Config``, and implement
    :meth:`_fit` and :meth:`scorer`. Learned state ends in ``_``.
    """

    name: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]]
    Config: ClassVar[type]
    item_only: ClassVar[bool] = False
    """Whether the model answers item queries only (the item fusion baselines): it fits on item
    tasks, and its :meth:`scorer` of single samples raises."""

    def __init__(self, **options: Any) -> None:
        valid = {f.name for f in dataclasses.fields(self.Config)}
        unknown = sorted(set(options) - valid)
        if unknown:
            raise ConfigTypeError(
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

    def fit(
        self, train: TrainView | TripleView, *, validate: Validate | None = None, progress: bool = True,
        checkpoint: Checkpoint | None = None,
    ) -> RelationModel:
        """Fits on the training view; ``validate`` (if given) drives model selection. Returns ``self``.

        ``checkpoint``: a model with a training loop (``gnn`` and the trained link baselines:
        ``siamese``, ``fusion``, ``attention-fusion``) saves its state there every few epochs
        and resumes a checkpoint of the same run found there; other models fit from scratch.
        """
        self.check_kind(train.task, train.kind)
        self.check_query(train.task, getattr(train, "query", "sample"))
        self._fit(train, validate=validate, progress=progress, checkpoint=checkpoint)
        self.fitted_ = True
        return self

    def check_kind(self, task: str, kind: str) -> None:
        """Raises :class:`~mmgraph.errors.NotApplicableError` unless the model does ``kind`` tasks;
        the message lists the models that do."""
        if kind not in self.kinds:
            raise NotApplicableError(_wrong_kind(self.name, self.kinds, task, kind))

    def check_query(self, task: str, query: str) -> None:
        """Raises :class:`~mmgraph.errors.NotApplicableError` unless the model answers the questions of
        ``query`` (``"sample"`` or ``"item"``, see :attr:`Task.query <mmgraph.data.task.Task.query>`);
        the message lists the models that do."""
        if query == "item" and not self.answers_items():
            raise NotApplicableError(
                f"The {self.name!r} model scores single samples; the task {task!r} asks about held-out items. "
                f"For item tasks use one of {item_models()}."
            )
        if query != "item" and self.item_only:
            raise NotApplicableError(
                f"The {self.name!r} model answers item queries only; the task {task!r} asks about single samples. "
                f"For sample tasks use one of {[m for m in MODELS.names() if not MODELS.get(m).item_only]}."
            )

    @classmethod
    def answers_items(cls) -> bool:
        """Whether the model answers item queries: its class (or a base below :class:`RelationModel`)
        implements :meth:`item_scorer`."""
        return cls.item_scorer is not RelationModel.item_scorer

    @abstractmethod
    def _fit(
        self, train: TrainView, *, validate: Validate | None, progress: bool, checkpoint: Checkpoint | None
    ) -> None:
        """Learns from ``train``; validation scores candidate settings through their own scorings
        (see :data:`Scoring`), and the learned state is set once the choice is made."""

    @abstractmethod
    def scorer(self, new: Mapping[NodeType, Tensor] | None = None) -> Scorer:
        """A :class:`Scorer` over the training view's nodes and the ``new`` samples after them.

        Args:
            new: features of new samples per modality, in the feature space of the training
                view; each new sample is scored on its own (no new sample changes another's
                score).
        """

    def item_scorer(self, new: Mapping[NodeType, Tensor] | None, items: ItemQueries) -> Scorer:
        """A :class:`Scorer` of held-out items (item tasks; a model that answers them overrides this).

        The scorer answers ``link_scores((ITEM, relation, target), item_index, candidates,
        reverse=False)``, ``(b, c)`` scores of items of ``items`` against candidates (scoring
        indices of the target modality: view nodes, then new samples), and
        ``predict_labels(ITEM)``, ``(len(items),)`` class indices. Every implementation keeps
        three invariants: an item scores the same alone or in a batch of items; removing one
        of an item's samples changes only that item's scores; nothing flows between items or
        into the training state.

        Args:
            new: the part's new samples by modality (``PreparedTask.new_samples(part)``), in
                the feature space of the training view.
            items: which new samples form each item: item ``i``'s samples of modality ``m``
                are ``items.members[m][items.member_items[m] == i]`` (scoring indices).

        Raises:
            NotApplicableError: the model scores single samples only.
        """
        raise NotApplicableError(
            f"The {self.name!r} model scores single samples; it does not answer item queries. "
            f"Use one of {item_models()}."
        )

    # ------------------------------------------------------------------ persistence
    @classmethod
    def savable(cls) -> bool:
        """Whether a fitted model of this class can be saved: its class (or a base below
        :class:`RelationModel`) implements :meth:`_state` and :meth:`_restore`."""
        return cls._state is not RelationModel._state and cls._restore is not RelationModel._restore

    def state(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        """The fitted model as tensors and a JSON-able record (name, settings, choices, learned
        state): what :meth:`save` writes and :meth:`from_state` reads back. A model holding
        another model (the GNN's ridge map) keeps that model's state in its own."""
        self._check_fitted()
        tensors, state = self._state()
        record = {
            "model": self.name, "settings": dataclasses.asdict(self.settings), "chosen": self._chosen_record(),
            "state": state,
        }
        return tensors, record

    @classmethod
    def from_state(cls, tensors: dict[str, Tensor], record: Mapping[str, Any], train: TrainView) -> RelationModel:
        """The model :meth:`state` described, fitted on ``train``; a record of another model
        raises ``SavedFileError``, a damaged one ``KeyError``, ``TypeError`` or ``ValueError``."""
        if record.get("model") != cls.name:
            raise SavedFileError(f"The saved model is a {record.get('model')!r} model, not {cls.name!r}.")
        model = cls(**record["settings"])
        model._restore(tensors, record["state"], train)
        model._restore_chosen(record.get("chosen"))
        model.fitted_ = True
        return model

    def save(self, directory: str | os.PathLike) -> Path:
        """Writes ``model.json`` (format, version and :meth:`state`'s record) and ``weights.safetensors``.

        The training view the model was fitted on is saved beside it by the caller
        (:class:`~mmgraph.predict.Predictor`); :meth:`load` needs it back.
        """
        from mmgraph import __version__

        tensors, record = self.state()
        directory = Path(directory)
        save_tensors(directory / "weights.safetensors", tensors)
        record = {"format": SAVE_FORMAT, "mmgraph": __version__, **record}
        atomic_write(directory / "model.json", json.dumps(record, indent=2))
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike, train: TrainView) -> RelationModel:
        """Rebuilds a model written by :meth:`save`, fitted on ``train``; a folder written by
        another mmgraph version, for another model or damaged raises :class:`~mmgraph.errors.SavedFileError`."""
        from mmgraph import __version__

        directory = Path(directory)
        record = load_json(directory / "model.json")
        found = record.get("format")
        if isinstance(found, int) and not isinstance(found, bool) and found < SAVE_FORMAT:
            raise SavedFileError(
                f"The model in {str(directory)!r} was saved in the older layout {found} (this mmgraph reads "
                f"layout {SAVE_FORMAT}). Run the task again to save a new model."
            )
        if found != SAVE_FORMAT:
            raise SavedFileError(
                f"{str(directory / 'model.json')!r} is not a saved mmgraph model (format {SAVE_FORMAT})."
            )
        if record.get("mmgraph") != __version__:
            raise SavedFileError(
                f"The model in {str(directory)!r} was written by mmgraph {record.get('mmgraph')}; this is mmgraph "
                f"{__version__}. Load it with that version, or run the task again to save a new model."
            )
        if record.get("model") != cls.name:
            raise SavedFileError(
                f"The model in {str(directory)!r} is a {record.get('model')!r} model, not {cls.name!r}."
            )
        try:
            return cls.from_state(load_tensors(directory / "weights.safetensors"), record, train)
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            if isinstance(error, SavedFileError):
                raise
            raise SavedFileError(f"The model in {str(directory)!r} is damaged or incomplete ({error}).") from error

    def _chosen_record(self) -> Any:
        """The choices made on validation as JSON values (``chosen_``, or ``None``)."""
        return getattr(self, "chosen_", None)

    def _restore_chosen(self, chosen: Any) -> None:
        """Puts back what :meth:`_chosen_record` returned."""
        if chosen is not None:
            self.chosen_ = chosen

    def _state(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        """The fitted state: tensors and a JSON-able description (a model that can be saved overrides it)."""
        raise NotApplicableError(
            f"The {self.name!r} model cannot be saved yet (its class implements no _state); "
            "mmgraph.models.savable_models() names the models that can."
        )

    def _restore(self, tensors: dict[str, Tensor], state: dict[str, Any], train: TrainView) -> None:
        """Puts back what :meth:`_state` returned, for a model fitted on ``train``."""
        raise NotApplicableError(f"The {self.name!r} model cannot be loaded.")

    def _check_fitted(self) -> None:
        """Raises ``NotFittedError`` unless fitted."""
        if not getattr(self, "fitted_", False):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet. Call 'fit' with a training view first."
            )


MODELS: Registry[type[RelationModel]] = Registry("model")
"""Every relation model by its name; :mod:`mmgraph.models` registers the GNN and the baselines.
The lists below are read from it and from each class, never written by hand."""


def models_for(kind: str, query: str = "sample") -> list[str]:
    """The registered models that do ``kind`` tasks (``"link"``, ``"label"`` or ``"kg"``), by their ``kinds``,
    asking about ``query`` (``"sample"``: not :attr:`~RelationModel.item_only`; ``"item"``: those that
    answer items, see :func:`item_models`)."""
    return [
        name for name in MODELS.names() if kind in MODELS.get(name).kinds
        and (MODELS.get(name).answers_items() if query == "item" else not MODELS.get(name).item_only)
    ]


def savable_models() -> list[str]:
    """The registered models that can be saved (see :meth:`RelationModel.savable`)."""
    return [name for name in MODELS.names() if MODELS.get(name).savable()]


def item_models() -> list[str]:
    """The registered models that answer item queries (see :meth:`RelationModel.answers_items`)."""
    return [name for name in MODELS.names() if MODELS.get(name).answers_items()]


_KIND_WORK: dict[str, str] = {
    "link": "ranks cross-modal links", "label": "predicts node labels", "kg": "completes knowledge-graph triples",
}
"""What a model of each task kind does, for messages."""


def _wrong_kind(name: str, kinds: tuple[str, ...], task: str, kind: str) -> str:
    does = " and ".join(_KIND_WORK.get(k, f"does {k} tasks") for k in kinds)
    return (
        f"The {name!r} model {does}; the task {task!r} is a {kind} task. For {kind} tasks use one of "
        f"{models_for(kind)}."
    )
