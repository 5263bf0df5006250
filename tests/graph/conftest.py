"""A tiny graph, small enough to work out its edges by hand."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture
def hand_features() -> dict[str, torch.Tensor]:
    """4 image nodes in 2-D and 3 text nodes in 3-D (the last one a zero vector).

    Cosines between image nodes (s = 1/sqrt(2)):
        0-1: s   0-2: 0   0-3: -s
        1-2: s   1-3: -1
        2-3: -s
    Between text nodes: 0-1: 1, and 0 with the zero vector 2.
    """
    return {
        "image": torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [-1.0, -1.0]]),
        "text": torch.tensor([[1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 0.0]]),
    }


@pytest.fixture
def hand_links() -> dict[tuple[str, str, str], torch.Tensor]:
    return {
        ("image", "caption", "text"): torch.tensor([[0, 1, 3], [0, 2, 1]]),
        ("image", "part_of", "image"): torch.tensor([[0], [3]]),
    }
