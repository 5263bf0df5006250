from __future__ import annotations

import numpy as np
import pytest
import torch

from mmgraph.evaluation import evaluate_labels


def test_string_labels_by_hand():
    # cat: tp 1, fp 1, fn 0 -> F1 2/3; dog: tp 1, fp 0, fn 1 -> 2/3; bird: 1.
    metrics = evaluate_labels(["cat", "dog", "dog", "bird"], ["cat", "dog", "cat", "bird"])
    assert metrics == {"accuracy": 0.75, "macro_f1": pytest.approx(7 / 9), "num_test": 4}


def test_int_labels_from_lists_arrays_and_tensors_agree():
    # Label 2 is predicted but never true: its F1 is 0 and counts in the macro mean.
    # 0: tp 1, fn 1 -> 2/3; 1: 1; 2: 0 -> (2/3 + 1 + 0) / 3 = 5/9.
    expected = {"accuracy": pytest.approx(2 / 3), "macro_f1": pytest.approx(5 / 9), "num_test": 3}
    assert evaluate_labels([0, 0, 1], [0, 2, 1]) == expected
    assert evaluate_labels(np.array([0, 0, 1]), np.array([0, 2, 1])) == expected
    assert evaluate_labels(torch.tensor([0, 0, 1]), torch.tensor([0, 2, 1])) == expected


def test_string_labels_match_the_same_labels_as_ints():
    names = ["a", "b", "c"]
    y_true = [0, 1, 2, 2, 1, 0, 0]
    y_pred = [0, 2, 2, 1, 1, 0, 1]
    as_ints = evaluate_labels(y_true, y_pred)
    as_strings = evaluate_labels([names[i] for i in y_true], [names[i] for i in y_pred])
    assert as_ints == as_strings
    assert as_ints["accuracy"] == pytest.approx(4 / 7)


def test_bad_labels_raise_clear_errors():
    with pytest.raises(ValueError, match=r"same length. Got 3 and 2 instead"):
        evaluate_labels([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match=r"'y_true' argument of evaluate_labels is empty"):
        evaluate_labels([], [])
    with pytest.raises(ValueError, match=r"'y_pred'.*1-D sequence of labels. Got shape \(2, 1\)"):
        evaluate_labels([0, 1], [[0], [1]])
    with pytest.raises(ValueError, match=r"all strings or all ints. Got \['int', 'str'\]"):
        evaluate_labels(["cat", "dog"], ["cat", 1])
    with pytest.raises(ValueError, match=r"all strings or all ints. Got \['float'\]"):
        evaluate_labels([0.5, 1.0], [0.5, 1.0])
