"""The benchmark harness on tiny synthetic tasks: every model, one seed, files written."""

from __future__ import annotations

import errno
import json
import logging
import math
import os
import signal
import subprocess
import sys
import time

import pytest

import mmgraph.benchmark
import mmgraph.pipeline
from mmgraph.benchmark import benchmark
from mmgraph.cli import main
from mmgraph.data import MultimodalDataset
from mmgraph.datasets import load
from mmgraph.errors import OutputError
from mmgraph.evaluation.metrics import metric_names
from mmgraph.models import MODELS
from mmgraph.models.baselines import KNNTransferBaseline
from mmgraph.tasks import Task

LINK = Task(name="syn-link", description="", kind="link", source="a", target="b")
LABEL = Task(name="syn-label", description="", kind="label", source="a")
OPTIONS = {
    "gnn": {"epochs": 20}, "siamese": {"epochs": 40}, "fusion": {"epochs": 40},
    "attention-fusion": {"epochs": 40}, "siamese-l2": {"epochs": 40},
    "autoencoder": {"epochs": 20, "latent_dims": (16,), "recon_weights": (0.1, 1.0)},
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def synthetic() -> MultimodalDataset:
    return load("synthetic", num_items=100, seed=0)


@pytest.fixture(scope="module")
def run(tmp_path_factory, synthetic):
    out = tmp_path_factory.mktemp("bench")
    frame = benchmark([LINK, LABEL], MODELS.names(), 1, out=out, dataset=synthetic,
                      model_options=OPTIONS, cache=None, progress=False)
    return frame, out


def test_every_model_gives_valid_metrics_or_a_reason(run) -> None:
    frame, _ = run
    assert len(frame) == 2 * len(MODELS.names())
    for record in frame.to_dict("records"):
        applies = record["kind"] in MODELS.get(record["model"]).kinds  # the class says, as the benchmark reads it
        if not applies:
            assert record["skipped"] and f"not {record['kind']} tasks" in record["skipped"], record
            continue
        if MODELS.get(record["model"]).item_only:  # these tasks ask about single samples
            assert record["skipped"] and "answers item queries only" in record["skipped"], record
            continue
        if record["model"] == "component-class":  # the synthetic links pair items one to one: no classes
            assert record["skipped"] and "one to one" in record["skipped"], record
            continue
        assert record["skipped"] is None, record
        for metric in metric_names(record["kind"]):
            value = record[metric]
            assert math.isfinite(value) and 0 <= value <= 1, (record["task"], record["model"], metric, value)
        assert record["train_seconds"] >= 0


def test_files_are_written(run) -> None:
    frame, out = run
    records = json.loads((out / "results.json").read_text())
    assert len(records) == len(frame)
    ran = [r for r in records if "skipped" not in r]
    assert all({"task", "model", "seed", "metrics", "train_seconds"} <= set(r) for r in ran)
    assert all(isinstance(r["skipped"], str) for r in records if "skipped" in r)
    report = (out / "results.md").read_text()
    assert "## syn-link" in report and "## syn-label" in report and "Skipped:" in report
    rows = [line for line in report.splitlines() if line.startswith("| ") and "±" in line]
    link_runs = sum(r["kind"] == "link" for r in ran)
    # one mean ± std row per model that ran on a task, and for link tasks a second one: both candidate sets
    assert len(rows) == len(ran) + link_runs, report
    assert "Both candidate sets (declared: `held-out`" in report
    assert all(r["candidates"] == ("held-out" if r["kind"] == "link" else None) for r in records)
    assert "**" in report and "seeds: 0" in report and "cores" in report
    for task in ("syn-link", "syn-label"):
        assert (out / f"{task}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "a temporary file was left behind"


def test_cosine_between_spaces_of_different_sizes_is_skipped(tmp_path, synthetic) -> None:
    narrow = MultimodalDataset(
        synthetic.samples, name="narrow", features={**synthetic.features, "b": synthetic.features["b"][:, :8]}
    )
    frame = benchmark([LINK], ["cosine", "transfer"], [3], out=tmp_path, dataset={"syn-link": narrow},
                      cache=None, progress=False)
    skipped = frame.set_index("model")["skipped"]
    assert "share one feature space" in skipped["cosine"] and skipped["transfer"] is None
    assert "cosine: " in (tmp_path / "results.md").read_text()


def test_bad_arguments_are_reported(tmp_path, capsys) -> None:
    with pytest.raises(ValueError, match=r"model_options names models that are not run: \['gnn'\]"):
        benchmark([LINK], ["transfer"], 1, model_options={"gnn": {}}, cache=None, progress=False)
    with pytest.raises(ValueError, match="'seeds' parameter of benchmark"):
        benchmark([LINK], ["transfer"], 0, cache=None, progress=False)
    common = ["--seeds", "1", "--out", str(tmp_path), "--quiet"]
    code = main(["bench", "--tasks", "no-such-task", "--models", "gnn", *common])
    assert code == 2 and "among choices" in capsys.readouterr().err
    code = main(["bench", "--tasks", "openmoji-text", "--models", "gnm", *common])
    assert code == 2 and "Could not resolve model 'gnm'" in capsys.readouterr().err


# ---------------------------------------------------------------------- resuming
GRID = {"models": ["gnn", "knn-transfer"], "seeds": 3,
        "model_options": {"gnn": {"epochs": 20, "hidden_dim": 32, "eval_every": 2, "propagation": False}}}
# The real harness, pausing after each run so that the test reliably kills it mid-grid.
PAUSING_GRID = """
import json, sys, time
import mmgraph.benchmark
import mmgraph.pipeline
from mmgraph.benchmark import benchmark
from mmgraph.datasets import load
run = mmgraph.pipeline.pipeline
def run_and_pause(*args, **kwargs):
    result = run(*args, **kwargs)
    time.sleep(0.3)
    return result
mmgraph.pipeline.pipeline = run_and_pause
task, grid, out = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
benchmark([task], dataset=load("synthetic", num_items=100, seed=0), out=out, cache=None, progress=False, **grid)
"""


def _counting(monkeypatch) -> list[str]:
    """Counts the runs the benchmark actually starts (calls of the pipeline)."""
    calls, run = [], mmgraph.pipeline.pipeline

    def counted(*args, **kwargs):
        calls.append(f"{kwargs['model']} seed {kwargs['seed']}")
        return run(*args, **kwargs)

    monkeypatch.setattr(mmgraph.pipeline, "pipeline", counted)
    return calls


def _without_times(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("finished", "train_seconds")} for r in records]


def test_a_killed_grid_run_again_does_not_repeat_finished_runs(tmp_path, synthetic, monkeypatch) -> None:
    whole = tmp_path / "whole"
    benchmark([LINK], dataset=synthetic, out=whole, cache=None, progress=False, **GRID)
    expected = json.loads((whole / "results.json").read_text())
    assert len(expected) == 6 and all(r["status"] == "done" for r in expected)

    out = tmp_path / "killed"
    results = out / "results.json"

    def finished() -> list[dict]:
        return json.loads(results.read_text()) if results.exists() else []

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    log = tmp_path / "killed.log"
    with open(log, "w") as stderr:  # a file, not a pipe: a full pipe would block the run
        process = subprocess.Popen(
            [sys.executable, "-c", PAUSING_GRID, json.dumps(LINK.spec()), json.dumps(GRID), str(out)],
            env=env, stderr=stderr,
        )
    deadline = time.monotonic() + 120
    while len(finished()) < 2:
        assert process.poll() is None, f"the grid ended before it was killed:\n{log.read_text()}"
        assert time.monotonic() < deadline, "the grid wrote no results in time"
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    before = finished()
    assert 2 <= len(before) < 6, "the kill did not land mid-grid"

    calls = _counting(monkeypatch)
    frame = benchmark([LINK], dataset=synthetic, out=out, cache=None, progress=False, **GRID)
    assert len(calls) == 6 - len(before), calls  # the finished runs were not run again
    after = json.loads(results.read_text())
    assert after[: len(before)] == before  # kept as they were, with their times
    assert _without_times(after) == _without_times(expected)
    assert frame["mrr"].tolist() == [r["metrics"]["mrr"] for r in expected]
    assert sorted(p.name for p in out.iterdir()) == ["results.json", "results.md", "syn-link.png"]


class Crashing(KNNTransferBaseline):
    """knn-transfer, except that seed 1 crashes."""

    name = "crashing"

    def _fit(self, train, *, validate, progress, checkpoint) -> None:
        if self.settings.seed == 1:
            raise RuntimeError("out of memory at seed 1")
        super()._fit(train, validate=validate, progress=progress, checkpoint=checkpoint)


def test_a_crashed_run_is_recorded_as_failed_and_the_grid_goes_on(tmp_path, synthetic, monkeypatch) -> None:
    monkeypatch.setitem(MODELS._items, "crashing", Crashing)
    frame = benchmark([LINK], ["crashing", "knn-transfer"], 3, dataset=synthetic, out=tmp_path, cache=None,
                      progress=False)
    failed = frame[frame["error"].notna()]
    assert failed[["model", "seed"]].values.tolist() == [["crashing", 1]]
    assert failed["error"].iloc[0] == "RuntimeError: out of memory at seed 1"
    assert frame.drop(failed.index)["mrr"].notna().all() and len(frame) == 6
    records = json.loads((tmp_path / "results.json").read_text())
    assert [r["status"] for r in records] == ["done", "done", "failed", "done", "done", "done"]
    assert records[2]["error"] == "RuntimeError: out of memory at seed 1" and "metrics" not in records[2]
    report = (tmp_path / "results.md").read_text()
    assert "Failed:\n- crashing, seed 1: RuntimeError: out of memory at seed 1" in report
    assert "| crashing |" in report  # the two seeds that ran are in the table

    calls = _counting(monkeypatch)
    again = benchmark([LINK], ["crashing", "knn-transfer"], 3, dataset=synthetic, out=tmp_path, cache=None,
                      progress=False)
    assert calls == ["crashing seed 1"]  # only the failed run is tried again
    again_records = json.loads((tmp_path / "results.json").read_text())
    assert [r["status"] for r in again_records] == [r["status"] for r in records]  # replaced, not added
    assert again.drop(columns="train_seconds").equals(frame.drop(columns="train_seconds"))


# ---------------------------------------------------------------------- one out folder, several benchmarks
def test_a_benchmark_into_an_earlier_ones_folder_keeps_its_records(tmp_path, synthetic, monkeypatch, caplog) -> None:
    """`--seed-list 0`, then `--seed-list 1` into the same folder: results.json keeps both seeds; a
    model skipped for the task's kind is not recorded twice; a benchmark naming both reuses both."""
    common = {"dataset": synthetic, "out": tmp_path, "cache": None, "progress": False}
    models = ["knn-transfer", "logreg"]  # logreg does label tasks: skipped, without running anything
    benchmark([LINK], models, [0], **common)
    first = json.loads((tmp_path / "results.json").read_text())
    assert [(r["model"], r["seed"], r["status"]) for r in first] == [("knn-transfer", 0, "done"),
                                                                    ("logreg", 0, "skipped")]
    with caplog.at_level(logging.INFO, logger="mmgraph.benchmark"):
        benchmark([LINK], models, [1], **common)
    records = json.loads((tmp_path / "results.json").read_text())
    assert records[:2] == first, "the earlier benchmark's records were dropped or changed"
    assert [(r["model"], r["seed"]) for r in records[2:]] == [("knn-transfer", 1), ("logreg", 1)]
    assert "also keeps 2 earlier runs that are not part of this benchmark" in caplog.text
    assert "left out" not in caplog.text
    assert "- seeds: 1\n" in (tmp_path / "results.md").read_text()  # the report: this benchmark's runs

    calls = _counting(monkeypatch)
    frame = benchmark([LINK], models, [0, 1], **common)
    assert calls == []  # both seeds were finished: nothing runs again
    after = json.loads((tmp_path / "results.json").read_text())
    assert _without_times(after) == _without_times(records), "a record was lost or written twice"
    assert [r for r in after if r["status"] == "done"] == [r for r in records if r["status"] == "done"]
    assert "- seeds: 0, 1\n" in (tmp_path / "results.md").read_text()
    assert frame["seed"].tolist() == [0, 0, 1, 1]


def test_records_written_meanwhile_by_another_benchmark_are_kept(tmp_path, synthetic, monkeypatch) -> None:
    other = {"task": "elsewhere", "kind": "link", "model": "gnn", "seed": 7, "setting": "inductive",
             "fingerprint": "another-benchmark", "status": "done", "metrics": {"mrr": 0.5}}
    run = mmgraph.pipeline.pipeline

    def and_another_benchmark_writes(*args, **kwargs):
        result = run(*args, **kwargs)
        path = tmp_path / "results.json"
        records = json.loads(path.read_text()) if path.exists() else []
        if other not in records:  # between the first run and the second
            path.write_text(json.dumps([*records, other]))
        return result

    monkeypatch.setattr(mmgraph.pipeline, "pipeline", and_another_benchmark_writes)
    benchmark([LINK], ["knn-transfer"], [0, 1], dataset=synthetic, out=tmp_path, cache=None, progress=False)
    records = json.loads((tmp_path / "results.json").read_text())
    assert other in records and len(records) == 3


# ---------------------------------------------------------------------- output that cannot be written
def test_an_out_folder_that_cannot_be_written_fails_before_any_run(tmp_path, synthetic, monkeypatch) -> None:
    (tmp_path / "a-file").write_text("x")  # as root too: no folder can be made under a file
    calls = _counting(monkeypatch)
    out = tmp_path / "a-file" / "bench"
    with pytest.raises(OutputError, match=rf"Cannot write to the output folder {str(out)!r}: a file, not a folder"):
        benchmark([LINK], ["knn-transfer"], 1, dataset=synthetic, out=out, cache=None, progress=False)
    assert calls == []


def test_a_write_that_fails_midway_is_one_error(tmp_path, synthetic, monkeypatch) -> None:
    def disk_full(path, content):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(mmgraph.benchmark, "atomic_write", disk_full)
    with pytest.raises(OutputError, match=r"No space left on device \(.*results.json\)\. Give a folder"):
        benchmark([LINK], ["knn-transfer"], 1, dataset=synthetic, out=tmp_path, cache=None, progress=False)
    monkeypatch.undo()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "a lock or staging folder was left"
