"""Named tasks: which data, which modalities, which split, what to predict.

A :class:`Task` turns a dataset into one question with an honest split: rank the target
modality's samples for each held-out source sample (``kind="link"``), or label held-out
samples of one modality (``kind="label"``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mmgraph.data import DataError, MultimodalDataset
from mmgraph.registry import Registry
from mmgraph.typing import NodeType


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

    def __post_init__(self) -> None:
        if self.kind not in ("link", "label"):
            raise ValueError(f"The 'kind' of a Task must be 'link' or 'label'. Got {self.kind!r} instead.")
        if self.kind == "link" and self.target is None:
            raise ValueError(f"The link task {self.name!r} needs a 'target' modality.")

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
            "encoders": self.encoders,
        }

    @classmethod
    def for_manifest(
        cls, dataset: MultimodalDataset, *, source: NodeType, target: NodeType, mode: str = "item",
        encoders: dict[NodeType, str] | None = None,
    ) -> Task:
        """A link task on a user's own dataset: rank ``target`` samples for ``source`` ones.

        Every modality of the dataset is in the graph; the default split is cold start by item.
        """
        return cls(
            name=f"{dataset.name}:{source}->{target}", description=f"{source} -> {target} links",
            kind="link", source=source, target=target, split={"mode": mode}, encoders=encoders or {},
        )


# ---------------------------------------------------------------------- digits preparation
DIGIT_RELATION = "same_digit"


def _link_digits(
    dataset: MultimodalDataset, seed: int, *, links_per_clip: int, clips_per_digit: int | None = None
) -> MultimodalDataset:
    """Links FSDD clips to MNIST images of the same digit.

    Each linked clip gets ``links_per_clip`` random images of its digit (seeded). With
    ``clips_per_digit``, only that many clips of each digit are linked, drawn from every speaker
    (the split then decides which of those links are for training).
    """
    rng = np.random.default_rng(seed)
    samples = dataset.samples
    audio = samples[samples["modality"] == "audio"]
    images = samples[samples["modality"] == "image"]
    by_digit = {d: rows["id"].to_numpy() for d, rows in images.groupby("label")}
    rows = []
    for digit, clips in audio.groupby("label"):
        ids = clips["id"].to_numpy()
        if clips_per_digit is not None:
            ids = rng.choice(ids, size=min(clips_per_digit, len(ids)), replace=False)
        for clip in ids:
            for image in rng.choice(by_digit[digit], size=links_per_clip, replace=False):
                rows.append((clip, image, DIGIT_RELATION))
    links = pd.DataFrame(rows, columns=["src", "dst", "relation"])
    return MultimodalDataset(samples, links, name=dataset.name, features=dataset.features)


def _digits_for_images(dataset: MultimodalDataset, seed: int) -> MultimodalDataset:
    return _link_digits(dataset, seed, links_per_clip=5)


def _digits_for_labels(dataset: MultimodalDataset, seed: int) -> MultimodalDataset:
    return _link_digits(dataset, seed, links_per_clip=1, clips_per_digit=10)


# ---------------------------------------------------------------------- the named tasks
TASKS: Registry[Task] = Registry("task")

for _task in (
    Task(
        name="emoji-image-text",
        description="Noto emoji image <-> English name and keywords, cold start by base emoji",
        kind="link", source="image", target="text_en", dataset="emoji",
        dataset_options={"languages": ("en",), "modalities": ("image", "text_en")},
        modalities=("image", "text_en"), split={"mode": "group"},
        encoders={"image": "efficientnet-lite0", "text_en": "minilm"},
    ),
    Task(
        name="emoji-style",
        description="Noto emoji image <-> OpenMoji drawing of the same emoji, cold start by base emoji",
        kind="link", source="image", target="openmoji", dataset="emoji",
        dataset_options={"languages": ("en",), "modalities": ("image", "openmoji")},
        modalities=("image", "openmoji"),
        split={"mode": "group"}, encoders={"image": "efficientnet-lite0", "openmoji": "efficientnet-lite0"},
    ),
    Task(
        name="emoji-crosslingual",
        description="English <-> Chinese emoji names; held-out emoji keep their image links only",
        kind="link", source="text_en", target="text_zh", dataset="emoji",
        dataset_options={"languages": ("en", "zh"), "modalities": ("image", "text_en", "text_zh")},
        modalities=("image", "text_en", "text_zh"),
        split={"mode": "partial", "hide": (("text_en",),)},
        encoders={"image": "efficientnet-lite0", "text_en": "minilm", "text_zh": "tfidf"},
    ),
    Task(
        name="emoji-group",
        description="Unicode group (9 classes) of held-out emoji images, cold start by base emoji",
        kind="label", source="image", dataset="emoji",
        dataset_options={"languages": ("en",), "modalities": ("image", "text_en")},
        modalities=("image", "text_en"), split={"mode": "group"},
        encoders={"image": "efficientnet-lite0", "text_en": "minilm"},
    ),
    Task(
        name="digits-audio-image",
        description="FSDD clip <-> MNIST image of the same digit, held-out speakers",
        kind="link", source="audio", target="image", dataset="digits", split={"mode": "group"},
        encoders={"audio": "logmel", "image": "pixels"}, prepare=_digits_for_images,
        same_label_is_link=True,
    ),
    Task(
        name="digits-audio-label",
        description="digit of held-out speakers' clips; only images carry labels, 10 clips per digit linked",
        kind="label", source="audio", dataset="digits", split={"mode": "group"},
        encoders={"audio": "logmel", "image": "pixels"}, prepare=_digits_for_labels,
        label_modalities=("image",),
    ),
    Task(
        name="openmoji-text",
        description="OpenMoji drawing <-> English name (embedded data, no shared data needed)",
        kind="link", source="openmoji", target="text_en", dataset="openmoji",
        split={"mode": "item"}, encoders={"openmoji": "efficientnet-lite0", "text_en": "minilm"},
    ),
):
    TASKS.register(_task.name, _task)


def get_task(task: str | Task) -> Task:
    """Resolves a task from its name or returns a :class:`Task` as it is."""
    return task if isinstance(task, Task) else TASKS.get(task)
