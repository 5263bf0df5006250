"""The run records ``mmgraph bench`` writes (``results.json``), read in one place.

The benchmark reads them to resume, :func:`mmgraph.plotting.read_benchmark_results` to plot,
``benchmarks/report.py`` to write BENCHMARKS.md and ``benchmarks/compare_records.py`` to compare two
sets of runs.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mmgraph.data.items import LEVEL_PREFIXES
from mmgraph.errors import MissingFileError, SavedFileError
from mmgraph.evaluation.metrics import METRIC_KINDS, TASK_METRIC_KIND, metric_names
from mmgraph.tasks import TASKS

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


CANDIDATE_METRICS: tuple[str, ...] = ("held-out/mrr", "held-out/hits@10", "all/mrr", "all/hits@10")
"""Link metrics on both candidate sets, reported beside the declared one."""


def results_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per run from the records of :func:`benchmark` (as in ``results.json``).

    Link runs also get :data:`CANDIDATE_METRICS` (both candidate sets) and ``candidates``, the
    task's declared set (from the record, else from the named task); runs of item tasks their
    ``keep`` (None for sample tasks) and their metrics at each level
    (:func:`~mmgraph.data.items.item_levels`: columns ``"keep=0.25/accuracy"``, ``"only=image/mrr"``).
    """
    kinds = [kind for kind in METRIC_KINDS if any(TASK_METRIC_KIND[r["kind"]] == kind for r in records)]
    metrics = [m for kind in kinds for m in metric_names(kind)]
    if "link" in kinds:
        metrics += list(CANDIDATE_METRICS)
    levels = list(dict.fromkeys(
        k for r in records if r.get("keep") is not None for k in r.get("metrics", {}) if k.startswith(LEVEL_PREFIXES)
    ))
    metrics += levels
    rows = []
    for r in records:
        row = {"task": r["task"], "kind": r["kind"], "model": r["model"], "seed": r["seed"]}
        row["candidates"] = r.get("candidates") or _declared_candidates(r["task"]) if r["kind"] == "link" else None
        row["keep"] = r.get("keep")
        row.update({m: float(r.get("metrics", {}).get(m, math.nan)) for m in metrics})
        row["train_seconds"] = r.get("train_seconds", math.nan)
        row["skipped"] = r.get("skipped")
        row["error"] = r.get("error")
        rows.append(row)
    columns = ["task", "kind", "model", "seed", "candidates", "keep", *metrics, "train_seconds", "skipped", "error"]
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("skipped", "error"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


def completed_runs(rows: pd.DataFrame) -> pd.DataFrame:
    """The runs that gave metrics: neither skipped nor failed."""
    return rows[rows["skipped"].isna() & rows["error"].isna()]


def _declared_candidates(task: str) -> str | None:
    return TASKS.get(task).candidates if task in TASKS else None
