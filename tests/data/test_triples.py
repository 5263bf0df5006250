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


def test_cold_entity_split_holds_out_entities_with_every_triple_they_touch() -> None:
    from mmgraph.data.triples import cold_entity_split

    # 10 entities in a ring, every split holding some links.
    ring = [[i, i % 2, (i + 1) % 10] for i in range(10)]
    triples = Triples(tuple("abcdefghij"), ("r", "s"), {
        "train": torch.tensor(ring[:8]), "val": torch.tensor(ring[8:9]), "test": torch.tensor(ring[9:]),
    })
    cold = cold_entity_split(triples, fraction=0.2, val_fraction=0.1, seed=3)
    test_new, val_new = cold.new["test"], cold.new["val"]
    assert int(test_new.sum()) == 2 and int(val_new.sum()) == 1 and not (test_new & val_new).any()
    assert cold.known.tolist() == (~(test_new | val_new)).tolist()
    train = cold.triples["train"]
    assert cold.known[train[:, 0]].all() and cold.known[train[:, 2]].all()  # no held-out entity is learned from
    for part in ("val", "test"):
        rows = cold.triples[part]
        head_new = cold.new[part][rows[:, 0]]
        assert (head_new ^ cold.new[part][rows[:, 2]]).all()  # exactly one end new ...
        assert cold.known[torch.where(head_new, rows[:, 2], rows[:, 0])].all()  # ... the other known
        assert cold.query_is_head(part).tolist() == head_new.tolist()
    # Every triple of the source touching a held-out entity is a cold triple or counted as dropped.
    touching = sum(1 for h, _, t in ring if not (cold.known[h] and cold.known[t]))
    assert touching == len(cold.triples["val"]) + len(cold.triples["test"]) + cold.dropped
    again = cold_entity_split(triples, fraction=0.2, val_fraction=0.1, seed=3)
    assert again.new["test"].tolist() == test_new.tolist()  # seeded
    other = cold_entity_split(triples, fraction=0.2, val_fraction=0.1, seed=4)
    assert other.new["test"].tolist() != test_new.tolist()


@pytest.mark.parametrize("fraction, val_fraction", [(0.0, 0.1), (0.6, 0.5), (1.5, 0.0), ("a", 0.1)])
def test_cold_entity_split_refuses_bad_shares(fraction, val_fraction) -> None:
    from mmgraph.data.triples import cold_entity_split

    with pytest.raises(DataError, match="share"):
        cold_entity_split(_triples(train=[[0, 0, 1]]), fraction=fraction, val_fraction=val_fraction)


def test_cold_entity_split_of_wn18rr(data_root) -> None:
    from mmgraph.data.triples import cold_entity_split
    from mmgraph.datasets import wn18rr_triples

    source = wn18rr_triples(data_root)
    cold = cold_entity_split(source, fraction=0.1, val_fraction=0.05, seed=0)
    assert int(cold.new["test"].sum()) == round(0.1 * source.num_entities)
    assert len(cold.triples["train"]) < len(source["train"]) and len(cold.triples["test"]) > 0
    train = cold.triples["train"]
    assert cold.known[train[:, 0]].all() and cold.known[train[:, 2]].all()
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
