"""The Triples record: ids checked at construction, the entities a split sees."""

from __future__ import annotations

import pytest
import torch

from mmgraph.data.triples import Triples
from mmgraph.errors import ConfigError, DataError


def _triples(**splits: list[list[int]]) -> Triples:
    return Triples(("a", "b", "c", "d"), ("r", "s"), {k: torch.tensor(v).reshape(-1, 3) for k, v in splits.items()})


def test_repr_and_lookup() -> None:
    triples = _triples(train=[[0, 0, 1], [1, 1, 2]], test=[[0, 1, 2]])
    assert repr(triples) == "Triples(num_entities=4, num_relations=2, train=2, test=1)"
    assert triples["test"].tolist() == [[0, 1, 2]]
    assert triples.all_triples().shape == (3, 3)
    assert triples.all_triples(["test"]).tolist() == [[0, 1, 2]]
    with pytest.raises(DataError, match="no split 'val'"):
        triples["val"]


def test_seen_in_train_needs_both_ends() -> None:
    triples = _triples(train=[[0, 0, 1], [1, 1, 2]], test=[[0, 1, 2], [2, 0, 3], [3, 0, 3]])
    assert triples.entities_of("train").tolist() == [True, True, True, False]
    assert triples.seen_in_train("test").tolist() == [True, False, False]


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        (torch.tensor([[0, 0, 4]]), "1 tail ids outside \\[0, 4\\)"),
        (torch.tensor([[0, 2, 1]]), "1 relation ids outside \\[0, 2\\)"),
        (torch.tensor([[0.0, 0.0, 1.0]]), "long tensor of shape \\(n, 3\\)"),
        (torch.tensor([0, 0, 1]), "Got \\(3,\\) torch.int64 instead"),
    ],
)
def test_bad_ids_are_refused(rows: torch.Tensor, match: str) -> None:
    with pytest.raises(DataError, match=match):
        Triples(("a", "b", "c", "d"), ("r", "s"), {"train": rows})


def test_texts_must_match_entities() -> None:
    with pytest.raises(DataError, match="2 entity texts for 4 entities"):
        Triples(("a", "b", "c", "d"), ("r",), {}, entity_texts=("x", "y"))


def test_busiest_keeps_the_busiest_entities_and_the_triples_among_them() -> None:
    triples = Triples(
        ("a", "b", "c", "d"), ("r", "s"),
        {"train": torch.tensor([[1, 0, 2], [2, 1, 3], [3, 0, 1], [0, 1, 1]]),
         "test": torch.tensor([[1, 1, 3], [0, 0, 2]])},
        entity_texts=("ta", "tb", "tc", "td"),
    )
    sliced = triples.busiest(3)  # degrees a 1, b 3, c 2, d 2
    assert sliced.entities == ("b", "c", "d") and sliced.entity_texts == ("tb", "tc", "td")
    assert sliced["train"].tolist() == [[0, 0, 1], [1, 1, 2], [2, 0, 0]]
    assert sliced["test"].tolist() == [[0, 1, 2]]
    assert triples.busiest(2).entities == ("b", "c")  # c and d tie: the lower id stays
    with pytest.raises(ConfigError, match="num_entities"):
        triples.busiest(0)
