"""Models x tasks x seeds -> one table, a report and a plot per task.

Every run goes through :func:`mmgraph.pipeline.pipeline`, so every model sees the very same
split, features and evaluator for a given task and seed. A model that does not apply to a
task (a link baseline on a label task, ``cosine`` between feature spaces of different sizes)
is recorded as skipped with the reason instead of stopping the benchmark; a run that raises is
recorded as failed with its error, and the grid goes on.

A benchmark writing to ``out`` resumes: the runs already in ``out/results.json`` with the same
task, model, seed, setting, options and data are not run again, and a run killed while
training resumes from its checkpoint (``out/checkpoints/``). Failed runs are tried again.
``out/results.json`` keeps every run ever written there: a run of this benchmark replaces the
record of the same run, and the records of other runs (other seeds, models, tasks or options)
stay as they were. ``results.md`` and the plots show this benchmark's runs; to see several
benchmarks' runs in one table, run one benchmark that names them all (the finished runs are
reused, not run again).

Example:
    >>> from mmgraph.benchmark import benchmark
    >>> frame = benchmark(["openmoji-text"], ["gnn", "knn-transfer"], 3, out="bench")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import os
import platform
import re
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from mmgraph.data import MultimodalDataset
from mmgraph.data.triples import Triples
from mmgraph.errors import ConfigError, NotApplicableError
from mmgraph.evaluation.metrics import metric_names
from mmgraph.io import atomic_write, check_writable, folder_lock, output_error, remove_leftovers
from mmgraph.pipeline import CHECKPOINT_FOLDER, json_default
from mmgraph.pipeline.config import run_fingerprint
from mmgraph.plotting import plot_benchmark
from mmgraph.records import CANDIDATE_METRICS, RESULTS_FILE, completed_runs, read_records, results_frame
from mmgraph.tasks import Task, get_task, task_spec

logger = logging.getLogger(__name__)




def benchmark(
    tasks: Sequence[str | Task],
    models: Sequence[str],
    seeds: int | Sequence[int],
    *,
    out: str | os.PathLike | None = None,
    root: str | os.PathLike | None = None,
    dataset: MultimodalDataset | Triples | Mapping[str, MultimodalDataset | Triples] | None = None,
    model_options: Mapping[str, Mapping[str, Any]] | None = None,
    encoders: Mapping[str, Any] | None = None,
    setting: str = "inductive",
    cache: Any = "default",
    progress: bool = True,
) -> pd.DataFrame:
    """Runs every (task, model, seed) through the pipeline and collects the test metrics.

    Each task's dataset is loaded once; encodings go through one embedding cache, so each
    modality is encoded once per task and seed whatever the number of models.

    Args:
        tasks: task names (see :data:`mmgraph.tasks.TASKS`) or :class:`Task` objects.
        models: registered model names (see :data:`mmgraph.models.MODELS`).
        seeds: ``N`` for the seeds ``0 .. N-1``, or the list of seeds.
        out: a folder to write ``results.json``, ``results.md`` and ``<task>.png`` into. A
            benchmark run again with the same ``out`` keeps the finished runs of its
            ``results.json`` (same task, model, seed, setting, options and data) instead of
            running them again, and resumes a run killed while training from its checkpoint.
            The records of other runs there are kept (``results.json`` merges); ``results.md``
            and the plots show this benchmark's runs. Checked to be writable before any run.
        root: where the shared data lies (else ``MMGRAPH_DATA``).
        dataset: a dataset to use for every task instead of the task's loader, or one per
            task name (for tasks without a named dataset, and for tests); a knowledge-graph
            (``kg``) task's is :class:`~mmgraph.data.triples.Triples`.
        model_options: settings per model name, e.g. ``{"gnn": {"epochs": 50}}``.
        encoders: an encoder per modality (a name or a spec, see :func:`mmgraph.encoders.resolve`)
            instead of the task's, for every model alike, in the tasks that have the modality;
            each run fits a fresh one on its training samples. Recorded as ``encoders``.
        setting: ``"inductive"`` (default) or ``"transductive"``, for every model alike.
        cache: an :class:`~mmgraph.encoders.EmbeddingCache`, ``"default"`` or ``None``.
        progress: show a progress bar over the runs.

    Returns:
        One row per run: ``task``, ``kind``, ``model``, ``seed``, ``keep`` (item tasks: the
        probability each held-out sample was kept with; None for sample tasks), the metrics of the tasks'
        kinds (``mrr``, ``hits@1``, ``hits@3``, ``hits@10`` for link tasks, ``accuracy``,
        ``macro_f1`` for label tasks; kg tasks report the rank metrics; NaN where they do not
        apply), ``train_seconds``,
        ``skipped`` (the reason, or None) and ``error`` (a failed run's error, or None).

    Raises:
        ValueError: an unknown task or model, bad seeds, or options for a model not run.
        OutputError: ``out`` cannot be written (checked before the first run).
    """
    from mmgraph.datasets import load, load_triples
    from mmgraph.models import MODELS
    from mmgraph.pipeline import pipeline

    tasks = [get_task(task) for task in tasks]
    models = list(models)
    if not tasks or not models:
        raise ConfigError(
            f"benchmark needs at least one task and one model. Got {len(tasks)} and {len(models)}."
        )
    model_classes = {name: MODELS.get(name) for name in models}
    seeds = _seeds(seeds)
    model_options = dict(model_options or {})
    stray = sorted(set(model_options) - set(models))
    if stray:
        raise ConfigError(f"model_options names models that are not run: {stray}. The models are {models}.")
    for name, model_class in model_classes.items():  # a bad setting fails now, not in every run
        model_class(**model_options.get(name, {}))
    if cache == "default":
        from mmgraph.encoders import EmbeddingCache

        cache = EmbeddingCache()
    encoders = _encoder_specs(encoders)
    if out is not None:
        check_writable(out)  # before hours of runs, not after the first one

    started = time.perf_counter()
    records: list[dict[str, Any]] = []
    pending = _finished_runs(out)  # runs of an earlier call with this out, by fingerprint
    reused = 0
    total = len(tasks) * len(seeds) * len(models)
    bar = tqdm(total=total, desc="benchmark", unit="run", disable=not progress)
    for task in tasks:
        data = dataset.get(task.name) if isinstance(dataset, Mapping) else dataset
        if data is None and task.dataset is None:
            raise ConfigError(f"The task {task.name!r} names no dataset; pass dataset=.")
        data_fingerprint = None
        for seed in seeds:
            for name in models:
                bar.set_postfix_str(f"{task.name} | {name} | seed {seed}")
                record: dict[str, Any] = {
                    "task": task.name, "kind": task.kind, "model": name, "seed": seed, "setting": setting,
                    "candidates": task.candidates if task.kind == "link" else None,
                    "keep": task.keep if task.query == "item" else None,
                }
                reason = _kind_mismatch(name, model_classes[name], task)
                if reason is not None:
                    record.update(status="skipped", skipped=reason)
                else:
                    try:
                        if data is None and task.kind == "kg":
                            data = load_triples(task.dataset, root=root, **task.dataset_options)
                        elif data is None:
                            data = load(task.dataset, root=root, **task.dataset_options)
                        data_fingerprint = data_fingerprint or data.fingerprint()
                        modalities = (task.source,) if task.kind == "kg" else data.modalities
                        chosen = {m: spec for m, spec in encoders.items() if m in modalities}
                        if chosen:
                            record["encoders"] = chosen
                        record["fingerprint"] = run_fingerprint({
                            "task": task_spec(task), "model": name, "model_options": model_options.get(name),
                            "seed": seed, "setting": setting, "encoders": chosen,
                        }, data_fingerprint)
                        if record["fingerprint"] in pending:
                            record = pending.pop(record["fingerprint"])
                            reused += 1
                        else:
                            checkpoints = None if out is None else (
                                Path(out) / CHECKPOINT_FOLDER / f"{_file_name(task.name)}.{name}.seed{seed}"
                            )
                            result = pipeline(
                                task, dataset=data, model=name, seed=seed, root=root,
                                model_options=model_options.get(name), encoders=chosen or None, setting=setting,
                                cache=cache, progress=False, checkpoint_dir=checkpoints,
                            )
                            record.update(
                                status="done", metrics=result.metrics,
                                train_seconds=result.timings["train_seconds"], config=result.model_config,
                            )
                    except NotApplicableError as error:
                        record.update(status="skipped", skipped=str(error))
                    except Exception as error:  # a crashed run is recorded, the grid goes on
                        logger.error("the run %s | %s | seed %d failed", task.name, name, seed, exc_info=True)
                        record.update(status="failed", error=f"{type(error).__name__}: {error}")
                record.setdefault("finished", datetime.now(UTC).isoformat(timespec="milliseconds"))
                records.append(record)
                bar.update()
                if out is not None:  # after every run, so an interrupted benchmark keeps its results
                    _write_records(out, records)
    bar.close()
    if reused:
        logger.warning("%d of %d runs were already in %s and were not run again", reused, total, out)
    frame = results_frame(records)
    if out is not None:
        kept = _write_records(out, records)
        if kept:
            logger.info("%s also keeps %d earlier runs that are not part of this benchmark (results.md shows "
                        "this benchmark's runs)", Path(out) / RESULTS_FILE, kept)
        try:
            (Path(out) / CHECKPOINT_FOLDER).rmdir()  # kept while a failed run's checkpoint is there
        except OSError:
            pass
        write_report(frame, out, total_seconds=time.perf_counter() - started)
    return frame


def _write_records(out: str | os.PathLike, records: list[dict[str, Any]]) -> int:
    """Writes ``records`` to ``out/results.json`` with every record already there of another run
    (:func:`_run_key`) kept before them; returns how many were kept. Read and written under the
    folder's lock, so two benchmarks writing to one ``out`` keep each other's records."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with folder_lock(out):
            remove_leftovers(out, [RESULTS_FILE])  # what a killed benchmark left
            ours = {_run_key(r) for r in records}
            others = [r for r in _read_records(out) if _run_key(r) not in ours]
            atomic_write(out / RESULTS_FILE, json.dumps(others + records, indent=2, default=json_default))
    except OSError as error:
        raise output_error(out, error) from error
    return len(others)


def _run_key(record: Mapping[str, Any]) -> str:
    """What makes two records the same run: the fingerprint (task, model, seed, setting, options,
    data, encoders, version); a model skipped for the kind of task has none (nothing ran), so its
    task, model, seed and setting."""
    if record.get("fingerprint"):
        return str(record["fingerprint"])
    return json.dumps([record.get(key) for key in ("task", "model", "seed", "setting")], default=str)


def _read_records(out: str | os.PathLike) -> list[dict[str, Any]]:
    """The records of ``out/results.json`` (none if it does not exist)."""
    return read_records(out) if (Path(out) / RESULTS_FILE).exists() else []


def _finished_runs(out: str | os.PathLike | None) -> dict[str, dict[str, Any]]:
    """The runs of ``out/results.json`` that need not run again (done or skipped), by fingerprint."""
    records = [] if out is None else _read_records(out)
    return {r["fingerprint"]: r for r in records if "fingerprint" in r and r.get("status") in ("done", "skipped")}


def write_report(frame: pd.DataFrame, out: str | os.PathLike, *, total_seconds: float | None = None) -> None:
    """Writes ``out/results.md`` and a plot per task (``out/<task>.png``) from the runs in ``frame``.

    Raises:
        OutputError: ``out`` cannot be written.
    """
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with folder_lock(out):
            remove_leftovers(out, ["results.md", *(f"{_file_name(str(task))}.png" for task in frame["task"].unique())])
            atomic_write(out / "results.md", markdown_report(frame, total_seconds=total_seconds))
            for task, rows in frame.groupby("task", sort=False):
                if len(completed_runs(rows)):  # the report links the plots of these tasks only
                    plot_benchmark(rows, ncols=1, path=out / f"{_file_name(str(task))}.png")
    except OSError as error:
        raise output_error(out, error) from error


def _seeds(seeds: int | Sequence[int]) -> list[int]:
    if isinstance(seeds, int | np.integer) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ConfigError(
                f"The 'seeds' parameter of benchmark must be a positive int or a list. Got {seeds} instead."
            )
        return list(range(int(seeds)))
    values = list(seeds)
    if not values or any(isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 0 for s in values):
        raise ConfigError(
            f"The 'seeds' parameter of benchmark must be a positive int N (seeds 0..N-1) or a non-empty "
            f"list of ints >= 0. Got {seeds!r} instead."
        )
    if len(set(values)) != len(values):
        raise ConfigError(f"The seeds of benchmark must be distinct. Got {values}.")
    return [int(s) for s in values]


def _encoder_specs(encoders: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Each modality's encoder as a spec (a fresh instance is resolved from it for every run)."""
    from mmgraph.encoders import encoder_spec, resolve

    return {modality: encoder_spec(resolve(choice)) for modality, choice in (encoders or {}).items()}


def _kind_mismatch(name: str, model_class: type, task: Task) -> str | None:
    """Why the model does not apply to the task (its kind, or its questions: items or single samples), or None."""
    kinds = getattr(model_class, "kinds", None)
    if kinds is not None and task.kind not in kinds:
        return f"the {name!r} model does {' and '.join(kinds)} tasks, not {task.kind} tasks"
    if task.query == "item" and not model_class.answers_items():
        return f"the {name!r} model scores single samples; the task asks about held-out items"
    if task.query != "item" and model_class.item_only:
        return f"the {name!r} model answers item queries only; the task asks about single samples"
    return None


# ---------------------------------------------------------------------- the report
def markdown_report(
    frame: pd.DataFrame, *, total_seconds: float | None = None, plot_folder: str | None = ""
) -> str:
    """The benchmark as Markdown: per task, mean ± std over seeds of every metric per model.

    The best mean of each metric is in bold; the standard deviation is the sample one (0 with
    a single seed). Skipped models are listed with their reason under the table, failed runs
    with their error. Each task links
    its plot ``<plot_folder>/<task>.png`` (``None``: no plot links).
    """
    from mmgraph import __version__

    seeds = sorted(int(s) for s in frame["seed"].unique())
    lines = [
        "# mmgraph benchmark",
        "",
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}"
        + (f", total time {total_seconds:.1f} s" if total_seconds is not None else ""),
        f"- seeds: {', '.join(map(str, seeds))}",
        f"- machine: {platform.system()} {platform.machine()}, {os.cpu_count()} cores "
        f"(torch threads: {torch.get_num_threads()})",
        f"- versions: mmgraph {__version__}, torch {torch.__version__}, python {platform.python_version()}",
        "",
        "Every cell is the mean ± sample standard deviation over the seeds (0 with one seed); the "
        "best mean of each metric is in bold. Test split, cold queries only; link metrics are "
        "filtered realistic ranks, the mean of both directions, against the task's declared "
        "candidate set; the second table gives both candidate sets.",
    ]
    for task, rows in frame.groupby("task", sort=False):
        kind = rows["kind"].iloc[0]
        metrics = metric_names(kind)
        ran = completed_runs(rows)
        keep = rows["keep"].dropna()
        on = f"{kind} task on held-out items, keep {keep.iloc[0]:g}" if len(keep) else f"{kind} task"
        lines += ["", f"## {task} ({on}, main metric {metrics[0]})", ""]
        if len(ran):
            lines += _stats_table(ran, list(metrics), with_seconds=True)
        if kind == "link" and len(ran):
            declared = ran["candidates"].dropna().iloc[0] if ran["candidates"].notna().any() else None
            lines += ["", f"Both candidate sets (declared: `{declared}`; n/a: the set asks no cold question):", ""]
            lines += _stats_table(ran, list(CANDIDATE_METRICS), with_seconds=False)
        skipped = rows[rows["skipped"].notna()].drop_duplicates("model")
        if len(skipped):
            lines += ["", "Skipped:"]
            lines += [f"- {r.model}: {r.skipped}" for r in skipped.itertuples()]
        failed = rows[rows["error"].notna()]
        if len(failed):
            lines += ["", "Failed:"]
            lines += [f"- {r.model}, seed {r.seed}: {r.error}" for r in failed.itertuples()]
        if len(ran) and plot_folder is not None:
            prefix = f"{plot_folder.rstrip('/')}/" if plot_folder else ""
            lines += ["", f"![{task}]({prefix}{_file_name(str(task))}.png)"]
    return "\n".join(lines) + "\n"


def _stats_table(ran: pd.DataFrame, metrics: list[str], *, with_seconds: bool) -> list[str]:
    """A Markdown table of mean ± std per model of ``metrics``, the best mean in bold."""
    columns = [*metrics, "train_seconds"] if with_seconds else metrics
    stats = ran.groupby("model", sort=False)[columns].agg(["mean", _std])
    counts = ran.groupby("model", sort=False).size()
    extra = " train s | seeds |" if with_seconds else " seeds |"
    lines = ["| model | " + " | ".join(metrics) + " |" + extra, "|---" * (len(metrics) + 2 + with_seconds) + "|"]
    best = {m: stats[(m, "mean")].max() for m in metrics}
    for model in stats.index:
        cells = []
        for m in metrics:
            mean, std = stats.loc[model, (m, "mean")], stats.loc[model, (m, "_std")]
            if np.isnan(mean):
                cells.append("n/a")
                continue
            cell = f"{mean:.3f} ± {std:.3f}"
            cells.append(f"**{cell}**" if np.isclose(mean, best[m]) else cell)
        if with_seconds:
            seconds = stats.loc[model, "train_seconds"]
            cells.append(f"{seconds['mean']:.1f} ± {seconds['_std']:.1f}")
        cells.append(str(int(counts[model])))
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return lines


def _std(values: pd.Series) -> float:
    return float(values.std(ddof=1)) if len(values) > 1 else 0.0


# ---------------------------------------------------------------------- files
def _file_name(task: str) -> str:
    """A task name as a safe file name (manifest tasks are named ``name:src->dst``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", task)
