"""The metrics mmgraph reports, in one registry (PyKEEN's metric resolver is the model).

A link metric reads the realistic ranks of the true candidates (1 is best); a label metric reads
the true and the predicted labels. The evaluators compute every registered metric of their kind,
and the benchmark tables, the plots and the CLI list them from here, so adding a metric is one
:func:`register` call in this file (see CONTRIBUTING.md).

Example:
    >>> [m.name for m in metrics_of("link")]
    ['mrr', 'hits@1', 'hits@3', 'hits@10']
    >>> METRICS.get("hits@10").compute(torch.tensor([1.0, 12.0]))
    0.5
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal

import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score
from torch import Tensor

from mmgraph.checks import check_positive_int
from mmgraph.errors import ConfigError
from mmgraph.registry import Registry

MetricKind = Literal["link", "label"]
METRIC_KINDS: tuple[str, ...] = ("link", "label")
TASK_METRIC_KIND: dict[str, str] = {"link": "link", "label": "label", "kg": "link"}
"""The metrics each kind of task reports: a knowledge-graph (``kg``) task ranks entities, so it
reports the rank (link) metrics."""


@dataclass(frozen=True)
class Metric:
    """One reported number.

    Attributes:
        name: its key in the metrics dicts, ``results.json`` and the tables.
        kind: ``"link"`` (computed from ranks) or ``"label"`` (from true and predicted labels).
        compute: ``compute(ranks)`` for link metrics, the ranks ascending as float64, shape
            ``(n,)``; ``compute(y_true, y_pred)`` for label metrics, two arrays of one dtype.
        description: one line for help texts and tables. Every metric is higher-is-better.
    """

    name: str
    kind: MetricKind
    compute: Callable[..., float]
    description: str


METRICS: Registry[Metric] = Registry("metric")


def register(metric: Metric) -> Metric:
    """Adds ``metric`` to :data:`METRICS`; the evaluators of its kind compute it from then on."""
    if metric.kind not in METRIC_KINDS:
        raise ConfigError(
            f"The 'kind' of metric {metric.name!r} must be one of {METRIC_KINDS}. Got {metric.kind!r} instead."
        )
    METRICS.register(metric.name, metric)
    return metric


def metrics_of(kind: str) -> tuple[Metric, ...]:
    """The registered metrics of one kind, in the order they were registered (the first is the main
    one); ``kind`` is a metric kind or the kind of a task (a ``kg`` task reports the link metrics,
    :data:`TASK_METRIC_KIND`)."""
    if kind not in TASK_METRIC_KIND:
        raise ConfigError(f"The metric kind must be one of {list(TASK_METRIC_KIND)}. Got {kind!r} instead.")
    return tuple(m for m in METRICS.values() if m.kind == TASK_METRIC_KIND[kind])


def metric_names(kind: str) -> tuple[str, ...]:
    """The names of :func:`metrics_of` ``kind``."""
    return tuple(m.name for m in metrics_of(kind))


def main_metric(kind: str) -> str:
    """The metric that orders models and chooses settings for a task kind (``mrr``, ``accuracy``)."""
    return metric_names(kind)[0]


def _reciprocal_rank(ranks: Tensor) -> float:
    return float((1.0 / ranks).mean())


def _hits(ranks: Tensor, *, k: int) -> float:
    # A realistic rank of 3.5 is not a hit at 3.
    return float((ranks <= k).to(torch.double).mean())


def _accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(accuracy_score(y_true, y_pred))


def _macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    # The unweighted mean over every label seen in y_true or y_pred; a label predicted but never
    # true scores 0 and pulls the mean down.
    return float(f1_score(y_true, y_pred, average="macro", zero_division=0))


def hits_at(k: int) -> Metric:
    """The Hits@k metric (not registered: ``register(hits_at(5))`` reports Hits@5 too)."""
    k = check_positive_int(k, "k", "hits_at")
    return Metric(f"hits@{k}", "link", partial(_hits, k=k), f"share of true candidates ranked in the top {k}")


register(Metric("mrr", "link", _reciprocal_rank, "mean reciprocal rank of the true candidate"))
for _k in (1, 3, 10):
    register(hits_at(_k))
register(Metric("accuracy", "label", _accuracy, "share of labels predicted right"))
register(Metric("macro_f1", "label", _macro_f1, "unweighted mean F1 over the labels"))

