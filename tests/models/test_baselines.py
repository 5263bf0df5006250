"""The baselines: each one learns above chance on a small synthetic task; settings and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from mmgraph.data import MultimodalDataset
from mmgraph.datasets import load
from mmgraph.models import MODELS
from mmgraph.models.baselines import BASELINES, LABEL_BASELINES, LINK_BASELINES, NotApplicableError
from mmgraph.pipeline import pipeline
from mmgraph.tasks import Task

LINK = Task(name="syn", description="", kind="link", source="a", target="b")
LABEL = Task(name="synlab", description="", kind="label", source="a")
# Only "b" may show its labels: "a" learns them through its training links to "b".
LABEL_VIA_LINKS = Task(name="synlab-links", description="", kind="label", source="a", label_modalities=("b",))
FAST = {"siamese": {"epochs": 60}, "fusion": {"epochs": 100}, "attention-fusion": {"epochs": 100}}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def synthetic() -> MultimodalDataset:
    return load("synthetic", num_items=150, seed=0)


def _with_features(dataset: MultimodalDataset, b: np.ndarray, name: str) -> MultimodalDataset:
    return MultimodalDataset(dataset.samples, name=name, features={**dataset.features, "b": b})


def _chance_mrr(num_candidates: int) -> float:
    """The expected MRR of a random ranking of ``num_candidates``."""
    return sum(1 / r for r in range(1, num_candidates + 1)) / num_candidates


def _run(task: Task, dataset: MultimodalDataset, model: str, seed: int = 0):
    return pipeline(task, dataset=dataset, model=model, seed=seed, cache=None, progress=False,
                    model_options=FAST.get(model))


def _check_link_metrics(m: dict[str, float]) -> None:
    assert all(math.isfinite(v) for v in m.values()), m
    assert 0 < m["mrr"] <= 1 and 0 <= m["hits@1"] <= m["hits@3"] <= m["hits@10"] <= 1, m
    assert 0 <= m["auc"] <= 1, m


def test_every_baseline_is_registered() -> None:
    assert set(LINK_BASELINES) | set(LABEL_BASELINES) == set(BASELINES)
    for name in BASELINES:
        assert name in MODELS and MODELS.get(name).name == name


@pytest.mark.parametrize("name", [n for n in LINK_BASELINES if n != "cosine"])
def test_link_baseline_beats_chance(synthetic, name: str) -> None:
    result = _run(LINK, synthetic, name)
    m = result.metrics
    _check_link_metrics(m)
    # Item split: the test pool is the num_test held-out samples of each side.
    chance = _chance_mrr(m["num_test"])
    assert m["mrr"] > 2 * chance, f"{name}: MRR {m['mrr']:.3f} vs chance {chance:.3f}"
    assert m["hits@10"] > 10 / m["num_test"], f"{name}: Hits@10 {m['hits@10']:.3f}"
    model = result.fitted
    query, candidates = torch.arange(4), torch.arange(7)
    assert model.link_scores(("a", "same_item", "b"), query, candidates, reverse=False).shape == (4, 7)
    assert model.link_scores(("a", "same_item", "b"), query, candidates, reverse=True).shape == (4, 7)
    assert result.config["model"]["seed"] == 0 and "chosen" in result.config["model"]


def test_cosine_ranks_a_shared_space(synthetic) -> None:
    # "b" seen through the same "encoder" as "a", with noise: one shared space.
    noise = np.random.default_rng(0).normal(0, 0.3, synthetic.features["a"].shape)
    shared = _with_features(synthetic, synthetic.features["a"] + noise, "shared")
    m = _run(LINK, shared, "cosine").metrics
    _check_link_metrics(m)
    assert m["mrr"] > 0.8, f"cosine in a shared space: MRR {m['mrr']:.3f}"


def test_cosine_refuses_spaces_of_different_sizes(synthetic) -> None:
    narrow = _with_features(synthetic, synthetic.features["b"][:, :8], "narrow")
    with pytest.raises(NotApplicableError, match=r"share one feature space.*16-d.*8-d.*'transfer'"):
        _run(LINK, narrow, "cosine")


@pytest.mark.parametrize("task", [LABEL, LABEL_VIA_LINKS], ids=["own-labels", "labels-via-links"])
@pytest.mark.parametrize("name", LABEL_BASELINES)
def test_label_baseline_beats_chance(synthetic, name: str, task: Task) -> None:
    result = _run(task, synthetic, name, seed=1)
    m = result.metrics
    assert 0 <= m["macro_f1"] <= 1 and 0 <= m["accuracy"] <= 1
    assert m["accuracy"] > 0.5, f"{name} on {task.name}: accuracy {m['accuracy']:.3f} (5 classes, chance 0.2)"
    labels_from = result.config["model"]["chosen"]["labels_from"]["a"]
    assert labels_from == ("own training labels" if task is LABEL else "labels of linked ['b'] nodes")


def test_link_baseline_refuses_a_label_task(synthetic) -> None:
    with pytest.raises(NotApplicableError, match="'siamese' model ranks cross-modal links.*'logreg'"):
        _run(LABEL, synthetic, "siamese")


def test_label_baseline_refuses_a_link_task(synthetic) -> None:
    with pytest.raises(NotApplicableError, match="'logreg' model predicts node labels.*'knn-transfer'"):
        _run(LINK, synthetic, "logreg")


def test_fusion_negatives_are_never_training_links(synthetic) -> None:
    model = _run(LINK, synthetic, "fusion").fitted
    links = model.data_.train_links[("a", "same_item", "b")]
    pairs, target = model._pairs(links, torch.Generator().manual_seed(0))
    positives = {tuple(p) for p in links.T.tolist()}
    negatives = {tuple(p) for p in pairs[:, target == 0].T.tolist()}
    assert negatives and not negatives & positives


def test_settings_repr_and_errors() -> None:
    model = MODELS.get("knn-transfer")(ks=(1, 5), seed=3)
    assert repr(model).startswith("KNNTransferBaseline(ks=(1, 5), temperatures=")
    assert model.config()["seed"] == 3 and "chosen" not in model.config()
    with pytest.raises(TypeError, match=r"unknown setting\(s\) \['epoch'\]. Valid settings: .*'epochs'"):
        MODELS.get("siamese")(epoch=3)
    with pytest.raises(ValueError, match="'negatives' parameter of the 'fusion' model must be positive"):
        MODELS.get("fusion")(negatives=0)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        model.link_scores(("a", "same_item", "b"), torch.arange(2), torch.arange(2), reverse=False)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        MODELS.get("logreg")().predict_labels("a")
