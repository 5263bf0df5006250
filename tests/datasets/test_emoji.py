"""The emoji loader on the real data: counts, groups of variants, names and drawings."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmgraph.data import DataError
from mmgraph.datasets import load
from mmgraph.datasets._emoji_common import base_group, item_of, render_all, text_of
from mmgraph.datasets.emoji import CLDR_LANGUAGES, NOTO_FONT, NOTO_SIZE, read_emoji_test
from mmgraph.datasets.openmoji import render_openmoji


def _group(dataset, item: str) -> str:
    rows = dataset.samples[dataset.samples["item"] == item]
    assert len(rows), item
    return rows["group"].iloc[0]


def assert_drawing(path: str) -> None:
    """The PNG decodes, is square, and shows a coloured drawing on a white background."""
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.shape[0] == pixels.shape[1] >= 100
    assert (pixels[0, 0] == 255).all()  # white corner
    ink = (pixels < 250).any(axis=2).mean()
    assert 0.02 < ink < 0.98, f"{path} looks blank or full ({ink:.3f} ink)"
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 8


def test_emoji_test_file_counts(data_root: Path) -> None:
    emoji_list = read_emoji_test(data_root / "emoji" / "emoji-test.txt")
    assert len(emoji_list) == 3655 and emoji_list["item"].is_unique
    lines = (data_root / "emoji" / "emoji-test.txt").read_text(encoding="utf-8").splitlines()
    assert sum(line.startswith("# group:") for line in lines) == 10
    assert sum(line.startswith("# subgroup:") for line in lines) == 101
    # The 'Component' group (skin tones, hair styles: 2 subgroups) has no fully-qualified emoji.
    assert emoji_list["unicode_group"].nunique() == 9
    assert emoji_list["subgroup"].nunique() == 99
    assert "Component" not in set(emoji_list["unicode_group"])


def test_texts(emoji_texts) -> None:
    dataset = emoji_texts
    assert dataset.modalities == ["text_en", "text_zh"]
    assert len(dataset.node_ids("text_en")) == len(dataset.node_ids("text_zh")) == 3655
    assert len(dataset.links) == 3655
    samples = dataset.samples.set_index("id")
    assert samples.loc["text_en:1F600", "text"] == "grinning face: face | grin | grinning face"
    assert samples.loc["text_en:1F600", "label"] == "Smileys & Emotion"
    assert samples.loc["text_en:1F600", "subgroup"] == "face-smiling"
    assert samples.loc["text_en:1F44B-1F3FB", "name"] == "waving hand: light skin tone"
    # CLDR keys drop FE0F: the fully-qualified smiling face still finds its CLDR name.
    assert samples.loc["text_en:263A-FE0F", "text"].startswith("smiling face:")
    assert samples.loc["text_en:263A-FE0F", "name_source"] == "cldr"
    # Derived annotations cover skin tones; flags and keycaps too.
    assert samples.loc["text_en:1F44B-1F3FB", "text"].startswith("waving hand: light skin tone")
    assert samples.loc["text_zh:1F1FA-1F1F8", "text"] == "旗: 美国: 旗"
    assert samples.loc["text_en:0023-FE0F-20E3", "text"].startswith("keycap: #")
    assert dataset.samples["label"].nunique() == 9
    assert dataset.samples["subgroup"].nunique() == 99


def test_names_missing_from_cldr_come_from_the_emoji_package(emoji_texts) -> None:
    sources = emoji_texts.samples.groupby("modality")["name_source"].value_counts()
    # CLDR 41 predates the 31 emoji new in Unicode 15.0 (shaking face, pink heart, ...).
    assert sources[("text_en", "emoji-package")] == 31
    assert sources[("text_zh", "emoji-package")] == 31
    samples = emoji_texts.samples.set_index("id")
    assert samples.loc["text_en:1FAE8", "text"] == "shaking face"
    assert samples.loc["text_en:1FAE8", "name_source"] == "emoji-package"


def test_variants_share_a_group(emoji_texts) -> None:
    same = [
        ("1F44B", "1F44B-1F3FB"),  # waving hand, light skin tone
        ("1F3C3", "1F3C3-200D-2640-FE0F"),  # person running, woman running
        ("1F3C3", "1F3C3-1F3FD-200D-2642-FE0F"),  # man running: medium skin tone
        ("1F9D1-200D-2695-FE0F", "1F469-1F3FD-200D-2695-FE0F"),  # health worker, woman ...
        ("1F9D1", "1F468"),  # person, man
        ("1F46A", "1F468-200D-1F469-200D-1F467-200D-1F466"),  # family, family: m, w, g, b
        ("1F48F", "1F469-200D-2764-FE0F-200D-1F48B-200D-1F468"),  # kiss, kiss: woman, man
        ("1F46B", "1F9D1-1F3FB-200D-1F91D-200D-1F9D1-1F3FF"),  # holding hands
    ]
    for a, b in same:
        assert _group(emoji_texts, a) == _group(emoji_texts, b), (a, b)
    different = [("1F600", "1F603"), ("1F44B", "1F91A"), ("1F1FA-1F1F8", "1F1EC-1F1E7")]
    for a, b in different:
        assert _group(emoji_texts, a) != _group(emoji_texts, b), (a, b)
    groups = emoji_texts.samples.drop_duplicates("item")["group"]
    assert 1500 < groups.nunique() < 1800
    assert (groups.value_counts() <= 104).all()


def test_base_group_and_item_helpers() -> None:
    assert item_of("👋🏻") == "1F44B-1F3FB" and text_of("1F44B-1F3FB") == "👋🏻"
    assert item_of("#️⃣") == "0023-FE0F-20E3"
    assert base_group("1F44B-1F3FF") == "1F44B"
    assert base_group("1F46E-200D-2640-FE0F") == "1F46E"
    assert base_group("1F469-1F3FD-200D-2695-FE0F") == "1F9D1-200D-2695"
    assert base_group("2640-FE0F") == "2640"  # the female sign on its own stays itself
    assert base_group("1F3F3-FE0F-200D-26A7-FE0F") == "1F3F3-200D-26A7"


def test_options_are_checked(data_root: Path) -> None:
    with pytest.raises(DataError, match=r"'languages' option of 'emoji' got 'xx'.*'zh'"):
        load("emoji", root=data_root, languages=("en", "xx"))
    with pytest.raises(DataError, match=r"'modalities' option of 'emoji' got 'text_fr'"):
        load("emoji", root=data_root, languages=("en",), modalities=("text_fr",))
    dataset = load("emoji", root=data_root, languages=("fr",), modalities=("text_fr",))
    assert dataset.modalities == ["text_fr"] and len(dataset) == 3655


@pytest.mark.parametrize("which", ["noto", "openmoji"])
def test_renders_a_few_emoji(data_root: Path, tmp_path: Path, which: str) -> None:
    items = ["1F600", "1F44B-1F3FB", "1F3F4-E0067-E0062-E0065-E006E-E0067-E007F", "0023-FE0F-20E3",
             "1F469-200D-2764-FE0F-200D-1F48B-200D-1F468", "263A-FE0F"]
    if which == "noto":
        paths = render_all(data_root / NOTO_FONT, items, tmp_path, size=NOTO_SIZE)
    else:
        paths = render_openmoji(items)
    assert [Path(p).stem for p in paths] == items
    for path in paths:
        assert_drawing(path)
    with Image.open(paths[0]) as a, Image.open(paths[1]) as b:
        assert np.asarray(a).shape != np.asarray(b).shape or (np.asarray(a) != np.asarray(b)).any()


@pytest.mark.slow
def test_names_in_all_eleven_cldr_languages(data_root: Path) -> None:
    texts = tuple(f"text_{language}" for language in CLDR_LANGUAGES)
    dataset = load("emoji", root=data_root, modalities=texts)
    assert dataset.modalities == list(texts)
    sources = dataset.samples.groupby("modality")["name_source"].value_counts()
    for modality in texts:
        assert sources[(modality, "cldr")] == 3624
        # the emoji package names the 31 emoji newer than CLDR 41 in every language but Hindi
        assert sources.get((modality, "emoji-package"), 0) == (0 if modality == "text_hi" else 31)
    samples = dataset.samples.set_index("id")
    assert samples.loc["text_de:1F600", "text"].startswith("grinsendes Gesicht: ")
    assert samples.loc["text_ja:1F1FA-1F1F8", "text"] == "旗: アメリカ合衆国: 旗"
    assert samples.loc["text_ru:1F1FA-1F1F8", "text"].startswith("флаг: Соединенные Штаты")
    assert samples.loc["text_ko:1FAE8", "name_source"] == "emoji-package"
    assert "text_hi:1FAE8" not in samples.index
    # one item's samples in every language are linked to each other (11 * 10 / 2 pairs)
    assert len(dataset.links) == 3624 * 55 + 31 * 45


@pytest.fixture(scope="module")
def emoji_full(data_root: Path):
    return load("emoji", root=data_root)


@pytest.mark.slow
def test_full_emoji_drawings(emoji_full) -> None:
    dataset = emoji_full
    texts = [f"text_{language}" for language in CLDR_LANGUAGES]
    assert dataset.modalities == ["image", "openmoji", *texts]
    for modality in ("image", "openmoji", *texts):
        assert len(dataset.node_ids(modality)) == (3624 if modality == "text_hi" else 3655)
    assert dataset.samples["label"].nunique() == 9
    assert dataset.samples["subgroup"].nunique() == 99
    assert len(dataset.links) == 3624 * 78 + 31 * 66  # every pair of an item's 13 (12 without Hindi) samples
    paths = dataset.payloads("image") + dataset.payloads("openmoji")
    assert all(os.path.isfile(p) for p in paths)
    rng = np.random.default_rng(0)
    for i in rng.choice(len(paths), size=60, replace=False):
        assert_drawing(paths[i])


@pytest.mark.slow
def test_second_load_reuses_the_cache(emoji_full, data_root: Path) -> None:
    paths = emoji_full.payloads("image")
    stamps = [os.stat(p).st_mtime_ns for p in paths[:50]]
    again = load("emoji", root=data_root, modalities=("image",))
    assert again.payloads("image") == paths
    assert [os.stat(p).st_mtime_ns for p in paths[:50]] == stamps
    assert not [f for f in os.listdir(Path(paths[0]).parent) if f.endswith(".tmp")]
