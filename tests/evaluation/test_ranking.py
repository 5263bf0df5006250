from __future__ import annotations

import pytest
import torch

from mmgraph.evaluation import evaluate_link_classification, link_ranks, rank_of_true, ranking_metrics
from mmgraph.typing import DIRECTIONS

# A non-symmetric score matrix, 3 sources x 4 targets, with ranks worked out by hand below.
SCORES = torch.tensor(
    [
        [0.9, 0.5, 0.5, 0.1],  # source 0
        [0.2, 0.8, 0.3, 0.8],  # source 1
        [0.4, 0.6, 0.7, 0.0],  # source 2
    ]
)
TEST = torch.tensor([[0, 1, 2], [1, 3, 0]])  # links (0, 1), (1, 3), (2, 0)
TRAIN = torch.tensor([[0, 2], [0, 2]])  # links (0, 0), (2, 2)
KNOWN = torch.cat([TRAIN, TEST], dim=1)


def score_fn(query: torch.Tensor, candidates: torch.Tensor, reverse: bool) -> torch.Tensor:
    return SCORES.T[query][:, candidates] if reverse else SCORES[query][:, candidates]


def both_directions(score=score_fn, test=TEST, **settings) -> dict[str, torch.Tensor]:
    """The ranks of ``test`` in each direction (3 sources, 4 targets unless ``settings`` say otherwise)."""
    settings = {"num_src": 3, "num_dst": 4, "known_edges": KNOWN, **settings}
    return {d: link_ranks(score, test, direction=d, **settings) for d in DIRECTIONS}


# rank_of_true ---------------------------------------------------------------------------


def test_tie_with_two_others_gives_each_rank_kind():
    # The true score 0.5 (column 2) has one higher score (0.7) and ties with columns 3 and 4.
    scores = torch.tensor([[0.3, 0.7, 0.5, 0.5, 0.5, 0.1]])
    true = torch.tensor([2])
    assert rank_of_true(scores, true).tolist() == [3.0]  # 1 + 1 + 2/2
    assert rank_of_true(scores, true, kind="optimistic").tolist() == [2.0]  # 1 + 1
    assert rank_of_true(scores, true, kind="pessimistic").tolist() == [4.0]  # 1 + 1 + 2


def test_filtering_a_higher_true_link_improves_the_rank_by_exactly_one():
    scores = torch.tensor([[0.3, 0.7, 0.5, 0.5, 0.5, 0.1]])
    true = torch.tensor([2])
    mask = torch.tensor([[False, True, False, False, False, False]])
    for kind, unfiltered in [("realistic", 3.0), ("optimistic", 2.0), ("pessimistic", 4.0)]:
        assert rank_of_true(scores, true, mask, kind=kind).tolist() == [unfiltered - 1]


def test_filtering_a_tied_link_removes_half_a_rank_and_the_true_one_is_never_filtered():
    scores = torch.tensor([[0.3, 0.7, 0.5, 0.5, 0.5, 0.1]])
    true = torch.tensor([2])
    # Column 3 (a tie) is another true link; column 2 (the true one) is masked too and must
    # still compete.
    mask = torch.tensor([[False, False, True, True, False, False]])
    assert rank_of_true(scores, true, mask).tolist() == [2.5]  # 1 + 1 + 1/2
    assert rank_of_true(scores, true, mask, kind="optimistic").tolist() == [2.0]
    assert rank_of_true(scores, true, mask, kind="pessimistic").tolist() == [3.0]


def test_rank_of_true_works_row_by_row():
    ranks = rank_of_true(SCORES, torch.tensor([1, 3, 0]))
    # Row 0: 0.9 higher, one tie -> 2.5; row 1: one tie -> 1.5; row 2: 0.6, 0.7 higher -> 3.
    assert ranks.tolist() == [2.5, 1.5, 3.0]
    assert ranks.dtype == torch.float


def test_rank_of_true_rejects_bad_input():
    scores = torch.tensor([[0.1, 0.2]])
    with pytest.raises(ValueError, match=r"'kind' parameter of rank_of_true must be one of"):
        rank_of_true(scores, torch.tensor([0]), kind="average")  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match=r"shape \(b, num_candidates\)\. Got a tensor of shape \(2,\)"
    ):
        rank_of_true(torch.tensor([0.1, 0.2]), torch.tensor([0]))
    with pytest.raises(ValueError, match=r"'true_index'.*outside \[0, 2\): \[2\]"):
        rank_of_true(scores, torch.tensor([2]))
    with pytest.raises(ValueError, match=r"'true_index'.*one index per row, 1\. Got 2"):
        rank_of_true(scores, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"'filter_mask'.*shape of 'scores', \(1, 2\)"):
        rank_of_true(scores, torch.tensor([0]), torch.tensor([True, False]))
    with pytest.raises(ValueError, match=r"contains NaN in 1 of its 1 rows"):
        rank_of_true(torch.tensor([[0.1, float("nan")]]), torch.tensor([0]))


# ranking_metrics ------------------------------------------------------------------------


