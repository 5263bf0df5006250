"""Properties of attaching new samples: to a graph, and to every fitted link model.

Attaching never changes what the training nodes have (their features, their edges, their
scores), and a new sample gets the same neighbours and the same scores alone as in a batch (up
to float rounding: a matrix product of more rows may round differently, and the GNN's
propagation terms carry weights up to 1000, hence a relative tolerance).
Features are small integers, so that equal similarities (ties) come up often.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mmgraph.data import MultimodalDataset, Task, split_dataset
from mmgraph.graph import GraphBuilder
from mmgraph.models import MODELS
from mmgraph.models.baselines import LINK_BASELINES
from mmgraph.pipeline import prepare_task, validator
from mmgraph.testing import tiny_dataset

VALUES = st.integers(-2, 2).map(float)


def matrix(rows: st.SearchStrategy[int], dim: int) -> st.SearchStrategy[np.ndarray]:
    return rows.flatmap(lambda n: hnp.arrays(np.float32, (n, dim), elements=VALUES))


@st.composite
def attach_cases(draw: st.DrawFn):
    dim = draw(st.integers(1, 4))
    old = draw(matrix(st.integers(1, 12), dim))
    other = draw(matrix(st.integers(1, 5), 3))
    links = draw(st.lists(st.tuples(st.integers(0, len(old) - 1), st.integers(0, len(other) - 1)), max_size=6))
    new = draw(matrix(st.integers(1, 6), dim))
    builder = GraphBuilder(k=draw(st.integers(1, 5)), symmetric=draw(st.booleans()),
                           weight=draw(st.sampled_from(["cosine", "none"])))
    return _case(builder, old, other, links, new)


def _case(builder: GraphBuilder, old, other, links: list[tuple[int, int]], new) -> tuple:
    old, other, new = (np.asarray(x, dtype=np.float32) for x in (old, other, new))
    links = torch.tensor(links, dtype=torch.long).reshape(-1, 2).T
    graph = builder.build({"a": old, "b": other}, {("a", "r", "b"): links},
                          labels={"a": torch.zeros(len(old), dtype=torch.long)})
    return builder, graph, new


def _in_edges(graph, edge_type, node: int) -> tuple[list[int], list[float] | None]:
    store = graph[edge_type]
    into = (store.edge_index[1] == node).nonzero().flatten()
    weights = store.edge_weight[into].tolist() if "edge_weight" in store else None
    return store.edge_index[0, into].tolist(), weights


@given(case=attach_cases())
@example(  # found by Hypothesis: old node 1 is orthogonal to the new [0, 1, -1] and nodes 2.. are zero (all
    # cosine 0); the batch's matrix product rounded the cosine of node 1 below 0, so the new sample took
    # node 2 in the batch and node 1 alone. Fixed in knn_cosine (float64, rounded to 2**-24).
    case=_case(GraphBuilder(k=1, symmetric=False), [[0, 0, 1], [0, 1, 1], *[[0, 0, 0]] * 10], [[0, 0, 0]], [],
               [[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 1, -1]])
)
@settings(max_examples=50)
def test_attaching_keeps_the_graph_and_each_new_node_is_attached_as_alone(case) -> None:
    builder, graph, new = case
    before = graph.clone()
    num_old = graph["a"].num_nodes
    attached, indices = builder.attach(graph, "a", new)
    assert torch.equal(indices, torch.arange(num_old, num_old + len(new)))
    for edge_type in before.edge_types:  # the input graph is untouched
        assert torch.equal(graph[edge_type].edge_index, before[edge_type].edge_index)
    similar = ("a", builder.similarity_relation, "a")
    for edge_type in before.edge_types:
        old_edges = before[edge_type].edge_index
        edges = attached[edge_type].edge_index
        assert torch.equal(edges[:, : old_edges.shape[1]], old_edges), f"the training edges of {edge_type} changed"
        if edge_type != similar:
            assert edges.shape == old_edges.shape, f"attaching added {edge_type} edges"
    added = attached[similar].edge_index[:, before[similar].edge_index.shape[1] :]
    assert bool((added[0] < num_old).all()) and bool((added[1] >= num_old).all()), "an edge leaves a new node"
    assert torch.equal(attached["a"].x[:num_old], before["a"].x)
    assert torch.equal(attached["a"].y, torch.cat([before["a"].y, torch.full((len(new),), -1)]))
    for i in range(len(new)):
        alone, _ = builder.attach(graph, "a", new[i : i + 1])
        sources, weights = _in_edges(attached, similar, num_old + i)
        sources_alone, weights_alone = _in_edges(alone, similar, num_old)
        assert sources == sources_alone, f"new sample {i} has other neighbours in a batch than alone"
        assert len(sources) == min(builder.k, num_old)
        if weights is not None:
            np.testing.assert_allclose(weights, weights_alone, rtol=0, atol=1e-6)


# ---------------------------------------------------------------------- fitted models
LINK_MODELS = ("gnn", *LINK_BASELINES)
FAST = {"gnn": {"epochs": 3, "k": 3}, "siamese": {"epochs": 3}, "fusion": {"epochs": 3},
        "attention-fusion": {"epochs": 3}}
DIM = 8


@pytest.fixture(scope="module")
def fitted(one_torch_thread) -> dict[str, tuple]:
    """Every link model fitted (and selected on validation) on a tiny dataset with integer features."""
    base = tiny_dataset(0)
    features = {m: np.round(x) for m, x in base.features.items()}  # integer features: many tied similarities
    dataset = MultimodalDataset(base.samples, name="tiny-integer", features=features)
    task = Task(name="tiny", description="", kind="link", source="image", target="text_en", split={"mode": "item"})
    split = split_dataset(dataset, seed=0, val=0.2, test=0.3, mode="item")
    prepared = prepare_task(task, dataset, seed=0, features={m: torch.as_tensor(x) for m, x in features.items()},
                            split=split)
    out = {}
    for name in LINK_MODELS:
        model = MODELS.get(name)(seed=0, **FAST.get(name, {}))
        out[name] = (model.fit(prepared.train_view(), validate=validator(prepared), progress=False), prepared)
    return out


@st.composite
def new_batches(draw: st.DrawFn) -> dict[str, torch.Tensor]:
    """New samples of both modalities: integer vectors, and some copies of training features."""
    return {m: torch.as_tensor(draw(matrix(st.integers(1, 5), DIM))) for m in ("image", "text_en")}


@pytest.mark.parametrize("name", LINK_MODELS)
@given(new=new_batches())
@settings(max_examples=15)
def test_a_new_sample_scores_the_same_alone_or_in_a_batch(fitted, name: str, new: dict) -> None:
    model, prepared = fitted[name]
    train = prepared.train_view()
    edge_type = train.target_edge_type
    n = {m: train.num_nodes(m) for m in train.node_types}
    batch = model.scorer(new)
    training = model.scorer(None)
    for reverse, (query_type, answer_type) in ((False, ("image", "text_en")), (True, ("text_en", "image"))):
        view_candidates = torch.arange(n[answer_type])
        view_queries = torch.arange(n[query_type])
        # the training nodes' scores among themselves do not change when samples are attached
        torch.testing.assert_close(
            batch.link_scores(edge_type, view_queries, view_candidates, reverse=reverse),
            training.link_scores(edge_type, view_queries, view_candidates, reverse=reverse),
            rtol=1e-5, atol=1e-5,
        )
        for i in range(len(new[query_type])):
            alone = model.scorer({query_type: new[query_type][i : i + 1], answer_type: new[answer_type][:0]})
            torch.testing.assert_close(
                batch.link_scores(edge_type, torch.tensor([n[query_type] + i]), view_candidates, reverse=reverse),
                alone.link_scores(edge_type, torch.tensor([n[query_type]]), view_candidates, reverse=reverse),
                rtol=1e-5, atol=1e-5, msg=lambda m, i=i, t=query_type: f"new {t} sample {i} alone vs in a batch: {m}",
            )
