"""Builds BENCHMARKS.md from the records of one or more `mmgraph bench` runs.

Usage (see benchmarks/run_all.sh, which runs the benchmarks first):

    .venv/bin/python benchmarks/report.py benchmarks/results/baselines benchmarks/results/gnn

Every number in BENCHMARKS.md comes from the ``results.json`` files named on the command
line; the narrative of what was tried is read from ``benchmarks/experiments.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from mmgraph import __version__
from mmgraph.benchmark import METRICS, markdown_report, results_frame, write_report

REPO = Path(__file__).resolve().parents[1]
RELATIVE_GAIN = 0.20  # the bar of issue 5: the default relation learner beats the best baseline by 20%


def bar_table(frame: pd.DataFrame, model: str = "gnn") -> list[str]:
    """Per task: the model, the best other model, the relative gain and whether the bar is met."""
    lines = [
        f"| task | metric | {model} | best baseline | relative gain | gain > 20% and gap > both stds |",
        "|---|---|---|---|---|---|",
    ]
    ran = frame[frame["skipped"].isna()]
    for task, rows in ran.groupby("task", sort=False):
        metric = METRICS[rows["kind"].iloc[0]][0]
        stats = rows.groupby("model")[metric].agg(["mean", "std"]).fillna(0.0)
        if model not in stats.index or len(stats) < 2:
            continue
        others = stats.drop(index=model)
        best = others["mean"].idxmax()
        ours, theirs = stats.loc[model], others.loc[best]
        gain = ours["mean"] / theirs["mean"] - 1 if theirs["mean"] > 0 else np.nan
        gap = ours["mean"] - theirs["mean"]
        met = gain >= RELATIVE_GAIN and gap > max(ours["std"], theirs["std"])
        lines.append(
            f"| {task} | {metric} | {ours['mean']:.3f} ± {ours['std']:.3f} | {best} "
            f"{theirs['mean']:.3f} ± {theirs['std']:.3f} | {gain:+.1%} | {'yes' if met else 'no'} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="folders holding a results.json of `mmgraph bench`")
    parser.add_argument("--out", default=str(REPO / "BENCHMARKS.md"))
    parser.add_argument("--plots", default=str(REPO / "benchmarks" / "results" / "all"))
    args = parser.parse_args()

    records, sources = [], []
    for folder in args.runs:
        path = Path(folder) / "results.json"
        if not path.exists():
            raise SystemExit(f"No results.json in {folder!r}; run `mmgraph bench --out {folder}` first.")
        runs = json.loads(path.read_text())
        records += runs
        sources.append(f"{path.relative_to(REPO) if path.is_absolute() else path} ({len(runs)} runs)")
    # A later run of the same (task, model, seed) replaces an earlier one.
    latest = {(r["task"], r["model"], r["seed"]): r for r in records}
    replaced = len(records) - len(latest)
    frame = results_frame(list(latest.values()))
    write_report(frame, args.plots)
    run_seconds = float(np.nansum(frame["train_seconds"]))
    plots = os.path.relpath(args.plots, Path(args.out).parent)
    report = markdown_report(frame, plot_folder=plots)
    report = report[report.index("Every cell") :]  # its title and run details are replaced by ours
    experiments = (REPO / "benchmarks" / "experiments.md").read_text()
    encoders = REPO / "benchmarks" / "results" / "encoders.md"
    encoder_section = (
        "## Encoders\n\nFrom `benchmarks/results/encoders.md`, written by "
        "`.venv/bin/python benchmarks/bench_encoders.py`:\n\n"
        + encoders.read_text().split("\n", 1)[1].strip()
        if encoders.exists() else "## Encoders\n\nRun `.venv/bin/python benchmarks/bench_encoders.py`."
    )
    text = "\n".join([
        "# Benchmarks",
        "",
        "Produced by `bash benchmarks/run_all.sh` (the `mmgraph bench` commands in it, then "
        "`benchmarks/report.py`); nothing here is typed by hand except the log of what was tried "
        "at the end.",
        "",
        f"- written: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} from {', '.join(sources)}"
        + (f"; {replaced} runs replaced by later runs of the same task, model and seed" if replaced else ""),
        f"- seeds: {', '.join(str(s) for s in sorted(frame['seed'].unique()))}; one torch thread per run",
        f"- machine: {platform.system()} {platform.machine()}, {os.cpu_count()} cores, no GPU; "
        f"mmgraph {__version__}, torch {torch.__version__}, Python {platform.python_version()}",
        f"- training time summed over all runs: {run_seconds / 60:.1f} min (loading, encoding "
        "and evaluation come on top; encodings are cached across models and seeds)",
        "",
        "## The bar: the default relation learner (`gnn`) against the best baseline",
        "",
        "Mean ± sample std over the seeds on the test split; relative gain of the mean.",
        "",
        *bar_table(frame),
        "",
        report.strip(),
        "",
        experiments.strip(),
        "",
        encoder_section,
        "",
    ])
    out = Path(args.out)
    temporary = out.with_name(out.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, out)
    print(f"wrote {out} and the plots in {args.plots}")


if __name__ == "__main__":
    main()
