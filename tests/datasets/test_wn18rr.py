"""WN18RR on the real data."""

from __future__ import annotations

from mmgraph.data import split_dataset


def test_counts(wn18rr) -> None:
    dataset = wn18rr
    assert dataset.modalities == ["entity"] and len(dataset) == 40943
    assert dataset.links["split"].value_counts().to_dict() == {
        "train": 86828, "test": 3134, "val": 3032  # the files less their 9 self-loops
    }
    assert dataset.links["relation"].nunique() == 11
    # Every entity of every triple has a text (the dataset validated its link ends).
    assert set(dataset.links["src"]) | set(dataset.links["dst"]) <= set(dataset.samples["id"])
    samples = dataset.samples.set_index("id")
    assert samples.loc["entity:00260881", "synset"] == "00260881"  # leading zeros kept
    assert samples.loc["entity:14854262", "text"].startswith("stool, solid excretory product")


def test_texts_with_quotes_are_kept_whole(wn18rr) -> None:
    texts = wn18rr.samples["text"]
    assert texts.str.contains('"').any()
    assert texts.notna().all()


def test_predefined_split(wn18rr) -> None:
    split = split_dataset(wn18rr, mode="predefined")
    assert len(split.links("train")) == 86828
    assert len(split.links("val")) == 3032
    assert len(split.links("test")) == 3134


def test_triples_keep_the_files_whole(data_root) -> None:
    from mmgraph.datasets import wn18rr_triples

    triples = wn18rr_triples(data_root)
    assert repr(triples) == "Triples(num_entities=40943, num_relations=11, train=86835, val=3034, test=3134)"
    self_loops = {name: int((rows[:, 0] == rows[:, 2]).sum()) for name, rows in triples.splits.items()}
    assert self_loops == {"train": 7, "val": 2, "test": 0}
    assert len(triples.all_triples().unique(dim=0)) == 93003  # no triple twice, none across splits
    # The same ids as the files: the first train line is 00260881 _hypernym 00260622.
    head, relation, tail = triples["train"][0].tolist()
    assert (triples.entities[head], triples.relations[relation], triples.entities[tail]) == (
        "00260881", "_hypernym", "00260622"
    )
    assert triples.entity_texts[triples.entities.index("14854262")].startswith("stool, solid excretory")
    # 210 test and 210 dev triples touch an entity of no train triple (issue 24 says about 210).
    assert int(triples.seen_in_train("test").sum()) == 2924
    assert int(triples.seen_in_train("val").sum()) == 2824


def test_triples_without_self_loops_match_the_dataset(data_root, wn18rr) -> None:
    from mmgraph.datasets import wn18rr_triples

    triples = wn18rr_triples(data_root, keep_self_loops=False)
    counts = wn18rr.links["split"].value_counts().to_dict()
    assert {name: len(rows) for name, rows in triples.splits.items()} == counts
