"""The scaling benchmark runs end to end on a tiny size, so that the script behind BENCHMARKS.md keeps working."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_scaling_benchmark_writes_its_tables(tmp_path) -> None:
    out = tmp_path / "scaling.md"
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "scaling.py"), "--nodes", "1000,2000,1000000000", "--dims", "16",
         "--threads", "1", "--compare-epochs", "1", "--out", str(out)],
        check=True, env=env, cwd=tmp_path, timeout=600, capture_output=True,
    )
    records = json.loads(out.with_suffix(".json").read_text())
    assert [(r["nodes"], r["dim"]) for r in records] == [(1000, 16), (2000, 16), (1_000_000_000, 16)]
    *records, skipped = records  # a billion nodes would not fit this machine's memory: recorded as not run
    assert skipped["skipped"].startswith("not run: estimated peak") and "stages" not in skipped
    for record in records:
        assert set(record["stages"]) == {"data", "prepare", "graph", "epoch", "evaluation", "prediction"}
        assert all(s["seconds"] > 0 and s["peak_bytes"] > 0 for s in record["stages"].values())
        assert record["training"] == "full" and 0 < record["test_mrr"] <= 1
        assert record["knn_check"]["exact_seconds"] > 0 and record["hand_written_epoch_seconds"] > 0
    text = out.read_text()
    assert "| 1,000 | 16 |" in text and "| 2,000 | 16 |" in text and "hand-written" in text
    assert "| 1,000,000,000 | 16 | not run: estimated peak" in text


def test_report_keeps_other_encoders_apart_and_compares_them_on_shared_seeds(tmp_path) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import report
    finally:
        sys.path.remove(str(REPO / "benchmarks"))

    def run(model: str, seed: int, mrr: float, encoders: dict | None = None) -> dict:
        record = {"task": "digits-audio-image", "kind": "link", "model": model, "seed": seed, "status": "done",
                  "candidates": "all", "metrics": {"mrr": mrr}, "train_seconds": 1.0}
        return {**record, "encoders": encoders} if encoders else record

    gru = {"audio": {"name": "gru-logmel", "objective": "classes", "hidden_dim": 128, "epochs": 30}}
    records = [run("gnn", s, 0.3 + 0.01 * s) for s in range(3)] + [run("gnn", s, 0.5, gru) for s in (1, 2, 7)]
    (tmp_path / "results.json").write_text(json.dumps(records))
    frame, other, replaced = report._latest_frame([tmp_path / "results.json"])
    assert sorted(frame["mrr"]) == [0.3, 0.31, 0.32] and len(other) == 3 and replaced == 0
    table = report.encoder_table(frame, other)
    # Only the settings that differ from the encoder's defaults are named; seed 7 has no partner run.
    assert table[2] == ("| digits-audio-image | `audio=gru-logmel:epochs=30` | gnn | mrr | 0.315 ± 0.007 | "
                        "0.500 ± 0.000 | +0.185 | 1, 2 |")


def test_compare_records_finds_every_difference_to_the_last_digit(tmp_path, capsys) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import compare_records
    finally:
        sys.path.remove(str(REPO / "benchmarks"))

    def run(model: str, mrr: float, **extra) -> dict:
        return {"task": "openmoji-text", "kind": "link", "model": model, "seed": 0, "status": "done",
                "metrics": {"mrr": mrr, "hits@1": 0.25}, "train_seconds": 1.0, **extra}

    old = [run("knn-transfer", 0.3), run("transfer", 0.4), run("gnn", 0.5)]
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "results.json").write_text(json.dumps(old))
    same = [{**r, "train_seconds": 9.0, "fingerprint": "another version"} for r in reversed(old)]
    (tmp_path / "same.json").write_text(json.dumps(same))
    assert compare_records.main([str(tmp_path / "old"), str(tmp_path / "same.json")]) == 0
    assert "the same to the last digit: 3 run(s)" in capsys.readouterr().out
    new = [run("knn-transfer", 0.30000000000000004), run("transfer", 0.4, setting="transductive"), old[2]]
    (tmp_path / "new.json").write_text(json.dumps(new))
    assert compare_records.main([str(tmp_path / "old"), str(tmp_path / "new.json")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("openmoji-text | knn-transfer | seed 0 | inductive | null: "
                        "mrr 0.3 -> 0.30000000000000004 (+5.55e-17)")
    assert sum("only in OLD" in line for line in lines) == 1 and sum("only in NEW" in line for line in lines) == 1
    assert lines[-1] == "3 difference(s) over 4 run(s)"


def test_report_item_tables_give_each_level_and_the_bar_per_level(tmp_path) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import report
    finally:
        sys.path.remove(str(REPO / "benchmarks"))

    def run(model: str, seed: int, at_one: float, alone: float) -> dict:
        metrics = {"accuracy": at_one - 0.1, "keep=1/accuracy": at_one, "only=image/accuracy": alone}
        return {"task": "items:keep=0.5", "kind": "label", "model": model, "seed": seed, "keep": 0.5,
                "status": "done", "metrics": metrics, "train_seconds": 1.0}

    records = [run("gnn", s, 0.95 + 0.001 * s, 0.6) for s in range(5)]
    records += [run("items-average", s, 0.90, 0.7 + 0.001 * s) for s in range(5)]
    records += [run("items-concat", s, 0.85, 0.5) for s in range(4)]
    (tmp_path / "results.json").write_text(json.dumps(records))
    frame, _, _ = report._latest_frame([tmp_path / "results.json"])
    lines = report.item_tables(frame)
    assert lines[0] == ("### items:keep=0.5 (label, accuracy; settings chosen on validation items at keep 0.5; "
                        "seeds: gnn 5, items-average 5, items-concat 4)")
    assert lines[2] == "| level | gnn | items-average | items-concat | gnn vs best other (errors 0.8x) |"
    # keep=1: 0.048 errors against items-average's 0.100 -> 0.48x, met; alone: items-average is better.
    assert lines[4] == ("| keep=1 | **0.952 ± 0.002** | 0.900 ± 0.000 | 0.850 ± 0.000 | "
                        "0.48 vs items-average: met |")
    assert lines[5] == ("| only=image | 0.600 ± 0.000 | **0.702 ± 0.002** | 0.500 ± 0.000 | "
                        "1.34 vs items-average: not met |")
