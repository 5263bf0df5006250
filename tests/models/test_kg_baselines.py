"""The text-only baseline of cold-entity completion: ridge maps per relation and side."""

from __future__ import annotations

import pytest
import torch

from mmgraph.errors import DataError, NotFittedError
from mmgraph.models.kg_baselines import TextRidgeKG


def test_learns_each_relations_map_and_reads_only_training_entities() -> None:
    # Relation 0 maps entity 2k to 2k + 1 through a fixed rotation of the features; relation 1 the other way.
    torch.manual_seed(0)
    features = torch.randn(40, 8)
    rotation = torch.linalg.qr(torch.randn(8, 8)).Q
    features[1::2] = features[0::2] @ rotation
    pairs = torch.arange(0, 40, 2)
    seen = pairs[:15]  # entities 0..29 in training, 30..39 new
    train = torch.cat([torch.stack([seen, torch.zeros_like(seen), seen + 1], 1),
                       torch.stack([seen + 1, torch.ones_like(seen), seen], 1)])
    model = TextRidgeKG(alphas=(0.01,)).fit(features, train, num_relations=2)
    heads = pairs[15:]  # new entities
    tails = model.score_tails(heads, torch.zeros_like(heads)).argmax(1)
    assert tails.tolist() == (heads + 1).tolist()
    assert model.score_heads(heads + 1, torch.zeros_like(heads)).argmax(1).tolist() == heads.tolist()
    changed = features.clone()
    changed[39] += 100.0  # an entity of no training triple: the standardisation does not read it
    refit = TextRidgeKG(alphas=(0.01,)).fit(changed, train, num_relations=2)
    assert torch.equal(refit.standardize_.mean, model.standardize_.mean)


def test_validation_chooses_each_sides_penalty() -> None:
    features = torch.eye(6)
    train = torch.tensor([[0, 0, 1], [2, 0, 3]])
    seen = []

    def validate(candidate: TextRidgeKG) -> dict[str, float]:
        seen.append(dict(candidate.chosen_))
        alpha = candidate.chosen_["tail"]
        return {"tail/mrr": 1.0 if alpha is None else 0.5, "head/mrr": 1.0 if alpha == 10.0 else 0.0}

    model = TextRidgeKG(alphas=(None, 1.0, 10.0)).fit(features, train, num_relations=1, validate=validate)
    assert model.chosen_ == {"tail": None, "head": 10.0}
    assert len(seen) == 3
    plain = model.score_tails(torch.tensor([0]), torch.tensor([0]))
    assert plain.argmax().item() == 0  # no map: the cosine of the texts, itself first


def test_errors() -> None:
    with pytest.raises(DataError, match="at least one ridge penalty"):
        TextRidgeKG(alphas=())
    with pytest.raises(DataError, match="at least one training triple"):
        TextRidgeKG().fit(torch.eye(3), torch.zeros(0, 3, dtype=torch.long), num_relations=1)
    with pytest.raises(NotFittedError, match="not fitted"):
        TextRidgeKG().score_tails(torch.tensor([0]), torch.tensor([0]))


def test_relation_prior_reads_no_entity() -> None:
    from mmgraph.models.kg_baselines import RelationPrior

    train = torch.tensor([[0, 0, 2], [1, 0, 2], [1, 0, 3], [2, 1, 0]])
    prior = RelationPrior().fit(train, num_entities=4, num_relations=2)
    tails = prior.score_tails(torch.tensor([0, 3]), torch.tensor([0, 0]))
    assert torch.equal(tails[0], tails[1]) and tails[0].tolist() == [0.0, 0.0, 2.0, 1.0]
    assert prior.score_heads(torch.tensor([1]), torch.tensor([0])).tolist() == [[1.0, 2.0, 0.0, 0.0]]
    with pytest.raises(NotFittedError, match="not fitted"):
        RelationPrior().score_tails(torch.tensor([0]), torch.tensor([0]))
