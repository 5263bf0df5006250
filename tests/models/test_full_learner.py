"""The full-batch learner: settings, errors, learning on a toy graph, persistence through its state."""

from __future__ import annotations

import json

import pytest
import torch
from torch_geometric.data import HeteroData

from mmgraph.data.known import KnownPairs
from mmgraph.errors import NotFittedError
from mmgraph.graph import GraphBuilder
from mmgraph.models import CONVOLUTIONS, DECODERS, RelationLearner
from mmgraph.models.learners import TrainingGraph, full
from mmgraph.training.negatives import SimilarNeighbours, split_links

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
        TrainingGraph(data, target_edge_types=[EDGE], num_classes=8), progress=False
    )
    mrr = _held_out_mrr(learner, data)
    # 100 held-out candidates: chance MRR is about 0.05
    assert mrr > 0.25, f"{conv}: held-out MRR {mrr:.3f}"
    accuracy = float((learner.label_logits(learner.embed(data), "a").argmax(1)[200:] == classes[200:]).float().mean())
    assert accuracy > 0.5, f"{conv}: held-out accuracy {accuracy:.3f} over 8 classes"


def test_state_rebuilds_a_learner_with_the_same_scores(toy) -> None:
    data, _ = toy
    learner = RelationLearner(conv="sage", epochs=3).fit(TrainingGraph(data, target_edge_types=[EDGE]), progress=False)
    tensors, meta = learner.state()
    loaded = RelationLearner.from_state(tensors, json.loads(json.dumps(meta)))  # the record as model.json keeps it
    assert loaded.config == learner.config
    before = learner.score(learner.embed(data), EDGE, torch.arange(5))
    after = loaded.score(loaded.embed(data), EDGE, torch.arange(5))
    torch.testing.assert_close(before, after)


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
        RelationLearner(epochs=1).fit(TrainingGraph(toy[0], target_edge_types=[("a", "x", "b")]), progress=False)


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
        TrainingGraph(graph, target_edge_types=[("a", "to", "b")]), progress=False)
    new_x = torch.randn(4, 8)
    attached, new = builder.attach(graph, "a", new_x)
    neighbours, cosine = builder.neighbours(graph, "a", new_x)
    relation = ("a", builder.similarity_relation, "a")
    extended = learner.extend(learner.layer_states(graph), graph, relation, new_x, neighbours, cosine.clamp_min(0))
    torch.testing.assert_close(extended, learner.embed(attached)["a"][new])


@pytest.mark.parametrize("conv", ["sage", "gat", "graphconv", "hgt"])
def test_new_items_are_embedded_from_their_neighbours_and_partners_exactly_as_in_a_full_pass(conv: str) -> None:
    """Two new items, {a0, b0} and {a1, c0}: attached by similarity and linked to each other by the
    graph's link types (both directions), their representations are those of a pass over that graph."""
    torch.manual_seed(0)
    builder = GraphBuilder(k=3)
    pairs = torch.stack([torch.arange(10), torch.arange(10)])
    links = {("a", "to", "b"): pairs, ("a", "to", "c"): pairs}
    graph = builder.build({"a": torch.randn(30, 8), "b": torch.randn(20, 5), "c": torch.randn(25, 6)}, links)
    learner = RelationLearner(conv=conv, epochs=2, hidden_dim=16).fit(
        TrainingGraph(graph, target_edge_types=list(links)), progress=False)
    x = {"a": torch.randn(2, 8), "b": torch.randn(1, 5), "c": torch.randn(1, 6)}
    partners = {
        ("a", "to", "b"): torch.tensor([[0], [0]]), ("b", "rev_to", "a"): torch.tensor([[0], [0]]),
        ("a", "to", "c"): torch.tensor([[1], [0]]), ("c", "rev_to", "a"): torch.tensor([[0], [1]]),
    }
    attached, new = graph, {}
    for node_type, features in x.items():
        attached, new[node_type] = builder.attach(attached, node_type, features)
    for (src, relation, dst), edges in partners.items():
        store = attached[src, relation, dst]
        store.edge_index = torch.cat([store.edge_index, torch.stack([new[src][edges[0]], new[dst][edges[1]]])], dim=1)
    attachments = {}
    for node_type, features in x.items():
        neighbours, cosine = builder.neighbours(graph, node_type, features)
        attachments[node_type] = (features, neighbours, cosine.clamp_min(0))
    states = learner.layer_states(graph)
    extended = learner.extend_items(states, graph, builder.similarity_relation, attachments, partners)
    full_pass = learner.embed(attached)
    for node_type in x:
        torch.testing.assert_close(extended[node_type], full_pass[node_type][new[node_type]])
    alone = learner.extend_items(states, graph, builder.similarity_relation, attachments, {})
    assert not torch.allclose(alone["b"], extended["b"])  # the partner's message reaches b0


# ---------------------------------------------------------------------- negatives that do not grow with the pool
def _weights(learner: RelationLearner) -> dict[str, torch.Tensor]:
    return learner.network_.state_dict()


