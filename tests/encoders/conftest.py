"""Fixtures of the encoder tests: tiny files made on the spot, and readers of the real data.

Real data is read from ``$MMGRAPH_DATA`` (default ``<repo>/../shared/data``); tests that need it
are skipped, with the reason, when it is absent.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


# ----------------------------------------------------------------------------- real data
def data_root() -> Path:
    """The shared real data: ``$MMGRAPH_DATA`` or ``<repo>/../shared/data``."""
    return Path(os.environ.get("MMGRAPH_DATA", REPO.parent / "shared" / "data"))


def require(path: Path) -> Path:
    """Returns ``path``, or skips the test with a reason when it does not exist."""
    if not path.exists():
        reason = f"real data not found at {path} (set MMGRAPH_DATA to the shared data folder)"
        print(reason)
        pytest.skip(reason)
    return path


@dataclass(frozen=True)
class Clip:
    path: str
    digit: str
    speaker: str
    index: int


def fsdd_clips(root: Path, *, every: int = 1) -> list[Clip]:
    """FSDD recordings ``{digit}_{speaker}_{index}.wav``; ``every=5`` keeps indices 0, 5, ..."""
    clips = []
    for path in sorted((root / "fsdd" / "recordings").glob("*.wav")):
        digit, speaker, index = path.stem.split("_")
        if int(index) % every == 0:
            clips.append(Clip(str(path), digit, speaker, int(index)))
    return clips


@dataclass(frozen=True)
class Emoji:
    char: str
    name: str
    group: str
    subgroup: str


_EMOJI_LINE = re.compile(r"^[0-9A-F ]+;\s*fully-qualified\s*#\s*(\S+)\s+E\d+\.\d+\s+(.+)$")


def read_emoji_test(path: Path) -> list[Emoji]:
    """The fully-qualified emoji of Unicode's ``emoji-test.txt``, with group and subgroup."""
    entries, group, subgroup = [], "", ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# group:"):
            group = line.split(":", 1)[1].strip()
        elif line.startswith("# subgroup:"):
            subgroup = line.split(":", 1)[1].strip()
        elif match := _EMOJI_LINE.match(line):
            entries.append(Emoji(match.group(1), match.group(2).strip(), group, subgroup))
    return entries


def emoji_sample(entries: list[Emoji], *, per_subgroup: int = 4) -> list[Emoji]:
    """A few emoji per subgroup, skin-tone variants left out (they are near-copies)."""
    kept: dict[str, list[Emoji]] = {}
    for entry in entries:
        if "skin tone" in entry.name:
            continue
        bucket = kept.setdefault(entry.subgroup, [])
        if len(bucket) < per_subgroup:
            bucket.append(entry)
    return [e for bucket in kept.values() if len(bucket) >= 2 for e in bucket]


def render_emoji(chars: list[str], font_path: Path, out_dir: Path) -> list[str]:
    """Draws each emoji with the Noto colour font on a transparent 136x128 canvas (RGBA PNG)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(font_path), 109)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, char in enumerate(chars):
        canvas = Image.new("RGBA", (136, 128), (255, 255, 255, 0))
        ImageDraw.Draw(canvas).text((0, 0), char, font=font, embedded_color=True)
        path = out_dir / f"emoji_{i:04d}.png"
        canvas.save(path)
        paths.append(str(path))
    return paths


def knn1_accuracy(features: np.ndarray, labels: list[str]) -> float:
    """Leave-one-out 1-nearest-neighbour accuracy under cosine similarity."""
    x = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    similarity = x @ x.T
    np.fill_diagonal(similarity, -np.inf)
    labels_array = np.asarray(labels)
    return float((labels_array[similarity.argmax(axis=1)] == labels_array).mean())


def chance_accuracy(labels: list[str]) -> float:
    """The 1-NN accuracy of a random neighbour: the chance that it shares the label."""
    _, counts = np.unique(np.asarray(labels), return_counts=True)
    n = len(labels)
    return float((counts * (counts - 1)).sum() / (n * (n - 1)))


@pytest.fixture(scope="session")
def real_data() -> Path:
    return data_root()


@pytest.fixture(scope="session")
def fsdd_subset(real_data: Path) -> list[Clip]:
    """600 FSDD clips: indices 0, 5, ..., 45 of every digit and speaker."""
    require(real_data / "fsdd" / "recordings")
    return fsdd_clips(real_data, every=5)


@pytest.fixture(scope="session")
def emoji_entries(real_data: Path) -> list[Emoji]:
    return read_emoji_test(require(real_data / "emoji" / "emoji-test.txt"))


@pytest.fixture(scope="session")
def emoji_images(
    real_data: Path, emoji_entries: list[Emoji], tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[str], list[str]]:
    """Noto-rendered PNGs of a few hundred emoji and their subgroups."""
    font = require(real_data / "emoji" / "fonts" / "NotoColorEmoji.ttf")
    sample = emoji_sample(emoji_entries, per_subgroup=4)
    paths = render_emoji([e.char for e in sample], font, tmp_path_factory.mktemp("emoji"))
    return paths, [e.subgroup for e in sample]


@pytest.fixture(scope="session")
def emoji_names(emoji_entries: list[Emoji]) -> tuple[list[str], list[str]]:
    """English names of the same emoji sample and their subgroups."""
    sample = emoji_sample(emoji_entries, per_subgroup=4)
    return [e.name for e in sample], [e.subgroup for e in sample]


# ------------------------------------------------------------------------ shared encoders
@pytest.fixture(scope="session")
def minilm():
    """The MiniLM encoder with its model loaded once for the session."""
    from mmgraph.encoders import MiniLMEncoder
    from mmgraph.encoders.text import load_minilm

    load_minilm()
    return MiniLMEncoder()


@pytest.fixture(scope="session")
def efficientnet():
    """The EfficientNet-Lite0 encoder with its model loaded once for the session."""
    from mmgraph.encoders import EfficientNetLite0Encoder
    from mmgraph.encoders.image import load_efficientnet_lite0

    load_efficientnet_lite0()
    return EfficientNetLite0Encoder()


# ---------------------------------------------------------------------------- tiny files
def write_tone(
    path: Path, *, freq: float = 440.0, seconds: float = 0.3, rate: int = 16000, **kwargs
) -> str:
    """Writes a sine tone with soundfile (format from the extension, or ``format=``)."""
    import soundfile

    t = np.arange(int(seconds * rate)) / rate
    soundfile.write(path, 0.5 * np.sin(2 * np.pi * freq * t), rate, **kwargs)
    return str(path)


@pytest.fixture()
def tones(tmp_path: Path) -> list[str]:
    """Three short WAV tones of different pitch."""
    return [write_tone(tmp_path / f"tone{f}.wav", freq=f) for f in (220.0, 440.0, 880.0)]


@pytest.fixture()
def pictures(tmp_path: Path) -> list[str]:
    """Four small PNG images: shapes in a few colours."""
    from PIL import Image, ImageDraw

    paths = []
    for i, colour in enumerate([(200, 30, 30), (30, 200, 30), (30, 30, 200), (220, 220, 40)]):
        image = Image.new("RGB", (48, 40), (255, 255, 255))
        draw = ImageDraw.Draw(image)
        draw.ellipse((4 + i, 4, 40, 36 - i), fill=colour)
        path = tmp_path / f"picture{i}.png"
        image.save(path)
        paths.append(str(path))
    return paths


@pytest.fixture(scope="session")
def knn1():
    """:func:`knn1_accuracy` and :func:`chance_accuracy`, for tests (conftest is no module)."""
    return knn1_accuracy, chance_accuracy
