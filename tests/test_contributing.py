"""CONTRIBUTING.md's recipes, followed once each with the very code the page shows.

Every code block of a recipe is titled with the file it goes in (```python title="mmgraph/..."```).
A block that is a new file runs as the module of that path; a block of lines added to an existing
file runs with the names that file already has. The registrations go into copies of the registries
(undone after each test), and each component then works through the public paths: the command
line, the benchmark, the pipeline, saving and prediction, on data made in the test.
"""

from __future__ import annotations

import json
import re
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from mmgraph.benchmark import benchmark
from mmgraph.cli import main
from mmgraph.data import MultimodalDataset, Task
from mmgraph.datasets import DATASETS, _Loader, load
from mmgraph.encoders import ENCODERS, resolve
from mmgraph.errors import ConfigError, DataNotFoundError, EncodingError, NotApplicableError
from mmgraph.evaluation import evaluate_labels, ranking_metrics
from mmgraph.evaluation.metrics import METRICS, Metric, hits_at, main_metric, metric_names, register
from mmgraph.models import MODELS
from mmgraph.pipeline import evaluate, pipeline
from mmgraph.predict import Predictor
from mmgraph.tasks import TASKS

CONTRIBUTING = Path(__file__).resolve().parents[1] / "CONTRIBUTING.md"

# A small phrasebook made here: 64 English phrases and their French translations.
COLOURS = (("red", "rouge"), ("blue", "bleu"), ("green", "vert"), ("black", "noir"), ("white", "blanc"),
           ("yellow", "jaune"), ("grey", "gris"), ("pink", "rose"))
THINGS = (("car", "voiture"), ("house", "maison"), ("cat", "chat"), ("table", "table"), ("door", "porte"),
          ("book", "livre"), ("chair", "chaise"), ("lamp", "lampe"))
PHRASES = pd.DataFrame(
    [(f"a {en} {thing_en}", f"{thing_fr} {fr}") for en, fr in COLOURS for thing_en, thing_fr in THINGS],
    columns=["en", "fr"],
)


def block(title: str) -> str:
    """The code of CONTRIBUTING.md's one ``python`` block titled ``title``."""
    text = CONTRIBUTING.read_text(encoding="utf-8")
    found = re.findall(rf'^```python title="{re.escape(title)}"\n(.*?)^```$', text, flags=re.MULTILINE | re.DOTALL)
    assert len(found) == 1, f"CONTRIBUTING.md has {len(found)} python blocks titled {title!r}; expected one"
    return found[0]


def new_file(title: str, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """Runs the block of a new file as the module of its path (importable while the test runs)."""
    module = types.ModuleType(title.removesuffix(".py").replace("/", "."))
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(block(title), f"CONTRIBUTING.md {title}", "exec"), module.__dict__)
    return module


def added_lines(title: str, names: dict[str, object]) -> None:
    """Runs the block of lines added to an existing file, with ``names`` (what that file already has)."""
    exec(compile(block(title), f"CONTRIBUTING.md {title}", "exec"), dict(names))


