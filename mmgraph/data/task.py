"""A task: which data, which modalities, which split, what to predict, against which candidates.

A :class:`Task` turns a dataset into one question with an honest split: rank the target
modality's samples for each held-out source sample (``kind="link"``), or label held-out
samples of one modality (``kind="label"``). A knowledge-graph task (``kind="kg"``) is the third
kind: entities with texts and typed triples in the dataset's own train/val/test files, every
entity ranked as head and as tail (:mod:`mmgraph.pipeline.kg`). With ``query="item"`` a link or
label question is asked of held-out items instead, each the set of its held-out samples of
several modalities, some of them left out (:mod:`mmgraph.data.items`). The named tasks live in
:mod:`mmgraph.tasks`.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mmgraph.data.dataset import MultimodalDataset
from mmgraph.errors import DataError
from mmgraph.typing import NodeType

TASK_KINDS: tuple[str, ...] = ("link", "label", "kg")
"""Rank cross-modal links, label samples, or complete knowledge-graph triples."""
CANDIDATE_SETS: tuple[str, ...] = ("held-out", "all")
"""The candidate sets of link tasks (see :attr:`Task.candidates`)."""

QUERY_KINDS: tuple[str, ...] = ("sample", "item")
"""What a task's questions are about (see :attr:`Task.query`)."""

ITEM_OPTIONS: tuple[str, ...] = ("keep", "only")
"""The options of an item task that :meth:`Task.variant` sets from text (``"keep=0.5"``)."""


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
        query: ``"sample"`` (default): each question is about one held-out sample of
            ``source``. ``"item"``: about one held-out item, the set of its held-out samples
            of the query modalities (every modality of the task but ``target``), which a
            model meets together (:class:`~mmgraph.data.prepared.ItemQueries`). ``source``
            then names the sample question beside it: the modality a label task's
            sample question labels, or the other end of the link type a link task asks.
        keep: item tasks: the probability that a held-out item keeps each of its samples
            (seeded, the same draw for every model; an item keeps at least one).
        only: item tasks: keep the samples of this query modality only (and ask only the
            items that have one); ``keep`` is then 1.
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
    query: str = "sample"
    keep: float = 1.0
    only: NodeType | None = None

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
        self._check_item_options()

    def _check_item_options(self) -> None:
        if self.query not in QUERY_KINDS:
            raise DataError(
                f"The 'query' of the task {self.name!r} must be one of {QUERY_KINDS}. Got {self.query!r} instead."
            )
        if self.query == "sample" and (self.keep != 1.0 or self.only is not None):
            raise DataError(
                f"The task {self.name!r} asks about single samples; 'keep' and 'only' apply to item tasks "
                f"(query='item'). Got keep={self.keep!r}, only={self.only!r}."
            )
        if isinstance(self.keep, bool) or not isinstance(self.keep, int | float) or not 0 < self.keep <= 1:
            raise DataError(
                f"The 'keep' of the task {self.name!r} must be a probability in (0, 1]. Got {self.keep!r} instead."
            )
        if self.only is not None and self.keep != 1.0:
            raise DataError(
                f"The task {self.name!r} got only={self.only!r} and keep={self.keep!r}; give one of them: "
                "'only' keeps one modality of every item, 'keep' a random share of them."
            )
        if self.only is not None and (
            self.only == self.target or (self.modalities is not None and self.only not in self.modalities)
        ):
            choices = (
                list(self.query_modalities(self.modalities)) if self.modalities is not None
                else f"any modality but the target {self.target!r}"
            )
            raise DataError(
                f"The 'only' of the task {self.name!r} must be one of its query modalities ({choices}). "
                f"Got {self.only!r} instead."
            )

    def query_modalities(self, modalities: Sequence[NodeType]) -> tuple[NodeType, ...]:
        """The modalities of ``modalities`` that an item task's query items are made of: all but
        :attr:`target` (before :attr:`only` is applied)."""
        return tuple(m for m in modalities if m != self.target)

    def variant(self, option: str) -> Task:
        """This item task with one of :data:`ITEM_OPTIONS` given as text, named ``"<name>:<option>"``
        (``keep=1`` is the task itself).

        Example:
            >>> task = Task(name="t", description="", kind="label", source="a", query="item")
            >>> task.variant("keep=0.50")
            ... # doctest: +ELLIPSIS
            Task(name='t:keep=0.5', ..., query='item', keep=0.5, only=None)
            >>> task.variant("only=a").only
            'a'
        """
        key, _, value = option.partition("=")
        key, value = key.strip(), value.strip()
        if self.query != "item" or key not in ITEM_OPTIONS or not value:
            raise DataError(
                f"The task option {option!r} of {self.name!r} is not one of its options: an item task takes "
                f"'keep=P' (a probability) or 'only=MODALITY'"
                + (f"; {self.name!r} asks about single samples and takes none." if self.query != "item" else ".")
            )
        if self.keep != 1.0 or self.only is not None:
            raise DataError(
                f"The task {self.name!r} already sets keep={self.keep!r}, only={self.only!r}; an item task takes "
                f"one option, 'keep' or 'only'. Got {option!r} as well."
            )
        if key == "only":
            return dataclasses.replace(self, name=f"{self.name}:only={value}", only=value)
        try:
            keep = float(value)
        except ValueError:
            keep = value  # refused by the check of a new Task, with the value found
        if keep == 1.0:
            return self
        return dataclasses.replace(self, name=f"{self.name}:keep={keep}", keep=keep)

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
        """The task's settings as JSON-able values (for results); an item task adds its item settings."""
        out = {
            "name": self.name, "kind": self.kind, "source": self.source, "target": self.target,
            "dataset": self.dataset, "dataset_options": self.dataset_options,
            "modalities": list(self.modalities) if self.modalities else None,
            "split": {k: (list(map(list, v)) if k == "hide" else v) for k, v in self.split.items()},
            "encoders": self.encoders, "candidates": self.candidates,
        }
        if self.query == "item":
            out.update(query=self.query, keep=self.keep, only=self.only)
        return out

    def spec(self) -> dict[str, Any]:
        """Every setting as plain JSON values; :meth:`from_spec` rebuilds the task from it.

        ``prepare`` is named by its import path (``"mmgraph.tasks:_digits_for_images"``). The
        item settings (``query``, ``keep``, ``only``) are left out of a sample task's spec, so
        that its spec is the one written before item tasks existed.
        """
        out = {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}
        if self.prepare is not None:
            out["prepare"] = f"{self.prepare.__module__}:{self.prepare.__qualname__}"
        if self.query == "sample":
            for name in ("query", *ITEM_OPTIONS):
                del out[name]
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
        encoders: dict[NodeType, str] | None = None, candidates: str = "held-out", query: str = "sample",
        keep: float = 1.0,
    ) -> Task:
        """A link task on a user's own dataset: rank ``target`` samples for ``source`` ones, or with
        ``query="item"`` for held-out items (their samples of the other modalities, each kept with
        probability ``keep``; the manifest's ``item`` column groups them).

        Every modality of the dataset is in the graph; the default split is cold start by item.
        """
        asked = "items" if query == "item" else source
        return cls(
            name=f"{dataset.name}:{asked}->{target}", description=f"{asked} -> {target} links",
            kind="link", source=source, target=target, split={"mode": mode}, encoders=encoders or {},
            candidates=candidates, query=query, keep=keep,
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
