"""Builds BENCHMARKS.md from the records of one or more `mmgraph bench` runs.

Usage (see benchmarks/run_all.sh, which runs the benchmarks first):

    .venv/bin/python benchmarks/report.py benchmarks/results/baselines benchmarks/results/gnn

Every number in BENCHMARKS.md comes from the ``results.json`` files named on the command
line (and, for the comparison with the table before the protocol change, from the records kept
in ``benchmarks/results/previous/``); the narrative of what was tried is read from
``benchmarks/experiments.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from mmgraph import __version__
from mmgraph.benchmark import markdown_report, write_report
from mmgraph.data.items import LEVEL_PREFIXES
from mmgraph.encoders import resolve
from mmgraph.evaluation.metrics import main_metric
from mmgraph.io import atomic_write
from mmgraph.plotting import plot_keep
from mmgraph.records import RESULTS_FILE, completed_runs, read_records, results_frame

REPO = Path(__file__).resolve().parents[1]
RELATIVE_GAIN = 0.20  # the bar of issue 5: the default relation learner beats the best baseline by 20%
BAR_SEEDS = 5  # the bar is decided on the mean over this many seeds (issue 14)
PREVIOUS_COMMIT = "61006e6"  # the last BENCHMARKS.md under the old protocol

PROTOCOL = """## The protocol

Every number below is what a user gets when the fitted model meets new samples:

- **Cold queries.** In each direction, a test link is asked only where its query sample is held
  out (a test sample) and holds no link of the evaluated type in what the model reads. A link
  whose query end is a training sample is never asked in that direction.
- **Declared candidates.** Each link task declares its candidate set: `held-out` (the test
  samples of the target modality; the cross-modal retrieval standard when both sides of an item
  are new) or `all` (every target sample known by then, a catalogue; for a one-to-one relation
  without the samples already holding a training link). No sample is a candidate because it is
  an answer. Both sets are reported; "n/a" where a set asks nothing (in `emoji-crosslingual` the
  Chinese names stay in the graph through their images, so none is held out). The declared set
  is what a saved model ranks by default (`mmgraph predict`, `Predictor.predict_links`): the
  model folder stores it, and a test checks for every named task, query for query, that the
  predict path ranks the evaluator's candidates (`tests/pipeline/test_catalogue.py`).
- **Inductive.** `fit` reads the training view only: training samples' features, training links,
  training labels, and a validation callback for model selection. Validation and test samples
  are then encoded, attached and scored through `model.scorer(new)`, the function prediction
  uses. Each new sample is scored on its own (it receives messages from the training graph and
  sends none).
- **Equal information.** Every model gets the same features, preprocessing statistics from
  training rows, the same validation questions; filtered realistic ranks, mean of both
  directions; AUC/AP (in `results.json`) use negatives drawn from the same candidates.
