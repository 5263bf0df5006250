"""Splits: every mode, and leakage checked from the outputs alone, on synthetic and real data.

The checks below read only what a split hands out (``sample_split`` and ``links(part)``) and
the dataset's own tables; they do not reuse any of the split code.
"""

from __future__ import annotations

import pandas as pd
import pytest

from mmgraph.data import DataError, DatasetSplit, MultimodalDataset, split_dataset
from mmgraph.datasets import load
from mmgraph.testing import tiny_dataset

PARTS = ("train", "val", "test")
SEEDS = [0, 1, 2, 3, 4]
HELD_OUT = {"val": ("train",), "test": ("train", "val")}  # a part must not leak into these


def _keys(table: pd.DataFrame, *, undirected: bool = True) -> set[tuple]:
    """Links as (ends, relation); undirected: a reverse edge counts as the same link."""
    triples = zip(table["src"], table["dst"], table["relation"], strict=True)
    if undirected:
        return {(frozenset((s, d)), r) for s, d, r in triples}
    return set(triples)


def check_links_partitioned(split: DatasetSplit, *, undirected: bool = True) -> None:
    """Every link is in exactly one part, and no held-out link appears in an earlier part."""
    tables = {part: split.links(part) for part in PARTS}
    assert sum(len(t) for t in tables.values()) == len(split.dataset.links)
    keys = {part: _keys(t, undirected=undirected) for part, t in tables.items()}
    for part, earlier in HELD_OUT.items():
        for other in earlier:
            assert not keys[part] & keys[other], f"{part} links leak into {other}"


def check_cold_start(split: DatasetSplit) -> None:
    """item/group modes: a held-out sample is the end of no link of an earlier part."""
    part_of = split.sample_split
    for part, earlier in HELD_OUT.items():
        held_out = set(part_of.index[part_of == part])
        for other in earlier:
            table = split.links(other)
            touched = set(table["src"]) | set(table["dst"])
            assert not held_out & touched, f"{part} samples appear in {other} links"
    for part in PARTS:  # a link's ends are never in a later part than the link
        table = split.links(part)
        for column in ("src", "dst"):
            ends = table[column].map(part_of)
            assert ends.map(PARTS.index).le(PARTS.index(part)).all()


def check_units_together(split: DatasetSplit, column: str) -> None:
    """All samples sharing an item (or group) land in one part."""
    samples = split.dataset.samples.assign(part=split.dataset.samples["id"].map(split.sample_split))
    spread = samples.dropna(subset=[column]).groupby(column)["part"].nunique()
    assert (spread == 1).all(), f"{column} straddles parts: {spread[spread > 1].index[:5].tolist()}"


def check_partial(split: DatasetSplit, hidden_modality: str) -> None:
    """partial mode: held-out samples keep only non-hidden links in training, and every hidden
    link of a held-out sample is held out with it (in the most held-out part of its ends)."""
    samples = split.dataset.samples
    modality = dict(zip(samples["id"], samples["modality"], strict=True))
    part_of = split.sample_split

    def hidden(table: pd.DataFrame) -> pd.Series:
        return (table["src"].map(modality) == hidden_modality) | (
            table["dst"].map(modality) == hidden_modality
        )

    train = split.links("train")
    held_out_end = (train["src"].map(part_of) != "train") | (train["dst"].map(part_of) != "train")
    assert not (hidden(train) & held_out_end).any()
    for part in ("val", "test"):
        table = split.links(part)
        assert hidden(table).all(), "only hidden relation types are held out"
    every = split.dataset.links
    for part in ("val", "test"):
        held_out = set(part_of.index[part_of == part])
        touches = every["src"].isin(held_out) | every["dst"].isin(held_out)
        touching = every[hidden(every) & touches]
        expected = _keys(touching)
        if part == "val":  # a val sample's hidden link to a test sample belongs to test
            test_ids = set(part_of.index[part_of == "test"])
            touching = touching[~(touching["src"].isin(test_ids) | touching["dst"].isin(test_ids))]
            expected = _keys(touching)
        assert expected <= _keys(split.links(part))


def check_sizes(split: DatasetSplit, *, val: float, test: float) -> None:
    counts = split.sample_split.value_counts(normalize=True)
    assert abs(counts.get("test", 0) - test) < 0.1 and abs(counts.get("val", 0) - val) < 0.1


