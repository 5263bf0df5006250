"""The run records ``mmgraph bench`` writes (``results.json``), read in one place.

The benchmark reads them to resume, :func:`mmgraph.plotting.read_benchmark_results` to plot,
``benchmarks/report.py`` to write BENCHMARKS.md and ``benchmarks/compare_records.py`` to compare two
sets of runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mmgraph.errors import MissingFileError, SavedFileError

RESULTS_FILE = "results.json"
"""The records of every run a benchmark wrote to its ``out`` folder."""

RECORD_KEYS: tuple[str, ...] = ("task", "kind", "model", "seed")
"""What every record holds: the run's task, the task's kind, the model and the seed."""


def read_records(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The records of a ``results.json``, given as the file or the folder holding it.

    Raises:
        MissingFileError: no such file.
        SavedFileError: the file is not valid JSON or not a list of run records.
    """
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_FILE
    if not path.is_file():
        raise MissingFileError(f"No {RESULTS_FILE} at {str(path)!r}; give the --out folder of `mmgraph bench`.")
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SavedFileError(
            f"{str(path)!r} is damaged (not valid JSON: {error}); give another --out folder or delete it."
        ) from error
    if not isinstance(records, list) or not all(isinstance(r, dict) and set(RECORD_KEYS) <= set(r) for r in records):
        raise SavedFileError(
            f"{str(path)!r} holds no list of run records (each with {', '.join(RECORD_KEYS)}): it is damaged or "
            "not written by mmgraph bench; give another --out folder or move the file away."
        )
    return records
