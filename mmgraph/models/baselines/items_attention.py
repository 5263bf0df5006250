"""Attention fusion of item tasks: self-attention over the modalities an item has.

``items-attention`` answers an item task (:mod:`mmgraph.data.items`) as the attention-fusion
models of the multimodal-learning surveys do. Each modality an item has becomes a token: its
features (the mean where the item has several samples of it), standardised with training
statistics, projected by one linear map per modality, plus a learned embedding of the modality.
One self-attention layer (a pre-norm :class:`torch.nn.TransformerEncoderLayer`, a few heads)
runs over the present tokens only (a key padding mask hides the missing modalities), and the
present tokens' outputs are averaged. Then:

- labels: a linear classifier, trained with cross-entropy on the training items' labels (the
  majority of their samples' training labels);
- links: a linear projection into the target modality's centred feature space, trained with
  InfoNCE (the item against the targets of the other items of its batch, a fixed temperature)
  and scored, as the other item baselines, by cosine against the centred candidates. InfoNCE
  rather than cosine regression: the task ranks candidates, and InfoNCE trains exactly that,
  pushing an item away from the other items' targets, where a regression only pulls it towards
  its own and lets similar items' projections collapse onto a common mean. The centred space
  (not the standardised one) is the space :class:`~mmgraph.models.baselines.items.ItemFusionBaseline`
  scores every item baseline's candidates in: one scoring path for all of them.

Training reads the training items (:func:`~mmgraph.models.baselines.items.training_items`),
each item's samples dropped with the task's ``keep`` and redrawn every epoch (seeded), so the
model meets partial items as the held-out ones are. It goes through the shared loop
(:func:`~mmgraph.training.loop.train_epochs`), early stopping on the validation items' MRR or
accuracy (:class:`~mmgraph.models.base.ItemValidate`), and a small grid of token widths, dropouts
and learning rates is chosen on the validation items. An item's output reads its own samples
and the fitted weights only: it scores the same alone or in a batch, and removing one of its
samples changes its scores only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmgraph.data.prepared import TrainView
from mmgraph.errors import ConfigError, DataError
from mmgraph.models.baselines._common import check_positive, check_positive_ints
from mmgraph.models.baselines.items import (
    ItemFusionBaseline,
    ItemGroups,
    dropped_samples,
    fit_once_per_setting,
    item_means,
    training_items,
    training_rows_of,
)
from mmgraph.training.loop import train_epochs
from mmgraph.typing import NodeType


@dataclass
class ItemsAttentionConfig:
    """Settings of :class:`ItemsAttentionBaseline`: the grid is ``token_dims x dropouts x lrs``;
    without validation items the first of each is used."""

    token_dims: tuple[int, ...] = (64, 128)  # widths of the modality tokens tried
    dropouts: tuple[float, ...] = (0.1, 0.3)  # dropout of the attention layer tried
    lrs: tuple[float, ...] = (1e-3,)  # AdamW learning rates tried
    heads: int = 4  # attention heads; each token width must be a multiple
    # InfoNCE temperature (links): the cosine logits are divided by it. 0.07 as the siamese
    # baseline starts from; lower sharpens the ranking of near targets and slows early training.
    temperature: float = 0.07
    weight_decay: float = 1e-4
    batch_size: int = 128  # training items per step; also the InfoNCE negatives (links)
    epochs: int = 100
    eval_every: int = 5
    patience: int = 4  # checks without improvement before stopping
    # Validation links ranked at each early-stopping check (the grid's choice ranks all of them).
    val_links: int = 500
    seed: int = 0


class ItemAttention(nn.Module):
    """Modality tokens, one self-attention layer over the present ones, mean pooling, a linear head.

    Args:
        dims: the feature width of each modality, in token order.
        out_dim: classes (labels) or the target's feature width (links).
        token_dim: the tokens' width.
        heads: attention heads.
        dropout: the attention layer's dropout.
    """

    def __init__(self, dims: list[int], out_dim: int, *, token_dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.project = nn.ModuleList(nn.Linear(d, token_dim) for d in dims)
        self.modality = nn.Parameter(0.02 * torch.randn(len(dims), token_dim))  # a learned embedding per modality
        self.attention = nn.TransformerEncoderLayer(
            token_dim, heads, dim_feedforward=2 * token_dim, dropout=dropout, batch_first=True, norm_first=True
        )
        self.head = nn.Linear(token_dim, out_dim)

    def forward(self, x: list[Tensor], present: Tensor) -> Tensor:
        """Each item's output from its present modalities; a missing modality's row is never read.

        Shapes:
            x: one ``(num_items, dims[m])`` per modality; present: ``(num_items, num_modalities)``
            bool, at least one per item; return: ``(num_items, out_dim)``.
        """
        tokens = torch.stack([project(xm) for project, xm in zip(self.project, x, strict=True)], dim=1)
        tokens = self.attention(tokens + self.modality, src_key_padding_mask=~present)
        tokens = tokens.masked_fill(~present[..., None], 0.0)  # a masked token's output is not an input's
        return self.head(tokens.sum(1) / present.sum(1, keepdim=True).clamp(min=1))


class ItemsAttentionBaseline(ItemFusionBaseline):
    """Attention fusion over the modalities an item has: modality tokens, self-attention over the
    present ones with a key padding mask, mean pooling; a linear classifier (labels) or a
    projection into the target's space trained with InfoNCE (links)."""

    name = "items-attention"
    Config = ItemsAttentionConfig

    def _validate_settings(self) -> None:
        c = self.settings
        check_positive(c, self.name, ("lrs", "temperature"))
        check_positive_ints(c, self.name, ("heads", "batch_size", "epochs", "eval_every", "patience", "val_links"))
        if not c.token_dims or any(isinstance(d, bool) or not isinstance(d, int) or d <= 0 or d % c.heads
                                   for d in c.token_dims):
            raise ConfigError(f"The 'token_dims' of the {self.name!r} model must be positive multiples of its "
                              f"heads ({c.heads}), at least one. Got {c.token_dims!r} instead.")
        if not c.dropouts or any(not 0 <= p < 1 for p in c.dropouts):
            raise ConfigError(f"The 'dropouts' of the {self.name!r} model must be in [0, 1), at least one. "
                              f"Got {c.dropouts!r} instead.")
        if c.weight_decay < 0:
            raise ConfigError(f"The 'weight_decay' parameter of the {self.name!r} model must be >= 0. "
                              f"Got {c.weight_decay!r} instead.")

    def _inputs(self, x: dict[NodeType, Tensor], groups: ItemGroups) -> tuple[list[Tensor], Tensor]:
        """Each item's standardised mean of each modality (zeros where missing), and which it has.

        Shapes:
            return: one ``(num_items, dim)`` per query modality, and ``(num_items, num_modalities)`` bool.
        """
        blocks, present = [], []
        for m in self.modalities_:
            mean, has = groups.means(m, x[m])  # standardising is affine: the mean of standardised rows
            blocks.append(torch.where(has[:, None], self.standardize_[m](mean), 0.0))
            present.append(has)
        return blocks, torch.stack(present, dim=1)

    def _fit_items(self, train: TrainView, validate: Callable[..., dict[str, float]] | None, *,
                   progress: bool) -> None:
        c = self.settings
        index, every, _ = training_items(train, self.modalities_, keep=train.keep, seed=c.seed)
        if self.kind_ == "label":
            answer = self._item_labels(train, every)
            asked = answer >= 0
        else:
            rows, owners = training_rows_of(train, self.target_, index)
            answer, asked = item_means(self.features_[self.target_][rows] - self.center_, owners, len(index))
            answer = F.normalize(answer, dim=1)
        if not asked.any():
            raise DataError(
                f"The task {train.task!r} has no training item with a "
                f"{'label' if self.kind_ == 'label' else repr(self.target_) + ' sample'}; the {self.name!r} model "
                "learns from them."
            )
        answer = answer[asked]
        key = "mrr" if self.kind_ == "link" else "accuracy"
        out_dim = self.num_classes_ if self.kind_ == "label" else answer.shape[1]
        dims = [self.features_[m].shape[1] for m in self.modalities_]

        def train_one(setting: tuple[int, float, float]) -> tuple[ItemAttention, int | None]:
            token_dim, dropout, lr = setting
            torch.manual_seed(c.seed)
            generator = torch.Generator().manual_seed(c.seed)
            module = ItemAttention(dims, out_dim, token_dim=token_dim, heads=c.heads, dropout=dropout)
            optimizer = torch.optim.AdamW(module.parameters(), lr=lr, weight_decay=c.weight_decay)

            def epoch(number: int) -> float:  # the training items, their samples redrawn each epoch
                blocks, present = self._inputs(self.features_, dropped_samples(every, keep=train.keep,
                                                                               seed=[c.seed, number]))
                blocks, present = [b[asked] for b in blocks], present[asked]
                order = torch.randperm(len(answer), generator=generator)
                total = 0.0
                for start in range(0, len(order), c.batch_size):
                    batch = order[start : start + c.batch_size]
                    loss = self._loss(module([b[batch] for b in blocks], present[batch]), answer[batch])
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    total += float(loss.detach()) * len(batch)
                return total / len(order)

            def validation() -> float | None:  # the module as it is trained
                return validate(self._item_scoring(module), max_links=c.val_links).get(key)

            trained = train_epochs(
                module, optimizer, generator, epochs=c.epochs, eval_every=c.eval_every, patience=c.patience,
                train_epoch=epoch, validate=None if validate is None else validation, progress=progress,
                desc=self.name,
            )
            return module, trained.best_epoch

        grid = [(d, p, lr) for d in c.token_dims for p in c.dropouts for lr in c.lrs]
        fits = fit_once_per_setting(train_one)
        setting, score = self._select(grid, grid[0], validate, lambda s: self._item_scoring(fits(s)[0]),
                                      progress=progress)
        self.fused_, best_epoch = fits(setting)
        token_dim, dropout, lr = setting
        self.chosen_ = {"setting": {"token_dim": token_dim, "dropout": dropout, "lr": lr}, "val_score": score,
                        "best_epoch": c.epochs if best_epoch is None else best_epoch,
                        "training_items": int(asked.sum())}

    def _fused_state(self, fused: ItemAttention, tensors: dict[str, Tensor]) -> dict[str, Any]:
        """The trained module as its weights (in ``tensors``) and the widths that rebuild it (the
        hook through which the item baselines save, :meth:`ItemFusionBaseline._state`)."""
        tensors.update({f"module.{key}": value for key, value in fused.state_dict().items()})
        return {"token_dim": fused.head.in_features, "out_dim": fused.head.out_features,
                "heads": fused.attention.self_attn.num_heads}

    def _fused_from_state(self, state: dict[str, Any], tensors: dict[str, Tensor]) -> ItemAttention:
        """The module back from :meth:`_fused_state` (after the query modalities are read again)."""
        dims = [self.features_[m].shape[1] for m in self.modalities_]
        module = ItemAttention(dims, state["out_dim"], token_dim=state["token_dim"], heads=state["heads"], dropout=0.0)
        module.load_state_dict({key.removeprefix("module."): value for key, value in tensors.items()
                                if key.startswith("module.")})
        return module.eval()

    def _loss(self, out: Tensor, answer: Tensor) -> Tensor:
        """Cross-entropy of the class logits (labels), or InfoNCE of the items against their batch's
        unit targets (links).

        Shapes:
            out: ``(b, out_dim)``; answer: ``(b,)`` classes or ``(b, dim)`` unit targets.
        """
        if self.kind_ == "label":
            return F.cross_entropy(out, answer)
        logits = F.normalize(out, dim=1) @ answer.T / self.settings.temperature
        return F.cross_entropy(logits, torch.arange(len(out)))

    def _outputs(self, x: dict[NodeType, Tensor], groups: ItemGroups, fused: Any) -> Tensor:
        fused.eval()
        out = fused(*self._inputs(x, groups))
        return out.softmax(dim=1) if self.kind_ == "label" else out
