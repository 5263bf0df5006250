"""The Unicode emoji: Noto and OpenMoji drawings and CLDR names in up to eleven languages.

Reads ``emoji/emoji-test.txt`` (every fully-qualified emoji with its group and subgroup),
``emoji/cldr/annotations{,Derived}/<lang>.xml`` (names and keywords) and
``emoji/fonts/NotoColorEmoji.ttf`` from the data folder.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mmgraph.data.dataset import DataError, MultimodalDataset
from mmgraph.datasets._checks import check_names
from mmgraph.datasets._emoji_common import (
    base_group,
    emoji_package_names,
    item_of,
    render_all,
    strip_fe0f,
    text_of,
)
from mmgraph.datasets._paths import cache_dir, file_digest, require
from mmgraph.datasets.openmoji import openmoji_items, render_openmoji

log = logging.getLogger(__name__)

CLDR_LANGUAGES: tuple[str, ...] = ("ar", "de", "en", "es", "fr", "hi", "ja", "ko", "pt", "ru", "zh")
NOTO_SIZE = 109  # the only bitmap size of Noto Color Emoji; glyphs are 136 x 128 pixels

EMOJI_TEST = "emoji/emoji-test.txt"
NOTO_FONT = "emoji/fonts/NotoColorEmoji.ttf"
CLDR_FILES = ("emoji/cldr/annotations/{lang}.xml", "emoji/cldr/annotationsDerived/{lang}.xml")


def read_emoji_test(path: Path) -> pd.DataFrame:
    """The fully-qualified emoji of ``emoji-test.txt`` in file order.

    Returns:
        A table with the columns ``item`` (``"1F44B-1F3FB"``), ``name`` (``"waving hand:
        light skin tone"``), ``unicode_group`` and ``subgroup``.
    """
    rows, group, subgroup = [], None, None
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.startswith("# group:"):
                group = line.split(":", 1)[1].strip()
            elif line.startswith("# subgroup:"):
                subgroup = line.split(":", 1)[1].strip()
            elif line.strip() and not line.startswith("#"):
                code_points, _, rest = line.partition(";")
                status, _, comment = rest.partition("#")
                if status.strip() != "fully-qualified":
                    continue
                # comment: "<emoji> E<version> <name>"
                parts = comment.strip().split(" ", 2)
                if len(parts) < 3 or group is None:
                    raise DataError(f"{str(path)!r} line {number} is not in the emoji-test format.")
                rows.append(("-".join(code_points.split()), parts[2], group, subgroup))
    return pd.DataFrame(rows, columns=["item", "name", "unicode_group", "subgroup"])


def read_cldr(root: Path, language: str) -> dict[str, str]:
    """CLDR names and keywords of one language as ``"name: kw | kw"``, keyed by item without FE0F.

    Entries of ``annotations/`` come first; ``annotationsDerived/`` adds the sequences
    (skin tones, gender variants, flags, keycaps) that it derives.
    """
    names: dict[str, str] = {}
    keywords: dict[str, str] = {}
    for pattern in CLDR_FILES:
        path = require(root, pattern.format(lang=language), dataset="emoji")
        for node in ElementTree.parse(path).getroot().iter("annotation"):
            key = strip_fe0f(item_of(node.get("cp", "")))
            text = (node.text or "").strip()
            if not key or not text:
                continue
            target = names if node.get("type") == "tts" else keywords
            target.setdefault(key, text)
    return {
        key: f"{name}: {keywords[key]}" if key in keywords else name
        for key, name in names.items()
    }


def load_emoji(
    root: Path,
    *,
    languages: Sequence[str] = CLDR_LANGUAGES,
    modalities: Sequence[str] | None = None,
) -> MultimodalDataset:
    """Every fully-qualified emoji of Unicode 15.0 as drawings and names.

    Modalities: ``image`` (Noto Color Emoji, rendered into the cache), ``openmoji`` (the
    OpenMoji drawing, for the emoji OpenMoji has) and ``text_<lang>`` for each language: the
    CLDR 41 name and keywords, ``"grinning face: face | grin | grinning face"``, or the
    ``emoji`` package's name in that language where CLDR has none (the column
    ``name_source`` says which; counts are logged). Sample ids are ``<modality>:<item>``.
    CLDR 41 predates the 31 emoji new in Unicode 15.0; the ``emoji`` package names them in
    every language but Hindi, so ``text_hi`` has 3,624 samples and the others 3,655.

    The label is the emoji's Unicode group (10); the group joins the skin-tone and gender
    variants of one base emoji, so that no split puts near-copies on both sides.

    Args:
        root: the data folder.
        languages: CLDR languages to add as ``text_<lang>`` (default: all of ``CLDR_LANGUAGES``).
        modalities: keep only these modalities (default: all); others are not rendered.

    Returns:
        The dataset; extra columns ``subgroup``, ``name`` (the emoji-test name) and
        ``name_source`` (``"cldr"`` or ``"emoji-package"`` for texts).
    """
    loader = "emoji"
    languages = check_names(languages, CLDR_LANGUAGES, param="languages", loader=loader)
    all_modalities = ("image", "openmoji", *(f"text_{lang}" for lang in languages))
    if modalities is None:
        modalities = all_modalities
    else:
        modalities = check_names(modalities, all_modalities, param="modalities", loader=loader)

    emoji_list = read_emoji_test(require(root, EMOJI_TEST, dataset=loader))
    items = emoji_list["item"].tolist()
    base = pd.DataFrame(
        {
            "item": items,
            "label": emoji_list["unicode_group"],
            "group": [base_group(i) for i in items],
            "subgroup": emoji_list["subgroup"],
            "name": emoji_list["name"],
        }
    )
    tables = []
    for modality in modalities:
        table = base.copy()
        table["name_source"] = None
        if modality == "image":
            font = require(root, NOTO_FONT, dataset=loader)
            folder = cache_dir("emoji", f"noto-{NOTO_SIZE}-{file_digest(font)}")
            table["path"] = render_all(font, items, folder, size=NOTO_SIZE)
        elif modality == "openmoji":
            drawn = openmoji_items()
            table = table[[strip_fe0f(i) in drawn for i in items]].copy()
            table["path"] = render_openmoji(table["item"].tolist())
        else:
            table = _texts(root, table, modality.removeprefix("text_"))
        table.insert(0, "id", [f"{modality}:{i}" for i in table["item"]])
        table.insert(1, "modality", modality)
        tables.append(table)
    return MultimodalDataset(pd.concat(tables, ignore_index=True), name="emoji")


def _texts(root: Path, table: pd.DataFrame, language: str) -> pd.DataFrame:
    """Adds the ``text`` of one language; drops emoji that have a name in no source."""
    cldr = read_cldr(root, language)
    package = emoji_package_names(language)
    texts, sources = [], []
    for item in table["item"]:
        text = cldr.get(strip_fe0f(item))
        source = "cldr"
        if text is None:
            text, source = package.get(text_of(item)), "emoji-package"
        texts.append(text)
        sources.append(source if text is not None else None)
    table = table.assign(text=texts, name_source=sources)
    fallback = sources.count("emoji-package")
    missing = int(table["text"].isna().sum())
    if fallback or missing:
        log.info(
            "emoji text_%s: %d of %d names from CLDR, %d from the emoji package, %d without a name",
            language, len(table) - fallback - missing, len(table), fallback, missing,
        )
    return table[table["text"].notna()]
