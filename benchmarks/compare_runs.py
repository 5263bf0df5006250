"""One model's main metric in two sets of `mmgraph bench` records, task by task, as a Markdown table.

Usage:
    .venv/bin/python benchmarks/compare_runs.py OLD_FOLDER NEW_FOLDER [--model gnn] [--new-model M] [--seeds 0,1,2]

For each task both sets ran: mean ± sample std over the seeds of each set, the difference of the
means, and whether it lies within one standard deviation (the larger of the two).
"""

from __future__ import annotations

import argparse
import statistics

from mmgraph.records import read_records
from mmgraph.tasks import TASKS


def main_metrics(folder: str, model: str, seeds: set[int] | None = None) -> dict[str, list[float]]:
    """Per task, the main metric of every completed run of ``model`` in ``folder/results.json``
    (of the ``seeds`` only, if given)."""
    out: dict[str, list[float]] = {}
    for record in read_records(folder):
        if record["model"] != model or record.get("status", "done") != "done":
            continue
        if seeds is not None and record["seed"] not in seeds:
            continue
        metric = "mrr" if record["kind"] == "link" else "accuracy"
        out.setdefault(record["task"], []).append(record["metrics"][metric])
    return out


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--model", default="gnn")
    parser.add_argument("--new-model", help="the model read from NEW_FOLDER (default: --model)")
    parser.add_argument("--seeds", help="comma-separated seeds to compare (default: every seed of each set)")
    args = parser.parse_args()
    seeds = {int(s) for s in args.seeds.split(",")} if args.seeds else None
    old, new = main_metrics(args.old, args.model, seeds), main_metrics(args.new, args.new_model or args.model, seeds)
    print(f"| task | metric | {args.old} | {args.new} | change | within one std |")
    print("|---|---|---|---|---|---|")
    for task in (t for t in TASKS.names() if t in old and t in new):
        (m0, s0), (m1, s1) = _mean_std(old[task]), _mean_std(new[task])
        metric = "mrr" if TASKS.get(task).kind == "link" else "accuracy"
        within = "yes" if abs(m1 - m0) <= max(s0, s1) else ("no (better)" if m1 > m0 else "no (worse)")
        print(f"| {task} | {metric} | {m0:.3f} ± {s0:.3f} ({len(old[task])}) | {m1:.3f} ± {s1:.3f} ({len(new[task])}) "
              f"| {m1 - m0:+.3f} | {within} |")


if __name__ == "__main__":
    main()
