"""From a fresh clone to the first printed result: the README's first command, timed stage by stage.

Clones this repository's HEAD into a temporary folder and runs the README's first command there
(its first ``bash`` block, split on ``&&``: make the venv, install, run) with empty caches: pip's
(``PIP_CACHE_DIR``, ``PIP_NO_CACHE_DIR``) and mmgraph's (``MMGRAPH_CACHE``). Each stage's wall
time, the timings the run prints (loading, encoding, training, evaluation) and the load average
before and after go to ``benchmarks/results/fresh-machine.md`` and ``.json``. Nothing outside the
temporary folder is touched; it is removed at the end.

Usage:
    .venv/bin/python benchmarks/fresh_machine.py [--out benchmarks/results/fresh-machine.md] [--keep]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TIMING = re.compile(r"(load|encode|train|eval)_seconds (\d+(?:\.\d+)?)s")


def first_command(readme: Path) -> list[str]:
    """The stages of the README's first ``bash`` block (one command joined by ``&&``)."""
    block = re.search(r"```bash\n(.*?)```", readme.read_text(encoding="utf-8"), re.S)
    if block is None:
        raise SystemExit(f"{readme} has no ```bash block")
    command = " ".join(line.strip().rstrip("\\") for line in block.group(1).splitlines() if line.strip())
    return [stage.strip() for stage in command.split("&&")]


def run_stage(command: str, cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"`{command}` failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "fresh-machine.md"))
    parser.add_argument("--keep", action="store_true", help="keep the temporary clone (its path is printed)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mmgraph-fresh-"))
    try:
        clone = work / "mmgraph"
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                                check=True).stdout.strip()
        subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(REPO), str(clone)], check=True)
        env = {**os.environ, "PIP_CACHE_DIR": str(work / "pip-cache"), "PIP_NO_CACHE_DIR": "1",
               "MMGRAPH_CACHE": str(work / "mmgraph-cache"), "MMGRAPH_DATA": str(REPO.parent / "shared" / "data")}
        env.pop("VIRTUAL_ENV", None)
        load_before = os.getloadavg()
        stages = []
        total = 0.0
        printed = ""
        for command in first_command(clone / "README.md"):
            print(f"running: {command}", flush=True)
            seconds, printed = run_stage(command, clone, env)
            total += seconds
            stages.append({"command": command, "seconds": round(seconds, 1)})
        load_after = os.getloadavg()
        reported = {f"{name}_seconds": float(value) for name, value in TIMING.findall(printed)}
        record = {
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"), "commit": commit,
            "cpus": os.cpu_count(), "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in load_after], "stages": stages, "total_seconds": round(total, 1),
            "run_timings": reported,
        }
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    lines = [
        "# Fresh clone to first result",
        "",
        f"- {record['date']}, commit `{commit}`, {record['cpus']} cores; load average (1/5/15 min) "
        f"{'/'.join(map(str, record['load_before']))} before, {'/'.join(map(str, record['load_after']))} after",
        "- command: `.venv/bin/python benchmarks/fresh_machine.py` (the README's first command in a fresh clone, "
        "empty pip and mmgraph caches)",
        "",
        "| stage | seconds |",
        "|---|---|",
        *(f"| `{s['command'][:90]}` | {s['seconds']:.1f} |" for s in stages),
        f"| **total** | **{total:.1f}** ({total / 60:.1f} min; target 180 s) |",
        "",
        "The run's own timings: " + ", ".join(f"{k.replace('_seconds', '')} {v:.1f} s" for k, v in reported.items()),
    ]
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
