"""Model selection of the GNN model: one propagation per setting, validation questions only."""

from __future__ import annotations

import pytest
import torch

from mmgraph.data import Task
from mmgraph.models import MODELS, gnn_model
from mmgraph.models.propagation import PropagationGraph
from mmgraph.pipeline import prepare_task, validator
from mmgraph.testing import tiny_dataset

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_choose_propagates_once_per_setting_and_scores_only_validation_queries(monkeypatch) -> None:
    dataset = tiny_dataset(0)
    task = Task(name="t", description="", kind="link", source="image", target="text_en")
    features = {m: torch.as_tensor(a) for m, a in dataset.features.items()}
    prepared = prepare_task(task, dataset, seed=0, features=features)
    checks, chosen_while_validating = [], []
    # hubness off: its hub scores rank training queries by design (tested in tests/pipeline/test_pipeline.py)
    model = MODELS.get("gnn")(epochs=2, k=3, hubness=False)

    def validate(scoring, **kwargs):
        checks.append(kwargs)
        chosen_while_validating.append(hasattr(model, "choices_"))  # set once, after every search
        return validator(prepared)(scoring, **kwargs)

    asked = prepared.link_queries("val")
    val_queries = {d: set(q.links[0].tolist()) for d, q in asked.items()}
    calls, scored = [], []
    propagate, link_scores = PropagationGraph.propagate, gnn_model._LearnedScores.link_scores

    def count(self, signals, **kwargs):
        calls.append(kwargs)
        return propagate(self, signals, **kwargs)

    def record(self, edge_type, query, candidates, *, reverse):
        scored.append(("dst->src" if reverse else "src->dst", set(query.tolist())))
        return link_scores(self, edge_type, query, candidates, reverse=reverse)

    monkeypatch.setattr(PropagationGraph, "propagate", count)
    monkeypatch.setattr(gnn_model._LearnedScores, "link_scores", record)
    model.fit(prepared.train_view(), validate=validate, progress=False)
    settings = len(gnn_model.PROPAGATION_SETTINGS)
    tried = len(gnn_model.LINK_WEIGHTS) ** 2 * settings
    assert len(checks) >= tried  # every (alpha, steps, weights) setting was scored on validation
    # two link spaces (source and target features), each propagated once per (alpha, steps)
    assert len(calls) == 2 * settings
    assert {(c["alpha"], c["steps"]) for c in calls} == set(gnn_model.PROPAGATION_SETTINGS)
    assert scored and all(direction in val_queries and queries <= val_queries[direction]
                          for direction, queries in scored)
    assert not any(chosen_while_validating)
    assert model.choices_.steps in {s for _, s in gnn_model.PROPAGATION_SETTINGS} | {0}
