"""The GNN answers item queries: an item's samples attached together, linked to each other only.

A small synthetic item task (four modalities, the target ``d`` for links) built as in
tests/data/test_items.py; small settings so that each fit takes a second or two.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from mmgraph.data import MultimodalDataset, Task, split_dataset
from mmgraph.data.prepared import ITEM, ItemQueries, PreparedTask, TrainView
from mmgraph.datasets import load
from mmgraph.errors import ConfigError, NotApplicableError
from mmgraph.models.gnn_model import GNNChoices, GNNModel
from mmgraph.pipeline import validator

MODALITIES = ("a", "b", "c", "d")
LINK = Task(name="items-link", description="", kind="link", source="a", target="d", query="item")
LABEL = Task(name="items-label", description="", kind="label", source="a", label_modalities=MODALITIES, query="item")
pytestmark = pytest.mark.usefixtures("one_torch_thread")
SMALL = {"epochs": 30, "hidden_dim": 32, "propagation": False, "hubness": False, "linear_map": False}


def _prepared(task: Task, *, setting: str = "inductive") -> PreparedTask:
    base = load("synthetic", num_items=300, modalities=MODALITIES, num_classes=3, seed=0)
    dataset = MultimodalDataset(base.samples.drop(columns="true_item"), name="items", features=base.features)
    split = split_dataset(dataset, seed=0, **task.split)
    features = {m: torch.as_tensor(dataset.features[m]).float() for m in MODALITIES}
    return PreparedTask(task, dataset, split, features, setting=setting)


@pytest.fixture(scope="module")
def fitted() -> dict[str, tuple[GNNModel, dict[str, torch.Tensor], ItemQueries]]:
    """Per task kind: the GNN fitted on the task's training view, the test part's new samples and items."""
    out = {}
    for task in (LINK, LABEL):
        prepared = _prepared(task)
        model = GNNModel(**SMALL).fit(prepared.train_view(), progress=False)
        out[task.kind] = (model, prepared.new_samples("test"), prepared.item_queries("test"))
    return out


def _subset(items: ItemQueries, chosen: list[int], *, drop: tuple[str, int] | None = None) -> ItemQueries:
    """The items ``chosen`` (renumbered in that order), without the ``drop = (modality, item)`` sample."""
    renumber = torch.full((len(items),), -1, dtype=torch.long)
    renumber[chosen] = torch.arange(len(chosen))
    members, member_items = {}, {}
    for m in items.members:
        keep = renumber[items.member_items[m]] >= 0
        if drop is not None and drop[0] == m:
            keep &= items.member_items[m] != drop[1]
        members[m], member_items[m] = items.members[m][keep], renumber[items.member_items[m][keep]]
    return dataclasses.replace(items, item_ids=items.item_ids[chosen], members=members, member_items=member_items)


def _links(model: GNNModel, new: dict[str, torch.Tensor], items: ItemQueries) -> torch.Tensor:
    question = items.question
    scorer = model.item_scorer(new, items)
    return scorer.link_scores(question.edge_type, torch.arange(len(items)), question.candidates, reverse=False)


@pytest.mark.parametrize("task", [LINK, LABEL])
def test_an_item_task_chooses_the_learner_on_its_validation_items(task: Task, monkeypatch) -> None:
    """Early stopping reads the validation items' score (the questions an item task asks), not
    the single-sample question; the single-sample terms (propagation, ridge map, hubness) are
    left out of an item task's model."""
    prepared = _prepared(task)
    validate = validator(prepared)
    asked = []
    items = validate.items
    monkeypatch.setattr(validate, "items", lambda scoring, **kw: asked.append("items") or items(scoring, **kw))
    samples = validate.__call__
    monkeypatch.setattr(type(validate), "__call__", lambda self, scoring, **kw: asked.append("samples") or
                        samples(scoring, **kw))
    settings = {**SMALL, "epochs": 10, "eval_every": 5, "linear_map": True, "hubness": True, "propagation": True}
    model = GNNModel(**settings).fit(prepared.train_view(), validate=validate, progress=False)
    assert asked and set(asked) == {"items"}
    assert model.choices_ == GNNChoices(val=model.learner_.best_val_) and model.map_ is None
    assert model.choices_.val == max(h["val"] for h in model.learner_.history_ if "val" in h), "recorded"
    test = prepared.item_queries("test")
    if task is LINK:
        assert _links(model, prepared.new_samples("test"), test).shape == (len(test), len(test.question.candidates))


def test_an_item_task_learns_to_link_every_item_modality_to_the_target(fitted) -> None:
    model, _, items = fitted["link"]
    assert items.question.edge_type == (ITEM, "same_item", "d")
    assert model.learner_.target_edge_types_ == [("a", "same_item", "d"), ("b", "same_item", "d"),
                                                 ("c", "same_item", "d")]


def test_an_item_scores_the_same_alone_and_in_a_batch(fitted) -> None:
    model, new, items = fitted["link"]
    batch = _links(model, new, items)
    assert batch.shape == (len(items), len(items.question.candidates)) and torch.isfinite(batch).all()
    for item in (0, 7, len(items) - 1):
        torch.testing.assert_close(_links(model, new, _subset(items, [item]))[0], batch[item])
    reordered = [5, 2, 9]
    torch.testing.assert_close(_links(model, new, _subset(items, reordered)), batch[reordered])
    model, new, items = fitted["label"]
    labels = model.item_scorer(new, items).predict_labels(ITEM)
    assert labels.shape == (len(items),)
    asked = range(0, len(items), 4)
    alone = torch.cat([model.item_scorer(new, _subset(items, [i])).predict_labels(ITEM) for i in asked])
    assert torch.equal(alone, labels[list(asked)])


