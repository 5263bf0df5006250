"""The named tasks (see :class:`mmgraph.data.task.Task` for what a task holds)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mmgraph.data import MultimodalDataset
from mmgraph.data.task import Task
from mmgraph.datasets.emoji import CLDR_LANGUAGES
from mmgraph.errors import ConfigError, DataError
from mmgraph.registry import Registry

__all__ = ["TASKS", "Task", "get_task", "task_spec"]

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


# ---------------------------------------------------------------------- emoji items
EMOJI_TEXTS: tuple[str, ...] = tuple(f"text_{language}" for language in CLDR_LANGUAGES)
EMOJI_ITEM_MODALITIES: tuple[str, ...] = ("image", "openmoji", *EMOJI_TEXTS)
"""The samples of one emoji item: its Noto image, its OpenMoji drawing, its names in 11 languages."""
# MiniLM (an English model) reads the Latin-script names; the names in other scripts (Arabic,
# Devanagari, Japanese, Korean, Cyrillic, Chinese) get TF-IDF character n-grams, as text_zh does in
# emoji-crosslingual, since MiniLM's vocabulary splits them into unknown pieces.
_LATIN_SCRIPT = ("de", "en", "es", "fr", "pt")
EMOJI_ITEM_ENCODERS: dict[str, str] = {
    "image": "efficientnet-lite0", "openmoji": "efficientnet-lite0",
    **{f"text_{language}": "minilm" if language in _LATIN_SCRIPT else "tfidf" for language in CLDR_LANGUAGES},
}


def _emoji_subgroups(dataset: MultimodalDataset, seed: int) -> MultimodalDataset:
    """The emoji with their Unicode subgroup (the ``subgroup`` column) as the label."""
    samples = dataset.samples.assign(label=dataset.samples["subgroup"])
    return MultimodalDataset(samples, name=dataset.name, features=dataset.features)


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
        # Chinese names stay in the graph through their images: a catalogue of known samples.
        candidates="all",
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
        same_label_is_link=True, candidates="all",  # every MNIST image: a fixed catalogue
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
    Task(
        name="wn18rr",
        description="WN18RR triples: every synset ranked as head and tail (filtered), entities read as lemma + gloss",
        kind="kg", source="entity", dataset="wn18rr", split={"mode": "predefined"}, encoders={"entity": "minilm"},
    ),
    Task(
        name="emoji-items-group",
        description="Unicode group (9) of held-out emoji items: images and names in 11 languages, each kept "
        "with probability keep",
        kind="label", source="image", dataset="emoji", dataset_options={"modalities": EMOJI_ITEM_MODALITIES},
        modalities=EMOJI_ITEM_MODALITIES, split={"mode": "group"}, encoders=EMOJI_ITEM_ENCODERS,
        label_modalities=EMOJI_ITEM_MODALITIES, query="item",
    ),
    Task(
        name="emoji-items-subgroup",
        description="Unicode subgroup (99) of held-out emoji items: images and names in 11 languages, each "
        "kept with probability keep",
        kind="label", source="image", dataset="emoji", dataset_options={"modalities": EMOJI_ITEM_MODALITIES},
        modalities=EMOJI_ITEM_MODALITIES, split={"mode": "group"}, encoders=EMOJI_ITEM_ENCODERS,
        prepare=_emoji_subgroups, label_modalities=EMOJI_ITEM_MODALITIES, query="item",
    ),
    Task(
        name="emoji-items-text",
        description="English name of held-out emoji items among the held-out names, from their images and "
        "names in 10 other languages",
        kind="link", source="image", target="text_en", dataset="emoji",
        dataset_options={"modalities": EMOJI_ITEM_MODALITIES}, modalities=EMOJI_ITEM_MODALITIES,
        split={"mode": "group"}, encoders=EMOJI_ITEM_ENCODERS, query="item",
    ),
):
    TASKS.register(_task.name, _task)


def get_task(task: str | Task | Mapping[str, Any]) -> Task:
    """Resolves a task from its name or its :meth:`Task.spec`, or returns a :class:`Task` as it is.

    A name may add the options of an item task after colons (:meth:`Task.variant`):
    ``"emoji-items-group:keep=0.5"``, ``"emoji-items-text:only=image"``.
    """
    if isinstance(task, Task):
        return task
    if isinstance(task, Mapping):
        return Task.from_spec(task)
    name, *options = str(task).split(":")
    named = TASKS.get(name)
    for option in options:
        named = named.variant(option)
    return named


def task_spec(task: Task) -> str | dict[str, Any]:
    """What :func:`get_task` rebuilds ``task`` from: the name of a named task (or of its variant)
    left as it is, else every setting as JSON values (:meth:`Task.spec`)."""
    try:
        named = get_task(task.name)
    except (ConfigError, DataError):  # not a name of the registry
        return task.spec()
    return task.name if named == task else task.spec()