- **Model selection on validation only**; every cell is a mean over seeds (its count in the
  `seeds` column; seed `s` is the same split for every model). A model that reads no feature
  (training degree, newness) scores at or below chance under this protocol
  (`tests/data/test_prepared.py`)."""


def bar_table(frame: pd.DataFrame, model: str = "gnn") -> list[str]:
    """Per task: the model, the best other model, the relative gain and whether the bar is met.

    Each pair is compared on the seeds both ran (the same splits), so a model with fewer seeds
    is held against the learner on those seeds only.
    """
    lines = [
        f"| task | metric | {model} | best baseline | relative gain | gain > 20% and gap > both stds | seeds |",
        "|---|---|---|---|---|---|---|",
    ]
    ran = completed_runs(frame)
    for task, rows in ran.groupby("task", sort=False):
        metric = main_metric(rows["kind"].iloc[0])
        best = best_other({name: group.set_index("seed")[metric] for name, group in rows.groupby("model", sort=False)},
                          model)
        if best is None:
            continue
        other, ours, theirs = best
        seeds = list(ours.index)
        gain = ours.mean() / theirs.mean() - 1 if theirs.mean() > 0 else np.nan
        met = gain >= RELATIVE_GAIN and ours.mean() - theirs.mean() > max(_std(ours), _std(theirs))
        verdict = ("yes" if met else "no") if len(seeds) >= BAR_SEEDS else f"not decided: {len(seeds)} seed(s)"
        if (1 + RELATIVE_GAIN) * theirs.mean() > 1:  # MRR and accuracy are at most 1
            verdict += f" (out of reach: {1 + RELATIVE_GAIN:.1f} x {theirs.mean():.3f} > 1)"
        lines.append(
            f"| {task} | {metric} | {ours.mean():.3f} ± {_std(ours):.3f} | {other} "
            f"{theirs.mean():.3f} ± {_std(theirs):.3f} | {gain:+.1%} | {verdict} | "
            f"{', '.join(map(str, seeds))} |"
        )
    return lines


def best_other(values: dict[str, pd.Series], model: str) -> tuple[str, pd.Series, pd.Series] | None:
    """The other model of best mean against ``model``, each held on the seeds both ran (the same
    splits): ``(its name, model's values, its values)`` on those seeds, or None when no other
    model shares a seed with ``model``. ``values``: each model's metric by seed (NaN: not measured)."""
    if model not in values:
        return None
    ours = values[model].dropna()
    best = None
    for name, theirs in values.items():
        seeds = sorted(set(theirs.dropna().index) & set(ours.index))
        if name != model and seeds and (best is None or theirs[seeds].mean() > best[2].mean()):
            best = (name, ours[seeds], theirs[seeds])
    return best


def _std(values: pd.Series) -> float:
    return float(values.std(ddof=1)) if len(values) > 1 else 0.0


def _latest_frame(paths: list[Path]) -> tuple[pd.DataFrame, list[dict], int]:
    """The runs with each task's own encoders, a later run of the same (task, model, seed) replacing
    an earlier one; the runs with another encoder (``--encoder``) likewise; how many were replaced."""
    records = []
    for path in paths:
        records += read_records(path)
    latest = {(r["task"], r["model"], r["seed"], encoder_options(r)): r for r in records}
    default = [r for r in latest.values() if not r.get("encoders")]
    other = [r for r in latest.values() if r.get("encoders")]
    return results_frame(default), other, len(records) - len(latest)


def encoder_options(record: dict) -> str:
    """The ``--encoder`` options of a run, as the command line reads them ("" for the task's own)."""
    specs = []
    for modality, spec in sorted((record.get("encoders") or {}).items()):
        spec = dict(spec) if isinstance(spec, dict) else {"name": spec}
        name = spec.pop("name")
        defaults = _encoder_defaults(name)
        options = ",".join(f"{k}={v}" for k, v in sorted(spec.items()) if defaults.get(k, object()) != v)
        specs.append(f"{modality}={name}" + (f":{options}" if options else ""))
    return " ".join(specs)


def _encoder_defaults(name: str) -> dict:
    return resolve(name).get_config()


def encoder_table(default: pd.DataFrame, other: list[dict]) -> list[str]:
    """Per task, alternative encoder and model: the main metric with the task's own encoders and with
    the alternative, on the seeds both ran, and the difference of the means."""
    lines = [
        "| task | encoder | model | metric | task's encoders | with the encoder | change | seeds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ran = completed_runs(default)
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for record in other:
        groups.setdefault((record["task"], encoder_options(record), record["model"]), []).append(record)
    for (task, spec, model), records in groups.items():
        alternative = completed_runs(results_frame(records))
        if alternative.empty:
            continue
        metric = main_metric(alternative["kind"].iloc[0])
        theirs = alternative.set_index("seed")[metric]
        base = ran[(ran["task"] == task) & (ran["model"] == model)].set_index("seed")[metric]
        seeds = sorted(set(theirs.index) & set(base.index))
        if not seeds:
            continue
        old, new = base[seeds], theirs[seeds]
        lines.append(
            f"| {task} | `{spec}` | {model} | {metric} | {old.mean():.3f} ± {_std(old):.3f} | "
            f"{new.mean():.3f} ± {_std(new):.3f} | {new.mean() - old.mean():+.3f} | {', '.join(map(str, seeds))} |"
        )
    return lines


def change_table(frame: pd.DataFrame, previous: pd.DataFrame) -> list[str]:
    """Main metric per task and model: the previous table (old protocol) against this one."""
    lines = [
        f"| task | model | metric | previous ({PREVIOUS_COMMIT}) | now | change |",
        "|---|---|---|---|---|---|",
    ]
    for (task, model), rows in completed_runs(frame).groupby(["task", "model"], sort=False):
        metric = main_metric(rows["kind"].iloc[0])
        before = completed_runs(previous)
        before = before[(before["task"] == task) & (before["model"] == model)]
        if not len(before):
            continue
        old, new = before[metric].mean(), rows[metric].mean()
        lines.append(f"| {task} | {model} | {metric} | {old:.3f} | {new:.3f} | {new - old:+.3f} |")
    return lines


def _section(title: str, table: str, script: str) -> str:
    """A section holding the table a benchmark script wrote (without the table's own title)."""
    path = REPO / "benchmarks" / "results" / table
    if not path.exists():
        return f"## {title}\n\nRun `.venv/bin/python benchmarks/{script}`."
    return (
        f"## {title}\n\nFrom `benchmarks/results/{table}`, written by `.venv/bin/python benchmarks/{script}`:\n\n"
        + path.read_text().split("\n", 1)[1].strip()
    )


ITEM_ERROR_RATIO = 0.8  # the bar of issue 22: on label item tasks, the learner makes at most 0.8x the errors
ITEM_LINK_RATIO = 1.2  # and on link item tasks, at least 1.2x the MRR, of the best fusion baseline


def item_tables(frame: pd.DataFrame, model: str = "gnn") -> list[str]:
    """Per item task: each model's main metric (mean ± std over seeds) at every level its test items
    were asked at, one row per level, and in the last column the bar of the item tasks at that
    level: ``model`` against the best other model of the level, on the seeds both ran (labels: the
    ratio of error rates, at most 0.8; links: the ratio of MRRs, at least 1.2; and the gap larger
    than both standard deviations)."""
    ran = completed_runs(frame)
    ran = ran[ran["keep"].notna()] if "keep" in ran else ran.iloc[:0]
    lines: list[str] = []
    for task, rows in ran.groupby("task", sort=False):
        kind = rows["kind"].iloc[0]
        metric = main_metric(kind)
        levels = [c for c in rows.columns if c.startswith(LEVEL_PREFIXES) and c.endswith(f"/{metric}")
                  and rows[c].notna().any()]
        if not levels:
            continue
        by_model = {name: group.set_index("seed") for name, group in rows.groupby("model", sort=False)}
        bar = f"{model} vs best other (errors {ITEM_ERROR_RATIO}x)" if kind == "label" else \
            f"{model} vs best other (MRR {ITEM_LINK_RATIO}x)"
        seeds = ", ".join(f"{name} {len(group)}" for name, group in by_model.items())
        chosen_at = f"settings chosen on validation items at keep {rows['keep'].iloc[0]:g}"
        lines += [f"### {task} ({kind}, {metric}; {chosen_at}; seeds: {seeds})", "",
                  "| level | " + " | ".join(by_model) + (f" | {bar} |" if model in by_model else " |"),
                  "|---" * (len(by_model) + 1 + (model in by_model)) + "|"]
        for column in levels:
            means = {name: group[column].mean() for name, group in by_model.items()}
            best = max((m for m in means.values() if not np.isnan(m)), default=np.nan)
            cells = [_cell(group[column], bold=means[name] == best) for name, group in by_model.items()]
            verdict = [_item_bar(by_model, model, column, kind)] if model in by_model else []
            lines.append(f"| {column.removesuffix('/' + metric)} | " + " | ".join(cells + verdict) + " |")
        lines.append("")
    return lines


def _cell(values: pd.Series, *, bold: bool) -> str:
    values = values.dropna()
    if values.empty:
        return "n/a"
    text = f"{values.mean():.3f} ± {_std(values):.3f}"
    return f"**{text}**" if bold else text


def _item_bar(by_model: dict[str, pd.DataFrame], model: str, column: str, kind: str) -> str:
    """The learner against the best other model of one level: the ratio and the verdict."""
    best = best_other({name: group[column] for name, group in by_model.items()}, model)
    if best is None:
        return "n/a"
    other, ours, theirs = best
    seeds = list(ours.index)
    if kind == "label":
        ratio = (1 - ours.mean()) / (1 - theirs.mean()) if theirs.mean() < 1 else np.nan
        met = ratio <= ITEM_ERROR_RATIO
    else:
        ratio = ours.mean() / theirs.mean() if theirs.mean() > 0 else np.nan
        met = ratio >= ITEM_LINK_RATIO
    met = met and ours.mean() - theirs.mean() > max(_std(ours), _std(theirs))
    verdict = ("met" if met else "not met") if len(seeds) >= BAR_SEEDS else f"{len(seeds)} seed(s)"
    return f"{ratio:.2f} vs {other}: {verdict}"


def keep_section(frame: pd.DataFrame, plots: str, plot_folder: Path) -> list[str]:
    """The item tasks: the tables of :func:`item_tables` and the figure of scores against ``keep``
    (nothing when no item task ran)."""
    tables = item_tables(frame)
    if not tables:
        return []
    plot_keep(frame, path=plot_folder / "items-keep.png")
    return [
        "## Item tasks: scores as modalities go missing",
        "",
        "A held-out item is asked with each of its samples kept with probability `keep` (the same seeded "
        "draw for every model; an item keeps at least one), or with one modality only. Each run fits "
        "one model, its settings chosen on the validation items at the task's `keep`, and asks the test "
        "items at every level; each cell is the main metric, mean ± std over seeds. The last row is the "
        f"bar of the item tasks: the learner's error rate at most {ITEM_ERROR_RATIO}x the best other model's "
        f"(label tasks) or its MRR at least {ITEM_LINK_RATIO}x (link tasks), the gap larger than both stds, "
        f"over {BAR_SEEDS} seeds.",
        "",
        *tables,
        f"![item tasks against keep]({plots}/items-keep.png)",
        "",
        "Written by `mmgraph.plotting.plot_keep` from the same records.",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="folders holding a results.json of `mmgraph bench`")
    parser.add_argument("--out", default=str(REPO / "BENCHMARKS.md"))
    parser.add_argument("--plots", default=str(REPO / "benchmarks" / "results" / "all"))
    parser.add_argument("--previous", default=str(REPO / "benchmarks" / "results" / "previous"),
                        help="records of the table before the protocol change, for the comparison")
    args = parser.parse_args()

    paths, sources = [], []
    for folder in args.runs:
        path = Path(folder) / RESULTS_FILE
        paths.append(path)
        name = path.relative_to(REPO) if path.is_absolute() and path.is_relative_to(REPO) else path
        sources.append(f"{name} ({len(read_records(path))} runs)")
    frame, other_encoders, replaced = _latest_frame(paths)
    previous, _, _ = _latest_frame(sorted(Path(args.previous).glob("*.json")))
    write_report(frame, args.plots)
    run_seconds = float(np.nansum(frame["train_seconds"]))
    plots = os.path.relpath(args.plots, Path(args.out).parent)
    report = markdown_report(frame, plot_folder=plots)
    report = report[report.index("Every cell") :]  # its title and run details are replaced by ours
    experiments = (REPO / "benchmarks" / "experiments.md").read_text()
    text = "\n".join([
        "# Benchmarks",
        "",
        "Produced by `mmgraph bench` runs (the records named below) and `benchmarks/report.py`; "
        "`bash benchmarks/run_all.sh` runs the whole grid and writes this file. Nothing here is typed "
        "by hand except the log of what was tried at the end.",
        "",
        f"- written: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} from {', '.join(sources)}"
        + (f"; {replaced} runs replaced by later runs of the same task, model and seed" if replaced else ""),
        f"- seeds: {', '.join(str(s) for s in sorted(frame['seed'].unique()))}; one torch thread per run",
        f"- machine: {platform.system()} {platform.machine()}, {os.cpu_count()} cores, no GPU; "
        f"mmgraph {__version__}, torch {torch.__version__}, Python {platform.python_version()}",
        f"- training time summed over all runs: {run_seconds / 60:.1f} min (loading, encoding "
        "and evaluation come on top; encodings are cached across models and seeds)",
        "",
        PROTOCOL,
        "",
        "## The bar: the default relation learner (`gnn`) against the best baseline",
        "",
        "Mean ± sample std on the test split, declared candidate set, over the seeds both models ran; "
        "relative gain of the mean.",
        "",
        *bar_table(frame),
        "",
        report.strip(),
        "",
        *keep_section(frame, plots, Path(args.plots)),
        "## What changed against the previous table",
        "",
        f"The previous BENCHMARKS.md (commit {PREVIOUS_COMMIT}; its records are kept in "
        "`benchmarks/results/previous/`) ranked against a pool built from the held-out samples and the "
        "answers' ends, let warm queries into the test set (on `digits-audio-image`, 1,916 of 4,933 test "
        "links had a training-speaker clip as the query) and let the GNN read held-out features while "
        "training. Main metric, mean over the seeds each ran, previous against now:",
        "",
        *change_table(frame, previous),
        "",
        "## Other encoders",
        "",
        "Runs with another encoder for one modality (`mmgraph bench --encoder MODALITY=NAME[:OPTIONS]`), "
        "against the same model with the task's own encoders on the same seeds (mean ± sample std, "
        "declared candidates). These runs are not part of the tables above.",
        "",
        *encoder_table(frame, other_encoders),
        "",
        experiments.strip(),
        "",
        _section("Prediction speed", "predict-speed.md", "bench_predict.py"),
        "",
        _section("Scaling", "scaling.md", "scaling.py"),
        "",
        _section("Encoders", "encoders.md", "bench_encoders.py"),
        "",
    ])
    out = atomic_write(args.out, text)
    print(f"wrote {out} and the plots in {args.plots}")


if __name__ == "__main__":
    main()
