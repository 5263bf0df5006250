"""Emoji helpers shared by the ``emoji`` and ``openmoji`` loaders.

Items are code point sequences written as upper-case hex joined by ``-`` (``"1F44B-1F3FB"``),
as in ``emoji-test.txt`` and OpenMoji's file names. Groups join the variants of one base
emoji (skin tones, gender, man/woman/person forms) so that a split never puts near-copies of
a test emoji into training.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, features

from mmgraph.data.dataset import DataError
from mmgraph.datasets._paths import save_png_atomic

FE0F = "FE0F"  # variation selector-16 (emoji presentation)
ZWJ = "200D"  # zero-width joiner
SKIN_TONES = frozenset({"1F3FB", "1F3FC", "1F3FD", "1F3FE", "1F3FF"})
GENDER_SIGNS = frozenset({"2640", "2642"})  # ♀ and ♂, as the last part of a ZWJ sequence

# Gendered forms of one person emoji, mapped to the gender-neutral form (where one exists).
PERSON_FORMS = {
    "1F468": "1F9D1",  # man -> person
    "1F469": "1F9D1",  # woman -> person
    "1F474": "1F9D3",  # old man -> older person
    "1F475": "1F9D3",  # old woman -> older person
    "1F466": "1F9D2",  # boy -> child
    "1F467": "1F9D2",  # girl -> child
    "1F934": "1FAC5",  # prince -> person with crown
    "1F478": "1FAC5",  # princess -> person with crown
    "1F930": "1FAC4",  # pregnant woman -> pregnant person
    "1FAC3": "1FAC4",  # pregnant man -> pregnant person
    "1F385": "1F9D1-200D-1F384",  # Santa Claus -> mx claus
    "1F936": "1F9D1-200D-1F384",  # Mrs. Claus -> mx claus
    "1F483": "1F57A",  # woman dancing -> man dancing (no neutral form)
}
# Single code point forms of people-together emoji, mapped to their ZWJ spelling.
PAIR_FORMS = {
    "1F46B": "1F9D1-200D-1F91D-200D-1F9D1",  # woman and man holding hands
    "1F46C": "1F9D1-200D-1F91D-200D-1F9D1",  # men holding hands
    "1F46D": "1F9D1-200D-1F91D-200D-1F9D1",  # women holding hands
    "1F48F": "1F9D1-200D-2764-200D-1F48B-200D-1F9D1",  # kiss
    "1F491": "1F9D1-200D-2764-200D-1F9D1",  # couple with heart
}
FAMILY = "1F46A"
_PEOPLE = frozenset({"1F9D1", "1F9D2", "1F9D3"})


def item_of(text: str) -> str:
    """The item id of an emoji string: ``"👋🏻"`` -> ``"1F44B-1F3FB"``."""
    return "-".join(f"{ord(char):04X}" for char in text)


def text_of(item: str) -> str:
    """The emoji string of an item id: ``"1F44B-1F3FB"`` -> ``"👋🏻"``."""
    return "".join(chr(int(part, 16)) for part in item.split("-"))


def strip_fe0f(item: str) -> str:
    """The item without emoji presentation selectors, as CLDR and OpenMoji file names key it."""
    return "-".join(part for part in item.split("-") if part != FE0F)


def base_group(item: str) -> str:
    """The base emoji of ``item``: the group that joins its skin-tone and gender variants.

    Removes presentation selectors, skin tones and ``ZWJ ♀/♂`` suffixes; maps man, woman,
    boy, girl (and a few other gendered forms) to the neutral person form; maps every
    sequence of people only to family and the one-code-point couple emoji to their ZWJ form.

    Example:
        >>> base_group("1F44B-1F3FB") == base_group("1F44B")
        True
        >>> base_group("1F469-1F3FD-200D-2695-FE0F")  # woman health worker: medium skin tone
        '1F9D1-200D-2695'
    """
    parts = [p for p in item.split("-") if p != FE0F and p not in SKIN_TONES]
    if ZWJ in parts:
        kept: list[str] = []
        for part in parts:
            if part in GENDER_SIGNS and kept and kept[-1] == ZWJ:
                kept.pop()
                continue
            kept.append(part)
        parts = kept
    parts = "-".join(PERSON_FORMS.get(p, p) for p in parts).split("-")
    key = "-".join(parts)
    if ZWJ in parts and {p for p in parts if p != ZWJ} <= _PEOPLE:
        return FAMILY
    return PAIR_FORMS.get(key, key)


def check_layout_engine() -> None:
    """Raises unless Pillow can shape emoji sequences (ZWJ, flags, skin tones) into one glyph."""
    if not features.check_feature("raqm"):
        raise DataError(
            "Pillow was built without libraqm, so it cannot draw emoji sequences (skin tones, "
            "flags, ZWJ) as one glyph. Install the Pillow wheel from PyPI, which bundles it."
        )


def render_emoji(
    font: ImageFont.FreeTypeFont, item: str, path: Path, *, min_side: int = 0
) -> None:
    """Draws one emoji with a colour font, centred on a white square, and saves it as PNG.

    Args:
        font: a colour font (CBDT bitmaps or COLR layers) at its drawing size.
        item: the emoji's code point sequence.
        path: where to write the PNG (atomically).
        min_side: the smallest side of the square canvas in pixels.

    Raises:
        DataError: if the emoji draws as nothing or as several glyphs (the font lacks it).
    """
    text = text_of(item)
    left, top, right, bottom = font.getbbox(text)
    width, height = right - left, bottom - top
    if width <= 0 or height <= 0 or width > 2 * font.size:
        raise DataError(
            f"The font {Path(font.path).name!r} has no single glyph for the emoji {item} "
            f"(it draws {width}x{height} pixels at size {font.size})."
        )
    glyph = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(glyph).text((-left, -top), text, font=font, embedded_color=True)
    if np.asarray(glyph.getchannel("A")).max() == 0:
        raise DataError(f"The font {Path(font.path).name!r} draws the emoji {item} as blank.")
    side = max(width, height, min_side)
    canvas = Image.new("RGBA", (side, side), (255, 255, 255, 255))
    canvas.alpha_composite(glyph, ((side - width) // 2, (side - height) // 2))
    save_png_atomic(canvas.convert("RGB"), path)


def render_all(
    font_path: str | os.PathLike,
    items: Sequence[str],
    folder: Path,
    *,
    size: int,
    min_side: int = 0,
) -> list[str]:
    """Renders every emoji of ``items`` not yet in ``folder``; returns the PNG paths in order."""
    paths = [folder / f"{item}.png" for item in items]
    missing = [(item, path) for item, path in zip(items, paths, strict=True) if not path.exists()]
    if missing:
        check_layout_engine()
        font = ImageFont.truetype(os.fspath(font_path), size)
        for item, path in missing:
            render_emoji(font, item, path, min_side=min_side)
    return [str(path) for path in paths]


def emoji_package_names(language: str) -> dict[str, str]:
    """Names of all emoji in ``language`` from the ``emoji`` package, keyed by emoji string.

    ``":grinning_face:"`` becomes ``"grinning face"``; an unknown language gives ``{}``.
    """
    import emoji

    if language not in emoji.LANGUAGES:
        return {}
    emoji.config.load_language(language)
    names = {}
    for text, entry in emoji.EMOJI_DATA.items():
        name = (entry.get(language) or "").strip(":").replace("_", " ").strip()
        if name:
            names[text] = name
    return names
