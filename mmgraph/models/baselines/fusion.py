"""Fusion link baselines: a network classifies a (query, candidate) pair as linked or not.

- ``fusion``: an MLP on the concatenated features of a pair, a binary classifier trained
  with sampled non-links.
- ``attention-fusion``: both features projected to tokens, a small self-attention and a
  HAN-style attention pooling over the two tokens, then an MLP classifier.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmgraph.data.known import KnownPairs
from mmgraph.data.prepared import TrainView
from mmgraph.models.baselines._common import LinkBaselineConfig
from mmgraph.models.baselines._training import TrainedLinkBaseline, standardized
from mmgraph.models.standardize import Standardize
from mmgraph.typing import NodeType, ScoreFn


@dataclass
class FusionConfig(LinkBaselineConfig):
    """Settings of :class:`FusionBaseline`."""

    hidden_dim: int = 256
    dropout: float = 0.1
    # Validation links ranked at each early-stopping check (a fixed random subset when there are
    # more): pair scoring costs queries x candidates network calls, 7 minutes a run on the
    # digits task with all 3,500 validation links.
    val_links: int = 500
    # Sampled non-links per training link, half with a corrupted target, half with a corrupted
    # source; more negatives sharpen the ranking but slow each epoch.
    negatives: int = 4
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 512  # pairs per step
    epochs: int = 200
    eval_every: int = 5
    patience: int = 6
    seed: int = 0


@dataclass
class AttentionFusionConfig(FusionConfig):
    """Settings of :class:`AttentionFusionBaseline`."""

    # Width of the two modality tokens. Every pair pays a few token_dim^2 products, and
    # scoring a test pool is (queries x candidates) pairs: keep it small.
    token_dim: int = 64


class _ConcatPair(nn.Module):
    """``MLP([x_s, x_d])`` written as ``head(A x_s + B x_d)``: the same first layer, computed
    once per node, so that scoring (queries x candidates) pairs is a broadcast sum."""

    def __init__(self, src_dim: int, dst_dim: int, c: FusionConfig) -> None:
        super().__init__()
        self.src = nn.Linear(src_dim, c.hidden_dim)
        self.dst = nn.Linear(dst_dim, c.hidden_dim, bias=False)
        self.head = nn.Sequential(
            nn.GELU(), nn.Dropout(c.dropout), nn.Linear(c.hidden_dim, c.hidden_dim // 2), nn.GELU(),
            nn.Dropout(c.dropout), nn.Linear(c.hidden_dim // 2, 1),
        )

    def combine(self, hs: Tensor, hd: Tensor) -> Tensor:
        """Pair logits from per-node parts ``hs`` and ``hd`` of broadcastable shapes ``(..., h)``."""
        return self.head(hs + hd).squeeze(-1)


class _AttentionPair(nn.Module):
    """Two modality tokens, one self-attention step between them, HAN-style attention pooling
    (a learned query scores each token through ``tanh``; softmax over the two tokens), then
    an MLP on the attention-weighted tokens."""

    def __init__(self, src_dim: int, dst_dim: int, c: AttentionFusionConfig) -> None:
        super().__init__()
        d = c.token_dim
        self.src = nn.Linear(src_dim, d)  # a LayerNorm here learned worse on synthetic data
        self.dst = nn.Linear(dst_dim, d)
        self.modality = nn.Parameter(torch.zeros(2, d))  # a learned embedding per modality token
        self.qkv = nn.Linear(d, 3 * d)
        self.pool = nn.Sequential(nn.Linear(d, d), nn.Tanh(), nn.Linear(d, 1, bias=False))
        self.head = nn.Sequential(
            nn.Linear(2 * d, c.hidden_dim), nn.GELU(), nn.Dropout(c.dropout), nn.Linear(c.hidden_dim, 1)
        )

    def combine(self, hs: Tensor, hd: Tensor) -> Tensor:
        """Pair logits from the projected tokens ``hs`` and ``hd`` of broadcastable shapes ``(..., d)``."""
        hs, hd = torch.broadcast_tensors(hs, hd)
        tokens = torch.stack([hs, hd], dim=-2) + self.modality  # (..., 2, d)
        q, k, v = self.qkv(tokens).chunk(3, dim=-1)
        attention = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)  # (..., 2, 2)
        tokens = tokens + attention @ v
        weights = torch.softmax(self.pool(tokens), dim=-2)  # (..., 2, 1): weight of each modality
        return self.head((weights * tokens).flatten(-2)).squeeze(-1)


class FusionBaseline(TrainedLinkBaseline):
    """Feature-concatenation fusion: an MLP classifies a pair ``[x_s, x_d]`` as linked or not.

    Trained with binary cross-entropy on the training links against sampled non-links: each
    link gives ``negatives`` pairs with a random training target (or source) in its place,
    and a draw that is itself a training link is dropped. The logit is the score; scoring
    ``b x c`` pairs reuses each node's first-layer part and runs in chunks.
    """

    name = "fusion"
    Config = FusionConfig
    _positive_ints = (*TrainedLinkBaseline._positive_ints, "negatives", "val_links")
    _pair_budget = 1 << 16  # pairs per forward pass when scoring

    def _build(self, src_dim: int, dst_dim: int) -> nn.Module:
        return _ConcatPair(src_dim, dst_dim, self.settings)

    def _prepare(self, train: TrainView, links: Tensor) -> None:
        src, _, dst = self.edge_type_
        self._known = KnownPairs(links, num_query=train.num_nodes(src), num_target=train.num_nodes(dst))
        self._train_src, self._train_dst = torch.unique(links[0]), torch.unique(links[1])

    def _pairs(self, links: Tensor, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """The training links and freshly sampled non-links, with their 0/1 targets."""
        n, k = links.shape[1], self.settings.negatives
        negatives = links.repeat(1, k)
        corrupt_dst = torch.arange(n * k) % 2 == 0
        negatives[1, corrupt_dst] = self._train_dst[
            torch.randint(len(self._train_dst), (int(corrupt_dst.sum()),), generator=generator)
        ]
        negatives[0, ~corrupt_dst] = self._train_src[
            torch.randint(len(self._train_src), (int((~corrupt_dst).sum()),), generator=generator)
        ]
        negatives = negatives[:, ~self._known.contains(negatives[0], negatives[1])]
        pairs = torch.cat([links, negatives], dim=1)
        target = torch.cat([torch.ones(n), torch.zeros(negatives.shape[1])])
        return pairs, target

    def _epoch(
        self, module: nn.Module, xs: Tensor, xd: Tensor, links: Tensor, optimizer: torch.optim.Optimizer,
        generator: torch.Generator,
    ) -> float:
        pairs, target = self._pairs(links, generator)
        order = torch.randperm(pairs.shape[1], generator=generator)
        total = 0.0
        for start in range(0, len(order), self.settings.batch_size):
            batch = order[start : start + self.settings.batch_size]
            s, d = pairs[:, batch]
            logits = module.combine(module.src(xs[s]), module.dst(xd[d]))
            loss = F.binary_cross_entropy_with_logits(logits, target[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(batch)
        return total / pairs.shape[1]

    def _module_scores(
        self, module: nn.Module, standardize: dict[NodeType, Standardize], x: dict[NodeType, Tensor]
    ) -> ScoreFn:
        with torch.no_grad():
            xs, xd = standardized(module, standardize, x, self.edge_type_)
            hs, hd = module.src(xs), module.dst(xd)

        def score(query: Tensor, candidates: Tensor, reverse: bool) -> Tensor:
            hq = (hd if reverse else hs)[query]
            hc = (hs if reverse else hd)[candidates]
            chunk = max(1, self._pair_budget // max(1, len(candidates)))
            out = []
            for start in range(0, len(query), chunk):
                q = hq[start : start + chunk, None, :]  # (chunk, 1, h) against (1, c, h)
                out.append(module.combine(hc[None], q) if reverse else module.combine(q, hc[None]))
            return torch.cat(out) if out else torch.zeros((0, len(candidates)))

        return score


class AttentionFusionBaseline(FusionBaseline):
    """Attention fusion: both modalities projected to ``token_dim`` tokens, a self-attention
    step between the two tokens, attention pooling over them (as the semantic-level attention
    of hierarchical attention networks), then an MLP classifier. Trained and scored as
    :class:`FusionBaseline`."""

    name = "attention-fusion"
    Config = AttentionFusionConfig
    _positive_ints = (*FusionBaseline._positive_ints, "token_dim")
    _pair_budget = 1 << 14

    def _build(self, src_dim: int, dst_dim: int) -> nn.Module:
        return _AttentionPair(src_dim, dst_dim, self.settings)
