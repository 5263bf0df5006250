"""The evaluation protocol of PreparedTask: cold queries, declared candidates, a training view
that holds nothing held out, and no score above chance for a model that reads no feature."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from mmgraph.data import CANDIDATE_SETS, MultimodalDataset, Task, split_dataset
from mmgraph.data.known import KnownPairs, SameLabelPairs
from mmgraph.data.prepared import PreparedTask
from mmgraph.evaluation.evaluator import evaluate_link_auc, evaluate_link_queries
from mmgraph.testing import chance_mrr, tiny_dataset


def _with_fixed_split(dataset: MultimodalDataset, seed: int) -> MultimodalDataset:
    links = dataset.links.copy()
    links["split"] = pd.Series(["train", "val", "test"]).sample(len(links), replace=True, random_state=seed).to_numpy()
    return MultimodalDataset(dataset.samples.assign(item=None), links, name="fixed", features=dataset.features)


SPLITS = {
    "item": {"mode": "item"},
    "group": {"mode": "group"},
    "partial": {"mode": "partial", "hide": (("text_en",),)},
    "predefined": {"mode": "predefined"},
}


def _tiny_task(mode: str, seed: int, *, candidates: str = "held-out", same_label: bool = False) -> PreparedTask:
    dataset = tiny_dataset(seed)
    if mode == "predefined":
        dataset = _with_fixed_split(dataset, seed)
    task = Task(
        name=mode, description="", kind="link", source="image", target="text_en", split=SPLITS[mode],
        candidates=candidates, same_label_is_link=same_label,
    )
    split = split_dataset(dataset, seed=seed, val=0.2, test=0.3, **SPLITS[mode])
    return PreparedTask(task, dataset, split, {m: torch.as_tensor(a) for m, a in dataset.features.items()})


def check_cold(prepared: PreparedTask) -> int:
    """Every asked query is a sample of the evaluated part, outside the training view, holding no
    training link of the evaluated type; every answer is a declared candidate. Returns the number
    of questions checked."""
    train = prepared.train_view()
    asked = 0
    for part in ("val", "test"):
        for candidate_set in CANDIDATE_SETS:
            for direction, queries in prepared.link_queries(part, candidate_set).items():
                query_type, answer_type = queries.query_type, queries.answer_type
                index = prepared.scoring_index(query_type, part)
                ids = prepared.dataset.node_ids(query_type)
                by_scoring = {int(index[i]): ids[i] for i in np.flatnonzero(index >= 0)}
                query_ids = {by_scoring[int(q)] for q in queries.links[0]}
                parts = prepared.split.sample_split
                assert {parts[i] for i in query_ids} == {part}, (part, direction)
                if prepared.setting == "inductive":
                    assert not query_ids & set(train.node_ids[query_type])
                side = 1 if queries.reverse else 0
                linked = set(train.node_ids[query_type][train.target_links()[side]]) if train.links else set()
                assert not query_ids & linked, "a query holds a training link of the evaluated type"
                # every evaluated link of this direction is a true link of the part
                answer_ids = prepared.dataset.node_ids(answer_type)
                answer_index = prepared.scoring_index(answer_type, part)
                by_answer = {int(answer_index[i]): answer_ids[i] for i in np.flatnonzero(answer_index >= 0)}
                table = prepared.split.links(part)
                true = set(zip(table["src"], table["dst"], strict=True))
                for q, a in queries.links.T.tolist():
                    pair = (by_answer[a], by_scoring[q]) if queries.reverse else (by_scoring[q], by_answer[a])
                    assert pair in true
                assert set(queries.links[1].tolist()) <= set(queries.candidates.tolist())
                asked += queries.links.shape[1]
    return asked


@pytest.mark.parametrize("mode", list(SPLITS))
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("setting", ["inductive", "transductive"])
@pytest.mark.parametrize("same_label", [False, True], ids=["links", "same-label"])
def test_every_query_is_cold_in_every_split_mode(mode: str, seed: int, setting: str, same_label: bool) -> None:
    prepared = _tiny_task(mode, seed, same_label=same_label)
    prepared = PreparedTask(prepared.task, prepared.dataset, prepared.split, prepared.features, setting=setting)
    assert check_cold(prepared) > 0
    if same_label:  # every same-label pair is known, so filtered ranking never punishes another true answer
        for queries in prepared.link_queries("test").values():
            assert len(queries.known_pairs()) >= queries.links.shape[1]


def test_warm_links_of_a_held_out_sample_are_not_asked() -> None:
    """A test link whose query end is a training sample is never asked in that direction."""
    samples = pd.DataFrame({
        "id": ["a0", "a1", "b0", "b1"], "modality": ["a", "a", "b", "b"], "text": "x",
    })
    links = pd.DataFrame({"src": ["a0", "a1", "a0"], "dst": ["b0", "b1", "b1"], "relation": "r",
                          "split": ["train", "train", "test"]})
    dataset = MultimodalDataset(samples, links, name="warm", features={"a": np.eye(2), "b": np.eye(2)})
    task = Task(name="warm", description="", kind="link", source="a", target="b", split={"mode": "predefined"},
                candidates="all")
    prepared = PreparedTask(task, dataset, split_dataset(dataset, mode="predefined"), dict(dataset.features))
    # a0 and b1 hold training links: the test link (a0, b1) is warm at both ends.
    assert prepared.link_queries("test") == {}


def test_no_candidate_set_depends_on_the_answers() -> None:
    """Shuffling which held-out samples are linked (the answers) leaves every candidate set as it is."""
    for mode in ("item", "group", "partial"):
        for candidate_set in CANDIDATE_SETS:
            prepared = _tiny_task(mode, 0, candidates=candidate_set)
            dataset, split = prepared.dataset, prepared.split
            links = dataset.links.copy()
            held = (split.link_split != "train") & links["dst"].str.startswith("text_en")
            rng = np.random.default_rng(0)
            links.loc[held, "dst"] = rng.permutation(links.loc[held, "dst"].to_numpy())
            other = MultimodalDataset(dataset.samples.assign(item=None), links, name="shuffled",
                                      features=dataset.features)
            shuffled_split = type(split)(
                other, split.mode, split.sample_split, split.link_split, split.seed, split.hide
            )
            again = PreparedTask(prepared.task, other, shuffled_split, prepared.features)
            for part in ("val", "test"):
                for direction in ("src->dst", "dst->src"):
                    assert np.array_equal(
                        prepared.candidates(part, candidate_set, direction=direction),
                        again.candidates(part, candidate_set, direction=direction),
                    ), (mode, candidate_set, part, direction)


def test_the_training_view_holds_no_held_out_sample_link_or_label() -> None:
    dataset = tiny_dataset(0)
    task = Task(name="lab", description="", kind="label", source="image", split={"mode": "group"})
    split = split_dataset(dataset, seed=0, val=0.2, test=0.3, mode="group")
    labelled = dataset.samples.assign(label=[f"c{i % 3}" for i in range(len(dataset.samples))])
    dataset = MultimodalDataset(labelled, name="tiny", features=dataset.features)
    prepared = PreparedTask(task, dataset, split, {m: torch.as_tensor(a) for m, a in dataset.features.items()})
    train = prepared.train_view()
    training = set(split.sample_ids("train"))
    for modality in dataset.modalities:
        assert set(train.node_ids[modality]) <= training
        assert train.features[modality].shape[0] == len(train.node_ids[modality])
        assert torch.equal(train.train_rows[modality], torch.arange(len(train.node_ids[modality])))
    for (src, _, dst), links in train.links.items():
        pairs = {(train.node_ids[src][a], train.node_ids[dst][b]) for a, b in links.T.tolist()}
        table = split.links("train")
        assert pairs <= set(zip(table["src"], table["dst"], strict=True))
    labelled_ids = set(train.node_ids["image"][(train.labels["image"] >= 0).numpy()])
    assert labelled_ids and labelled_ids <= training
    assert all((train.labels[m] < 0).all() for m in dataset.modalities if m != "image")
    # the held-out samples come only as new samples, validation before test
    assert sum(len(v) for v in prepared.new_samples("val").values()) == len(split.sample_ids("val"))
    assert sum(len(v) for v in prepared.new_samples("test").values()) == len(split.sample_ids("val")) + len(
        split.sample_ids("test")
    )


class _NoFeature:
    """Scores that read no feature: the candidate's number of training links, and whether it is new."""

    def __init__(self, prepared: PreparedTask, part: str) -> None:
        train = prepared.train_view()
        self.degree = {}
        for side, node_type in ((0, train.target_edge_type[0]), (1, train.target_edge_type[2])):
            size = int(prepared.scoring_index(node_type, part).max()) + 1
            degree = torch.bincount(train.target_links()[side], minlength=size).float()
            self.degree[node_type] = degree + (torch.arange(size) >= train.num_nodes(node_type)).float() * 0.5

    def link_scores(self, edge_type, query, candidates, *, reverse):
        node_type = edge_type[0] if reverse else edge_type[2]
        return self.degree[node_type][candidates].expand(len(query), -1)