def test_removing_one_sample_changes_only_that_items_scores(fitted) -> None:
    model, new, items = fitted["link"]
    every = list(range(len(items)))
    before = _links(model, new, items)
    for modality in ("a", "c"):
        after = _links(model, new, _subset(items, every, drop=(modality, 3)))
        changed = ~torch.isclose(after, before).all(dim=1)
        assert changed.nonzero().flatten().tolist() == [3], modality


def test_an_item_with_one_modality_and_one_with_all_of_them_both_score(fitted) -> None:
    model, new, items = fitted["link"]
    full = _links(model, new, _subset(items, [0]))
    assert torch.isfinite(full).all()
    for modality in items.modalities:
        others = [m for m in items.modalities if m != modality]
        single = _subset(items, [0])
        for other in others:
            single = _subset(single, [0], drop=(other, 0))
        assert [single.members[m].numel() for m in items.modalities].count(1) == 1
        scores = _links(model, new, single)
        assert scores.shape == full.shape and torch.isfinite(scores).all()
        assert not torch.allclose(scores, full)  # what the item keeps is what it is scored from
    model, new, items = fitted["label"]
    num_classes = model.learner_.num_classes_
    for modality in items.modalities:
        single = _subset(items, [0])
        for other in items.modalities:
            if other != modality:
                single = _subset(single, [0], drop=(other, 0))
        label = model.item_scorer(new, single).predict_labels(ITEM)
        assert label.shape == (1,) and 0 <= int(label) < num_classes


def test_an_items_partner_links_reach_its_score(fitted) -> None:
    """An item of two samples is not the mean of its two samples scored as items of one: the two
    exchange messages through the graph's ``same_item`` edges before they are scored."""
    model, new, items = fitted["link"]
    pair = _subset(_subset(items, [0]), [0], drop=("c", 0))
    assert [pair.members[m].numel() for m in pair.modalities] == [1, 1, 0]
    together = _links(model, new, pair)
    singles = [_links(model, new, _subset(pair, [0], drop=(m, 0))) for m in ("a", "b")]
    assert not torch.allclose(together, (singles[0] + singles[1]) / 2, atol=1e-4)


def test_the_train_view_of_an_item_task_names_its_item_modalities(tmp_path) -> None:
    view = _prepared(LINK).train_view()
    assert view.item_modalities == ("a", "b", "c")
    assert TrainView.load(view.save(tmp_path)).item_modalities == ("a", "b", "c")
    sample_task = dataclasses.replace(LINK, name="links", query="sample")
    assert _prepared(sample_task).train_view().item_modalities == ()


@pytest.mark.slow
def test_items_that_the_learner_cannot_attach_raise_with_the_reason(fitted) -> None:
    prepared = _prepared(LABEL)
    minibatch = GNNModel(**SMALL, training="minibatch").fit(prepared.train_view(), progress=False)
    with pytest.raises(NotApplicableError, match="does not answer item queries.*training='full'"):
        minibatch.item_scorer(prepared.new_samples("test"), prepared.item_queries("test"))
    transductive = _prepared(LABEL, setting="transductive")
    model = GNNModel(**SMALL).fit(transductive.train_view(), progress=False)
    with pytest.raises(NotApplicableError, match="nodes of its training view"):
        model.item_scorer(transductive.new_samples("test"), transductive.item_queries("test"))
    model, new, items = fitted["link"]
    with pytest.raises(NotApplicableError, match="reverse=False"):
        model.item_scorer(new, items).link_scores(items.question.edge_type, torch.arange(2), torch.arange(3),
                                                  reverse=True)
    assert np.array_equal(items.item_ids, fitted["link"][2].item_ids)


def test_training_items_drop_their_partner_links_with_the_tasks_keep(monkeypatch) -> None:
    """At each step a training sample keeps its item links with probability ``item_keep`` (None: the
    task's keep, as a held-out item keeps its samples); ``item_keep=1``, the default, trains on whole items."""
    from mmgraph.models.learners import full

    seen = []
    original = full.drop_item_samples

    def spy(batch, item_edge_types, *, keep, generator):
        out = original(batch, item_edge_types, keep=keep, generator=generator)
        seen.append((keep, sorted(item_edge_types), sum(out.edge_index_dict[t].shape[1] for t in item_edge_types),
                     sum(batch.edge_index_dict[t].shape[1] for t in item_edge_types)))
        return out

    monkeypatch.setattr(full, "drop_item_samples", spy)
    half = _prepared(LABEL.variant("keep=0.5")).train_view()
    settings = {**SMALL, "epochs": 3}
    weights = {}
    for item_keep in (None, 1.0):
        seen.clear()
        model = GNNModel(**settings, item_keep=item_keep).fit(half, progress=False)
        weights[item_keep] = torch.cat([p.flatten() for p in model.learner_.network_.parameters()])
        keep, types, kept, every = seen[0]
        assert len(seen) == 3 and keep == (0.5 if item_keep is None else 1.0)
        assert types and all(rel.endswith("same_item") and src != dst for src, rel, dst in types)
        assert (kept < every) if item_keep is None else (kept == every)
    assert not torch.equal(weights[None], weights[1.0]), "dropping partner links changes what is learned"
    assert GNNModel().settings.item_keep == 1.0
    with pytest.raises(ConfigError, match="'item_keep' setting of the 'gnn' model is a probability"):
        GNNModel(item_keep=0)
