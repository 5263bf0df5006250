"""The synthetic generator."""

from __future__ import annotations

import numpy as np
import pytest

from mmgraph.data import DataError
from mmgraph.datasets import load


def test_shape_and_links() -> None:
    dataset = load("synthetic", num_items=50, modalities=("x", "y"), num_classes=4, dim=6)
    assert dataset.modalities == ["x", "y"]
    assert dataset.features["x"].shape == (50, 6) and dataset.features["x"].dtype == np.float32
    assert len(dataset.links) == 50 and set(dataset.links["relation"]) == {"same_item"}
    assert set(dataset.labels("x")) <= {"0", "1", "2", "3"}
    assert (dataset.labels("x") == dataset.labels("y")).all()
    assert dataset.samples["path"].isna().all() and dataset.samples["text"].isna().all()


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_deterministic_for_a_seed(seed: int) -> None:
    a = load("synthetic", num_items=30, seed=seed)
    b = load("synthetic", num_items=30, seed=seed)
    c = load("synthetic", num_items=30, seed=seed + 1)
    assert a.samples.equals(b.samples)
    assert all(np.array_equal(a.features[m], b.features[m]) for m in a.modalities)
    assert not np.array_equal(a.features["a"], c.features["a"])


@pytest.mark.parametrize("num_items", [1, 7, 1500])
def test_any_size(num_items: int) -> None:
    dataset = load("synthetic", num_items=num_items)
    assert len(dataset) == 3 * num_items and len(dataset.links) == 3 * num_items


def test_item_samples_are_nearer_than_others() -> None:
    dataset = load("synthetic", num_items=100, noise=0.1, seed=3)
    a, b = dataset.features["a"], dataset.features["b"]
    mapping, *_ = np.linalg.lstsq(a, b, rcond=None)
    distances = np.linalg.norm((a @ mapping)[:, None] - b[None], axis=2)
    assert (distances.argmin(axis=1) == np.arange(100)).mean() > 0.9


def test_link_fraction() -> None:
    dataset = load("synthetic", num_items=40, link_fraction=0.25, modalities=("a", "b"))
    assert len(dataset.links) == 10
    assert dataset.samples["item"].notna().sum() == 20
    assert dataset.samples["true_item"].notna().all()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"num_items": 0}, "'num_items' option of 'synthetic' must be an int >= 1"),
        ({"dim": 2.5}, "'dim' option"),
        ({"noise": -1}, "'noise' option"),
        ({"link_fraction": 1.5}, "'link_fraction' option"),
        ({"modalities": ("a", "a")}, "distinct names"),
        ({"modalities": "abc"}, "distinct names"),
    ],
)
def test_bad_options(options: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        load("synthetic", **options)
