"""Tiny fake data for tests, made on the spot: no network and no shared data needed.

Example:
    >>> from mmgraph.testing import tiny_dataset
    >>> tiny_dataset().modalities
    ['image', 'text_en', 'audio']
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile
import torch
from PIL import Image

from mmgraph.data.dataset import DataError, MultimodalDataset
from mmgraph.data.prepared import LinkQueries
from mmgraph.data.triples import Triples
from mmgraph.datasets import SPLIT_FILES
from mmgraph.datasets.synthetic import load_synthetic

MANIFEST_FORMATS = ("csv", "jsonl", "parquet")

# item, label, group, English text, French text, image colour, tone frequency (Hz) or None
TINY_ITEMS: tuple[tuple[str, str, str, str, str, tuple[int, int, int], float | None], ...] = (
    ("cat", "animal", "pets", "a small cat", "un petit chat", (200, 120, 40), 440.0),
    ("dog", "animal", "pets", "a friendly dog", "un chien amical", (120, 80, 40), 330.0),
    ("sun", "sky", "day", "the bright sun", "le soleil brillant", (250, 220, 0), 880.0),
    ("moon", "sky", "night", "the pale moon", "la lune pâle", (200, 200, 220), 220.0),
    ("tree", "plant", "garden", "a tall tree", "un grand arbre", (30, 140, 40), None),
    ("rose", "plant", "garden", "a red rose", "une rose rouge", (220, 20, 60), None),
)
TINY_LINKS = (
    ("image:cat", "image:dog", "similar"),
    ("image:sun", "image:moon", "similar"),
    ("text_en:tree", "text_fr:rose", "mentions"),
)


def tiny_dataset(seed: int = 0) -> MultimodalDataset:
    """A small synthetic dataset with features: 24 items seen as ``image``, ``text_en`` and
    ``audio`` (8-d features), 3 classes, and groups of two items each.

    Args:
        seed: seed of the features and classes.
    """
    base = load_synthetic(
        num_items=24, modalities=("image", "text_en", "audio"), num_classes=3, dim=8, seed=seed
    )
    samples = base.samples.copy()
    samples["group"] = [f"group{int(item[4:]) // 2}" for item in samples["true_item"]]
    return MultimodalDataset(samples, name="tiny", features=base.features)


def write_tiny_manifest(directory: str | os.PathLike, *, fmt: str = "csv") -> Path:
    """Writes a tiny real-file dataset and its manifest into ``directory``.

    Six items (cat, dog, sun, moon, tree, rose) as ``image`` (16x16 PNG files), ``audio``
    (0.1 s WAV tones at 8 kHz, four items), ``text_en`` and ``text_fr`` (inline texts), with
    labels (animal, sky, plant) and groups. Next to the manifest, ``links.<fmt>`` holds three
    explicit links (relations ``similar`` and ``mentions``).

    Args:
        directory: the folder to write into (created if needed).
        fmt: ``"csv"``, ``"jsonl"`` or ``"parquet"``.

    Returns:
        The path of the manifest, ``directory / "manifest.<fmt>"``; file paths in it are
        relative to ``directory``.
    """
    if fmt not in MANIFEST_FORMATS:
        raise DataError(f"fmt must be one of {MANIFEST_FORMATS}. Got {fmt!r} instead.")
    directory = Path(directory)
    (directory / "images").mkdir(parents=True, exist_ok=True)
    (directory / "audio").mkdir(exist_ok=True)
    rows = []
    for item, label, group, english, french, colour, tone in TINY_ITEMS:
        image = Image.new("RGB", (16, 16), colour)
        image.putpixel((4, 4), (255, 255, 255))
        image.save(directory / "images" / f"{item}.png")
        common = {"item": item, "label": label, "group": group}
        rows.append(
            {"id": f"image:{item}", "modality": "image", "path": f"images/{item}.png", **common}
        )
        if tone is not None:
            time = np.arange(800) / 8000.0
            wave = (0.3 * np.sin(2 * np.pi * tone * time)).astype(np.float32)
            soundfile.write(directory / "audio" / f"{item}.wav", wave, 8000, subtype="PCM_16")
            rows.append(
                {"id": f"audio:{item}", "modality": "audio", "path": f"audio/{item}.wav", **common}
            )
        rows.append({"id": f"text_en:{item}", "modality": "text_en", "text": english, **common})
        rows.append({"id": f"text_fr:{item}", "modality": "text_fr", "text": french, **common})
    columns = ["id", "modality", "path", "text", "item", "label", "group"]
    manifest = pd.DataFrame(rows, columns=columns)
    links = pd.DataFrame(TINY_LINKS, columns=["src", "dst", "relation"])
    path = directory / f"manifest.{fmt}"
    write_table(manifest, path)
    write_table(links, directory / f"links.{fmt}")
    return path


# class: (colour, English word, French word, tone in Hz)
ITEM_CLASSES: dict[str, tuple[tuple[int, int, int], str, str, float]] = {
    "fruit": ((220, 40, 40), "apple fruit", "pomme fruit", 330.0),
    "sky": ((40, 80, 220), "blue sky", "ciel bleu", 660.0),
    "plant": ((40, 180, 60), "green leaf", "feuille verte", 990.0),
}
ITEM_MODALITIES = ("image", "text_en", "text_fr", "audio")
"""The modalities of every item of :func:`write_item_manifest`."""
ITEM_ENCODERS = {"image": "pixels", "text_en": "tfidf", "text_fr": "tfidf", "audio": "logmel"}
"""Encoders of :func:`write_item_manifest`'s modalities that need no weights (offline, seconds)."""


