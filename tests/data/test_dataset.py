"""MultimodalDataset built from tables: access, item links and clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmgraph.data import DataError, MultimodalDataset
from mmgraph.testing import tiny_dataset


def _samples() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["i1", "i2", "t1", "t2", "t3"],
            "modality": ["image", "image", "text_en", "text_en", "text_en"],
            "path": ["a.png", "b.png", None, None, None],
            "text": [None, None, "a cat", "a dog", "a cow"],
            "item": ["cat", "dog", "cat", "dog", None],
            "label": ["animal"] * 5,
            "colour": ["red", "blue", None, None, None],  # extra metadata is kept
        }
    )


def test_tables_and_item_links() -> None:
    links = pd.DataFrame({"src": ["t3"], "dst": ["t1"], "relation": ["similar"]})
    dataset = MultimodalDataset(_samples(), links, name="pets")
    assert dataset.modalities == ["image", "text_en"]
    assert dataset.node_ids("text_en").tolist() == ["t1", "t2", "t3"]
    assert dataset.payloads("image") == ["a.png", "b.png"]
    assert dataset.labels("text_en").tolist() == ["animal"] * 3
    assert "colour" in dataset.samples.columns
    # Explicit links come first, in the order of the links table, then the item links.
    assert dataset.links[["src", "dst", "relation"]].values.tolist() == [
        ["t3", "t1", "similar"], ["i1", "t1", "same_item"], ["i2", "t2", "same_item"]
    ]
    by_type = dataset.links_by_type()
    assert by_type[("image", "same_item", "text_en")].tolist() == [[0, 1], [0, 1]]
    assert by_type[("text_en", "similar", "text_en")].tolist() == [[2], [0]]
    assert dataset.node_index()["t2"] == ("text_en", 1)
    assert repr(dataset) == "MultimodalDataset(name='pets', image=2, text_en=3, links=3)"
    assert "text_en -> text_en (similar): 1 links" in dataset.summary()


def test_subset_keeps_links_among_kept_samples() -> None:
    dataset = tiny_dataset()
    part = dataset.subset(["image", "audio"])
    assert part.modalities == ["image", "audio"]
    assert set(part.features) == {"image", "audio"}
    assert set(part.edge_types()) == {("image", "same_item", "audio")}


def test_tiny_dataset() -> None:
    dataset = tiny_dataset(seed=3)
    assert dataset.modalities == ["image", "text_en", "audio"]
    assert dataset.features["audio"].shape == (24, 8)
    assert dataset.samples["group"].nunique() == 12
    assert tiny_dataset(seed=3).samples.equals(dataset.samples)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.assign(id=["i1", "i2", "t1", "i2", "t3"]),
         r"sample id 'i2' at row 4 is a duplicate of row 2"),
        (lambda s: s.assign(modality=["image", "image", "text_en", " ", "text_en"]),
         r"empty 'modality' at row 4 \(id 't2'\)"),
        (lambda s: s.assign(id=["i1", "i2", None, "t2", "t3"]), r"empty 'id' at row 3"),
        (lambda s: s.assign(text=[None, None, "a cat", None, "a cow"]),
         r"row 4 \(id 't2'\) has neither 'path' nor 'text'"),
        (lambda s: s.assign(text=["x", None, "a cat", "a dog", "a cow"]),
         r"row 1 \(id 'i1'\) has both 'path' and 'text'"),
        (lambda s: s.drop(columns="modality"), r"no column \['modality'\]"),
    ],
)
def test_bad_samples(change, message: str) -> None:
    with pytest.raises(DataError, match=message):
        MultimodalDataset(change(_samples()))


def test_bad_links_name_the_row() -> None:
    links = pd.DataFrame({"src": ["t1", "t9"], "dst": ["t2", "t1"], "relation": ["r", "r"]})
    with pytest.raises(DataError, match=r"link at row 2 of the links table \('t9' -> 't1'\).*'t9'"):
        MultimodalDataset(_samples(), links)
    links = pd.DataFrame({"src": ["t1"], "dst": ["t2"], "split": ["dev"]})
    with pytest.raises(DataError, match=r"row 1 of the links table has split 'dev'"):
        MultimodalDataset(_samples(), links)


def test_bad_features() -> None:
    samples = _samples()[["id", "modality", "item"]]
    with pytest.raises(DataError, match=r"shape \(3, 4\); expected \(2, dim\)"):
        MultimodalDataset(
            samples, features={"image": np.zeros((3, 4)), "text_en": np.zeros((3, 4))}
        )
    with pytest.raises(DataError, match="NaN"):
        MultimodalDataset(samples, features={"image": np.full((2, 4), np.nan),
                                             "text_en": np.zeros((3, 4))})
    with pytest.raises(DataError, match="modality 'audio', which has no samples"):
        MultimodalDataset(_samples(), features={"audio": np.zeros((1, 4))})


def test_unknown_modality() -> None:
    with pytest.raises(DataError, match=r"no modality 'audio'. Choose one of \['image', 'text_en"):
        MultimodalDataset(_samples()).node_ids("audio")
