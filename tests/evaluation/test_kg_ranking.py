"""Filtered triple ranking: by hand on a tiny graph with ties, and against PyKEEN on real WN18RR triples."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mmgraph.errors import DataError
from mmgraph.evaluation.kg import KnownTriples, evaluate_triples, triple_ranks

# 4 entities, 2 relations. Train: (0, r0, 1), (0, r0, 2), (1, r0, 2); test: (0, r0, 3), (1, r1, 0).
TRAIN = torch.tensor([[0, 0, 1], [0, 0, 2], [1, 0, 2]])
TEST = torch.tensor([[0, 0, 3], [1, 1, 0]])
KNOWN = KnownTriples(torch.cat([TRAIN, TEST]), num_entities=4, num_relations=2)
# Scores of every entity as the other end of each query, worked out by hand below.
TAIL_SCORES = {
    (0, 0): [0.5, 0.9, 0.2, 0.5],  # true tail 3 (0.5); 1 and 2 are filtered (train); 0 ties: 1 + 1/2 = 1.5
    (1, 1): [0.1, 0.3, 0.3, 0.3],  # true tail 0 (0.1); (1, r0, 2) is another relation, not filtered: 1 + 3 = 4
}
HEAD_SCORES = {
    (3, 0): [1.0, 1.0, 1.0, 1.0],  # true head 0; nothing filtered, 3 ties: 1 + 3/2 = 2.5
    (0, 1): [0.7, 0.7, 0.8, 0.0],  # true head 1 (0.7); 2 is higher, 0 ties: 1 + 1 + 1/2 = 2.5
}


def _lookup(table: dict[tuple[int, int], list[float]]):
    def score(entity: torch.Tensor, relation: torch.Tensor) -> torch.Tensor:
        return torch.tensor([table[(int(e), int(r))] for e, r in zip(entity, relation, strict=True)])

    return score


score_tails, score_heads = _lookup(TAIL_SCORES), _lookup(HEAD_SCORES)


@pytest.mark.parametrize("batch_size", [1, 256])
def test_ranks_by_hand_with_ties_and_filtering(batch_size: int) -> None:
    ranks = triple_ranks(score_tails, score_heads, TEST, KNOWN, batch_size=batch_size)
    assert ranks["tail"].tolist() == [1.5, 4.0]
    assert ranks["head"].tolist() == [2.5, 2.5]
    optimistic = triple_ranks(score_tails, score_heads, TEST, KNOWN, kind="optimistic")
    pessimistic = triple_ranks(score_tails, score_heads, TEST, KNOWN, kind="pessimistic")
    assert optimistic["tail"].tolist() == [1.0, 4.0] and pessimistic["tail"].tolist() == [2.0, 4.0]
    assert optimistic["head"].tolist() == [1.0, 2.0] and pessimistic["head"].tolist() == [4.0, 3.0]


def test_metrics_per_side_both_and_known_entity_subset() -> None:
    # Entity 3 occurs in no train triple: only the test triple (1, r1, 0) is in the subset.
    known_entities = torch.tensor([True, True, True, False])
    metrics = evaluate_triples(score_tails, score_heads, TEST, KNOWN, known_entities=known_entities)
    assert metrics["tail/mrr"] == pytest.approx((1 / 1.5 + 1 / 4) / 2)
    assert metrics["head/mrr"] == pytest.approx(1 / 2.5)
    assert metrics["mrr"] == pytest.approx((1 / 1.5 + 1 / 4 + 2 / 2.5) / 4)
    assert (metrics["tail/hits@1"], metrics["tail/hits@3"], metrics["head/hits@3"]) == (0.0, 0.5, 1.0)
    assert metrics["hits@3"] == 0.75 and metrics["hits@10"] == 1.0 and metrics["num_test"] == 2
    assert metrics["known_entities/num_test"] == 1
    assert metrics["known_entities/tail/mrr"] == pytest.approx(1 / 4)
    assert metrics["known_entities/mrr"] == pytest.approx((1 / 4 + 1 / 2.5) / 2)


def test_errors_name_the_fault() -> None:
    assert repr(KNOWN) == "KnownTriples(num_triples=5, num_entities=4, num_relations=2)"
    with pytest.raises(DataError, match="must include every test link"):
        triple_ranks(score_tails, score_heads, TEST, KnownTriples(TRAIN, num_entities=4, num_relations=2))
    with pytest.raises(DataError, match="1 relation ids outside \\[0, 2\\)"):
        triple_ranks(score_tails, score_heads, torch.tensor([[0, 2, 1]]), KNOWN)
    with pytest.raises(DataError, match="shape \\(n, 3\\)"):
        triple_ranks(score_tails, score_heads, TEST.T, KNOWN)
    with pytest.raises(DataError, match="one entry per entity, \\(4,\\). Got \\(3,\\)"):
        evaluate_triples(score_tails, score_heads, TEST, KNOWN, known_entities=torch.ones(3, dtype=torch.bool))
    with pytest.raises(DataError, match="shape \\(num_queries, num_candidates\\) = \\(2, 4\\)"):
        triple_ranks(lambda e, r: torch.zeros(len(e), 3), score_heads, TEST, KNOWN)


def test_filtered_ranks_equal_pykeens_on_real_wn18rr_triples(data_root) -> None:
    pytest.importorskip("pykeen", reason="PyKEEN is the reference evaluator: pip install 'mmgraph[kg]'")
    from pykeen.evaluation import RankBasedEvaluator
    from pykeen.models import DistMult
    from pykeen.triples import CoreTriplesFactory

    from mmgraph.datasets import wn18rr_triples

    triples = wn18rr_triples(data_root)
    # A slice: the first 300 train, 60 dev and 150 test triples, over the entities they name.
    parts = {"train": triples["train"][:300], "val": triples["val"][:60], "test": triples["test"][:150]}
    entities, index = torch.unique(torch.cat([p[:, [0, 2]] for p in parts.values()]), return_inverse=True)
    start = 0
    for name, rows in parts.items():
        ids = index[start : start + len(rows)]
        parts[name] = torch.stack([ids[:, 0], rows[:, 1], ids[:, 1]], dim=1)
        start += len(rows)
    num_entities, num_relations = len(entities), triples.num_relations
    factory = CoreTriplesFactory.create(parts["train"], num_entities=num_entities, num_relations=num_relations)
    model = DistMult(triples_factory=factory, embedding_dim=2, random_seed=0)
    # Small integer embeddings make many scores equal: ties decide a large share of the ranks.
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for representation in (model.entity_representations[0], model.relation_representations[0]):
            weight = representation._embeddings.weight
            weight.copy_(torch.randint(-1, 2, weight.shape, generator=generator).float())

    evaluator = RankBasedEvaluator(filtered=True, clear_on_finalize=False)
    results = evaluator.evaluate(
        model, parts["test"], batch_size=16, additional_filter_triples=[parts["train"], parts["val"]], use_tqdm=False
    )

    def score_tails(head: torch.Tensor, relation: torch.Tensor) -> torch.Tensor:
        return model.predict(torch.stack([head, relation], dim=1), target="tail", full_batch=False)

    def score_heads(tail: torch.Tensor, relation: torch.Tensor) -> torch.Tensor:
        return model.predict(torch.stack([relation, tail], dim=1), target="head", full_batch=False)

    known = KnownTriples(torch.cat(list(parts.values())), num_entities=num_entities, num_relations=num_relations)
    ours = {kind: triple_ranks(score_tails, score_heads, parts["test"], known, batch_size=16, kind=kind)
            for kind in ("realistic", "optimistic", "pessimistic")}
    for side in ("tail", "head"):
        for kind, ranks in ours.items():
            theirs = torch.from_numpy(np.concatenate(evaluator.ranks[side, kind])).float()
            assert torch.equal(ranks[side], theirs), (side, kind)
        ties = int((ours["optimistic"][side] != ours["pessimistic"][side]).sum())
        assert ties > 30, f"too few tied ranks on the {side} side ({ties}) to test their handling"
    metrics = evaluate_triples(score_tails, score_heads, parts["test"], known, batch_size=16)
    for ours_key, theirs_key in [("mrr", "both.realistic.inverse_harmonic_mean_rank"),
                                 ("tail/mrr", "tail.realistic.inverse_harmonic_mean_rank"),
                                 ("head/hits@10", "head.realistic.hits_at_10"),
                                 ("hits@1", "both.realistic.hits_at_1"), ("hits@3", "both.realistic.hits_at_3")]:
        assert metrics[ours_key] == pytest.approx(results.get_metric(theirs_key), abs=1e-6), ours_key


def test_cold_triples_are_asked_from_the_new_entity_among_known_candidates() -> None:
    from mmgraph.data.triples import ColdEntities, Triples
    from mmgraph.evaluation.kg import evaluate_cold_triples

    # Entity 3 is new. Cold test triples: (3, r0, 0) asks (3, r0, ?) among 0, 1, 2; (1, r1, 3) asks (?, r1, 3).
    test = torch.tensor([[3, 0, 0], [1, 1, 3]])
    triples = Triples(tuple("abcd"), ("r0", "r1"), {"train": TRAIN, "val": test[:0], "test": test})
    new = torch.tensor([False, False, False, True])
    cold = ColdEntities(triples, ~new, {"val": new, "test": new}, dropped=0)
    known = KnownTriples(torch.cat([TRAIN, test, torch.tensor([[3, 0, 2]])]), num_entities=4, num_relations=2)
    tails = {(3, 0): [0.5, 0.5, 0.9, 9.0]}  # true 0; 2 is another known answer (filtered), 3 is new (no candidate)
    heads = {(3, 1): [0.8, 0.3, 0.8, 0.0]}  # true 1; 0 and 2 score higher: rank 3
    metrics = evaluate_cold_triples(_lookup(tails), _lookup(heads), cold, known)
    assert metrics["tail/mrr"] == pytest.approx(1 / 1.5)  # ties with 1: 1 + 1/2
    assert metrics["head/mrr"] == pytest.approx(1 / 3)
    assert metrics["mrr"] == pytest.approx((1 / 1.5 + 1 / 3) / 2) and metrics["num_test"] == 2