def test_ranking_metrics_from_hand_ranks():
    metrics = ranking_metrics(torch.tensor([1.0, 2.5, 4.0, 11.0]))
    assert metrics["mrr"] == pytest.approx((1 + 1 / 2.5 + 1 / 4 + 1 / 11) / 4)
    assert metrics["hits@1"] == 0.25
    assert metrics["hits@3"] == 0.5  # 1 and 2.5
    assert metrics["hits@10"] == 0.75  # not 11
    assert set(metrics) == {"mrr", "hits@1", "hits@3", "hits@10"}
    assert ranking_metrics(torch.tensor([3.5]))["hits@3"] == 0.0  # a realistic 3.5 is not a hit at 3


# link_ranks ------------------------------------------------------------------------------


def test_both_directions_filtered_by_hand():
    ranks = both_directions()
    # src->dst
    #   (0, 1): row 0 [0.9, 0.5, 0.5, 0.1]; 0.9 is the known link (0, 0), filtered; the tie
    #           with target 2 counts half -> 1.5 (unfiltered it would be 2.5).
    #   (1, 3): row 1 [0.2, 0.8, 0.3, 0.8]; tie with target 1 -> 1.5.
    #   (2, 0): row 2 [0.4, 0.6, 0.7, 0.0]; 0.7 is the known link (2, 2), filtered;
    #           0.6 is higher -> 2.
    assert ranks["src->dst"].tolist() == [1.5, 1.5, 2.0]
    # dst->src (columns)
    #   (0, 1): column 1 [0.5, 0.8, 0.6]; sources 1 and 2 are higher, neither known -> 3.
    #   (1, 3): column 3 [0.1, 0.8, 0.0] -> 1.
    #   (2, 0): column 0 [0.9, 0.2, 0.4]; 0.9 is the known link (0, 0), filtered -> 1.
    assert ranks["dst->src"].tolist() == [3.0, 1.0, 1.0]
    assert ranking_metrics(ranks["src->dst"])["mrr"] == pytest.approx((1 / 1.5 + 1 / 1.5 + 1 / 2) / 3)  # 11/18
    assert ranking_metrics(ranks["dst->src"])["hits@1"] == pytest.approx(2 / 3)


def test_unfiltered_ranks_are_worse_exactly_where_a_known_link_scores_higher():
    # With only the test links as known edges, (0, 0) and (2, 2) compete again.
    ranks = both_directions(known_edges=TEST)
    assert ranks["src->dst"].tolist() == [2.5, 1.5, 3.0]
    assert ranks["dst->src"].tolist() == [3.0, 1.0, 2.0]


def test_pessimistic_kind_is_passed_through():
    assert both_directions(kind="pessimistic")["src->dst"].tolist() == [2.0, 2.0, 2.0]


def test_candidate_pools_in_their_own_order():
    candidates_dst = torch.tensor([3, 1, 0])  # target 2 is not evaluated
    candidates_src = torch.tensor([2, 0, 1])
    common = {"num_src": 3, "num_dst": 4, "known_edges": KNOWN}
    # src->dst over targets [3, 1, 0]
    #   (0, 1): [0.1, 0.5, 0.9]; 0.9 is known (0, 0), filtered; the tie with target 2 is gone.
    #   (1, 3): [0.8, 0.8, 0.2] -> 1.5.
    #   (2, 0): [0.0, 0.6, 0.4]; the known (2, 2) is outside the pool; 0.6 higher -> 2.
    assert link_ranks(score_fn, TEST, candidates=candidates_dst, **common).tolist() == [1.0, 1.5, 2.0]
    # dst->src: the pool holds every source, so only the order changes: same as without pool.
    ranks = link_ranks(score_fn, TEST, direction="dst->src", candidates=candidates_src, **common)
    assert ranks.tolist() == [3.0, 1.0, 1.0]


def test_score_fn_gets_the_pool_and_the_direction():
    calls = []

    def recording(query, candidates, reverse):
        calls.append((query.tolist(), candidates.tolist(), reverse))
        return score_fn(query, candidates, reverse)

    both_directions(recording, batch_size=2)
    link_ranks(recording, TEST, num_src=3, num_dst=4, known_edges=KNOWN, candidates=torch.tensor([3, 1, 0]))
    assert calls == [
        ([0, 1], [0, 1, 2, 3], False), ([2], [0, 1, 2, 3], False),
        ([1, 3], [0, 1, 2], True), ([0], [0, 1, 2], True),
        ([0, 1, 2], [3, 1, 0], False),
    ]


def test_true_target_outside_the_pool_is_an_error():
    common = {"num_src": 3, "num_dst": 4, "known_edges": KNOWN}
    with pytest.raises(ValueError, match=r"true target of 1 test links is not in 'candidates_dst'"):
        link_ranks(score_fn, TEST, candidates=torch.tensor([0, 2, 3]), **common)
    with pytest.raises(ValueError, match=r"'candidates_src'.*distinct source indices"):
        link_ranks(score_fn, TEST, direction="dst->src", candidates=torch.tensor([0, 1, 2, 2]), **common)


