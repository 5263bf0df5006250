"""No evaluated link is ever an edge the model reads or a training positive, in any split mode."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from mmgraph.data import MultimodalDataset, split_dataset
from mmgraph.graph import GraphBuilder
from mmgraph.pipeline import prepare_task
from mmgraph.tasks import Task
from mmgraph.testing import tiny_dataset
from mmgraph.training import cold_start_batch


def _pairs(edge_index: torch.Tensor) -> set[tuple[int, int]]:
    return {(int(a), int(b)) for a, b in edge_index.T}


def _with_fixed_split(dataset: MultimodalDataset, seed: int) -> MultimodalDataset:
    links = dataset.links.copy()
    links["split"] = pd.Series(["train", "val", "test"]).sample(
        len(links), replace=True, random_state=seed
    ).to_numpy()
    samples = dataset.samples.assign(item=None)
    return MultimodalDataset(samples, links, name="fixed", features=dataset.features)


CASES = [
    ("item", {"mode": "item"}),
    ("group", {"mode": "group"}),
    ("partial", {"mode": "partial", "hide": (("text_en",),)}),
    ("predefined", {"mode": "predefined"}),
]


@pytest.mark.parametrize(("name", "split"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_evaluated_links_never_reach_the_model(name: str, split: dict, seed: int) -> None:
    dataset = tiny_dataset(seed)
    if name == "predefined":
        dataset = _with_fixed_split(dataset, seed)
    task = Task(name=name, description="", kind="link", source="image", target="text_en", split=split)
    split_obj = split_dataset(dataset, seed=seed, val=0.2, test=0.3, **split)
    data = prepare_task(
        task, dataset, seed=seed, features={m: torch.as_tensor(a) for m, a in dataset.features.items()},
        builder=GraphBuilder(k=3), split=split_obj,
    )
    src, rel, dst = data.target_edge_type
    forward, reverse = (src, rel, dst), (dst, "rev_" + rel, src)
    graph_edges = _pairs(data.graph[forward].edge_index) if forward in data.graph.edge_types else set()
    if reverse in data.graph.edge_types:
        graph_edges |= {(b, a) for a, b in _pairs(data.graph[reverse].edge_index)}
    train = _pairs(data.train_links.get(data.target_edge_type, torch.zeros(2, 0, dtype=torch.long)))
    evaluated = _pairs(data.links("test")) | _pairs(data.links("val"))
    assert evaluated, "the split produced no evaluated links"
    assert not evaluated & graph_edges, f"evaluated links in the graph: {sorted(evaluated & graph_edges)}"
    assert not evaluated & train, f"evaluated links among training positives: {sorted(evaluated & train)}"
    # every edge of every link type in the graph is a training link of the dataset
    train_ids = set(zip(split_obj.train_links["src"], split_obj.train_links["dst"], strict=True))
    for edge_type in data.graph.edge_types:
        if edge_type[1] == "similar" or edge_type[1].startswith("rev_"):
            continue
        ids_src = dataset.node_ids(edge_type[0])
        ids_dst = dataset.node_ids(edge_type[2])
        for a, b in _pairs(data.graph[edge_type].edge_index):
            assert (ids_src[a], ids_dst[b]) in train_ids


def test_supervised_links_are_not_message_edges() -> None:
    dataset = tiny_dataset(0)
    task = Task(name="t", description="", kind="link", source="image", target="text_en")
    data = prepare_task(
        task, dataset, seed=0, features={m: torch.as_tensor(a) for m, a in dataset.features.items()},
        builder=GraphBuilder(k=3),
    )
    positives = {data.target_edge_type: data.train_links[data.target_edge_type]}
    generator = torch.Generator().manual_seed(0)
    for _ in range(20):
        batch = cold_start_batch(
            data.graph, positives, set(data.maskable_edge_types), fraction=0.3, generator=generator
        )
        supervised = batch.supervised[data.target_edge_type]
        assert supervised.shape[1] > 0
        nodes_src = set(supervised[0].tolist())
        nodes_dst = set(supervised[1].tolist())
        # a supervised node keeps no edge of any maskable (link) type, as a cold-start node
        for edge_type, edge_index in batch.edge_index_dict.items():
            if edge_type not in data.maskable_edge_types:
                continue
            for a, b in _pairs(edge_index):
                for node_type, node in ((edge_type[0], a), (edge_type[2], b)):
                    if node_type == data.target_edge_type[0]:
                        assert node not in nodes_src
                    if node_type == data.target_edge_type[2]:
                        assert node not in nodes_dst