def test_a_pool_within_batch_size_trains_exactly_as_one_softmax(toy) -> None:
    """The toy's supervised pool (~60 links a step) is one chunk at the default batch_size, as every
    benchmark task's (a few hundred to ~2k links) is: the weights equal those of an unbounded batch."""
    data, _ = toy
    fits = [
        RelationLearner(epochs=4, batch_size=size).fit(TrainingGraph(data, target_edge_types=[EDGE], num_classes=8),
                                                       progress=False)
        for size in (10**9, RelationLearner().config.batch_size, 200)
    ]
    for other in fits[1:]:
        assert all(torch.equal(a, b) for a, b in zip(_weights(fits[0]).values(), _weights(other).values(), strict=True))
    chunked = RelationLearner(epochs=4, batch_size=16).fit(
        TrainingGraph(data, target_edge_types=[EDGE], num_classes=8), progress=False
    )
    assert any(not torch.equal(a, b) for a, b in zip(_weights(fits[0]).values(), _weights(chunked).values(),
                                                      strict=True))


def test_logits_and_masks_stay_within_batch_size(toy, monkeypatch) -> None:
    data, _ = toy
    shapes = []
    original = KnownPairs.mask

    def spy(self, queries, candidates):
        shapes.append((len(queries), len(candidates)))
        return original(self, queries, candidates)

    monkeypatch.setattr(KnownPairs, "mask", spy)
    RelationLearner(epochs=2, batch_size=16).fit(TrainingGraph(data, target_edge_types=[EDGE]), progress=False)
    assert len(shapes) > 2 * 2 * 2  # several chunks a step, two directions, two epochs
    assert max(max(s) for s in shapes) <= 16


def test_chunks_recomputed_in_backward_give_the_gradient_of_the_mean_loss(toy) -> None:
    data, _ = toy
    learner = RelationLearner(epochs=1, batch_size=16).fit(
        TrainingGraph(data, target_edge_types=[EDGE]), progress=False
    )
    links = data[EDGE].edge_index[:, :50]
    known = (KnownPairs(links, num_query=300, num_target=300), KnownPairs(links.flip(0), num_query=300, num_target=300))
    params = list(learner.network_.parameters())

    def gradient(loss_fn) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h = learner.network_.encoder(data.x_dict, data.edge_index_dict)
        loss = loss_fn(h)
        return loss.detach(), torch.autograd.grad(loss, params, allow_unused=True)

    loss, grads = gradient(lambda h: learner._link_loss(h, EDGE, links, known, {}, torch.Generator().manual_seed(3)))
    chunks = split_links(links, 16, torch.Generator().manual_seed(3))
    assert len(chunks) == 4
    ref_loss, ref_grads = gradient(
        lambda h: torch.stack([learner._chunk_loss(h, EDGE, c, known, (None, None)) for c in chunks]).mean()
    )
    torch.testing.assert_close(loss, ref_loss)
    for g, r in zip(grads, ref_grads, strict=True):
        if r is not None:
            torch.testing.assert_close(g, r)


@pytest.mark.parametrize("hard", [0, 4])
def test_hard_negatives_enter_the_logits_and_true_links_are_never_negatives(toy, monkeypatch, hard: int) -> None:
    data, _ = toy
    learner = RelationLearner(epochs=1, hard_negatives=hard).fit(
        TrainingGraph(data, target_edge_types=[EDGE]), progress=False
    )
    supervised = data[EDGE].edge_index[:, :10]  # a_i -> b_i
    true = torch.cat([data[EDGE].edge_index, torch.stack([torch.arange(150), torch.arange(1, 151)])], dim=1)
    true = torch.cat([true, torch.stack([torch.arange(150), torch.arange(150) + 100])], dim=1)
    known = (KnownPairs(true, num_query=300, num_target=300), KnownPairs(true.flip(0), num_query=300, num_target=300))
    true_set = {(int(a), int(b)) for a, b in true.T}
    similar = {t: SimilarNeighbours(data[t, "similar", t].edge_index, 300) for t in ("a", "b")}
    pools, logits_seen = [], []
    original_mask, original_ce = KnownPairs.mask, torch.nn.functional.cross_entropy

    def spy_mask(self, queries, candidates):
        pools.append((queries.clone(), candidates.clone()))
        return original_mask(self, queries, candidates)

    def spy_ce(logits, target):
        logits_seen.append((logits.detach().clone(), target.clone()))
        return original_ce(logits, target)

    monkeypatch.setattr(KnownPairs, "mask", spy_mask)
    monkeypatch.setattr(full.F, "cross_entropy", spy_ce)
    with torch.no_grad():
        h = {t: v.clone() for t, v in learner.embed(data).items()}
        learner._link_loss(h, EDGE, supervised, known, similar if hard else {}, torch.Generator().manual_seed(0))
    for side, ((queries, pool), (logits, target)) in enumerate(zip(pools, logits_seen, strict=True)):
        own = supervised[1 - side]
        assert torch.equal(pool[target], own)
        extra = set(pool.tolist()) - set(own.tolist())
        cand_type = "b" if side == 0 else "a"
        if hard:
            assert extra  # candidates beyond the in-batch targets are scored
            edges = data[cand_type, "similar", cand_type].edge_index
            near = set(edges[0][torch.isin(edges[1], own)].tolist())
            assert extra <= near  # neighbours of the true targets only
        else:
            assert not extra
        for i, q in enumerate(queries.tolist()):
            for j, cand in enumerate(pool.tolist()):
                pair = (q, cand) if side == 0 else (cand, q)
                negative_of_true = pair in true_set and j != int(target[i])
                assert bool(torch.isinf(logits[i, j])) == negative_of_true, (side, pair)
