"""The autoencoder shared-representation link baseline.

- ``autoencoder``: one encoder per modality into a shared latent space, one decoder per
  modality out of it; every latent reconstructs both modalities of a training link, and an
  alignment term pulls the two latents of a link together. Retrieval by latent cosine.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmgraph.data.prepared import TrainView
from mmgraph.errors import ConfigError
from mmgraph.models.base import Scoring, Validate
from mmgraph.models.baselines._common import LinkBaselineConfig, check_positive, standardizers
from mmgraph.models.baselines._training import TrainedLinkBaseline, mlp, tower_scores
from mmgraph.models.standardize import Standardize
from mmgraph.models.terms import choose
from mmgraph.training.checkpoint import Checkpoint
from mmgraph.typing import NodeType, ScoreFn


@dataclass
class AutoencoderConfig(LinkBaselineConfig):
    """Settings of :class:`AutoencoderBaseline`."""

    hidden_dim: int = 512
    latent_dims: tuple[int, ...] = (64, 256)  # sizes of the shared latent space tried on validation
    # Weights of the reconstruction term against the alignment term (weight 1) tried on
    # validation: small weights favour alignment (retrieval), large ones keep more of each
    # modality (the guard against a collapsed latent space).
    recon_weights: tuple[float, ...] = (0.1, 1.0)
    default_latent_dim: int = 128  # used when the task has no validation links
    default_recon_weight: float = 1.0
    dropout: float = 0.1
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 256  # training links per step
    epochs: int = 200
    eval_every: int = 5  # epochs between validation checks
    patience: int = 6  # validation checks without improvement before stopping
    seed: int = 0


class _Autoencoders(nn.Module):
    """The encoders and decoders of one setting (``latent_dim``, ``recon_weight``: the loss's weight)."""

    def __init__(self, src_dim: int, dst_dim: int, latent_dim: int, recon_weight: float, c: AutoencoderConfig) -> None:
        super().__init__()
        self.recon_weight = recon_weight
        self.encode_src = mlp(src_dim, c.hidden_dim, latent_dim, c.dropout)
        self.encode_dst = mlp(dst_dim, c.hidden_dim, latent_dim, c.dropout)
        self.decode_src = mlp(latent_dim, c.hidden_dim, src_dim, c.dropout)
        self.decode_dst = mlp(latent_dim, c.hidden_dim, dst_dim, c.dropout)


class AutoencoderBaseline(TrainedLinkBaseline):
    """Shared representation by autoencoders (the full correspondence autoencoder of Feng et
    al., 2014, after the bimodal autoencoder of Ngiam et al., 2011).

    Each modality has an encoder into one latent space and a decoder out of it. On a batch of
    training links ``(s_i, d_i)`` with standardised features ``x_i``, ``y_i`` and latents
    ``z_i = f(x_i)``, ``w_i = g(y_i)``, the loss is::

        recon_weight * (|F(z) - x|^2 + |G(z) - y|^2 + |F(w) - x|^2 + |G(w) - y|^2) / 4
        + |z / |z| - w / |w||^2

    (means over the batch and the features): each latent reconstructs both modalities, and the
    unit latents of a link are pulled together. The reconstruction keeps the latent space from
    collapsing onto a point, which alignment alone would reward. Scores are cosine
    similarities of the latents. The latent size and the reconstruction weight are chosen by
    :func:`~mmgraph.models.terms.choose` on the validation MRR, each setting's autoencoders
    trained with early stopping and scored through their own scorer; the model keeps the chosen
    ones once the search is done.
    """

    name = "autoencoder"
    Config = AutoencoderConfig
    _positive = (*TrainedLinkBaseline._positive, "recon_weights", "default_recon_weight")
    _positive_ints = (*TrainedLinkBaseline._positive_ints, "default_latent_dim")

    def _validate_settings(self) -> None:
        super()._validate_settings()
        check_positive(self.settings, self.name, ("latent_dims",))
        if any(isinstance(d, bool) or not isinstance(d, int) for d in self.settings.latent_dims):
            raise ConfigError(
                f"The 'latent_dims' of the {self.name!r} model must be ints. Got {self.settings.latent_dims!r} instead."
            )

    def _fit_links(
        self, train: TrainView, links: Tensor, *, validate: Validate | None, progress: bool,
        checkpoint: Checkpoint | None,
    ) -> None:
        c = self.settings
        standardize = standardizers(train, (self.edge_type_[0], self.edge_type_[2]))
        fitted: dict[tuple[int, float], tuple[nn.Module, dict]] = {}

        def train_setting(setting: tuple[int, float]) -> tuple[nn.Module, dict]:
            """The autoencoders of ``setting``, trained and validated on their own (nothing set on the model)."""
            latent_dim, recon_weight = setting
            part = None if checkpoint is None else checkpoint.part(f"latent{latent_dim}-recon{recon_weight}")
            fitted[setting] = self._train(
                links, standardize, lambda s, d: _Autoencoders(s, d, latent_dim, recon_weight, c),
                validate=validate, progress=progress, checkpoint=part,
            )
            return fitted[setting]

        def scoring(setting: tuple[int, float]) -> Scoring:
            module, _ = train_setting(setting)
            return self._scoring(lambda x: self._module_scores(module, standardize, x))

        best = {}
        if validate is not None:
            grid = [(d, w) for d in c.latent_dims for w in c.recon_weights]
            best = choose(grid, scoring, validate, desc=self.name, progress=progress)
        if "mrr" in best:
            setting = best["mrr"].setting
        else:  # no validation questions: the defaults, trained every epoch
            setting = (c.default_latent_dim, c.default_recon_weight)
            if setting not in fitted:
                train_setting(setting)
        module, chosen = fitted[setting]
        self.standardize_, self.module_ = standardize, module
        self.chosen_ = {"latent_dim": setting[0], "recon_weight": setting[1], **chosen}
        if "mrr" in best:
            self.chosen_["val_mrr_per_setting"] = {
                f"latent_dim={d}, recon_weight={w}": fitted[(d, w)][1]["val_mrr"] for d, w in fitted
            }

    def _epoch(
        self, module: nn.Module, xs: Tensor, xd: Tensor, links: Tensor, optimizer: torch.optim.Optimizer,
        generator: torch.Generator,
    ) -> float:
        recon_weight = module.recon_weight
        order = torch.randperm(links.shape[1], generator=generator)
        total = 0.0
        for start in range(0, len(order), self.settings.batch_size):
            s, d = links[:, order[start : start + self.settings.batch_size]]
            x, y = xs[s], xd[d]
            z, w = module.encode_src(x), module.encode_dst(y)
            recon = sum(
                F.mse_loss(module.decode_src(latent), x) + F.mse_loss(module.decode_dst(latent), y)
                for latent in (z, w)
            ) / 4
            align = (F.normalize(z, dim=1) - F.normalize(w, dim=1)).square().sum(1).mean()
            loss = recon_weight * recon + align
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(s)
        return total / links.shape[1]

    def _module_scores(
        self, module: nn.Module, standardize: dict[NodeType, Standardize], x: dict[NodeType, Tensor]
    ) -> ScoreFn:
        return tower_scores((module.encode_src, module.encode_dst), module, standardize, x, self.edge_type_)
