"""What a saved model ranks by default is the task's declared candidate set, the one the metrics rank.

For every named link task, the evaluator's candidates of each test query and what the predict
path ranks for the same sample with no option agree, query for query; and the model folder keeps
that set.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from mmgraph.data import MultimodalDataset, split_dataset
from mmgraph.data.dataset import ITEM_RELATION
from mmgraph.data.prepared import PreparedTask
from mmgraph.data.task import Task
from mmgraph.evaluation.evaluator import score_queries
from mmgraph.models import MODELS
from mmgraph.predict import Predictor
from mmgraph.tasks import TASKS

# item tasks ask about items (PreparedTask.item_queries), which prediction does not take yet
LINK_TASKS = [name for name in TASKS.names() if TASKS.get(name).kind == "link" and TASKS.get(name).query == "sample"]


def _prepared(task: Task, dataset: MultimodalDataset, seed: int = 0, dim: int = 16) -> PreparedTask:
    """The task on its real split, with random features (the candidate sets depend on the split only)."""
    dataset = task.make_dataset(dataset, seed)
    split = split_dataset(dataset, seed=seed, **task.split)
    generator = torch.Generator().manual_seed(seed)
    features = {m: torch.randn(len(dataset.node_ids(m)), dim, generator=generator) for m in dataset.modalities}
    return PreparedTask(task, dataset, split, features)


def _check_predict_ranks_the_declared_set(prepared: PreparedTask, tmp_path, k: int = 10) -> None:
    model = MODELS.get("knn-transfer")(seed=0).fit(prepared.train_view())
    predictor = Predictor(model, prepared.train_view(), {}, task=prepared.task.summary(),
                          catalogue=prepared.catalogue("test"))
    predictor = Predictor.load(predictor.save(tmp_path / "model"))  # what a user's saved folder answers
    scorer = model.scorer(prepared.new_samples("test"))
    asked = prepared.link_queries("test")
    assert asked, f"{prepared.task.name}: no test query"
    for direction, queries in asked.items():
        by_scoring = {}
        for modality in (queries.query_type, queries.answer_type):
            index, ids = prepared.scoring_index(modality, "test"), prepared.dataset.node_ids(modality)
            by_scoring[modality] = {int(index[i]): str(ids[i]) for i in np.flatnonzero(index >= 0)}
        declared = [by_scoring[queries.answer_type][int(c)] for c in queries.candidates]
        nodes, scores = next(score_queries(scorer.link_scores, queries, batch_size=20))
        query_ids = [by_scoring[queries.query_type][int(q)] for q in nodes]
        rows = [int(np.flatnonzero(prepared.dataset.node_ids(queries.query_type) == i)[0]) for i in query_ids]
        features = prepared.features[queries.query_type][torch.as_tensor(rows)]

        every = predictor.predict_links(features, modality=queries.query_type, k=len(declared) + 5)
        for q in range(len(nodes)):
            ranked = every[every["query"] == q]["id"].tolist()
            assert sorted(ranked) == sorted(declared), f"{prepared.task.name} {direction}: other candidates"
        top = predictor.predict_links(features, modality=queries.query_type, k=k)
        expected = [[declared[j] for j in row] for row in scores.topk(k, dim=1).indices.tolist()]
        got = top.sort_values(["query", "rank"]).groupby("query")["id"].apply(list).tolist()
        assert got == expected, f"{prepared.task.name} {direction}: another top-{k}"
        assert np.allclose(top.sort_values(["query", "rank"])["score"].to_numpy().reshape(len(nodes), k),
                           scores.topk(k, dim=1).values.numpy(), atol=1e-5)


@pytest.mark.parametrize("name", LINK_TASKS)
def test_predict_ranks_the_declared_candidates_of_every_named_task(name: str, data_root, tmp_path) -> None:
    from mmgraph.datasets import load

    task = TASKS.get(name)
    dataset = load(task.dataset, root=data_root, **task.dataset_options)
    _check_predict_ranks_the_declared_set(_prepared(task, dataset), tmp_path)


def _one_to_one_dataset() -> MultimodalDataset:
    rows = [(f"a{i}", "a", f"item{i}") for i in range(60)] + [(f"b{i}", "b", f"item{i}") for i in range(60)]
    samples = pd.DataFrame(rows, columns=["id", "modality", "item"])
    return MultimodalDataset(samples, name="pairs", features={
        m: np.random.default_rng(i).normal(size=(60, 8)).astype(np.float32) for i, m in enumerate("ab")
    })


def test_one_to_one_catalogue_leaves_out_linked_targets_and_training_ranks_them(tmp_path) -> None:
    dataset = _one_to_one_dataset()
    task = Task(name="pairs", description="", kind="link", source="a", target="b", candidates="all")
    prepared = _prepared(task, dataset)
    assert prepared.one_to_one
    catalogue = prepared.catalogue("test")
    linked = set(prepared.train_view().target_links()[1].tolist())
    assert linked and not linked & set(catalogue.view_nodes["b"].tolist())
    assert len(catalogue.new_ids["b"]) > 0  # held-out targets are candidates of "all" too
    _check_predict_ranks_the_declared_set(prepared, tmp_path)

    model = MODELS.get("knn-transfer")(seed=0).fit(prepared.train_view())
    predictor = Predictor(model, prepared.train_view(), {}, task=task.summary(), catalogue=catalogue)
    query = torch.randn(1, 16)
    training = predictor.predict_links(query, modality="a", k=200, catalogue="training")
    assert set(training["id"]) == set(prepared.train_view().node_ids["b"])
    with pytest.raises(ValueError, match="must be one of"):
        predictor.predict_links(query, modality="a", catalogue="everything")
    with pytest.raises(ValueError, match="no candidate to rank"):
        predictor.predict_links(query, modality="a", catalogue="none")


def test_one_to_one_is_decided_by_training_links_only() -> None:
    """A held-out link that breaks one-to-one changes nothing: held-out links shape no question."""
    dataset = _one_to_one_dataset()
    split = split_dataset(dataset, seed=0)
    held_out_a = split.samples("test").query("modality == 'a'")["id"].iloc[0]
    held_out_b = split.samples("test").query("modality == 'b'")["id"].tolist()
    extra = pd.DataFrame({"src": [held_out_a], "dst": [next(b for b in held_out_b if b[1:] != held_out_a[1:])],
                          "relation": [ITEM_RELATION]})
    wider = MultimodalDataset(dataset.samples, extra, name="pairs", features=dataset.features)  # items: implied
    assert len(wider.links) == len(dataset.links) + 1
    task = Task(name="pairs", description="", kind="link", source="a", target="b", candidates="all")
    features = {m: torch.as_tensor(wider.features[m]) for m in wider.modalities}
    prepared = PreparedTask(task, wider, split_dataset(wider, seed=0), features)
    assert prepared.one_to_one


def test_label_classes_come_from_training_samples_and_an_unseen_class_counts_as_an_error() -> None:
    rows = [(f"s{i}", "a", f"item{i}", "x" if i % 2 else "y", f"g{i}") for i in range(40)]
    samples = pd.DataFrame(rows, columns=["id", "modality", "item", "label", "group"])
    dataset = MultimodalDataset(samples, name="labels", features={"a": np.eye(40, dtype=np.float32)})
    split = split_dataset(dataset, seed=0)
    test_id = split.samples("test")["id"].iloc[0]
    samples.loc[samples["id"] == test_id, "label"] = "only-held-out"
    dataset = MultimodalDataset(samples, name="labels", features={"a": np.eye(40, dtype=np.float32)})
    task = Task(name="labels", description="", kind="label", source="a")
    prepared = PreparedTask(task, dataset, split, {"a": torch.eye(40)})
    assert prepared.classes == ("x", "y")
    assert prepared.train_view().classes == ("x", "y")
    queries = prepared.label_queries("test")
    assert queries.classes[:2] == ("x", "y") and queries.classes[2:] == ("only-held-out",)
    from mmgraph.evaluation.evaluator import evaluate_label_queries

    always_right = {"a": torch.zeros(prepared.scoring_index("a", "test").max() + 1, dtype=torch.long)}
    for node, label in zip(queries.nodes.tolist(), queries.labels.tolist(), strict=True):
        always_right["a"][node] = min(label, 1)  # the best a model can do: a training class
    metrics = evaluate_label_queries(always_right.__getitem__, queries)
    assert metrics["accuracy"] == pytest.approx(1 - 1 / len(queries.nodes))



def test_an_encoder_that_learns_is_never_fitted_on_held_out_samples_only() -> None:
    """A modality without training samples: fitting TF-IDF on the held-out texts would leak them."""
    from mmgraph.errors import DataError
    from mmgraph.pipeline import encode_dataset

    rows = [(f"a{i}", "a", f"text number {i}") for i in range(30)] + [(f"b{i}", "b", f"other {i}") for i in range(10)]
    samples = pd.DataFrame(rows, columns=["id", "modality", "text"])
    links = [(f"a{i}", f"a{i + 1}", "near", "train") for i in range(19)]
    links += [(f"a{20 + j}", f"b{j}", "pair", "test") for j in range(10)]
    dataset = MultimodalDataset(samples, pd.DataFrame(links, columns=["src", "dst", "relation", "split"]), name="t")
    split = split_dataset(dataset, mode="predefined")
    assert not set(split.sample_ids("train")) & {f"b{j}" for j in range(10)}
    with pytest.raises(DataError, match="'b' has no training sample.*'tfidf'"):
        encode_dataset(dataset, split, encoders={"a": "tfidf", "b": "tfidf"}, cache=None, progress=False)
    features, _ = encode_dataset(dataset, split, encoders={"a": "tfidf", "b": "minilm"}, cache=None,
                                 progress=False)
    assert features["b"].shape[0] == 10
