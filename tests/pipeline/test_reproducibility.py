"""The same seed gives the same metrics to the last digit, for every model: twice in one process,
and again in a fresh process with another hash seed, from the saved configuration alone."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from mmgraph.data import Task
from mmgraph.models.baselines import LABEL_BASELINES, LINK_BASELINES
from mmgraph.pipeline import pipeline
from mmgraph.tasks import get_task

pytestmark = pytest.mark.usefixtures("one_torch_thread")

LINK = Task(name="syn", description="", kind="link", source="a", target="b", dataset="synthetic",
            dataset_options={"num_items": 80, "seed": 1})
LABEL = Task(name="synlab", description="", kind="label", source="a", dataset="synthetic",
             dataset_options={"num_items": 80, "seed": 1})
FEW_EPOCHS = {"gnn": {"epochs": 8}, "siamese": {"epochs": 8}, "fusion": {"epochs": 8},
              "attention-fusion": {"epochs": 8}}
MODELS = ("gnn", "siamese", "knn-transfer")
RERUN = """
import json, sys
from mmgraph.pipeline import pipeline
for config, folder in json.loads(sys.argv[1]):
    pipeline(**config, cache=None, progress=False).save(folder)
"""


def _saved_metrics(task: Task, model: str, seed: int, folder, **options) -> dict:
    result = pipeline(task, model=model, seed=seed, cache=None, progress=False,
                      model_options=FEW_EPOCHS.get(model), **options)
    result.save(folder)
    return json.loads((folder / "result.json").read_text())


def _same(runs: list[dict]) -> None:
    first = runs[0]
    for run in runs[1:]:
        assert run["metrics"] == first["metrics"], "the same seed gave other metrics"
        assert run["config"] == first["config"] and run["data"] == first["data"]


@pytest.mark.parametrize("model", MODELS)
def test_the_same_seed_gives_the_same_saved_metrics(tmp_path, model: str) -> None:
    runs = [_saved_metrics(LINK, model, 11, tmp_path / f"run{i}") for i in range(2)]
    _same(runs)
    other = _saved_metrics(LINK, model, 12, tmp_path / "other")
    assert other["metrics"] != runs[0]["metrics"], "the seed changes nothing: the test could not fail"


def test_a_fresh_process_rerunning_the_saved_configs_gives_the_same_metrics(tmp_path) -> None:
    """Another process with another hash seed: set and dict order, global state and caches play no part."""
    first = {m: _saved_metrics(LINK, m, 11, tmp_path / f"first-{m}") for m in MODELS}
    jobs = [(first[m]["config"], str(tmp_path / f"again-{m}")) for m in MODELS]
    env = {**os.environ, "PYTHONHASHSEED": "12345", "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-c", RERUN, json.dumps(jobs)], check=True, env=env, timeout=300)
    for m in MODELS:
        _same([first[m], json.loads((tmp_path / f"again-{m}" / "result.json").read_text())])


@pytest.mark.slow
# component-class refuses the synthetic one-to-one links (its reproducibility: tests/models/test_baselines.py)
@pytest.mark.parametrize(("task", "model"), [(LINK, m) for m in ("gnn", *LINK_BASELINES) if m != "component-class"]
                         + [(LABEL, m) for m in ("gnn", *LABEL_BASELINES)])
def test_every_model_is_reproducible(tmp_path, task: Task, model: str) -> None:
    _same([_saved_metrics(task, model, 3, tmp_path / f"run{i}") for i in range(2)])


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
def test_a_real_task_is_reproducible_from_the_encoders_on(tmp_path, model: str) -> None:
    """150 OpenMoji drawings and their names, encoded afresh each time (no embedding cache)."""
    task = dataclasses.replace(get_task("openmoji-text"), name="openmoji-text-150", dataset_options={"limit": 150})
    _same([_saved_metrics(task, model, 0, tmp_path / f"run{i}") for i in range(2)])
