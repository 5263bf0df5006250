"""Every result carries its provenance: seed, a configuration that runs it again, versions and a
fingerprint of the data."""

from __future__ import annotations

import json
import logging
import shutil

import pytest

from mmgraph.data import MultimodalDataset, Task, from_manifest
from mmgraph.datasets import load
from mmgraph.encoders import ENCODERS, encoder_spec, resolve
from mmgraph.pipeline import PipelineResult, pipeline
from mmgraph.tasks import TASKS, get_task, task_spec
from mmgraph.testing import write_tiny_manifest

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SYNTHETIC = Task(name="syn", description="", kind="link", source="a", target="b", dataset="synthetic",
                 dataset_options={"num_items": 60, "seed": 2})
CONFIG_KEYS = {"task", "model", "model_options", "seed", "setting", "encoders"}


def test_a_saved_result_holds_seed_config_versions_and_data(tmp_path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="mmgraph.pipeline"):
        result = pipeline(SYNTHETIC, model="knn-transfer", cache=None, progress=False)  # no seed: one is drawn
    assert f"drew seed {result.seed}" in caplog.text
    result.save(tmp_path / "run")
    record = json.loads((tmp_path / "run" / "result.json").read_text())
    assert record["seed"] == result.seed and isinstance(record["seed"], int)
    config = record["config"]
    assert set(config) == CONFIG_KEYS and config["seed"] == result.seed and config["model"] == "knn-transfer"
    assert config["task"]["dataset_options"] == {"num_items": 60, "seed": 2} and config["setting"] == "inductive"
    assert config["model_options"]["seed"] == result.seed
    assert config["model_options"]["ks"] == [1, 3, 5, 10, 20, 50, 100]
    assert "chosen" in record["model_config"]  # what validation chose, beside the settings
    for package in ("mmgraph", "python", "torch", "torch_geometric", "numpy", "scikit-learn"):
        assert record["environment"][package], package
    dataset = load("synthetic", num_items=60, seed=2)
    assert record["data"] == {"dataset": "synthetic", "fingerprint": dataset.fingerprint(),
                              "samples": len(dataset.samples), "links": len(dataset.links)}
    loaded = PipelineResult.load(tmp_path / "run")
    assert loaded.config == config and loaded.data == record["data"] and loaded.model_config == record["model_config"]


def test_rerunning_a_saved_config_gives_the_same_metrics(tmp_path) -> None:
    """A task on the user's own files with encoders that learn from the corpus, run again from result.json."""
    folder = tmp_path / "data"
    dataset = from_manifest(write_tiny_manifest(folder), links=folder / "links.csv")
    task = Task.for_manifest(dataset, source="image", target="text_en",
                             encoders={"image": {"name": "pixels", "size": 8, "dim": 4}, "text_en": "tfidf"})
    result = pipeline(task, dataset=dataset, model="knn-transfer", seed=5, cache=None, progress=False)
    result.save(tmp_path / "run")
    config = json.loads((tmp_path / "run" / "result.json").read_text())["config"]
    assert config["encoders"]["image"] == {"name": "pixels", "size": 8, "dim": 4, "batch_size": 256}
    assert config["encoders"]["text_en"]["name"] == "tfidf" and config["encoders"]["audio"]["name"] == "logmel"
    again = pipeline(**config, dataset=dataset, cache=None, progress=False)
    assert again.metrics == result.metrics and again.config == config


def test_every_named_task_comes_back_from_its_spec() -> None:
    for name in TASKS.names():
        task = TASKS.get(name)
        assert task_spec(task) == name  # a named task as it is: its name
        spec = json.loads(json.dumps(task.spec()))
        again = get_task(spec)
        assert again.spec() == task.spec() and again.prepare is task.prepare and again.split == task.split, name
    changed = Task.from_spec({**TASKS.get("openmoji-text").spec(), "dataset_options": {"limit": 10}})
    assert task_spec(changed) == changed.spec() and changed.dataset_options == {"limit": 10}


def test_every_encoder_comes_back_from_its_spec() -> None:
    for name in ENCODERS.names():
        options = {"path": "features.npy"} if name == "precomputed" else {}
        encoder = resolve(name, **options)
        spec = json.loads(json.dumps(encoder_spec(encoder)))
        assert spec["name"] == name and resolve(spec).get_config() == encoder.get_config(), name


def test_the_data_fingerprint_follows_the_data_not_its_folder(tmp_path) -> None:
    first = from_manifest(write_tiny_manifest(tmp_path / "one"))
    shutil.copytree(tmp_path / "one", tmp_path / "two")
    moved = from_manifest(tmp_path / "two" / "manifest.csv")
    assert first.fingerprint() == moved.fingerprint() and first.fingerprint().startswith("sha256:")
    samples = first.samples.copy()
    samples.loc[samples["text"].notna().idxmax(), "text"] = "another text"
    assert MultimodalDataset(samples).fingerprint() != first.fingerprint()
    synthetic = load("synthetic", num_items=20, seed=0)
    features = {m: x.copy() for m, x in synthetic.features.items()}
    features["a"][0, 0] += 1e-3
    assert MultimodalDataset(synthetic.samples, features=features).fingerprint() != synthetic.fingerprint()
    links = synthetic.links.iloc[1:][["src", "dst", "relation"]]
    fewer = MultimodalDataset(synthetic.samples.assign(item=None), links, features=synthetic.features)
    assert fewer.fingerprint() != MultimodalDataset(
        synthetic.samples.assign(item=None), synthetic.links[["src", "dst", "relation"]], features=synthetic.features
    ).fingerprint()
    assert load("synthetic", num_items=20, seed=0).fingerprint() == synthetic.fingerprint()
