"""Nothing held out reaches a model's fit, and no evaluated link is an edge the model reads."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from mmgraph.data import MultimodalDataset, Task, split_dataset
from mmgraph.datasets import load
from mmgraph.graph import GraphBuilder
from mmgraph.models import MODELS
from mmgraph.pipeline import pipeline, prepare_task
from mmgraph.testing import tiny_dataset
from mmgraph.training import cold_start_batch

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _ids(view, edge_type, edge_index: torch.Tensor) -> set[tuple[str, str]]:
    src, _, dst = edge_type
    return {(view.node_ids[src][a], view.node_ids[dst][b]) for a, b in edge_index.T.tolist()}


def _class_linked(dataset: MultimodalDataset) -> MultimodalDataset:
    """Every "a" sample linked to three "b" samples of its class; every sample its own split unit."""
    samples = dataset.samples.drop(columns=["true_item"]).assign(item=None)
    samples["group"] = samples["id"]
    rng = np.random.default_rng(0)
    by_class = {c: rows["id"].to_numpy() for c, rows in samples[samples["modality"] == "b"].groupby("label")}
    a = samples[samples["modality"] == "a"]
    links = [(i, j, "same_item") for i, c in zip(a["id"], a["label"], strict=True)
             for j in rng.choice(by_class[c], 3, replace=False)]
    links = pd.DataFrame(links, columns=["src", "dst", "relation"])
    return MultimodalDataset(samples, links, name="class-linked", features=dataset.features)


def _with_fixed_split(dataset: MultimodalDataset, seed: int) -> MultimodalDataset:
    links = dataset.links.copy()
    links["split"] = pd.Series(["train", "val", "test"]).sample(len(links), replace=True, random_state=seed).to_numpy()
    return MultimodalDataset(dataset.samples.assign(item=None), links, name="fixed", features=dataset.features)


CASES = [
    ("item", {"mode": "item"}),
    ("group", {"mode": "group"}),
    ("partial", {"mode": "partial", "hide": (("text_en",),)}),
    ("predefined", {"mode": "predefined"}),
]


@pytest.mark.parametrize(("name", "split"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("seed", [0, 1])
def test_evaluated_links_never_reach_the_model(name: str, split: dict, seed: int) -> None:
    dataset = tiny_dataset(seed)
    if name == "predefined":
        dataset = _with_fixed_split(dataset, seed)
    task = Task(name=name, description="", kind="link", source="image", target="text_en", split=split)
    split_obj = split_dataset(dataset, seed=seed, val=0.2, test=0.3, **split)
    prepared = prepare_task(
        task, dataset, seed=seed, features={m: torch.as_tensor(a) for m, a in dataset.features.items()}, split=split_obj
    )
    model = MODELS.get("gnn")(epochs=2, k=3, propagation=False).fit(prepared.train_view(), progress=False)
    view, graph = prepared.train_view(), model.graph_
    held_out = set(split_obj.sample_ids("val")) | set(split_obj.sample_ids("test"))
    for node_type in graph.node_types:
        assert graph[node_type].num_nodes == len(view.node_ids[node_type])
        assert not set(view.node_ids[node_type]) & held_out
    train_ids = set(zip(split_obj.train_links["src"], split_obj.train_links["dst"], strict=True))
    evaluated = set()
    for part in ("val", "test"):
        table = split_obj.links(part)
        evaluated |= set(zip(table["src"], table["dst"], strict=True))
    for edge_type in graph.edge_types:
        if edge_type[1] == "similar":
            continue
        pairs = _ids(view, edge_type, graph[edge_type].edge_index)
        if edge_type[1].startswith("rev_"):
            pairs = {(b, a) for a, b in pairs}
        assert pairs <= train_ids
        assert not pairs & evaluated


def test_supervised_links_are_not_message_edges() -> None:
    dataset = tiny_dataset(0)
    task = Task(name="t", description="", kind="link", source="image", target="text_en")
    features = {m: torch.as_tensor(a) for m, a in dataset.features.items()}
    prepared = prepare_task(task, dataset, seed=0, features=features)
    view = prepared.train_view()
    graph = GraphBuilder(k=3).build(view.features, view.links)
    target = view.target_edge_type
    maskable = {t for s, r, d in view.cold_link_types for t in ((s, r, d), (d, "rev_" + r, s))}
    generator = torch.Generator().manual_seed(0)
    for _ in range(20):
        batch = cold_start_batch(graph, {target: view.target_links()}, maskable, fraction=0.3, generator=generator)
        supervised = batch.supervised[target]
        assert supervised.shape[1] > 0
        hidden = {target[0]: set(supervised[0].tolist()), target[2]: set(supervised[1].tolist())}
        # a supervised node keeps no edge of any maskable (link) type, as a cold-start node
        for edge_type, edge_index in batch.edge_index_dict.items():
            if edge_type not in maskable:
                continue
            for a, b in edge_index.T.tolist():
                assert a not in hidden.get(edge_type[0], set()) and b not in hidden.get(edge_type[2], set())


class _SpyValidation:
    """A validation callback that records the new samples of every scorer a model asks it to score
    (of single samples, or of items: :meth:`items`) before scoring it."""

    def __init__(self, validate, seen: list) -> None:
        self._validate, self._seen = validate, seen

    def _record(self, new) -> None:
        self._seen.append({m: x.clone() for m, x in (new or {}).items()})

    def __call__(self, scoring, **options):
        return self._validate(lambda new: (self._record(new), scoring(new))[1], **options)

    def items(self, scoring, **options):
        return self._validate.items(lambda new, items: (self._record(new), scoring(new, items))[1], **options)


FAST = {
    "gnn": {"epochs": 10}, "siamese": {"epochs": 10}, "fusion": {"epochs": 10},
    "attention-fusion": {"epochs": 10},
}


@pytest.mark.parametrize("name", [name for name in MODELS.names() if "kg" not in MODELS.get(name).kinds])
def test_fit_of_every_model_sees_no_test_sample_link_or_label(name: str, monkeypatch) -> None:
    """Spies on fit and on every scorer a model asks for while fitting: the training view holds
    training samples, links and labels only, and validation shows validation samples only. (The
    models of kg tasks fit on a TripleView of the training triples: tests/pipeline/test_kg_task.py.)"""
    dataset = load("synthetic", num_items=80, seed=0)
    model_class = MODELS.get(name)
    kind = "link" if "link" in model_class.kinds else "label"
    task = Task(name="spy", description="", kind=kind, source="a", target="b" if kind == "link" else None)
    if model_class.item_only:  # a model of item tasks: the same question asked of items
        task = dataclasses.replace(task, query="item")
    if name == "component-class":  # it needs links that form classes: each "a" linked to "b" samples of its class
        dataset, task = _class_linked(dataset), dataclasses.replace(task, split={"mode": "group"})
    seen: dict[str, list] = {"views": [], "new": []}
    original_fit = model_class.fit

    def spy_fit(self, train, *, validate=None, **kwargs):
        seen["views"].append(train)

        spied = None if validate is None else _SpyValidation(validate, seen["new"])
        return original_fit(self, train, validate=spied, **kwargs)

    monkeypatch.setattr(model_class, "fit", spy_fit)
    result = pipeline(task, dataset=dataset, model=name, seed=0, cache=None, progress=False,
                      model_options=FAST.get(name))
    split = result.prepared.split
    (view,) = seen["views"]
    training, test = set(split.sample_ids("train")), set(split.sample_ids("test"))
    for modality, ids in view.node_ids.items():
        assert set(ids) <= training, f"{name}: fit saw held-out {modality} samples"
    train_links = set(zip(split.train_links["src"], split.train_links["dst"], strict=True))
    for edge_type, links in view.links.items():
        assert _ids(view, edge_type, links) <= train_links
    for modality, y in view.labels.items():
        assert set(view.node_ids[modality][(y >= 0).numpy()]) <= training
    # what a model scored while fitting: validation samples, never a test sample
    val = set(split.sample_ids("val"))

    def rows(modality: str, ids: set) -> set[tuple]:
        x = torch.as_tensor(dataset.features[modality], dtype=torch.float32).tolist()
        return {tuple(r) for r, i in zip(x, dataset.node_ids(modality), strict=True) if i in ids}

    assert seen["new"] or name == "cosine", f"{name} never validated"
    for new in seen["new"]:
        for modality, x in new.items():
            scored = {tuple(r) for r in x.tolist()}
            assert not scored & rows(modality, test), f"{name} scored test samples in fit"
            assert scored == rows(modality, val)  # the check above can fail: these are the same rows
