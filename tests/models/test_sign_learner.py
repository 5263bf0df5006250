"""The mini-batch learner: features that read no link of their own, cold queries at chance on noise,
the GNN model's whole contract in minibatch mode."""

from __future__ import annotations

import math

import pytest
import torch
from torch_geometric.data import HeteroData

from mmgraph.datasets import load
from mmgraph.errors import ConfigError
from mmgraph.graph import GraphBuilder
from mmgraph.models import GNNModel
from mmgraph.models.learners import PropagatedFeatures, SIGNLearner
from mmgraph.pipeline import evaluate, prepare_task, validator
from mmgraph.tasks import Task

EDGE = ("a", "link", "b")
BUILDER = GraphBuilder(k=4, symmetric=False)


def _graph(links: torch.Tensor, seed: int = 0) -> tuple[HeteroData, dict[str, torch.Tensor]]:
    generator = torch.Generator().manual_seed(seed)
    features = {"a": torch.randn(30, 6, generator=generator), "b": torch.randn(25, 5, generator=generator)}
    return BUILDER.build(features, {EDGE: links}), features


def test_a_node_vector_reads_none_of_its_own_partners() -> None:
    """Node a:0 and its look-alikes share the partner b:0: a:0's vector must not hold b:0's features
    (a cold query's answer is never among its look-alikes' partners), while a node that is not
    linked to b:0 reads it through its look-alikes."""
    data, features = _graph(torch.stack([torch.arange(20), torch.arange(20)]))
    similar = data["a", "similar", "a"].edge_index
    look_alikes = similar[0, similar[1] == 0]
    links = torch.stack([torch.arange(20), torch.arange(20)])
    links = torch.cat([links, torch.stack([look_alikes, torch.zeros_like(look_alikes)])], dim=1)
    changed = dict(features, b=features["b"].clone())
    changed["b"][0] += 10.0
    before = PropagatedFeatures(BUILDER.build(features, {EDGE: links}))
    after = PropagatedFeatures(BUILDER.build(changed, {EDGE: links}))
    assert before.names("a") == ["x", "hop1", "hop2", "via_link"]
    assert before.names("b") == ["x", "hop1", "hop2", "via_rev_link"]
    assert torch.equal(before.blocks["a"][0], after.blocks["a"][0])
    reads = [i for i in range(20, 30) if not torch.equal(before.blocks["a"][i], after.blocks["a"][i])]
    assert reads, "no unlinked node reads b:0 through its look-alikes: the test checks nothing"


def test_a_new_sample_gets_the_vector_of_a_cold_node_of_the_graph() -> None:
    """The same sample as a new sample, and as a node of the graph with its k in-edges, no out-edge and
    no link, gets the same vector: training nodes and new samples go through one function."""
    links = torch.stack([torch.arange(20), torch.arange(20)])
    data, features = _graph(links)
    new = torch.randn(1, 6, generator=torch.Generator().manual_seed(5))
    neighbours, cosine = BUILDER.neighbours(data, "a", new)
    propagated = PropagatedFeatures(data)
    as_new = propagated.for_new("a", new, neighbours, cosine.clamp_min(0))
    assert "blocks" not in vars(propagated), "a new sample's vector reads its neighbours' rows, not every node's"

    grown = data.clone()
    grown["a"].x = torch.cat([features["a"], new])
    grown["a"].num_nodes = 31
    store = grown["a", "similar", "a"]
    store.edge_index = torch.cat([store.edge_index, torch.stack([neighbours[0], torch.full((4,), 30)])], dim=1)
    store.edge_weight = torch.cat([store.edge_weight, cosine[0].clamp_min(0)])
    in_graph = PropagatedFeatures(grown).blocks["a"][30]
    torch.testing.assert_close(as_new[0], in_graph)


@pytest.fixture(scope="module")
def synthetic():
    return load("synthetic", num_items=300, dim=16, modalities=("a", "b"), seed=0)


def _prepared(dataset, *, noise: bool, seed: int = 0):
    task = Task(name="syn", description="", kind="link", source="a", target="b")
    generator = torch.Generator().manual_seed(seed)
    features = {
        t: torch.randn(x.shape, generator=generator) if noise else torch.as_tensor(x, dtype=torch.float32)
        for t, x in dataset.features.items()
    }
    return prepare_task(task, dataset, seed=seed, features=features)


def test_a_model_that_reads_noise_scores_cold_queries_at_chance(synthetic, one_torch_thread) -> None:
    """With features replaced by noise, nothing tells a cold query's answer: a model that scored above
    chance would be reading something it must not (its own links, a test link)."""
    prepared = _prepared(synthetic, noise=True)
    model = GNNModel(training="minibatch", minibatch_size=32, epochs=20, seed=0)
    model.fit(prepared.train_view(), validate=validator(prepared), progress=False)
    metrics = evaluate(model, prepared)
    n = metrics["src->dst/num_candidates"]
    chance = sum(1 / r for r in range(1, n + 1)) / n  # mean reciprocal rank of a random ranking
    # about 2 * n queries (both directions); one reciprocal rank has a std of about 0.15 here
    tolerance = 3 * 0.15 / math.sqrt(2 * n)
    assert abs(metrics["mrr"] - chance) < tolerance, f"MRR {metrics['mrr']:.3f} vs chance {chance:.3f}"


def test_minibatch_model_learns_saves_and_loads(synthetic, one_torch_thread, tmp_path) -> None:
    prepared = _prepared(synthetic, noise=False)
    model = GNNModel(training="minibatch", minibatch_size=32, epochs=20, seed=0)
    model.fit(prepared.train_view(), validate=validator(prepared), progress=False)
    metrics = evaluate(model, prepared)
    assert model.training_ == "minibatch" and isinstance(model.learner_, SIGNLearner)
    assert metrics["mrr"] > 5 / metrics["src->dst/num_candidates"], metrics["mrr"]
    model.save(tmp_path)
    loaded = GNNModel.load(tmp_path, prepared.train_view())
    assert loaded.training_ == "minibatch" and evaluate(loaded, prepared) == metrics


def test_auto_picks_full_batch_for_small_graphs_and_minibatch_beyond(monkeypatch) -> None:
    model = GNNModel()
    assert model.settings.training == "auto" and model._training_mode(1000) == "full"
    assert model._training_mode(10**6) == "minibatch"
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert model._training_mode(1000) == "minibatch"
    with pytest.raises(ConfigError, match="'training' setting .* one of"):
        GNNModel(training="sparse")


def test_repr() -> None:
    assert repr(SIGNLearner(epochs=5, minibatch_size=256)) == (
        "SIGNLearner(hidden_dim=256, num_layers=2, decoder='dot', epochs=5, minibatch_size=256, seed=0)"
    )
