"""The spoken and written digits on the real data."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

from mmgraph.data import DataError
from mmgraph.datasets import load
from mmgraph.datasets.digits import MNIST_LABELS, read_idx

SPEAKERS = {"george", "jackson", "lucas", "nicolas", "theo", "yweweler"}


def test_audio(data_root: Path) -> None:
    dataset = load("digits", root=data_root, modalities=("audio",))
    samples = dataset.samples
    assert len(samples) == 3000 and dataset.modalities == ["audio"]
    assert set(samples["speaker"]) == SPEAKERS and (samples["group"] == samples["speaker"]).all()
    assert samples["label"].value_counts().to_dict() == {str(d): 300 for d in range(10)}
    assert samples.groupby(["speaker", "label"]).size().eq(50).all()
    assert samples["id"].iloc[0] == "audio:0_george_0" and samples["recording"].iloc[0] == 0
    assert len(dataset.links) == 0 and samples["item"].isna().all()
    wave, rate = soundfile.read(samples["path"].iloc[0])
    assert rate == 8000 and wave.ndim == 1 and len(wave) > 1000


def test_mnist_labels_are_the_test_set(data_root: Path) -> None:
    labels = read_idx(data_root / MNIST_LABELS)
    assert labels.shape == (10000,)
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    counts = np.bincount(labels)
    assert counts[0] == 980 and counts[9] == 1009


def test_mnist_images(data_root: Path) -> None:
    dataset = load("digits", root=data_root, modalities=("image",), mnist_limit=20)
    assert dataset.node_ids("image")[:2].tolist() == ["image:00000", "image:00001"]
    assert dataset.labels("image")[:10].tolist() == list("7210414959")
    for path in dataset.payloads("image")[:5]:
        with Image.open(path) as image:
            pixels = np.asarray(image)
        assert image.mode == "L" and pixels.shape == (28, 28)
        assert pixels.max() > 200 and (pixels < 30).mean() > 0.5  # white stroke on black


def test_read_idx_rejects_other_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gz"
    with gzip.open(bad, "wb") as handle:
        handle.write(b"\x00\x00\x08\x01\x00\x00\x00\x05abc")  # promises 5 bytes, holds 3
    with pytest.raises(DataError, match="promises"):
        read_idx(bad)


def test_options_are_checked(data_root: Path) -> None:
    with pytest.raises(DataError, match=r"'mnist_limit' option of 'digits' must be an int >= 1"):
        load("digits", root=data_root, mnist_limit=0)
    with pytest.raises(DataError, match=r"'modalities' option of 'digits' got 'video'"):
        load("digits", root=data_root, modalities=("video",))


@pytest.mark.slow
def test_full_digits(data_root: Path) -> None:
    dataset = load("digits", root=data_root)
    assert dataset.modalities == ["audio", "image"]
    assert len(dataset.node_ids("audio")) == 3000
    assert len(dataset.node_ids("image")) == 10000
    labels = dataset.labels("image")
    assert (labels == "0").sum() == 980 and (labels == "9").sum() == 1009
    assert all(Path(p).is_file() for p in dataset.payloads("image"))
    with Image.open(dataset.payloads("image")[-1]) as image:
        assert image.size == (28, 28)
