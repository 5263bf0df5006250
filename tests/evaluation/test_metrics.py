"""The metric registry: the evaluators, the benchmark and its tables read it, so a metric added with
one ``register`` call is computed and reported everywhere (the "a metric" recipe of CONTRIBUTING.md)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import balanced_accuracy_score

from mmgraph.benchmark import benchmark, markdown_report
from mmgraph.datasets import load
from mmgraph.errors import ConfigError
from mmgraph.evaluation import evaluate_labels, ranking_metrics
from mmgraph.evaluation.metrics import METRICS, Metric, hits_at, main_metric, metric_names, register
from mmgraph.tasks import Task


def test_the_default_metrics_in_their_order() -> None:
    assert metric_names("link") == ("mrr", "hits@1", "hits@3", "hits@10")
    assert metric_names("label") == ("accuracy", "macro_f1")
    assert (main_metric("link"), main_metric("label")) == ("mrr", "accuracy")


def test_unknown_kinds_and_names_are_refused_with_the_choices() -> None:
    with pytest.raises(ConfigError, match="'link', 'label'.*Got 'links'"):
        metric_names("links")
    with pytest.raises(ConfigError, match="Could not resolve metric 'mmr' among choices"):
        METRICS.get("mmr")
    with pytest.raises(ConfigError, match="already registered"):
        register(Metric("mrr", "link", float, "again"))


@pytest.fixture
def added_metrics(monkeypatch):
    """The recipe: two ``register`` calls, undone after the test."""
    monkeypatch.setattr(METRICS, "_items", dict(METRICS._items))
    register(hits_at(5))
    register(Metric("balanced_accuracy", "label", lambda t, p: float(balanced_accuracy_score(t, p)),
                    "mean recall over the labels"))


def test_a_registered_metric_is_computed_by_the_evaluators(added_metrics) -> None:
    assert ranking_metrics(torch.tensor([1.0, 5.0, 5.5, 9.0]))["hits@5"] == 0.5
    metrics = evaluate_labels(["a", "a", "a", "b"], ["a", "a", "a", "a"])
    assert metrics["balanced_accuracy"] == 0.5 and metrics["accuracy"] == 0.75


def test_a_registered_metric_reaches_the_benchmark_table(added_metrics) -> None:
    link = Task(name="syn-link", description="", kind="link", source="a", target="b")
    label = Task(name="syn-label", description="", kind="label", source="a")
    frame = benchmark([link, label], ["cosine", "logreg"], [0], dataset=load("synthetic", num_items=60, seed=0),
                      cache=None, progress=False)
    ran = frame[frame["skipped"].isna()]
    assert set(ran["task"]) == {"syn-link", "syn-label"}
    assert np.isfinite(ran.loc[ran["task"] == "syn-link", "hits@5"]).all()
    assert np.isfinite(ran.loc[ran["task"] == "syn-label", "balanced_accuracy"]).all()
    report = markdown_report(frame, plot_folder=None)
    assert "| model | mrr | hits@1 | hits@3 | hits@10 | hits@5 |" in report
    assert "| model | accuracy | macro_f1 | balanced_accuracy |" in report
