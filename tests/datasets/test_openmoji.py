"""The OpenMoji dataset, which needs no shared data."""

from __future__ import annotations

import pytest

from mmgraph.data import DataError
from mmgraph.datasets import load
from mmgraph.datasets.openmoji import openmoji_items, unicode_block


@pytest.fixture
def no_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MMGRAPH_DATA", raising=False)


@pytest.mark.usefixtures("no_data")
def test_loads_without_the_shared_data() -> None:
    dataset = load("openmoji", limit=30)
    assert dataset.modalities == ["openmoji", "text_en"]
    assert len(dataset.node_ids("openmoji")) == 30
    assert len(dataset.links) == 30
    assert dataset.samples["label"].notna().all() and dataset.samples["group"].notna().all()
    assert all(name and ":" not in name for name in dataset.payloads("text_en"))
    assert load("openmoji", limit=30).samples.equals(dataset.samples)  # same choice every time


@pytest.mark.usefixtures("no_data")
def test_languages_and_modalities() -> None:
    dataset = load(
        "openmoji", limit=10, languages=("en", "de", "zh"), modalities=("text_de", "text_zh")
    )
    assert dataset.modalities == ["text_de", "text_zh"]
    with pytest.raises(DataError, match=r"'languages' option of 'openmoji' got 'hi'"):
        load("openmoji", languages=("hi",))
    with pytest.raises(DataError, match=r"'limit' option of 'openmoji' must be an int >= 1"):
        load("openmoji", limit=-1)


def test_helpers() -> None:
    assert {"1F600", "263A", "0023-20E3"} <= openmoji_items()  # keyed without FE0F
    assert unicode_block("1F600") == "Emoticons"
    assert unicode_block("1F1FA-1F1F8") == "Flags"
    assert unicode_block("1F3F4-E0067-E0062-E0065-E006E-E0067-E007F") == "Flags"
    assert unicode_block("0023-FE0F-20E3") == "Latin"


@pytest.mark.slow
@pytest.mark.usefixtures("no_data")
def test_full_openmoji() -> None:
    dataset = load("openmoji")
    count = len(dataset.node_ids("openmoji"))
    assert 3900 < count < 4000  # fully-qualified emoji of the emoji package that OpenMoji draws
    assert len(dataset.node_ids("text_en")) == count
    assert dataset.samples["label"].nunique() > 10
    groups = dataset.samples.set_index("id")["group"]
    assert groups["openmoji:1F44B"] == groups["openmoji:1F44B-1F3FB"]
