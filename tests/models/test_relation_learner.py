"""The relation learner: settings, errors, learning on a toy graph, persistence."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import HeteroData

from mmgraph.errors import NotFittedError
from mmgraph.graph import GraphBuilder
from mmgraph.models import CONVOLUTIONS, DECODERS, RelationLearner

EDGE = ("a", "link", "b")


@pytest.fixture(scope="module")
def toy() -> tuple[HeteroData, torch.Tensor]:
    """Two modalities seeing the same 8 classes through different random maps; 300 pairs,
    the first 200 linked for training."""
    generator = torch.Generator().manual_seed(0)
    classes = torch.randint(0, 8, (300,), generator=generator)
    latent = torch.randn(8, 12, generator=generator)[classes] + 0.4 * torch.randn(300, 12, generator=generator)
    xa = latent @ torch.randn(12, 20, generator=generator)
    xb = latent @ torch.randn(12, 16, generator=generator)
    train = torch.arange(200)
    labels_a = torch.where(torch.arange(300) < 200, classes, torch.full_like(classes, -1))
    data = GraphBuilder(k=5).build({"a": xa, "b": xb}, {EDGE: torch.stack([train, train])},
                                   labels={"a": labels_a})
    return data, classes


def _held_out_mrr(learner: RelationLearner, data: HeteroData) -> float:
    h = learner.embed(data)
    held = torch.arange(200, 300)
    scores = learner.score(h, EDGE, held, held)
    ranks = (scores > scores.diagonal()[:, None]).sum(1) + 1
    return float((1 / ranks.float()).mean())


@pytest.mark.parametrize("conv", ["sage", "gat", "hgt", "graphconv"])
def test_learns_cold_start_links_and_labels(toy, conv: str) -> None:
    data, classes = toy
    learner = RelationLearner(conv=conv, epochs=40, seed=0).fit(
        data, target_edge_types=[EDGE], num_classes=8, progress=False
    )
    mrr = _held_out_mrr(learner, data)
    # 100 held-out candidates: chance MRR is about 0.05
    assert mrr > 0.25, f"{conv}: held-out MRR {mrr:.3f}"
    accuracy = float((learner.label_logits(learner.embed(data), "a").argmax(1)[200:] == classes[200:]).float().mean())
    assert accuracy > 0.5, f"{conv}: held-out accuracy {accuracy:.3f} over 8 classes"


def test_save_and_load_give_the_same_scores(toy, tmp_path) -> None:
    data, _ = toy
    learner = RelationLearner(conv="sage", epochs=3).fit(data, target_edge_types=[EDGE], progress=False)
    learner.save(tmp_path)
    loaded = RelationLearner.load(tmp_path)
    assert loaded.config == learner.config
    before = learner.score(learner.embed(data), EDGE, torch.arange(5))
    after = loaded.score(loaded.embed(data), EDGE, torch.arange(5))
    torch.testing.assert_close(before, after)
    assert not list(tmp_path.glob("*.tmp"))


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="Could not resolve convolution 'grpahsage' among choices"):
        RelationLearner(conv="grpahsage")
    with pytest.raises(ValueError, match="Could not resolve decoder"):
        RelationLearner(decoder="cosine-ish")
    with pytest.raises(ValueError, match="'hidden_dim' parameter of RelationLearner must be a positive int. Got -3"):
        RelationLearner(hidden_dim=-3)
    with pytest.raises(TypeError, match="unknown setting"):
        RelationLearner(hidden=64)
    with pytest.raises(ValueError, match="divisible"):
        RelationLearner(hidden_dim=63, heads=2)


def test_use_before_fit_is_a_clear_error(toy) -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        RelationLearner().embed(toy[0])


def test_unknown_target_edge_type(toy) -> None:
    with pytest.raises(ValueError, match="not in the graph"):
        RelationLearner(epochs=1).fit(toy[0], target_edge_types=[("a", "x", "b")], progress=False)


def test_repr_shows_settings() -> None:
    assert repr(RelationLearner(conv="hgt", epochs=7, seed=3)) == (
        "RelationLearner(conv='hgt', hidden_dim=256, num_layers=2, decoder='dot', epochs=7, seed=3)"
    )


@pytest.mark.parametrize("name", DECODERS.names())
def test_decoders_score_every_pair(name: str) -> None:
    decoder = DECODERS.get(name)(8)
    scores = decoder(torch.randn(3, 8), torch.randn(5, 8))
    assert scores.shape == (3, 5) and torch.isfinite(scores).all()


def test_registries_list_their_choices() -> None:
    assert CONVOLUTIONS.names() == ["gat", "graphconv", "hgt", "sage"]
    assert DECODERS.names() == ["distmult", "dot", "mlp"]


@pytest.mark.parametrize("conv", ["sage", "gat", "graphconv", "hgt"])
def test_new_nodes_are_embedded_from_their_neighbours_exactly_as_in_a_full_pass(conv: str) -> None:
    torch.manual_seed(0)
    builder = GraphBuilder(k=3)
    graph = builder.build({"a": torch.randn(30, 8), "b": torch.randn(20, 5)},
                          {("a", "to", "b"): torch.stack([torch.arange(10), torch.arange(10)])})
    learner = RelationLearner(conv=conv, epochs=2, hidden_dim=16).fit(
        graph, target_edge_types=[("a", "to", "b")], progress=False)
    new_x = torch.randn(4, 8)
    attached, new = builder.attach(graph, "a", new_x)
    neighbours, cosine = builder.neighbours(graph, "a", new_x)
    relation = ("a", builder.similarity_relation, "a")
    extended = learner.extend(learner.layer_states(graph), graph, relation, new_x, neighbours, cosine.clamp_min(0))
    torch.testing.assert_close(extended, learner.embed(attached)["a"][new])
