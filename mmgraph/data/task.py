"""A task: which data, which modalities, which split, what to predict, against which candidates.

A :class:`Task` turns a dataset into one question with an honest split: rank the target
modality's samples for each held-out source sample (``kind="link"``), or label held-out
samples of one modality (``kind="label"``). A knowledge-graph task (``kind="kg"``) is the third
kind: entities with texts and typed triples in the dataset's own train/val/test files, every
entity ranked as head and as tail (:mod:`mmgraph.pipeline.kg`). The named tasks live in
:mod:`mmgraph.tasks`.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mmgraph.data.dataset import MultimodalDataset
from mmgraph.errors import DataError
from mmgraph.typing import NodeType

TASK_KINDS: tuple[str, ...] = ("link", "label", "kg")
"""Rank cross-modal links, label samples, or complete knowledge-graph triples."""
CANDIDATE_SETS: tuple[str, ...] = ("held-out", "all")
"""The candidate sets of link tasks (see :attr:`Task.candidates`)."""


@dataclass(frozen=True)
class Task:
    """One prediction task.

    Attributes:
        name: the task's name.
        description: one line on what is predicted.
        kind: ``"link"`` (rank candidates), ``"label"`` (classify nodes) or ``"kg"`` (complete
            the triples of a knowledge graph; see :data:`TASK_KINDS`).
        source: for link tasks, the query modality; for label tasks, the labelled modality; for kg
            tasks, the name of the entities' modality (what ``encoders`` keys their encoder by).
        target: for link tasks, the candidate modality.
        dataset: the name of the dataset loader (see :func:`mmgraph.datasets.load`).
        dataset_options: options of that loader.
        modalities: the modalities in the graph (default: all of the dataset's).
        split: keyword arguments of :func:`mmgraph.data.split_dataset` (not the seed).
        encoders: encoder name per modality; others get the default for their payload.
        prepare: an optional step that derives the task's dataset from the loaded one,
            called as ``prepare(dataset, seed)``.
        same_label_is_link: the relation is "same label": every pair of a source and a
            target sample with the same label is a true link, so ranking filters them all.
        label_modalities: for label tasks, the modalities whose training labels the model
            may read (default: the source modality).
        candidates: for link tasks, the candidate set a query is ranked against:
            ``"held-out"`` (the samples of the target modality held out in the same part, as in
            cross-modal retrieval benchmarks where both sides of an item are new) or ``"all"``
            (every target sample known by then, a fixed catalogue; for a one-to-one relation,
            without the samples that already hold a training link). The other set is reported
            beside it. No sample is ever a candidate because it is an answer.
    """

    name: str
    description: str
    kind: str
    source: NodeType
    target: NodeType | None = None
    dataset: str | None = None
    dataset_options: dict[str, Any] = field(default_factory=dict)
    modalities: tuple[NodeType, ...] | None = None
    split: dict[str, Any] = field(default_factory=lambda: {"mode": "item"})
    encoders: dict[NodeType, str] = field(default_factory=dict)
    prepare: Callable[[MultimodalDataset, int], MultimodalDataset] | None = None
    same_label_is_link: bool = False
    label_modalities: tuple[NodeType, ...] | None = None
    candidates: str = "held-out"

    def __post_init__(self) -> None:
        if self.kind not in TASK_KINDS:
            raise DataError(f"The 'kind' of a Task must be one of {TASK_KINDS}. Got {self.kind!r} instead.")
        if self.kind == "link" and self.target is None:
            raise DataError(f"The link task {self.name!r} needs a 'target' modality.")
        if self.candidates not in CANDIDATE_SETS:
            raise DataError(
                f"The 'candidates' of the task {self.name!r} must be one of {CANDIDATE_SETS}. "
                f"Got {self.candidates!r} instead."
            )

    def make_dataset(self, dataset: MultimodalDataset, seed: int) -> MultimodalDataset:
        """Applies :attr:`prepare` and keeps :attr:`modalities`; checks the task's modalities."""
        if self.prepare is not None:
            dataset = self.prepare(dataset, seed)
        if self.modalities is not None:
            dataset = dataset.subset(list(self.modalities))
        for modality in (self.source, self.target):
            if modality is not None and modality not in dataset.modalities:
                raise DataError(
                    f"The task {self.name!r} needs the modality {modality!r}; the dataset "
                    f"{dataset.name!r} has {dataset.modalities}."
                )
        return dataset

    def summary(self) -> dict[str, Any]:
        """The task's settings as JSON-able values (for results)."""
        return {
            "name": self.name, "kind": self.kind, "source": self.source, "target": self.target,
            "dataset": self.dataset, "dataset_options": self.dataset_options,
            "modalities": list(self.modalities) if self.modalities else None,
            "split": {k: (list(map(list, v)) if k == "hide" else v) for k, v in self.split.items()},
            "encoders": self.encoders, "candidates": self.candidates,
        }

    def spec(self) -> dict[str, Any]:
        """Every setting as plain JSON values; :meth:`from_spec` rebuilds the task from it.

        ``prepare`` is named by its import path (``"mmgraph.tasks:_digits_for_images"``).
        """
        out = {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}
        if self.prepare is not None:
            out["prepare"] = f"{self.prepare.__module__}:{self.prepare.__qualname__}"
        return out

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Task:
        """Rebuilds a task from :meth:`spec` (lists back to tuples, ``prepare`` imported by its path)."""
        valid = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(spec) - valid)
        if unknown:
            raise DataError(f"A task spec got unknown setting(s) {unknown}. Valid settings: {sorted(valid)}.")
        values = dict(spec)
        for name in ("modalities", "label_modalities"):
            if values.get(name) is not None:
                values[name] = tuple(values[name])
        if "split" in values:
            values["split"] = {k: (tuple(map(tuple, v)) if k == "hide" else v) for k, v in values["split"].items()}
        if isinstance(values.get("prepare"), str):
            values["prepare"] = _import_path(values["prepare"])
        return cls(**values)

    @classmethod
    def for_manifest(
        cls, dataset: MultimodalDataset, *, source: NodeType, target: NodeType, mode: str = "item",
        encoders: dict[NodeType, str] | None = None, candidates: str = "held-out",
    ) -> Task:
        """A link task on a user's own dataset: rank ``target`` samples for ``source`` ones.

        Every modality of the dataset is in the graph; the default split is cold start by item.
        """
        return cls(
            name=f"{dataset.name}:{source}->{target}", description=f"{source} -> {target} links",
            kind="link", source=source, target=target, split={"mode": mode}, encoders=encoders or {},
            candidates=candidates,
        )


def _plain(value: Any) -> Any:
    """Tuples to lists, inside dicts and lists too: the JSON form of a setting."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _import_path(path: str) -> Callable:
    """The function named ``"module:qualname"``."""
    module, _, qualname = path.partition(":")
    try:
        target: Any = importlib.import_module(module)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError, ValueError) as error:
        raise DataError(f"Cannot import the task's prepare function {path!r} ({error}).") from error
    if not callable(target):
        raise DataError(f"The task's prepare {path!r} is not a function.")
    return target
