"""The models of item tasks: the item_scorer contract, its invariants, and the fusion baselines.

Every model of :func:`~mmgraph.models.item_models` but the GNN (tests/models/test_gnn_items.py)
is fitted once per task kind on a small synthetic item task, selected on its validation items.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from mmgraph.data import MultimodalDataset, Task, split_dataset
from mmgraph.data.prepared import ITEM, ItemQueries, PreparedTask
from mmgraph.datasets import load
from mmgraph.errors import NotApplicableError
from mmgraph.models import MODELS, item_models, models_for
from mmgraph.models.baselines.items import training_items
from mmgraph.pipeline.validation import ItemValidation, validator

MODALITIES = ("a", "b", "c", "d")
TASKS = {
    "label": Task(name="items-label", description="", kind="label", source="a", label_modalities=MODALITIES,
                  query="item"),
    "link": Task(name="items-link", description="", kind="link", source="a", target="d", query="item"),
}
FAST = {
    "items-mlp": {"hidden": (32,), "alphas": (1e-2,), "max_iter": 50},
    "items-attention": {"token_dims": (32,), "dropouts": (0.1,), "epochs": 20},
}
MODELS_OF_ITEMS = [name for name in item_models() if name != "gnn"]
CASES = [(kind, name) for kind in TASKS for name in MODELS_OF_ITEMS if kind in MODELS.get(name).kinds]


@pytest.fixture(scope="module")
def prepared() -> dict[str, PreparedTask]:
    base = load("synthetic", num_items=120, modalities=MODALITIES, num_classes=3, seed=0)
    dataset = MultimodalDataset(base.samples.drop(columns="true_item"), name="items", features=base.features)
    out = {}
    for kind, task in TASKS.items():
        split = split_dataset(dataset, seed=0, **task.split)
        features = {m: torch.as_tensor(dataset.features[m]) for m in MODALITIES}
        out[kind] = PreparedTask(task, dataset, split, features)
    return out


@pytest.fixture(scope="module")
def fitted(prepared) -> dict[tuple[str, str], object]:
    torch.set_num_threads(1)
    return {
        (kind, name): MODELS.get(name)(seed=0, **FAST.get(name, {})).fit(
            prepared[kind].train_view(), validate=validator(prepared[kind]), progress=False
        )
        for kind, name in CASES
    }


def _only(items: ItemQueries, keep: dict[int, dict[str, int | None]] | None = None, *,
          chosen: list[int]) -> ItemQueries:
    """The items ``chosen`` of ``items`` (renumbered in that order), each with its samples or, where
    ``keep`` names an item, only the modalities it names (``None``: every sample of that modality)."""
    members, member_items = {}, {}
    for m in items.members:
        rows, owners = [], []
        for new_index, item in enumerate(chosen):
            samples = items.members[m][items.member_items[m] == item]
            if keep is not None and item in keep:
                samples = samples if m in keep[item] else samples[:0]
            rows.append(samples)
            owners.append(torch.full((len(samples),), new_index, dtype=torch.long))
        members[m], member_items[m] = torch.cat(rows), torch.cat(owners)
    return dataclasses.replace(items, item_ids=items.item_ids[chosen], members=members, member_items=member_items)


def _outputs(scorer, items: ItemQueries, kind: str) -> torch.Tensor:
    """Every item's scores against every candidate (links), or its class (labels)."""
    if kind == "label":
        return scorer.predict_labels(ITEM).float()[:, None]
    question = items.question
    return scorer.link_scores(question.edge_type, torch.arange(len(items)), question.candidates, reverse=False)


def test_item_models_are_read_from_the_classes() -> None:
    assert set(MODELS_OF_ITEMS) >= {
        "items-concat", "items-mlp", "items-average", "items-combiner", "items-single", "items-attention"
    }
    assert "logreg" not in item_models() and not MODELS.get("logreg").answers_items()
    assert not set(MODELS_OF_ITEMS) & set(models_for("label")) and "items-concat" in models_for("link", "item")


def test_a_model_of_single_samples_names_the_item_models(prepared) -> None:
    model = MODELS.get("logreg")().fit(dataclasses.replace(prepared["label"].train_view(), item_modalities=()))
    with pytest.raises(NotApplicableError, match=r"does not answer item queries\. Use one of \["):
        model.item_scorer(prepared["label"].new_samples("test"), prepared["label"].item_queries("test"))
    with pytest.raises(NotApplicableError, match="asks about held-out items. For item tasks use one of"):
        MODELS.get("logreg")().fit(prepared["label"].train_view())
    with pytest.raises(NotApplicableError, match="answers item queries only"):
        MODELS.get("items-concat")().check_query("t", "sample")


@pytest.mark.slow  # the module's models take ~15 s to fit, once
@pytest.mark.parametrize(("kind", "name"), CASES)
def test_an_item_scores_the_same_alone_as_in_a_batch(prepared, fitted, kind: str, name: str) -> None:
    model, part = fitted[kind, name], prepared[kind]
    chosen = [model.chosen_, *model.chosen_.get("modalities", {}).values()]
    assert any(c["val_score"] is not None for c in chosen), "chosen on the validation items"
    items, new = part.item_queries("test"), part.new_samples("test")
    together = _outputs(model.item_scorer(new, items), items, kind)
    for item in range(0, len(items), 7):
        alone = _only(items, chosen=[item])
        assert torch.allclose(_outputs(model.item_scorer(new, alone), alone, kind)[0], together[item], atol=1e-5)
    reordered = _only(items, chosen=list(range(len(items)))[::-1])
    assert torch.allclose(_outputs(model.item_scorer(new, reordered), reordered, kind).flip(0), together, atol=1e-5)