@pytest.mark.parametrize("candidate_set", CANDIDATE_SETS)
@pytest.mark.parametrize("mode", ["item", "group", "partial", "predefined"])
def test_a_model_that_reads_no_feature_scores_at_chance(mode: str, candidate_set: str) -> None:
    for seed in range(3):
        prepared = _tiny_task(mode, seed, candidates=candidate_set)
        for part in ("val", "test"):
            for queries in prepared.link_queries(part, candidate_set).values():
                mrr = evaluate_link_queries(_NoFeature(prepared, part).link_scores, {"q": queries})["mrr"]
                assert mrr <= chance_mrr(queries) + 1e-9, (mode, candidate_set, part, queries.direction)


@pytest.mark.usefixtures("data_root")
def test_every_named_task_asks_only_cold_questions(named_tasks) -> None:
    for name, prepared in named_tasks.items():
        if prepared.task.kind == "link":
            assert check_cold(prepared) > 0, name
            assert prepared.link_queries("test"), f"{name} asks no test question from its declared candidates"
            for part in ("val", "test"):
                for queries in prepared.link_queries(part).values():
                    mrr = evaluate_link_queries(_NoFeature(prepared, part).link_scores, {"q": queries})["mrr"]
                    # ties count half: a constant score is below the chance of a random order
                    assert mrr <= 1.1 * chance_mrr(queries), (name, part, queries.direction)