# ----------------------------------------------------------------- synthetic data
@pytest.fixture(scope="module")
def synthetic() -> MultimodalDataset:
    base = load("synthetic", num_items=120, modalities=("a", "b", "c"), seed=5)
    samples = base.samples.copy()
    samples["group"] = [f"g{int(item[4:]) % 37}" for item in samples["true_item"]]
    # explicit links across items, including reverse pairs, to stress the link assignment
    links = pd.DataFrame(
        {
            "src": ["a:000", "b:001", "a:010", "c:020", "a:030"],
            "dst": ["a:001", "b:000", "b:011", "c:021", "a:031"],
            "relation": ["near", "near", "near", "near", "near"],
        }
    )
    return MultimodalDataset(samples, links, name="synthetic+", features=base.features)


@pytest.mark.parametrize("seed", SEEDS)
def test_item_mode(synthetic: MultimodalDataset, seed: int) -> None:
    split = split_dataset(synthetic, mode="item", val=0.1, test=0.2, seed=seed)
    check_links_partitioned(split)
    check_cold_start(split)
    check_units_together(split, "item")
    check_sizes(split, val=0.1, test=0.2)
    assert len(split.links("test")) and len(split.links("val"))


@pytest.mark.parametrize("seed", SEEDS)
def test_group_mode(synthetic: MultimodalDataset, seed: int) -> None:
    split = split_dataset(synthetic, mode="group", val=0.15, test=0.25, seed=seed)
    check_links_partitioned(split)
    check_cold_start(split)
    check_units_together(split, "group")
    check_units_together(split, "item")


@pytest.mark.parametrize("seed", SEEDS)
def test_partial_mode(synthetic: MultimodalDataset, seed: int) -> None:
    split = split_dataset(synthetic, mode="partial", hide=["c"], seed=seed)
    check_links_partitioned(split)
    check_partial(split, "c")
    # Only the hidden modality is held out; the others keep their links, so they are in the graph.
    held_out = split.sample_split[split.sample_split != "train"]
    assert len(held_out) and all(s.startswith("c:") for s in held_out.index)
    c = synthetic.samples[synthetic.samples["modality"] == "c"]
    assert (c.assign(part=c["id"].map(split.sample_split)).groupby("group")["part"].nunique() == 1).all()
    # a held-out 'c' sample loses its links, whose other end (an 'a' of its unit) stays in training
    test_c = [s for s in split.sample_ids("test") if s.startswith("c:")][0]
    test = split.links("test")
    partner = test.loc[test["dst"] == test_c, "src"]
    assert len(partner) and (split.sample_split[partner] == "train").all()
    train = split.links("train")
    assert not ((train["src"] == test_c) | (train["dst"] == test_c)).any()


def test_partial_mode_with_a_pair_and_an_edge_type(synthetic: MultimodalDataset) -> None:
    by_pair = split_dataset(synthetic, mode="partial", hide=[("c", "b")], seed=1)
    by_type = split_dataset(synthetic, mode="partial", hide=[("b", "same_item", "c")], seed=1)
    assert (by_pair.link_split == by_type.link_split).all()
    held = by_pair.dataset.link_edge_types(by_pair.links("test"))
    assert set(held) == {("b", "same_item", "c")}


def test_predefined_mode(tmp_path) -> None:
    samples = pd.DataFrame({"id": list("abcd"), "modality": "t", "text": list("abcd")})
    links = pd.DataFrame(
        {"src": list("abca"), "dst": list("bcdd"), "relation": "r",
         "split": ["train", "train", "val", "test"]}
    )
    split = split_dataset(MultimodalDataset(samples, links), mode="predefined")
    check_links_partitioned(split)
    assert split.links("test")[["src", "dst"]].values.tolist() == [["a", "d"]]
    # a sample holding a training link is a training sample; d holds only val and test links
    assert split.sample_split.to_dict() == {"a": "train", "b": "train", "c": "train", "d": "val"}


def test_same_seed_same_split(synthetic: MultimodalDataset) -> None:
    a = split_dataset(synthetic, mode="group", seed=3)
    b = split_dataset(synthetic, mode="group", seed=3)
    c = split_dataset(synthetic, mode="group", seed=4)
    assert a.sample_split.equals(b.sample_split)
    assert not a.sample_split.equals(c.sample_split)


