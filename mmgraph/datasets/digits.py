"""Spoken digits (FSDD recordings) and written digits (the MNIST test set).

Reads ``fsdd/recordings/{digit}_{speaker}_{index}.wav`` and
``mnist/t10k-{images-idx3,labels-idx1}-ubyte.gz`` from the data folder. The MNIST images
are decoded from the IDX format and written once as PNG files into the cache.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from mmgraph.data.dataset import DataError, MultimodalDataset
from mmgraph.datasets._checks import check_int, check_names
from mmgraph.datasets._paths import cache_dir, file_digest, require, save_png_atomic

FSDD_RECORDINGS = "fsdd/recordings"
MNIST_IMAGES = "mnist/t10k-images-idx3-ubyte.gz"
MNIST_LABELS = "mnist/t10k-labels-idx1-ubyte.gz"
_RECORDING = re.compile(r"(\d)_([a-z]+)_(\d+)\.wav")
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path) -> np.ndarray:
    """Decodes a gzip-compressed IDX file (the MNIST format) into an array.

    Shapes:
        return: the dimensions stored in the file, ``(10000, 28, 28)`` for MNIST images.
    """
    with gzip.open(path, "rb") as handle:
        data = handle.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise DataError(f"{str(path)!r} is not an IDX file (bad magic number {data[:4]!r}).")
    ndim = data[3]
    shape = tuple(int(n) for n in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[data[2]])
    expected = 4 + 4 * ndim + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise DataError(
            f"{str(path)!r} holds {len(data)} bytes; its header {shape} promises {expected}."
        )
    return np.frombuffer(data, dtype=dtype, offset=4 + 4 * ndim).reshape(shape)


def _audio(root: Path) -> pd.DataFrame:
    folder = require(root, FSDD_RECORDINGS, dataset="digits")
    rows = []
    for path in sorted(folder.glob("*.wav")):
        match = _RECORDING.fullmatch(path.name)
        if match is None:
            continue
        digit, speaker, index = match.groups()
        rows.append((f"audio:{path.stem}", str(path), digit, speaker, speaker, int(index)))
    if not rows:
        raise DataError(f"No recording named like '3_theo_12.wav' in {str(folder)!r}.")
    table = pd.DataFrame(rows, columns=["id", "path", "label", "group", "speaker", "recording"])
    order = np.lexsort((table["recording"], table["speaker"], table["label"]))
    table = table.iloc[order].reset_index(drop=True)
    table.insert(1, "modality", "audio")
    return table


def _images(root: Path, limit: int | None) -> pd.DataFrame:
    images_path = require(root, MNIST_IMAGES, dataset="digits")
    labels = read_idx(require(root, MNIST_LABELS, dataset="digits"))
    count = len(labels) if limit is None else min(limit, len(labels))
    folder = cache_dir("mnist", f"t10k-{file_digest(images_path)}")
    paths = [folder / f"{i:05d}.png" for i in range(count)]
    if not all(path.exists() for path in paths):
        images = read_idx(images_path)
        if images.shape[0] != len(labels):
            raise DataError(f"MNIST has {images.shape[0]} images but {len(labels)} labels.")
        for i, path in enumerate(paths):
            if not path.exists():
                save_png_atomic(Image.fromarray(images[i]), path)
    return pd.DataFrame(
        {
            "id": [f"image:{i:05d}" for i in range(count)],
            "modality": "image",
            "path": [str(p) for p in paths],
            "label": [str(int(d)) for d in labels[:count]],
        }
    )


def load_digits(
    root: Path,
    *,
    modalities: Sequence[str] | None = None,
    mnist_limit: int | None = None,
) -> MultimodalDataset:
    """Spoken digits (``audio``, FSDD) and handwritten digits (``image``, MNIST test set).

    The label is the digit (``"0"`` to ``"9"``). Audio samples have the speaker as group and
    in the column ``speaker``, and the recording index in ``recording`` (FSDD's own test set
    is recordings 0-4 of each speaker and digit). There are no items or links: tasks link
    the two modalities by digit.

    Args:
        root: the data folder.
        modalities: keep only these of ``("audio", "image")`` (default: both).
        mnist_limit: keep the first this many MNIST images (default: all 10,000).

    Returns:
        The dataset: ids ``audio:3_theo_12`` and ``image:00042``.
    """
    loader = "digits"
    choices = ("audio", "image")
    modalities = choices if modalities is None else check_names(
        modalities, choices, param="modalities", loader=loader
    )
    mnist_limit = check_int(mnist_limit, param="mnist_limit", loader=loader, allow_none=True)
    tables = []
    for modality in modalities:
        tables.append(_audio(root) if modality == "audio" else _images(root, mnist_limit))
    return MultimodalDataset(pd.concat(tables, ignore_index=True), name="digits")
