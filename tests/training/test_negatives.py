"""Chunks of supervised links and hard negatives from the similarity graph."""

from __future__ import annotations

import pytest
import torch

from mmgraph.training import SimilarNeighbours, split_links


def test_a_pool_within_batch_size_is_one_chunk_in_order_and_draws_nothing() -> None:
    links = torch.stack([torch.arange(10), torch.arange(10).flip(0)])
    generator = torch.Generator().manual_seed(0)
    state = generator.get_state()
    (chunk,) = split_links(links, 10, generator)
    assert torch.equal(chunk, links)
    assert torch.equal(generator.get_state(), state)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_larger_pool_is_shuffled_into_balanced_chunks_covering_every_link_once(seed: int) -> None:
    links = torch.stack([torch.arange(1000), torch.randint(0, 50, (1000,))])
    chunks = split_links(links, 300, torch.Generator().manual_seed(seed))
    assert [c.shape[1] for c in chunks] == [250] * 4
    together = torch.cat(chunks, dim=1)
    assert torch.equal(together[:, together[0].argsort()], links)
    again = split_links(links, 300, torch.Generator().manual_seed(seed))
    assert all(torch.equal(a, b) for a, b in zip(chunks, again, strict=True))


def test_hard_negatives_are_similarity_neighbours_of_the_given_nodes() -> None:
    # node i reads messages from i + 1 and i + 2 (mod 6); node 5 has none
    edges = torch.tensor([[1, 2, 2, 3, 3, 4, 4, 5, 5, 0], [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]])
    neighbours = SimilarNeighbours(edges, 6)
    assert repr(neighbours) == "SimilarNeighbours(num_nodes=6, num_edges=10)"
    drawn = neighbours.draw(torch.tensor([0, 0, 3]), 50, torch.Generator().manual_seed(0))
    assert drawn.shape == (150,)
    assert set(drawn[:100].tolist()) == {1, 2} and set(drawn[100:].tolist()) == {4, 5}
    assert neighbours.draw(torch.tensor([5]), 4, torch.Generator()).numel() == 0
