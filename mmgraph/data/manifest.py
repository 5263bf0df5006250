"""Reading a user's own data from a manifest: one row per sample, CSV, JSONL or Parquet."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from mmgraph.data.dataset import (
    LINK_COLUMNS,
    SAMPLE_COLUMNS,
    DataError,
    MultimodalDataset,
    _check_readable,
    _clean_str,
)
from mmgraph.io import not_utf8_message

MANIFEST_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet"}


def read_table(path: str | os.PathLike, *, what: str = "manifest") -> pd.DataFrame:
    """Reads a CSV, JSONL or Parquet table with every value as read (ids stay strings).

    Raises:
        DataError: if the file is missing, has an unknown suffix, is not UTF-8 or cannot be parsed.
    """
    path = Path(path)
    _check_readable(path, f"The {what}")
    kind = MANIFEST_FORMATS.get(path.suffix.lower())
    if kind is None:
        raise DataError(
            f"The {what} {str(path)!r} has the suffix {path.suffix!r}, which mmgraph cannot read. "
            f"Use one of {sorted(MANIFEST_FORMATS)}."
        )
    try:
        if kind == "csv":
            table = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        elif kind == "jsonl":
            table = pd.read_json(path, lines=True, dtype=False)
        else:
            table = pd.read_parquet(path)
    except UnicodeDecodeError as error:
        raise DataError(not_utf8_message(path, f"The {what}")) from error
    except (ValueError, OSError) as error:
        raise DataError(f"The {what} {str(path)!r} could not be parsed as {kind}: {error}") from error
    for column in table.columns:
        # JSONL and Parquet turn integer columns with gaps into floats (3 -> 3.0); undo that so
        # that ids and labels read as "3", as they do from CSV.
        values = table[column]
        if pd.api.types.is_float_dtype(values):
            present = values.dropna()
            if (present == present.round()).all():
                table[column] = values.astype("Int64")
    if table.empty:
        raise DataError(f"The {what} {str(path)!r} has no rows. Add one row per sample.")
    return table


def from_manifest(
    path: str | os.PathLike,
    *,
    links: str | os.PathLike | None = None,
    name: str | None = None,
) -> MultimodalDataset:
    """Loads a dataset from a manifest file.

    The manifest has one row per sample with the columns ``id``, ``modality``, ``path`` (a file,
    relative to the manifest's folder) or ``text`` (inline text), and optionally ``item``,
    ``label`` and ``group``. An optional links table (same formats) has the columns ``src``,
    ``dst``, optionally ``relation`` and ``split``.

    Args:
        path: the manifest (``.csv``, ``.jsonl`` or ``.parquet``).
        links: an optional links table.
        name: the dataset name; defaults to the manifest's file name without suffix.

    Returns:
        The validated dataset, with every file checked to be readable.

    Raises:
        DataError: naming the first bad row, for a missing or unreadable file, an unknown
            column, a duplicate id, a link to an unknown id or a row without modality.

    Example:
        >>> dataset = from_manifest("photos/manifest.csv", links="photos/links.csv")  # doctest: +SKIP
    """
    path = Path(path)
    table = read_table(path, what="manifest")
    unknown = [c for c in table.columns if c not in SAMPLE_COLUMNS]
    if unknown:
        raise DataError(
            f"The manifest {str(path)!r} has the unknown column(s) {unknown}. "
            f"Allowed columns: {list(SAMPLE_COLUMNS)}; rename or drop the others."
        )
    if "path" not in table.columns and "text" not in table.columns:
        raise DataError(
            f"The manifest {str(path)!r} has neither a 'path' nor a 'text' column. "
            "Each sample needs a file path or an inline text."
        )
    if "path" in table.columns:
        base = path.parent
        table["path"] = [
            None if (p := _clean_str(value)) is None else str((base / p).resolve())
            for value in table["path"]
        ]
    link_table = None
    if links is not None:
        link_table = read_table(links, what="links table")
        unknown = [c for c in link_table.columns if c not in (*LINK_COLUMNS, "split")]
        if unknown:
            raise DataError(
                f"The links table {str(links)!r} has the unknown column(s) {unknown}. "
                f"Allowed columns: {[*LINK_COLUMNS, 'split']}."
            )
    dataset = MultimodalDataset(table, link_table, name=name or path.stem)
    return dataset.validate(check_files=True)