# ---------------------------------------------------------------------- same-label relations as labels
def _same_label_pairs(dataset: MultimodalDataset, edge_type) -> np.ndarray:
    """Every (source, target) pair sharing a label, materialised: what PreparedTask used to hold."""
    src_labels = dataset.labels(edge_type[0])
    dst_labels = dataset.labels(edge_type[2])
    pairs = []
    for label in set(src_labels) - {None}:
        s = np.flatnonzero(src_labels == label)
        d = np.flatnonzero(dst_labels == label)
        pairs.append(np.stack(np.meshgrid(s, d, indexing="ij")).reshape(2, -1))
    return np.concatenate(pairs, axis=1) if pairs else np.zeros((2, 0), dtype=np.int64)


def _materialised(prepared: PreparedTask, part: str, queries) -> torch.Tensor:
    """The known pairs of ``queries`` as the materialised pairs gave them, in scoring indices."""
    q = 1 if queries.reverse else 0
    query_index = prepared.scoring_index(queries.query_type, part)
    answer_index = prepared.scoring_index(queries.answer_type, part)
    true = _same_label_pairs(prepared.dataset, queries.edge_type)[[q, 1 - q]]
    true = np.stack([query_index[true[0]], answer_index[true[1]]])
    return torch.as_tensor(true[:, (true >= 0).all(0)])


def _tied_scores(edge_type, query, candidates, *, reverse):
    """Scores of a fixed function of the pair, rounded so that ties occur."""
    value = torch.sin(query[:, None].double() * 7.31 + candidates[None, :].double() * 1.13 + reverse)
    return (value * 4).round()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("setting", ["inductive", "transductive"])
def test_same_label_truth_from_labels_equals_every_pair_materialised(seed: int, setting: str) -> None:
    prepared = _tiny_task("group", seed, same_label=True)
    prepared = PreparedTask(prepared.task, prepared.dataset, prepared.split, prepared.features, setting=setting)
    compared = 0
    for part in ("val", "test"):
        for candidate_set in CANDIDATE_SETS:
            asked = prepared.link_queries(part, candidate_set)
            before = {}
            for direction, queries in asked.items():
                assert isinstance(queries.known, SameLabelPairs)
                pairs = _materialised(prepared, part, queries)
                old = KnownPairs(pairs, num_query=queries.num_query, num_target=queries.num_answer)
                everyone = torch.arange(queries.num_query), torch.arange(queries.num_answer)
                assert torch.equal(queries.known_pairs().mask(*everyone), old.mask(*everyone))
                assert len(queries.known_pairs()) == len(old)
                before[direction] = dataclasses.replace(queries, known=pairs)
                compared += 1
            assert evaluate_link_queries(_tied_scores, asked) == evaluate_link_queries(_tied_scores, before)
            auc = evaluate_link_auc(_tied_scores, asked, seed=seed)
            assert auc == evaluate_link_auc(_tied_scores, before, seed=seed)
    assert compared > 0

