"""Reading a manifest (CSV, JSONL, Parquet) and the one clear error for each bad input."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile
from PIL import Image

from mmgraph.data import DataError, from_manifest
from mmgraph.errors import DataNotFoundError
from mmgraph.testing import write_table, write_tiny_manifest

FIXTURES = Path(__file__).parent / "fixtures"
FORMATS = ["csv", "jsonl", "parquet"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_reads_every_format(tmp_path: Path, fmt: str) -> None:
    manifest = write_tiny_manifest(tmp_path, fmt=fmt)
    dataset = from_manifest(manifest, links=tmp_path / f"links.{fmt}")
    assert dataset.name == "manifest"
    assert dataset.modalities == ["image", "audio", "text_en", "text_fr"]
    assert [len(dataset.node_ids(m)) for m in dataset.modalities] == [6, 4, 6, 6]
    assert dataset.samples.set_index("id").loc["text_fr:moon", "text"] == "la lune pâle"
    assert set(dataset.samples["label"]) == {"animal", "sky", "plant"}
    # 3 explicit links, then item links: 6 (image-text_en) + 6 + 6 + 4 * 3 (audio-*)
    assert len(dataset.links) == 3 + 18 + 12
    assert dataset.links["relation"].head(3).tolist() == ["similar", "similar", "mentions"]
    image_path, audio_path = dataset.payloads("image")[0], dataset.payloads("audio")[0]
    assert os.path.isabs(image_path) and Image.open(image_path).size == (16, 16)
    wave, rate = soundfile.read(audio_path)
    assert rate == 8000 and len(wave) == 800


def test_the_same_dataset_from_every_format(tmp_path: Path) -> None:
    tables = []
    for fmt in FORMATS:
        folder = tmp_path / fmt
        dataset = from_manifest(write_tiny_manifest(folder, fmt=fmt), links=folder / f"links.{fmt}")
        samples = dataset.samples.copy()
        samples["path"] = [p and os.path.relpath(p, folder) for p in samples["path"]]
        tables.append((samples, dataset.links))
    for samples, links in tables[1:]:
        pd.testing.assert_frame_equal(samples, tables[0][0])
        pd.testing.assert_frame_equal(links, tables[0][1])


def test_checked_in_fixture() -> None:
    dataset = from_manifest(FIXTURES / "texts.csv", links=FIXTURES / "texts_links.csv")
    assert dataset.modalities == ["text_en", "text_de"]
    assert len(dataset.links) == 4
    assert dataset.links["split"].tolist()[:1] == ["test"]


def test_integer_columns_with_gaps_read_as_integers(tmp_path: Path) -> None:
    labels = pd.array([3, None], dtype="Int64")
    table = pd.DataFrame({"id": [1, 2], "modality": "t", "text": ["a", "b"], "label": labels})
    for fmt in FORMATS:
        write_table(table, tmp_path / f"m.{fmt}")
        samples = from_manifest(tmp_path / f"m.{fmt}").samples
        assert samples["id"].tolist() == ["1", "2"], fmt
        assert samples["label"].tolist() == ["3", None], fmt


def _bad(tmp_path: Path, fmt: str, change) -> Path:
    manifest = write_tiny_manifest(tmp_path, fmt=fmt)
    table = pd.read_csv(manifest, dtype=str) if fmt == "csv" else None
    if table is None:
        table = pd.read_json(manifest, lines=True) if fmt == "jsonl" else pd.read_parquet(manifest)
    table = change(table)
    write_table(table, manifest)
    return manifest


def _set(table: pd.DataFrame, sample_id: str, column: str, value) -> pd.DataFrame:
    table = table.copy()
    table.loc[table["id"] == sample_id, column] = value
    return table


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: _set(t, "image:dog", "path", "images/missing.png"),
         r"The file of the sample at row 5 \(id 'image:dog'\) does not exist: '.*missing.png'"),
        (lambda t: _set(t, "image:dog", "path", "images"),
         r"The file of the sample at row 5 \(id 'image:dog'\) is not a file: '.*images'"),
        (lambda t: t.assign(colour="red"), r"unknown column\(s\) \['colour'\]"),
        (lambda t: _set(t, "image:dog", "id", "image:cat"),
         r"sample id 'image:cat' at row 5 is a duplicate of row 1"),
        (lambda t: _set(t, "text_fr:cat", "modality", ""),
         r"empty 'modality' at row 4 \(id 'text_fr:cat'\)"),
        (lambda t: _set(t, "image:dog", "text", "a dog"),
         r"row 5 \(id 'image:dog'\) has both 'path' and 'text'"),
    ],
)
def test_bad_manifest(tmp_path: Path, fmt: str, change, message: str) -> None:
    manifest = _bad(tmp_path, fmt, change)
    with pytest.raises(DataError, match=message) as error:
        from_manifest(manifest, links=tmp_path / f"links.{fmt}")
    assert error.type in (DataError, DataNotFoundError)  # one clear error, not a pandas or OS error


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_texts_are_named_all_at_once(tmp_path: Path, fmt: str) -> None:
    """A blank text is no payload: every sample without one is named, not only the first."""
    blank = {"text_en:dog": "", "text_fr:sun": "   ", "text_en:rose": "\t"}
    order = []

    def blank_some(table: pd.DataFrame) -> pd.DataFrame:
        order.extend(table["id"])
        return table.assign(text=[blank.get(i, x) for i, x in zip(table["id"], table["text"], strict=True)])

    manifest = _bad(tmp_path, fmt, blank_some)
    named = ", ".join(f"row {order.index(i) + 1} \\(id '{i}'\\)" for i in sorted(blank, key=order.index))
    with pytest.raises(DataError, match=rf"^The samples at {named} have neither 'path' nor 'text' \(an empty or blank"):
        from_manifest(manifest)


@pytest.mark.parametrize("fmt", FORMATS)
def test_link_to_unknown_id(tmp_path: Path, fmt: str) -> None:
    manifest = write_tiny_manifest(tmp_path, fmt=fmt)
    links = pd.DataFrame({"src": ["image:cat", "image:cow"], "dst": ["image:dog"] * 2})
    write_table(links, tmp_path / f"links.{fmt}")
    message = r"link at row 2 of the links table .*'image:cow', which is no sample id"
    with pytest.raises(DataError, match=message):
        from_manifest(manifest, links=tmp_path / f"links.{fmt}")


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"The manifest does not exist: '.*nothing.csv'"):
        from_manifest(tmp_path / "nothing.csv")
    (tmp_path / "m.txt").write_text("id,modality\n")
    with pytest.raises(DataError, match=r"suffix '.txt'"):
        from_manifest(tmp_path / "m.txt")
    (tmp_path / "empty.csv").write_text("id,modality,text\n")
    with pytest.raises(DataError, match="has no rows"):
        from_manifest(tmp_path / "empty.csv")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match="could not be parsed as parquet"):
        from_manifest(tmp_path / "broken.parquet")
    (tmp_path / "broken.jsonl").write_text('{"id": 1,\n')
    with pytest.raises(DataError, match="could not be parsed as jsonl"):
        from_manifest(tmp_path / "broken.jsonl")


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("table", ["manifest", "links table"])
def test_a_file_that_is_not_utf8_is_named_with_its_line_and_the_fix(tmp_path: Path, fmt: str, table: str) -> None:
    """A Latin-1 file (an 'é' is the byte 0xe9): not pandas' "'utf-8' codec can't decode byte 0xe9"."""
    manifest = write_tiny_manifest(tmp_path, fmt=fmt)
    latin = manifest if table == "manifest" else tmp_path / f"links.{fmt}"
    text = latin.read_text(encoding="utf-8")
    latin.write_bytes(text.replace("cat", "café", 2).encode("latin-1"))
    line = text[: text.index("cat")].count("\n") + 1
    with pytest.raises(DataError) as error:
        from_manifest(manifest, links=tmp_path / f"links.{fmt}")
    message = str(error.value)
    assert message.startswith(f"The {table} {str(latin)!r} is not UTF-8 text at line {line} (byte ")
    assert ": 0xe9)" in message and f"iconv -f latin1 -t utf-8 {latin} > {latin}.utf8" in message


def test_a_failed_load_returns_nothing(tmp_path: Path) -> None:
    manifest = _bad(tmp_path, "csv", lambda t: _set(t, "image:cat", "path", "images/missing.png"))
    result = None
    with pytest.raises(DataError):
        result = from_manifest(manifest)
    assert result is None
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["audio", "images", "links.csv", "manifest.csv"]


def test_write_tiny_manifest_rejects_unknown_formats(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="fmt must be one of"):
        write_tiny_manifest(tmp_path, fmt="xlsx")


def test_tiny_manifest_files_are_real(tmp_path: Path) -> None:
    write_tiny_manifest(tmp_path)
    pixels = np.asarray(Image.open(tmp_path / "images" / "cat.png"))
    assert pixels.shape == (16, 16, 3) and len(np.unique(pixels.reshape(-1, 3), axis=0)) == 2