def write_item_manifest(directory: str | os.PathLike, *, items_per_class: int = 12) -> Path:
    """Writes a manifest of items with an image, texts in two languages and an audio clip each.

    ``items_per_class`` items of each of :data:`ITEM_CLASSES` (item ``fruit0``, ...): a noisy
    16x16 PNG of the class colour, an English and a French name with the item's number, and a
    0.2 s WAV tone of the class frequency; every sample carries its item and class label.

    Returns:
        The path of ``directory / "manifest.csv"``; file paths in it are relative to ``directory``.
    """
    directory = Path(directory)
    rng = np.random.default_rng(0)
    (directory / "images").mkdir(parents=True)
    (directory / "audio").mkdir()
    rows = []
    for label, (colour, english, french, tone) in ITEM_CLASSES.items():
        for k in range(items_per_class):
            item = f"{label}{k}"
            pixels = np.clip(np.array(colour) + rng.normal(0, 30, (16, 16, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(directory / "images" / f"{item}.png")
            time = np.arange(1600) / 8000.0
            wave = 0.3 * np.sin(2 * np.pi * tone * (1 + 0.02 * rng.normal()) * time) + 0.01 * rng.normal(size=1600)
            soundfile.write(directory / "audio" / f"{item}.wav", wave.astype(np.float32), 8000, subtype="PCM_16")
            common = {"item": item, "label": label}
            rows += [
                {"id": f"image:{item}", "modality": "image", "path": f"images/{item}.png", **common},
                {"id": f"text_en:{item}", "modality": "text_en", "text": f"{english} number {k}", **common},
                {"id": f"text_fr:{item}", "modality": "text_fr", "text": f"{french} numéro {k}", **common},
                {"id": f"audio:{item}", "modality": "audio", "path": f"audio/{item}.wav", **common},
            ]
    path = directory / "manifest.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def write_table(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Writes a table as CSV, JSONL or Parquet by the suffix of ``path`` (missing = empty)."""
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "csv":
        table.to_csv(path, index=False)
    elif suffix == "jsonl":
        records = [
            {k: v for k, v in row.items() if pd.notna(v)} for row in table.to_dict("records")
        ]
        with open(path, "w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif suffix == "parquet":
        table.to_parquet(path, index=False)
    else:
        raise DataError(f"Cannot write {str(path)!r}: use a .csv, .jsonl or .parquet suffix.")


def write_wn18rr(triples: Triples, root: str | os.PathLike) -> Path:
    """``triples`` as the files of a WN18RR data folder: ``root/wn18rr/entity2text.txt`` and the splits."""
    root = Path(root)
    folder = root / "wn18rr"
    folder.mkdir(parents=True)
    texts = triples.entity_texts or ()
    lines = (f"{e}\t{t}\n" for e, t in zip(triples.entities, texts, strict=True))
    (folder / "entity2text.txt").write_text("".join(lines))
    for split, relative in SPLIT_FILES.items():
        rows = triples[split].tolist()
        (root / relative).write_text(
            "".join(f"{triples.entities[h]}\t{triples.relations[r]}\t{triples.entities[t]}\n" for h, r, t in rows)
        )
    return root


def chance_mrr(queries: LinkQueries) -> float:
    """The MRR of a ranking drawn uniformly at random, per question (filtered competitors): what a
    model that reads no feature can reach at most under an honest protocol."""
    known = queries.known_pairs()
    others = known.mask(queries.links[0], queries.candidates).sum(1) - 1  # other true answers
    m = queries.candidates.numel() - others
    harmonic = torch.cat([torch.zeros(1), torch.cumsum(1 / torch.arange(1, queries.candidates.numel() + 1), 0)])
    return float((harmonic[m] / m).mean())
