"""Compares two sets of `mmgraph bench` records metric by metric, to the last digit.

Usage:
    .venv/bin/python benchmarks/compare_records.py OLD NEW

OLD and NEW are results.json files or the --out folders holding them. Runs are matched by task,
model, seed, setting and encoders; for every run in either set, each metric of OLD and NEW is
compared exactly (the floats as written). Every difference is printed, a run found in one set
only too; the exit status is 1 on any difference, 0 when every metric of every run is the same.
Timings, dates and fingerprints (which hold the mmgraph version) are not compared.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import Any

from mmgraph.records import read_records


def run_key(record: Mapping[str, Any]) -> str:
    """What identifies a run across two benchmarks: task, model, seed, setting and encoders."""
    return " | ".join([str(record["task"]), str(record["model"]), f"seed {record['seed']}",
                       str(record.get("setting", "inductive")), json.dumps(record.get("encoders"), sort_keys=True)])


def differences(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    """One line per difference between the runs of ``old`` and ``new`` (none: the same to the last digit)."""
    before, after = ({run_key(r): r for r in records} for records in (old, new))
    lines = []
    for key in sorted(before.keys() | after.keys()):
        if key not in after or key not in before:
            lines.append(f"{key}: only in {'OLD' if key in before else 'NEW'}")
            continue
        a, b = before[key], after[key]
        for field in ("status", "skipped", "error"):
            if a.get(field) != b.get(field):
                lines.append(f"{key}: {field} {a.get(field)!r} -> {b.get(field)!r}")
        metrics_a, metrics_b = a.get("metrics") or {}, b.get("metrics") or {}
        for metric in sorted(metrics_a.keys() | metrics_b.keys()):
            x, y = metrics_a.get(metric), metrics_b.get(metric)
            if x != y:
                change = f" ({y - x:+.3g})" if isinstance(x, int | float) and isinstance(y, int | float) else ""
                lines.append(f"{key}: {metric} {x!r} -> {y!r}{change}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("old", help="a results.json or the folder holding it")
    parser.add_argument("new", help="a results.json or the folder holding it")
    args = parser.parse_args(argv)
    old, new = read_records(args.old), read_records(args.new)
    found = differences(old, new)
    for line in found:
        print(line)
    runs = len({run_key(r) for r in old} | {run_key(r) for r in new})
    print(f"{len(found)} difference(s) over {runs} run(s)" if found else f"the same to the last digit: {runs} run(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