def test_parts_and_repr() -> None:
    split = split_dataset(tiny_dataset(), mode="group", val=0.25, test=0.25, seed=0)
    assert repr(split) == (
        "DatasetSplit(dataset='tiny', mode='group', seed=0, "
        "samples/links: train=36/36, val=18/18, test=18/18)"
    )
    assert len(split.samples("val")) == len(split.sample_ids("val")) == 18
    assert split.train_links.equals(split.links("train"))
    with pytest.raises(ValueError, match=r"part must be one of \('train', 'val', 'test'\)"):
        split.links("dev")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "random"}, r"'mode' parameter of split_dataset must be one of .* Got 'random'"),
        ({"val": 1.2}, r"'val' parameter of split_dataset must be a fraction in \[0, 1\). Got 1.2"),
        ({"test": -0.1}, r"'test' parameter .* Got -0.1"),
        ({"val": "0.1"}, r"'val' parameter .* Got '0.1'"),
        ({"val": 0.5, "test": 0.5}, "val \\+ test must leave room for training"),
        ({"mode": "partial"}, "mode='partial' needs 'hide'"),
        ({"mode": "item", "hide": ["a"]}, "'hide' only applies to mode='partial'"),
        ({"mode": "partial", "hide": ["video"]}, "names the modality 'video'"),
        ({"mode": "partial", "hide": [("a", "b", "c", "d")]}, "Each entry of 'hide'"),
        ({"mode": "predefined"}, "mode='predefined' needs a 'split' value on every link"),
    ],
)
def test_bad_arguments(synthetic: MultimodalDataset, kwargs: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        split_dataset(synthetic, **kwargs)


def test_too_few_units() -> None:
    pair = MultimodalDataset(pd.DataFrame({"id": list("ab"), "modality": "t", "text": list("ab")}), name="two")
    with pytest.raises(DataError, match="2 split units, too few"):
        split_dataset(pair, val=0.1, test=0.1)
    samples = pd.DataFrame({"id": list("abc"), "modality": "t", "text": list("abc")})
    dataset = MultimodalDataset(samples, name="three")
    with pytest.raises(DataError, match="leave none for training"):
        split_dataset(dataset, val=0.4, test=0.5)


def test_each_kind_of_unit_gets_its_share() -> None:
    """Six speakers beside 1,000 single images: the speakers still give val and test units."""
    audio = pd.DataFrame({
        "id": [f"a{i}" for i in range(60)], "modality": "audio", "text": "x",
        "group": [f"speaker{i % 6}" for i in range(60)],
    })
    images = pd.DataFrame({"id": [f"i{i}" for i in range(1000)], "modality": "image", "text": "y"})
    dataset = MultimodalDataset(pd.concat([audio, images], ignore_index=True), name="speakers")
    for seed in range(5):
        split = split_dataset(dataset, mode="group", val=0.1, test=0.2, seed=seed)
        speakers = split.sample_split.loc[audio["id"]].groupby(audio["group"].to_numpy()).unique()
        parts = sorted(p for values in speakers for p in values)
        assert parts.count("val") == 1 and parts.count("test") == 1, (seed, parts)
        image_parts = split.sample_split.loc[images["id"]].value_counts()
        assert image_parts["test"] == 200 and image_parts["val"] == 100, image_parts.to_dict()


# ----------------------------------------------------------------- real data
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_leakage_on_real_emoji(emoji_texts: MultimodalDataset, seed: int) -> None:
    for mode in ("item", "group"):
        split = split_dataset(emoji_texts, mode=mode, seed=seed)
        check_links_partitioned(split)
        check_cold_start(split)
        check_units_together(split, "item")
        check_sizes(split, val=0.1, test=0.2)
    check_units_together(split, "group")
    # variants of one base emoji never straddle: 👋 and 👋🏻 are on the same side
    assert split.sample_split["text_en:1F44B"] == split.sample_split["text_en:1F44B-1F3FB"]
    partial = split_dataset(emoji_texts, mode="partial", hide=["text_zh"], seed=seed)
    check_links_partitioned(partial)
    check_partial(partial, "text_zh")


def test_no_leakage_on_real_wn18rr(wn18rr: MultimodalDataset) -> None:
    split = split_dataset(wn18rr, mode="predefined")
    check_links_partitioned(split, undirected=False)
    # The published split itself holds reverses of symmetric relations across parts
    # (mostly _derivationally_related_form): a property of WN18RR, kept as published.
    train = _keys(split.links("train"), undirected=False)
    for part, expected in (("val", 1070), ("test", 1086)):
        table = split.links(part)
        reverse = set(zip(table["dst"], table["src"], table["relation"], strict=True))
        assert len(reverse & train) == expected
