"""`mmgraph run` killed with SIGKILL while training, started again with the same command, resumes from
its last checkpoint and saves the same metrics as an uninterrupted run with the same seed: a manifest
run of the relation learner, and a knowledge-graph run on a slice of the real WN18RR."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from mmgraph.datasets import load, wn18rr_triples
from mmgraph.testing import write_wn18rr

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# The killed process runs the real command, only pausing after each checkpoint it writes, so that
# the test reliably kills it mid-training (not after training already ended).
PAUSING = """
import sys, time
from mmgraph.training.checkpoint import Checkpoint
save = Checkpoint.save
def save_and_pause(self, epoch, **state):
    save(self, epoch, **state)
    time.sleep(0.4)
Checkpoint.save = save_and_pause
from mmgraph.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _manifest(folder) -> list[str]:
    """A synthetic two-modality manifest (60 items) with its vectors: the arguments of `mmgraph run`."""
    dataset = load("synthetic", num_items=60, modalities=("a", "b"), seed=1)
    samples = dataset.samples
    folder.mkdir()
    pd.DataFrame({"id": samples["id"], "modality": samples["modality"], "text": samples["id"],
                  "item": samples["item"]}).to_csv(folder / "manifest.csv", index=False)
    ids = np.concatenate([samples.loc[samples["modality"] == m, "id"].to_numpy(str) for m in ("a", "b")])
    np.savez(folder / "vectors.npz", ids=ids, features=np.concatenate([dataset.features["a"], dataset.features["b"]]))
    vectors = folder / "vectors.npz"
    return ["run", "--manifest", str(folder / "manifest.csv"), "--source", "a", "--target", "b",
            "--encoder", f"a=precomputed:{vectors}", "--encoder", f"b=precomputed:{vectors}",
            "--epochs", "60", "--k", "5", "--seed", "0", "--examples", "0"]


def _wait_for(condition, process: subprocess.Popen, log, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the run ended before it was killed:\n{log.read_text()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("no checkpoint appeared in time")
        time.sleep(0.02)


def test_a_killed_run_resumes_to_the_same_metrics(tmp_path) -> None:
    command = _manifest(tmp_path / "data")
    # Killed at the first checkpoint, epoch 5: validation picks a later epoch (10) of this run, so the
    # saved metrics depend on the epochs trained after resuming (without the random states put back, they differ).
    _kill_and_resume([*command, "--checkpoint-every", "5"], tmp_path, kill_at=5)


@pytest.mark.slow
def test_a_killed_kg_run_resumes_to_the_same_metrics(data_root, tmp_path) -> None:
    """The knowledge-graph path (its own pipeline and trainer) resumes the same way."""
    root = write_wn18rr(wn18rr_triples(data_root).busiest(800), tmp_path / "kgdata")
    command = ["run", "--task", "wn18rr", "--conv", "rgcn", "--decoder", "distmult", "--epochs", "4",
               "--encoder", "entity=tfidf:dim=32", "--data", str(root), "--seed", "1", "--checkpoint-every", "1"]
    _kill_and_resume(command, tmp_path, kill_at=2)


def _kill_and_resume(command: list[str], tmp_path, *, kill_at: int) -> None:
    """Runs ``command`` whole, then killed with SIGKILL after its checkpoint of epoch ``kill_at`` and
    started again: the second saves the metrics and settings of the first, and removes its checkpoints.
    All three run as processes of their own with one thread (an encoder fitted in this process, with
    its BLAS threads, could differ from the killed process's in the last bits)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    mmgraph = [sys.executable, "-m", "mmgraph.cli"]
    subprocess.run([*mmgraph, *command, "--out", str(tmp_path / "whole"), "--quiet"], env=env, check=True,
                   capture_output=True, timeout=900)
    whole = json.loads((tmp_path / "whole" / "result.json").read_text())

    out = tmp_path / "killed"
    checkpoint = out / "checkpoints" / "training.json"
    args = [*command, "--out", str(out), "--quiet"]

    def saved_epoch() -> int:
        try:
            return json.loads(checkpoint.read_text())["epoch"]
        except FileNotFoundError:  # (never half-written: it is replaced by a rename)
            return 0

    log = tmp_path / "killed.log"
    with open(log, "w") as stderr:  # a file, not a pipe: a full pipe would block the run
        process = subprocess.Popen([sys.executable, "-c", PAUSING, *args], env=env, stderr=stderr)
    _wait_for(lambda: saved_epoch() >= kill_at, process, log)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    meta = json.loads(checkpoint.read_text())
    assert not meta["done"], "killed after training had ended: the test would not test resuming"
    assert not (out / "result.json").exists()

    again = subprocess.run([*mmgraph, *args], env=env, capture_output=True, text=True, timeout=900)  # the same command
    assert again.returncode == 0, again.stderr
    assert f"resumed from epoch {meta['epoch']}" in again.stderr
    resumed = json.loads((out / "result.json").read_text())
    assert resumed["metrics"] == whole["metrics"]
    assert resumed["config"] == whole["config"]
    assert _untimed(resumed["model_config"]) == _untimed(whole["model_config"])
    assert sorted(p.name for p in out.iterdir()) == ["model", "result.json"], "the checkpoints are removed"


def _untimed(model_config: dict) -> dict:
    """A model's settings and choices without the CPU seconds it took (a kg model records them; a
    resumed run adds the seconds before the kill to its own, which differ from another run's)."""
    chosen = {k: v for k, v in model_config.get("chosen", {}).items() if k != "cpu_seconds"}
    return {**model_config, "chosen": chosen}
