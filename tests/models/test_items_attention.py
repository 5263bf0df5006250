"""items-attention: the missing modalities' tokens are masked, its settings, and it learns from
partial items. (The item invariants over every item model: tests/models/test_item_fusion.py.)"""

from __future__ import annotations

import pytest
import torch

from mmgraph.data import MultimodalDataset, Task, split_dataset
from mmgraph.data.prepared import PreparedTask
from mmgraph.datasets import load
from mmgraph.errors import ConfigError
from mmgraph.models import MODELS
from mmgraph.models.baselines.items import dropped_samples
from mmgraph.models.baselines.items_attention import ItemAttention
from mmgraph.pipeline.validation import item_metrics, validator

MODALITIES = ("a", "b", "c", "d")
FAST = {"token_dims": (32,), "dropouts": (0.1,), "epochs": 30}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("grad", [True, False])  # with gradients, and the no-grad (fast) path scoring takes
def test_a_missing_modality_is_masked_whatever_its_features(grad: bool) -> None:
    torch.manual_seed(0)
    dims = [5, 7, 3]
    module = ItemAttention(dims, 4, token_dim=8, heads=2, dropout=0.1).eval()
    x = [torch.randn(6, d) for d in dims]
    present = torch.tensor([[1, 1, 1], [1, 0, 1], [0, 1, 0], [1, 0, 0], [0, 1, 1], [0, 0, 1]], dtype=torch.bool)
    garbage = [torch.where(present[:, [m]], xm, 1e3 * torch.randn_like(xm)) for m, xm in enumerate(x)]
    with torch.set_grad_enabled(grad):
        out, with_garbage = module(x, present), module(garbage, present)
        assert torch.allclose(out, with_garbage, atol=1e-5)
        changed = [xm.clone() for xm in x]
        changed[0][0] += 1.0  # a present modality's features: that item's output moves, no other
        moved = module(changed, present)
    assert not torch.allclose(moved[0], out[0], atol=1e-4) and torch.allclose(moved[1:], out[1:], atol=1e-6)


def test_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"'token_dims' .* multiples of its heads \(4\).*Got \(30,\)"):
        MODELS.get("items-attention")(token_dims=(30,))
    with pytest.raises(ConfigError, match=r"'dropouts' .* in \[0, 1\).*Got \(1.0,\)"):
        MODELS.get("items-attention")(dropouts=(1.0,))
    with pytest.raises(ConfigError, match="'lrs' parameter"):
        MODELS.get("items-attention")(lrs=())
    assert "token_dims=(64, 128)" in repr(MODELS.get("items-attention")())


@pytest.fixture(scope="module")
def half_kept() -> dict[str, PreparedTask]:
    """The synthetic item tasks with each held-out and training item keeping half its samples."""
    base = load("synthetic", num_items=120, modalities=MODALITIES, num_classes=3, seed=0)
    dataset = MultimodalDataset(base.samples.drop(columns="true_item"), name="items", features=base.features)
    tasks = {
        "label": Task(name="items-label", description="", kind="label", source="a", label_modalities=MODALITIES,
                      query="item", keep=0.5),
        "link": Task(name="items-link", description="", kind="link", source="a", target="d", query="item",
                     keep=0.5),
    }
    features = {m: torch.as_tensor(dataset.features[m]) for m in MODALITIES}
    return {kind: PreparedTask(task, dataset, split_dataset(dataset, seed=0, **task.split), features)
            for kind, task in tasks.items()}


@pytest.mark.parametrize("kind", ["label", "link"])
def test_it_learns_from_partial_items(half_kept, kind: str) -> None:
    part = half_kept[kind]
    model = MODELS.get("items-attention")(**FAST).fit(part.train_view(), validate=validator(part), progress=False)
    assert model.chosen_["val_score"] is not None and model.chosen_["best_epoch"] > 0
    items = part.item_queries("test")
    assert not items.kept_modalities().all(), "some test items miss a modality"
    metrics = item_metrics(model.item_scorer(part.new_samples("test"), items), items)
    if kind == "label":  # 3 balanced classes: chance is about 1/3
        assert metrics["accuracy"] > 0.6, metrics
    else:
        candidates = len(items.question.candidates)
        chance = sum(1 / r for r in range(1, candidates + 1)) / candidates
        assert metrics["mrr"] > 3 * chance, (metrics, chance)


def test_training_items_are_redrawn_each_epoch(half_kept, monkeypatch) -> None:
    from mmgraph.models.baselines import items_attention

    draws = []

    def recorded(every, *, keep, seed):
        dropped = dropped_samples(every, keep=keep, seed=seed)
        draws.append((keep, tuple(seed), {m: dropped.members[m].tolist() for m in dropped.members}))
        return dropped

    monkeypatch.setattr(items_attention, "dropped_samples", recorded)
    part = half_kept["label"]
    MODELS.get("items-attention")(**{**FAST, "epochs": 3}, seed=5).fit(part.train_view(), progress=False)
    assert [(keep, seed) for keep, seed, _ in draws] == [(0.5, (5, 1)), (0.5, (5, 2)), (0.5, (5, 3))]
    assert draws[0][2] != draws[1][2], "another draw each epoch"


def test_the_trained_module_comes_back_from_its_state(half_kept) -> None:
    part = half_kept["link"]
    model = MODELS.get("items-attention")(**{**FAST, "epochs": 3}).fit(part.train_view(), progress=False)
    tensors: dict[str, torch.Tensor] = {}
    record = model._fused_state(model.fused_, tensors)
    assert record == {"token_dim": 32, "out_dim": part.features["d"].shape[1], "heads": 4}
    items, new = part.item_queries("test"), part.new_samples("test")
    question = items.question
    before = model.item_scorer(new, items).link_scores(question.edge_type, torch.arange(len(items)),
                                                       question.candidates, reverse=False)
    model.fused_ = model._fused_from_state(record, tensors)
    after = model.item_scorer(new, items).link_scores(question.edge_type, torch.arange(len(items)),
                                                      question.candidates, reverse=False)
    assert torch.allclose(before, after, atol=1e-6)