@pytest.fixture
def registries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every registry a recipe adds to, as a copy restored after the test."""
    for registry in (MODELS, ENCODERS, DATASETS, TASKS, METRICS):
        monkeypatch.setattr(registry, "_items", dict(registry._items))


def listed(output: str) -> dict[str, list[str]]:
    """The rows of a listing printed by the command line, by their first word."""
    return {line.split()[0]: line.split()[1:] for line in output.splitlines() if line.strip()}


def test_every_recipe_block_is_run_by_a_test() -> None:
    titles = re.findall(r'^```python title="([^"]+)"$', CONTRIBUTING.read_text(encoding="utf-8"), flags=re.MULTILINE)
    source = Path(__file__).read_text(encoding="utf-8")
    assert titles and all(f'"{title}"' in source for title in titles), titles
    untitled = re.findall(r"^```python$", CONTRIBUTING.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert not untitled, "a python block of CONTRIBUTING.md has no title, so no test runs it"


def test_model_recipe(registries, monkeypatch, capsys, tmp_path, one_torch_thread) -> None:
    module = new_file("mmgraph/models/baselines/linear_map.py", monkeypatch)
    added_lines("mmgraph/models/__init__.py", {"MODELS": MODELS})
    model_class = MODELS.get("linear-map")
    assert model_class is module.LinearMapBaseline
    assert repr(model_class(ridge=0.5)) == "LinearMapBaseline(ridge=0.5, seed=0)"
    with pytest.raises(ConfigError, match="The 'ridge' parameter of the 'linear-map' model must be positive. Got -1"):
        model_class(ridge=-1)

    assert main(["models"]) == 0
    assert listed(capsys.readouterr().out.split("\n\n")[0])["linear-map"][:3] == ["link", "samples", "yes"]

    full = load("synthetic", num_items=200, modalities=("a", "b"), seed=0)
    fewer_a = full.samples["modality"].eq("b") | full.samples["id"].lt("a:150")  # 150 a, 200 b: swapped sides fail
    dataset = MultimodalDataset(full.samples[fewer_a], name="synthetic",
                                features={"a": full.features["a"][:150], "b": full.features["b"]})
    link = Task(name="syn-link", description="a -> b", kind="link", source="a", target="b")
    label = Task(name="syn-label", description="label of a", kind="label", source="a")
    frame = benchmark([link, label], ["linear-map"], [0], dataset=dataset, cache=None, progress=False).set_index("task")
    assert np.isfinite(frame.loc["syn-link", list(metric_names("link"))].astype(float)).all()
    assert frame.loc["syn-label", "skipped"] == "the 'linear-map' model does link tasks, not label tasks"

    result = pipeline(link, dataset=dataset, model="linear-map", seed=0, cache=None, progress=False)
    candidates = result.metrics["src->dst/num_candidates"]
    chance = sum(1 / k for k in range(1, candidates + 1)) / candidates  # the MRR of a random ranking
    assert result.metrics["src->dst/mrr"] > 3 * chance and result.metrics["dst->src/mrr"] > 3 * chance
    with pytest.raises(NotApplicableError, match=r"For link tasks use one of \[.*'linear-map'"):
        MODELS.get("logreg")().fit(result.prepared.train_view(), progress=False)

    result.save(tmp_path / "run")
    loaded = Predictor.load(tmp_path / "run").model
    assert isinstance(loaded, model_class) and torch.equal(loaded.map_, result.fitted.map_)
    assert evaluate(loaded, result.prepared)["mrr"] == result.metrics["mrr"]


def test_encoder_recipe(registries, monkeypatch, capsys, tmp_path, one_torch_thread) -> None:
    new_file("mmgraph/encoders/hashing.py", monkeypatch)
    added_lines("mmgraph/encoders/__init__.py", {"ENCODERS": ENCODERS})
    encoder = resolve("char-hash", buckets=64)
    assert repr(encoder) == "CharHashEncoder(buckets=64, ngram=3, batch_size=256)"
    x = encoder.encode(["a red car", "A Red Car ", "voiture rouge"])
    assert x.shape == (3, 64) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-6)
    assert np.array_equal(x[0], x[1]) and not np.array_equal(x[0], x[2])
    with pytest.raises(EncodingError, match=r"could not encode sample 1 \(' '\): a char-hash payload is a non-blank"):
        encoder.encode(["a red car", " "])

    assert main(["encoders"]) == 0
    assert listed(capsys.readouterr().out)["char-hash"] == ["text", "batch_size,", "buckets,", "ngram"]

    rows = [{"id": f"{modality}:{i}", "modality": modality, "text": text, "item": f"pair{i}"}
            for modality, column in (("text_en", "en"), ("text_fr", "fr")) for i, text in enumerate(PHRASES[column])]
    manifest = tmp_path / "phrases.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    out = tmp_path / "run"
    assert main(["run", "--manifest", str(manifest), "--source", "text_en", "--target", "text_fr",
                 "--encoder", "text_en=char-hash:buckets=64,ngram=4", "--encoder", "text_fr=char-hash:buckets=64",
                 "--model", "knn-transfer", "--seed", "0", "--examples", "0", "--quiet", "--out", str(out)]) == 0
    record = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert record["config"]["encoders"] == {
        "text_en": {"name": "char-hash", "buckets": 64, "ngram": 4, "batch_size": 256},
        "text_fr": {"name": "char-hash", "buckets": 64, "ngram": 3, "batch_size": 256},
    }
    assert np.isfinite(record["metrics"]["mrr"])

    predictor = Predictor.load(out)
    assert repr(predictor.encoders["text_en"]) == "CharHashEncoder(buckets=64, ngram=4, batch_size=256)"
    top = predictor.predict_links(["a pink lamp"], modality="text_en", k=3)
    assert len(top) == 3 and np.isfinite(top["score"]).all()


def test_dataset_and_task_recipe(registries, monkeypatch, capsys, tmp_path, one_torch_thread) -> None:
    module = new_file("mmgraph/datasets/phrasebook.py", monkeypatch)
    added_lines("mmgraph/datasets/__init__.py", {"DATASETS": DATASETS, "_Loader": _Loader})
    added_lines("mmgraph/tasks.py", {"TASKS": TASKS, "Task": Task})
    root = tmp_path / "data"
    root.mkdir()
    with pytest.raises(DataNotFoundError, match="The 'phrasebook' dataset needs 'phrasebook/pairs.csv'"):
        load("phrasebook", root=root)
    assert main(["datasets", "--data", str(root)]) == 0
    rows = listed(capsys.readouterr().out)
    assert rows["phrasebook-en-fr"][:3] == ["link", "phrasebook", "no"] and rows["phrasebook"][0] == "no"

    (root / "phrasebook").mkdir()
    PHRASES.to_csv(root / module.PHRASEBOOK, index=False)
    assert main(["datasets", "--data", str(root)]) == 0
    assert listed(capsys.readouterr().out)["phrasebook"][0] == "yes"
    small = load("phrasebook", root=root, limit=10)
    assert small.modalities == ["text_en", "text_fr"] and len(small.links) == 10
    assert small.payloads("text_fr")[3] == PHRASES["fr"][3]

    result = pipeline("phrasebook-en-fr", root=root, model="knn-transfer", seed=0, progress=False)
    assert result.config["task"] == "phrasebook-en-fr"  # a named task: its name runs it again
    assert result.config["encoders"]["text_en"]["name"] == "tfidf"
    assert result.data["samples"] == 2 * len(PHRASES)
    assert np.isfinite([result.metrics[name] for name in metric_names("link")]).all()


def test_metric_recipe(registries, capsys) -> None:
    added_lines("mmgraph/evaluation/metrics.py", {"register": register, "Metric": Metric, "hits_at": hits_at, "np": np})
    assert metric_names("link")[-1] == "hits@5" and main_metric("link") == "mrr"
    assert ranking_metrics(torch.tensor([1.0, 5.0, 5.5, 9.0]))["hits@5"] == 0.5
    metrics = evaluate_labels(["a", "a", "a", "b"], ["a", "a", "a", "a"])
    assert metrics["balanced_accuracy"] == 0.5 and metrics["accuracy"] == 0.75
    assert main(["models"]) == 0
    assert {"hits@5", "balanced_accuracy"} <= set(re.findall(r"[\w@-]+", capsys.readouterr().out.split("\n\n")[1]))
