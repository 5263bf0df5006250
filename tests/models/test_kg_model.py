"""The knowledge-graph learners on a real slice of WN18RR: they learn, their registries explain, shapes hold."""

from __future__ import annotations

import pytest
import torch

from mmgraph.data.triples import Triples
from mmgraph.errors import ConfigError, DataError, NotFittedError
from mmgraph.evaluation import KnownTriples, evaluate_triples
from mmgraph.models.kg import KGModel, Queries, training_graph

SLICE_ENTITIES = 2000  # the entities of most training triples, with every triple of the real splits among them


@pytest.fixture(scope="module")
def wn18rr_slice(data_root) -> tuple[Triples, torch.Tensor]:
    """The 2,000 WN18RR entities with most training triples, the triples of each split among them
    (train 3,087, val 69, test 79) and their TF-IDF text features (64 dims)."""
    from mmgraph.datasets import wn18rr_triples
    from mmgraph.encoders import encode_cached, fit_cached, resolve

    sliced = wn18rr_triples(data_root).busiest(SLICE_ENTITIES)
    texts = list(sliced.entity_texts)
    encoder = resolve("tfidf", dim=64)
    fit_cached(encoder, texts, cache=None, progress=False)
    return sliced, torch.as_tensor(encode_cached(encoder, texts, cache=None, progress=False))


def _fit(triples: Triples, features: torch.Tensor, **settings) -> KGModel:
    known_val = KnownTriples(triples.all_triples(["train", "val"]), num_entities=triples.num_entities,
                             num_relations=triples.num_relations)
    model = KGModel(dim=32, num_blocks=4, lr=0.01, batch_size=256, epochs=10, eval_every=5, **settings)

    def validate() -> float:
        return evaluate_triples(model.score_tails, model.score_heads, triples["val"], known_val)["mrr"]

    return model.fit(triples["train"], num_entities=triples.num_entities, num_relations=triples.num_relations,
                     features=features, validate=validate, progress=False)


def _test_mrr(triples: Triples, score_tails, score_heads) -> float:
    known = KnownTriples(triples.all_triples(), num_entities=triples.num_entities, num_relations=triples.num_relations)
    return evaluate_triples(score_tails, score_heads, triples["test"], known)["mrr"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("conv", "decoder", "inputs"),
    [("rgcn", "distmult", "embedding"), ("rgcn", "rotate", "both"), ("compgcn", "distmult", "both"),
     ("compgcn", "rotate", "embedding"), ("compgcn", "distmult", "text")],
)
def test_learners_beat_a_random_scorer_by_far(wn18rr_slice, one_torch_thread, conv, decoder, inputs) -> None:
    triples, features = wn18rr_slice
    generator = torch.Generator().manual_seed(0)

    def random_scores(entity: torch.Tensor, relation: torch.Tensor) -> torch.Tensor:
        return torch.rand(len(entity), triples.num_entities, generator=generator)

    chance = _test_mrr(triples, random_scores, random_scores)
    model = _fit(triples, features, conv=conv, decoder=decoder, inputs=inputs)
    learned = _test_mrr(triples, model.score_tails, model.score_heads)
    assert chance < 0.02  # about (ln 2000 + 0.58) / 2000 = 0.004, whatever the seed
    assert learned > 10 * chance, (learned, chance)
    assert model.trained_.best_epoch is not None and model.steps_ > 0


def test_registry_and_setting_errors_list_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"convolution 'rgnc' among choices \{'compgcn', 'none', 'rgcn'\}"):
        KGModel(conv="rgnc")
    with pytest.raises(ConfigError, match=r"decoder 'transe' among choices \{'distmult', 'rotate'\}"):
        KGModel(decoder="transe")
    with pytest.raises(ConfigError, match="inputs"):
        KGModel(inputs="image")
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) \['layers'\]; valid ones are \["):
        KGModel(layers=2)
    with pytest.raises(ConfigError, match="must be even"):
        KGModel(decoder="rotate", dim=33)
    assert repr(KGModel(conv="none", loss="bce")) == (
        "KGModel(inputs='both', conv='none', decoder='distmult', dim=200, num_layers=1, loss='bce')"
    )


def test_queries_hold_every_answer_of_both_directions() -> None:
    train = torch.tensor([[0, 0, 1], [0, 0, 2], [2, 1, 1]])
    queries = Queries(train, num_entities=3, num_relations=2)
    rows = {(int(e), int(r)): queries.targets(torch.tensor([i]))[0].nonzero().flatten().tolist()
            for i, (e, r) in enumerate(zip(queries.entity, queries.relation, strict=True))}
    # tails of (0, r0), (2, r1); heads through the inverses r0 + 2 and r1 + 2
    assert rows == {(0, 0): [1, 2], (2, 1): [1], (1, 2): [0], (2, 2): [0], (1, 3): [2]}
    edge_index, edge_type = training_graph(train, num_relations=2)
    assert edge_index.tolist() == [[0, 0, 2, 1, 2, 1], [1, 2, 1, 0, 0, 2]] and edge_type.tolist() == [0, 0, 1, 2, 2, 3]


@pytest.mark.parametrize(("conv", "decoder"), [("none", "distmult"), ("rgcn", "rotate"), ("compgcn", "distmult")])
def test_scores_have_one_column_per_entity_and_heads_go_through_inverses(conv, decoder) -> None:
    train = torch.tensor([[0, 0, 1], [1, 1, 2], [2, 0, 3], [3, 1, 4]])
    model = KGModel(conv=conv, decoder=decoder, inputs="both", dim=8, num_blocks=2, epochs=2, eval_every=1)
    with pytest.raises(NotFittedError, match="not fitted"):
        model.score_tails(torch.tensor([0]), torch.tensor([0]))
    with pytest.raises(DataError, match=r"text features, a tensor of shape \(5, feature_dim\). Got NoneType"):
        model.fit(train, num_entities=5, num_relations=2, progress=False)
    model.fit(train, num_entities=5, num_relations=2, features=torch.randn(5, 6), progress=False)
    entity, relation = torch.tensor([0, 3, 4]), torch.tensor([0, 1, 1])
    assert model.score_tails(entity, relation).shape == (3, 5)
    assert torch.equal(model.score_heads(entity, relation), model.score_tails(entity, relation + 2))
    assert len(model.trained_.history) == 2


def test_a_spent_cpu_budget_stops_training_before_its_next_step() -> None:
    train = torch.tensor([[0, 0, 1], [1, 1, 2], [2, 0, 3], [3, 1, 4]])
    model = KGModel(conv="compgcn", inputs="embedding", dim=8, batch_size=1, epochs=50, cpu_minutes=1e-9)
    model.fit(train, num_entities=5, num_relations=2, validate=lambda: 0.0, progress=False)
    assert model.steps_ == 0 and len(model.trained_.history) == 1  # spent before the first step; validated once
