"""Properties of splits and prepared tasks over random small datasets.

No sample or link is lost or duplicated across parts; a training link joins two training
samples; no evaluated link reaches the training view; every question is cold (its query is a
held-out sample of the part with no link of the evaluated type in the training view).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import event, given, reject, settings
from hypothesis import strategies as st

from mmgraph.data import CANDIDATE_SETS, DataError, MultimodalDataset, Task, split_dataset
from mmgraph.data.prepared import PreparedTask

PARTS = ("train", "val", "test")
MODES = {
    "item": {"mode": "item"},
    "group": {"mode": "group"},
    "partial": {"mode": "partial", "hide": (("b",),)},
    "predefined": {"mode": "predefined"},
}


@st.composite
def datasets(draw: st.DrawFn, *, predefined: bool = False) -> MultimodalDataset:
    """Items seen in some of the modalities ``a``, ``b`` (and ``c``), most linked by their item,
    with groups, labels, a few explicit ``a -> b`` links across items, and 2-d features.

    With ``predefined``, items are dropped and every link carries a random ``split``.
    """
    modalities = ("a", "b", "c")[: draw(st.integers(2, 3))]
    num_items = draw(st.integers(6, 14))
    num_groups = draw(st.integers(2, num_items))
    rows = []
    for i in range(num_items):
        present = draw(st.sets(st.sampled_from(modalities), min_size=1))
        linked = draw(st.integers(0, 3)) > 0
        group, label = draw(st.integers(0, num_groups - 1)), draw(st.integers(0, 2))
        for m in sorted(present):
            rows.append({"id": f"{m}:{i}", "modality": m, "item": f"item{i}" if linked and not predefined else None,
                         "group": f"g{group}", "label": str(label)})
    samples = pd.DataFrame(rows).sort_values("modality", kind="stable").reset_index(drop=True)
    ids = {m: samples.loc[samples["modality"] == m, "id"].tolist() for m in modalities}
    if not ids["a"] or not ids["b"]:
        reject()
    same_item = {(f"a:{i}", f"b:{i}") for i in range(num_items)} if not predefined else set()
    pairs = draw(st.lists(st.tuples(st.sampled_from(ids["a"]), st.sampled_from(ids["b"])), max_size=8, unique=True))
    if predefined:  # the item links, made explicit so that they carry a split
        pairs += [(f"a:{i}", f"b:{i}") for i in range(num_items) if f"a:{i}" in ids["a"] and f"b:{i}" in ids["b"]]
        pairs = list(dict.fromkeys(pairs))
    pairs = [p for p in pairs if p not in same_item]
    links = pd.DataFrame(pairs, columns=["src", "dst"]).assign(relation="same_item")
    if predefined:
        links["split"] = draw(st.lists(st.sampled_from(PARTS), min_size=len(links), max_size=len(links)))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    features = {m: rng.normal(size=(len(ids[m]), 2)) for m in modalities if ids[m]}
    return MultimodalDataset(samples, links if len(links) else None, name="random", features=features)


def _split(dataset: MultimodalDataset, mode: str, seed: int):
    try:
        return split_dataset(dataset, seed=seed, val=0.2, test=0.3, **MODES[mode])
    except DataError:  # too few units for the fractions: not a question of leakage
        reject()


def _prepared(dataset: MultimodalDataset, mode: str, seed: int, setting: str, candidates: str) -> PreparedTask:
    split = _split(dataset, mode, seed)
    task = Task(name="prop", description="", kind="link", source="a", target="b", split=MODES[mode],
                candidates=candidates)
    features = {m: torch.as_tensor(x) for m, x in dataset.features.items()}
    try:
        return PreparedTask(task, dataset, split, features, setting=setting)
    except DataError:  # no a-b link at all
        reject()


def _pairs(table: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(table["src"], table["dst"], strict=True))


@pytest.mark.parametrize("mode", list(MODES))
@given(data=st.data(), seed=st.integers(0, 1000))
@settings(max_examples=40)
def test_no_sample_or_link_is_lost_or_duplicated(mode: str, data: st.DataObject, seed: int) -> None:
    dataset = data.draw(datasets(predefined=mode == "predefined"))
    split = _split(dataset, mode, seed)
    ids = dataset.samples["id"].tolist()
    parts = [split.sample_ids(p).tolist() for p in PARTS]
    assert sorted(sum(parts, [])) == sorted(ids), "a sample is lost or in two parts"
    assert set(split.sample_split) <= set(PARTS) and len(split.sample_split) == len(ids)
    rows = [split.links(p).index.tolist() for p in PARTS]
    assert sorted(sum(rows, [])) == list(range(len(dataset.links))), "a link is lost or in two parts"
    part_of = split.sample_split
    for src, dst in _pairs(split.links("train")):
        assert part_of[src] == part_of[dst] == "train", f"the training link {src} -> {dst} leaves training"
    if mode in ("item", "group"):  # units stay whole
        for column in ("item", "group") if mode == "group" else ("item",):
            for _, rows_ in dataset.samples.dropna(subset=[column]).groupby(column):
                assert part_of[rows_["id"]].nunique() == 1, f"one {column} straddles two parts"


@pytest.mark.parametrize("mode", list(MODES))
@given(data=st.data(), seed=st.integers(0, 1000), setting=st.sampled_from(["inductive", "transductive"]),
       candidates=st.sampled_from(CANDIDATE_SETS))
@settings(max_examples=40)
def test_every_question_is_cold_and_never_in_the_training_view(
    mode: str, data: st.DataObject, seed: int, setting: str, candidates: str
) -> None:
    dataset = data.draw(datasets(predefined=mode == "predefined"))
    prepared = _prepared(dataset, mode, seed, setting, candidates)
    train, part_of = prepared.train_view(), prepared.split.sample_split
    edge_type = prepared.target_edge_type
    # every link the model reads, by sample ids
    readable = set()
    for (src, _, dst), links in train.links.items():
        readable |= {(train.node_ids[src][i], train.node_ids[dst][j]) for i, j in links.T.tolist()}
    src_t, _, dst_t = edge_type
    typed = train.links.get(edge_type, torch.zeros(2, 0, dtype=torch.long))
    linked = {src_t: set(train.node_ids[src_t][typed[0]]), dst_t: set(train.node_ids[dst_t][typed[1]])}
    if setting == "inductive":  # held-out samples do not exist for fit
        for m in dataset.modalities:
            assert {part_of[i] for i in train.node_ids[m]} <= {"train"}
            new = prepared.new_sample_ids("test")[m]
            assert sorted([*train.node_ids[m], *new]) == sorted(dataset.node_ids(m)), "a sample is lost or twice"
    asked = 0
    for part in ("val", "test"):
        held_out = set(_pairs(prepared.split.links(part)))
        assert not held_out & readable, f"a {part} link is in the training view"
        for candidate_set in CANDIDATE_SETS:
            for queries in prepared.link_queries(part, candidate_set).values():
                q_ids = _ids_by_scoring(prepared, queries.query_type, part)
                a_ids = _ids_by_scoring(prepared, queries.answer_type, part)
                for q, a in queries.links.T.tolist():
                    query, answer = q_ids[q], a_ids[a]
                    assert part_of[query] == part, f"the query {query} is not a {part} sample"
                    assert query not in linked[queries.query_type], f"the query {query} holds a training link"
                    pair = (answer, query) if queries.reverse else (query, answer)
                    assert pair in held_out and pair not in readable
                    if setting == "inductive":
                        assert query not in set(train.node_ids[queries.query_type])
                assert set(queries.links[1].tolist()) <= set(queries.candidates.tolist())
                asked += queries.links.shape[1]
    event("questions asked" if asked else "no question asked")


def _ids_by_scoring(prepared: PreparedTask, modality: str, part: str) -> dict[int, str]:
    index, ids = prepared.scoring_index(modality, part), prepared.dataset.node_ids(modality)
    return {int(index[i]): ids[i] for i in np.flatnonzero(index >= 0)}
