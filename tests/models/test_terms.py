"""Score terms: the weighted sum, the hubness correction, the one selection on validation."""

from __future__ import annotations

import pytest
import torch

from mmgraph.errors import ConfigError, NotApplicableError
from mmgraph.models.terms import (
    HUBNESS_NEIGHBOURS,
    HubnessCorrected,
    PerDirection,
    Transposed,
    WeightedSum,
    choose,
)

EDGE = ("a", "to", "b")


class Table:
    """A link term reading a fixed score table (rows: queries of "a", columns: candidates of "b");
    ``reverse`` reads it transposed. Counts its calls."""

    def __init__(self, table: torch.Tensor) -> None:
        self.table, self.calls = table, 0

    def link_scores(self, edge_type, query, candidates, *, reverse):
        self.calls += 1
        table = self.table.T if reverse else self.table
        return table[query][:, candidates]


def test_weighted_sum_adds_weighted_terms_and_never_asks_a_term_of_weight_zero() -> None:
    a, b, unused = Table(torch.ones(2, 3)), Table(torch.arange(6.0).reshape(2, 3)), Table(torch.full((2, 3), 9.0))
    total = WeightedSum([a, b, unused], [1.0, 2.0, 0.0])
    scores = total.link_scores(EDGE, torch.arange(2), torch.arange(3), reverse=False)
    assert torch.equal(scores, 1.0 + 2.0 * torch.arange(6.0).reshape(2, 3))
    assert unused.calls == 0 and repr(total) == "WeightedSum(weights=(1.0, 2.0, 0.0))"
    nothing = WeightedSum([a], [0.0]).link_scores(EDGE, torch.arange(2), torch.arange(3), reverse=False)
    assert torch.equal(nothing, torch.zeros(2, 3))
    with pytest.raises(ConfigError, match="one weight per term"):
        WeightedSum([a, b], [1.0])
    with pytest.raises(NotApplicableError, match="does not predict labels"):
        total.predict_labels("a")


def test_transposed_and_per_direction() -> None:
    table = torch.arange(6.0).reshape(2, 3)
    base = Table(table)
    # a pair (query of "a", candidate of "b") scored with the candidate as the query, read back
    flipped = Transposed(base).link_scores(EDGE, torch.arange(2), torch.arange(3), reverse=False)
    assert torch.equal(flipped, table)
    both = PerDirection(Table(table), Table(-table))
    assert torch.equal(both.link_scores(EDGE, torch.arange(3), torch.arange(2), reverse=True), -table.T)
    assert torch.equal(both.link_scores(EDGE, torch.arange(2), torch.arange(3), reverse=False), table)


def test_hubness_correction_is_csls_over_training_queries_and_new_candidates() -> None:
    generator = torch.Generator().manual_seed(0)
    table = torch.randn(30, 8, generator=generator)  # 30 queries of "a"; "b": 5 view candidates, then 3 new
    train_rows = {"a": torch.arange(20), "b": torch.arange(5)}
    corrected = HubnessCorrected(Table(table), 0.5, train_rows=train_rows, num_view={"a": 30, "b": 5},
                                 num_new={"b": 3})
    query, candidates = torch.arange(25, 30), torch.tensor([7, 0, 4])
    hub = table[:20].topk(HUBNESS_NEIGHBOURS, dim=0).values.mean(0)  # by hand: the 10 best training queries
    expected = table[query][:, candidates] - 0.5 * hub[candidates]
    assert torch.allclose(corrected.link_scores(EDGE, query, candidates, reverse=False), expected)
    assert "weight=0.5" in repr(corrected)


def test_choose_scores_each_setting_through_its_own_scoring_and_keeps_the_earlier_on_ties() -> None:
    tried = []

    def validate(scoring, *, max_links=None):
        tried.append(scoring)
        return {"mrr": min(scoring, 2.0), "other": -scoring}

    best = choose([0.0, 1.0, 2.0, 3.0], lambda w: w, validate, keys=("mrr", "other", "absent"))
    assert tried == [0.0, 1.0, 2.0, 3.0]
    assert best["mrr"].setting == 2.0 and best["other"].setting == 0.0 and "absent" not in best