def brute_force_ranks(scores, test, known, direction):
    """One query at a time, with Python loops: the definition, written out."""
    if direction == "dst->src":
        scores, test, known = scores.T, test.flip(0), known.flip(0)
    known_pairs = set(map(tuple, known.T.tolist()))
    ranks = []
    for q, t in test.T.tolist():
        true = scores[q, t]
        higher = equal = 0
        for c in range(scores.shape[1]):
            if c == t or (q, c) in known_pairs:
                continue
            higher += int(scores[q, c] > true)
            equal += int(scores[q, c] == true)
        ranks.append(1 + higher + equal / 2)
    return ranks


@pytest.mark.parametrize("seed", range(5))
def test_batching_matches_one_query_at_a_time_and_the_definition(seed):
    generator = torch.Generator().manual_seed(seed)
    num_src, num_dst = 17, 23
    # Few distinct values, so that ties are common.
    scores = torch.randint(0, 5, (num_src, num_dst), generator=generator).float()
    keys = torch.randperm(num_src * num_dst, generator=generator)[:60]
    known = torch.stack([keys // num_dst, keys % num_dst])
    test = known[:, :25]

    def score(query, candidates, reverse):
        return scores.T[query][:, candidates] if reverse else scores[query][:, candidates]

    for direction in DIRECTIONS:
        expected = brute_force_ranks(scores, test, known, direction)
        for batch_size in (1, 4, 1024):
            ranks = link_ranks(score, test, num_src=num_src, num_dst=num_dst, known_edges=known,
                               direction=direction, batch_size=batch_size)
            assert ranks.tolist() == expected


def test_bad_inputs_raise_clear_errors():
    def run(score=score_fn, test=TEST, known=KNOWN, **kwargs):
        settings = {"num_src": 3, "num_dst": 4, **kwargs}
        return both_directions(score, test, known_edges=known, **settings)

    with pytest.raises(ValueError, match=r"'test_edges'.*shape \(2, num_edges\).*\(3, 3\)"):
        run(test=torch.zeros(3, 3, dtype=torch.long))
    with pytest.raises(
        ValueError, match=r"'test_edges'.*integer node indices. Got dtype torch.float32"
    ):
        run(test=TEST.float())
    with pytest.raises(ValueError, match=r"'test_edges' argument of link_ranks is empty"):
        run(test=torch.zeros(2, 0, dtype=torch.long))
    with pytest.raises(
        ValueError, match=r"1 target indices outside \[0, 4\) \(the first is 4 in column 2\)"
    ):
        run(test=torch.tensor([[0, 1, 2], [1, 3, 4]]))
    with pytest.raises(ValueError, match=r"'known_edges'.*1 source indices outside \[0, 3\)"):
        run(known=torch.tensor([[0, 1, 2, -1], [1, 3, 0, 0]]))
    with pytest.raises(ValueError, match=r"must include every test link, but 1 of the 3.*\(2, 0\)"):
        run(known=torch.tensor([[0, 1], [1, 3]]))
    with pytest.raises(
        ValueError, match=r"'num_dst' parameter of link_ranks must be a positive int"
    ):
        run(num_dst=0)
    with pytest.raises(ValueError, match=r"'batch_size' parameter.*Got 0 instead"):
        run(batch_size=0)
    with pytest.raises(ValueError, match=r"'direction' parameter of link_ranks.*Got 'forward'"):
        link_ranks(score_fn, TEST, num_src=3, num_dst=4, known_edges=KNOWN, direction="forward")
    with pytest.raises(ValueError, match=r"must return a tensor of shape .* = \(3, 4\).*\(3, 3\)"):
        run(score=lambda q, c, r: score_fn(q, c, r)[:, :3])
    with pytest.raises(ValueError, match=r"must return a tensor.*Got a list"):
        run(score=lambda q, c, r: score_fn(q, c, r).tolist())

    def one_nan_backwards(query, candidates, reverse):
        scores = score_fn(query, candidates, reverse).clone()
        if reverse:
            scores[0, 2] = float("nan")
        return scores

    with pytest.raises(ValueError, match=r"returned NaN scores for direction 'dst->src' \(1 of 9"):
        run(score=one_nan_backwards)


# evaluate_link_classification ----------------------------------------------------------


def test_auc_and_ap_by_hand():
    # Sorted: 0.9 pos, 0.5 neg, 0.4 neg, 0.3 pos, 0.1 neg.
    # AUC: 0.9 beats all 3 negatives, 0.3 beats one -> 4 / 6.
    # AP: precision 1/1 at the first positive, 2/4 at the second -> (1 + 0.5) / 2.
    metrics = evaluate_link_classification(torch.tensor([0.9, 0.3]), torch.tensor([0.5, 0.4, 0.1]))
    assert metrics == {"auc": pytest.approx(2 / 3), "ap": pytest.approx(0.75)}


def test_link_classification_rejects_bad_scores():
    with pytest.raises(ValueError, match=r"'neg_scores'.*non-empty 1-D.*\(0,\)"):
        evaluate_link_classification(torch.tensor([0.9]), torch.tensor([]))
    with pytest.raises(ValueError, match=r"'pos_scores'.*1 NaN or infinite"):
        evaluate_link_classification(torch.tensor([float("nan"), 1.0]), torch.tensor([0.0]))
