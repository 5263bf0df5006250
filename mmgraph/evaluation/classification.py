"""Label metrics on held-out nodes: accuracy and macro-F1."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from torch import Tensor

from mmgraph.errors import DataError
from mmgraph.evaluation.metrics import metrics_of


def evaluate_labels(
    y_true: Sequence[object] | np.ndarray | Tensor,
    y_pred: Sequence[object] | np.ndarray | Tensor,
) -> dict[str, float]:
    """Returns every registered label metric (accuracy and macro-F1 by default) of predicted labels.

    Labels must be all strings or all ints. Macro-F1 is the unweighted mean of the F1 of
    every label seen in ``y_true`` or ``y_pred``; a label that is predicted but never true
    scores an F1 of 0 and pulls the mean down.

    Args:
        y_true: the true label of every held-out node.
        y_pred: the predicted label of the same nodes, in the same order.

    Returns:
        ``{"accuracy": ..., "macro_f1": ..., "num_test": n}``.

    Shapes:
        y_true: ``(n,)``, y_pred: ``(n,)``.

    Example:
        >>> evaluate_labels(["cat", "dog"], ["cat", "cat"])["accuracy"]
        0.5
    """
    true = _labels(y_true, "y_true")
    pred = _labels(y_pred, "y_pred")
    if len(true) != len(pred):
        raise DataError(
            "The 'y_true' and 'y_pred' arguments of evaluate_labels must have the same length. "
            f"Got {len(true)} and {len(pred)} instead."
        )
    if len(true) == 0:
        raise DataError(
            "The 'y_true' argument of evaluate_labels is empty. Give at least one label."
        )
    kinds = {_kind(label) for label in np.concatenate([true, pred])}
    if len(kinds) > 1 or not kinds <= {"str", "int"}:
        raise DataError(
            "The labels given to evaluate_labels must be all strings or all ints. "
            f"Got {sorted(kinds)} instead. Convert the labels of y_true and y_pred to one type."
        )
    dtype = str if kinds == {"str"} else np.int64
    true, pred = true.astype(dtype), pred.astype(dtype)
    return {**{metric.name: metric.compute(true, pred) for metric in metrics_of("label")}, "num_test": len(true)}


def _labels(labels: object, name: str) -> np.ndarray:
    if isinstance(labels, Tensor):
        labels = labels.detach().cpu().numpy()
    array = np.asarray(labels, dtype=object)
    if array.ndim != 1:
        raise DataError(
            f"The '{name}' argument of evaluate_labels must be a 1-D sequence of labels. "
            f"Got shape {array.shape} instead."
        )
    return array


def _kind(label: object) -> str:
    if isinstance(label, str):
        return "str"
    if isinstance(label, (int, np.integer)) and not isinstance(label, (bool, np.bool_)):
        return "int"
    return type(label).__name__
