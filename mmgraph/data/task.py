"""A task: which data, which modalities, which split, what to predict, against which candidates.

A :class:`Task` turns a dataset into one question with an honest split: rank the target
modality's samples for each held-out source sample (``kind="link"``), or label held-out
samples of one modality (``kind="label"``). The named tasks live in :mod:`mmgraph.tasks`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mmgraph.data.dataset import MultimodalDataset
from mmgraph.errors import DataError
from mmgraph.typing import NodeType

CANDIDATE_SETS: tuple[str, ...] = ("held-out", "all")
"""The candidate sets of link tasks (see :attr:`Task.candidates`)."""


@dataclass(frozen=True)
class Task:
    """One prediction task.

    Attributes:
        name: the task's name.
        description: one line on what is predicted.
        kind: ``"link"`` (rank candidates) or ``"label"`` (classify nodes).
        source: for link tasks, the query modality; for label tasks, the labelled modality.
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
        if self.kind not in ("link", "label"):
            raise DataError(f"The 'kind' of a Task must be 'link' or 'label'. Got {self.kind!r} instead.")
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
