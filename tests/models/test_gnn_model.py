"""A saved GNN model holds what its first prediction would otherwise compute over the training graph."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from mmgraph.data import Task
from mmgraph.models import MODELS, gnn_model
from mmgraph.models.terms import HubnessCorrected
from mmgraph.pipeline import prepare_task
from mmgraph.predict import Predictor
from mmgraph.testing import tiny_dataset

pytestmark = pytest.mark.usefixtures("one_torch_thread")

LINKS = Task(name="t", description="", kind="link", source="image", target="text_en")
LABELS = Task(name="t-label", description="", kind="label", source="image")
CHOICES = {  # what each case scores with: the learned score alone, or every term that reads the training graph
    "learned": gnn_model.GNNChoices(),
    "propagation+hubness": gnn_model.GNNChoices(weights=(1.0, 3.0), alpha=0.5, steps=2, hubness=0.5),
    "labels smoothed": gnn_model.GNNChoices(alpha=0.5, steps=10),
}


def _fitted(
    task: Task, choices: gnn_model.GNNChoices, training: str = "full"
) -> tuple[Predictor, dict[str, torch.Tensor]]:
    dataset = tiny_dataset(0)
    features = {m: torch.as_tensor(a) for m, a in dataset.features.items()}
    prepared = prepare_task(task, dataset, seed=0, features=features)
    train = prepared.train_view()
    model = MODELS.get("gnn")(epochs=2, k=3, training=training).fit(train, progress=False)
    model.choices_ = choices
    new = {t: torch.randn(3, features[t].shape[1], generator=torch.Generator().manual_seed(1))
           for t in ("image", "text_en")}
    return Predictor(model, train, {}, task={"name": task.name}), new


def _scores(model, train, new: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    """Every score the model gives the new samples: links both ways against every candidate, or labels."""
    scorer = model.scorer(new)
    if train.kind == "label":
        return [scorer.predict_labels(t) for t in new]
    edge_type = train.target_edge_type
    out = []
    for reverse, (query_type, cand_type) in ((False, edge_type[::2]), (True, edge_type[::-2])):
        query = train.num_nodes(query_type) + torch.arange(len(new[query_type]))
        candidates = torch.arange(train.num_nodes(cand_type) + len(new[cand_type]))
        out.append(scorer.link_scores(edge_type, query, candidates, reverse=reverse))
    return out


@pytest.mark.parametrize(("task", "case", "training"), [
    (LINKS, "learned", "full"), (LINKS, "propagation+hubness", "full"), (LABELS, "labels smoothed", "full"),
    (LINKS, "propagation+hubness", "minibatch"),
])
def test_a_loaded_model_scores_as_before_saving_without_its_warm_up(
    tmp_path, monkeypatch, task, case, training
) -> None:
    predictor, new = _fitted(task, CHOICES[case], training)
    before = _scores(predictor.model, predictor.train, new)
    predictor.save(tmp_path / "model")
    loaded = Predictor.load(tmp_path / "model")
    assert loaded.model.choices_ == CHOICES[case]

    num_view = {t: loaded.train.num_nodes(t) for t in loaded.train.node_types}
    warm_up = []  # every call that reads the whole training graph or ranks its candidates

    def spy(name, call):
        def wrapped(*args, **kwargs):
            warm_up.append(name)
            return call(*args, **kwargs)
        return wrapped

    mean_top_scores = HubnessCorrected._mean_top_scores

    def hubs(self, edge_type, queries, nodes, *, reverse):
        cand_type = edge_type[0] if reverse else edge_type[2]
        if bool((nodes < num_view[cand_type]).any()):
            warm_up.append("view candidates' hub scores")
        return mean_top_scores(self, edge_type, queries, nodes, reverse=reverse)

    monkeypatch.setattr(loaded.model.learner_, "layer_states", spy("layer states", loaded.model.learner_.layer_states))
    monkeypatch.setattr(gnn_model.GNNModel, "_propagate", spy("propagation", gnn_model.GNNModel._propagate))
    monkeypatch.setattr(HubnessCorrected, "_mean_top_scores", hubs)
    after = _scores(loaded.model, loaded.train, new)
    assert warm_up == []
    if training == "minibatch":  # the towers read the new samples' vectors only, not every node's
        assert "blocks" not in vars(loaded.model.learner_.features(loaded.model.graph_))
    assert len(after) == len(before)
    for a, b in zip(after, before, strict=True):
        assert torch.equal(a, b)  # to the last digit

    # other choices than those saved: computed as before, from the saved layer states
    loaded.model.choices_ = dataclasses.replace(CHOICES[case], alpha=0.1)
    _scores(loaded.model, loaded.train, new)
    assert "layer states" not in warm_up and ("propagation" in warm_up) == (case != "learned")
