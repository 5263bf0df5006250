"""Link decoders: score every (source, candidate) pair of one relation type."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmgraph.registry import Registry


class DotDecoder(nn.Module):
    """Cosine similarity of the two representations divided by a learned temperature.

    Shapes:
        src: ``(b, dim)``; candidates: ``(c, dim)``; return: ``(b, c)``.
    """

    def __init__(self, dim: int, temperature: float = 0.1) -> None:
        super().__init__()
        self.log_scale = nn.Parameter(torch.tensor(-float(torch.log(torch.tensor(temperature)))))

    def forward(self, src: Tensor, candidates: Tensor) -> Tensor:
        scale = self.log_scale.clamp(max=5.0).exp()
        return scale * F.normalize(src, dim=-1) @ F.normalize(candidates, dim=-1).T


class DistMultDecoder(DotDecoder):
    """DistMult: ``<s, diag(r), t>`` on normalised representations, one ``r`` per relation."""

    def __init__(self, dim: int, temperature: float = 0.1) -> None:
        super().__init__(dim, temperature)
        self.relation = nn.Parameter(torch.ones(dim))

    def forward(self, src: Tensor, candidates: Tensor) -> Tensor:
        return super().forward(src * self.relation, candidates)


class MLPDecoder(nn.Module):
    """An MLP on ``[s, t, s * t]``; scores every pair, so it costs ``b * c`` MLP calls."""

    def __init__(self, dim: int, temperature: float = 0.1) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(3 * dim, dim), nn.ReLU(), nn.Linear(dim, 1))

    def forward(self, src: Tensor, candidates: Tensor) -> Tensor:
        s = F.normalize(src, dim=-1)[:, None, :].expand(-1, candidates.shape[0], -1)
        t = F.normalize(candidates, dim=-1)[None, :, :].expand(src.shape[0], -1, -1)
        return self.mlp(torch.cat([s, t, s * t], dim=-1)).squeeze(-1)


DECODERS: Registry[type[nn.Module]] = Registry("decoder")
DECODERS.register("dot", DotDecoder)
DECODERS.register("distmult", DistMultDecoder)
DECODERS.register("mlp", MLPDecoder)