@pytest.mark.slow  # the module's models take ~15 s to fit, once
@pytest.mark.parametrize(("kind", "name"), CASES)
def test_removing_one_sample_changes_only_its_item(prepared, fitted, kind: str, name: str) -> None:
    model, part = fitted[kind, name], prepared[kind]
    items, new = part.item_queries("test"), part.new_samples("test")
    before = _outputs(model.item_scorer(new, items), items, kind)
    kept = items.kept_modalities()
    item = int(torch.nonzero(kept.all(1))[0])
    without_b = _only(items, {item: {m: None for m in items.modalities if m != "b"}}, chosen=list(range(len(items))))
    after = _outputs(model.item_scorer(new, without_b), without_b, kind)
    others = torch.arange(len(items)) != item
    assert torch.allclose(after[others], before[others], atol=1e-6)
    if kind == "link":  # a class may survive the loss of one sample; scores do not
        assert not torch.allclose(after[item], before[item], atol=1e-4)


@pytest.mark.slow  # the module's models take ~15 s to fit, once
@pytest.mark.parametrize(("kind", "name"), CASES)
def test_an_item_of_one_modality_and_one_of_all_both_score(prepared, fitted, kind: str, name: str) -> None:
    model, part = fitted[kind, name], prepared[kind]
    items, new = part.item_queries("test"), part.new_samples("test")
    full = int(torch.nonzero(items.kept_modalities().all(1))[0])
    for modality in items.modalities:
        single = (full + 1) % len(items)
        pair = _only(items, {single: {modality: None}}, chosen=[single, full])
        assert pair.kept_modalities()[0].tolist() == [m == modality for m in items.modalities]
        assert pair.kept_modalities()[1].all()
        out = _outputs(model.item_scorer(new, pair), pair, kind)
        assert torch.isfinite(out).all()
        if kind == "label":
            assert ((out >= 0) & (out < len(part.classes))).all()
        else:  # each item's scores spread over the candidates: it was scored, not left at zero
            assert (out.std(1) > 0).all()


def test_training_items_drop_samples_with_keep_and_keep_one_each(prepared) -> None:
    view = prepared["label"].train_view()
    index, every, kept = training_items(view, MODALITIES, keep=0.5, seed=0)
    assert every.num_items == len(index) > 0
    total = {m: len(every.members[m]) for m in MODALITIES}
    left = {m: len(kept.members[m]) for m in MODALITIES}
    assert sum(left.values()) < sum(total.values())
    counts = np.zeros(len(index))
    for m in MODALITIES:
        np.add.at(counts, kept.member_items[m].numpy(), 1)
        assert set(kept.members[m].tolist()) <= set(every.members[m].tolist())
    assert counts.min() >= 1
    _, _, again = training_items(view, MODALITIES, keep=0.5, seed=0)
    assert all(torch.equal(again.members[m], kept.members[m]) for m in MODALITIES)
    _, _, whole = training_items(view, MODALITIES, keep=1.0, seed=0)
    assert all(torch.equal(whole.members[m], every.members[m]) for m in MODALITIES)


@pytest.mark.slow
def test_item_validation_scores_items_with_the_sample_keys(prepared, fitted) -> None:
    for kind in TASKS:
        validate = validator(prepared[kind])
        assert isinstance(validate, ItemValidation)
        model = fitted[kind, "items-concat"]
        metrics = validate.items(lambda new, items, model=model: model.item_scorer(new, items))
        key = "accuracy" if kind == "label" else "mrr"
        assert metrics[key] == pytest.approx(model.chosen_["val_score"])


@pytest.mark.parametrize("kind", list(TASKS))
def test_the_evaluation_asks_every_level_of_one_fitted_model(prepared, fitted, kind: str) -> None:
    """The test metrics hold the headline metrics at every level of item_levels, each what the
    same fitted model scores on the items asked at that level."""
    from mmgraph.data.items import item_levels
    from mmgraph.evaluation.metrics import main_metric
    from mmgraph.pipeline.evaluation import evaluate
    from mmgraph.pipeline.validation import item_metrics

    model, task = fitted[kind, "items-average"], prepared[kind]
    metrics = evaluate(model, task)
    main = main_metric(kind)
    levels = item_levels(task.task.query_modalities(MODALITIES))
    assert {k.rsplit("/", 1)[0] for k in metrics if k.startswith(("keep=", "only="))} == set(levels)
    assert metrics[f"keep=1/{main}"] == metrics[main], "keep=1 is the task's own level"
    for level, options in levels.items():
        asked = task.item_queries("test", **options)
        expected = item_metrics(model.item_scorer(task.new_samples("test"), asked), asked)[main]
        assert metrics[f"{level}/{main}"] == expected and metrics[f"{level}/num_items"] == len(asked), level
    alone = [metrics[f"only={m}/num_items"] for m in task.task.query_modalities(MODALITIES)]
    assert max(alone) <= metrics["num_items"], "one modality alone asks the items that have it"
