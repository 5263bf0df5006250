"""WN18RR on the real data."""

from __future__ import annotations

from mmgraph.data import split_dataset


def test_counts(wn18rr) -> None:
    dataset = wn18rr
    assert dataset.modalities == ["entity"] and len(dataset) == 40943
    assert dataset.links["split"].value_counts().to_dict() == {
        "train": 86828, "test": 3134, "val": 3032  # the files less their 9 self-loops
    }
    assert dataset.links["relation"].nunique() == 11
    # Every entity of every triple has a text (the dataset validated its link ends).
    assert set(dataset.links["src"]) | set(dataset.links["dst"]) <= set(dataset.samples["id"])
    samples = dataset.samples.set_index("id")
    assert samples.loc["entity:00260881", "synset"] == "00260881"  # leading zeros kept
    assert samples.loc["entity:14854262", "text"].startswith("stool, solid excretory product")


def test_texts_with_quotes_are_kept_whole(wn18rr) -> None:
    texts = wn18rr.samples["text"]
    assert texts.str.contains('"').any()
    assert texts.notna().all()


def test_predefined_split(wn18rr) -> None:
    split = split_dataset(wn18rr, mode="predefined")
    assert len(split.links("train")) == 86828
    assert len(split.links("val")) == 3032
    assert len(split.links("test")) == 3134
