"""A synthetic multimodal dataset of any size, with features and no files."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mmgraph.data.dataset import DataError, MultimodalDataset
from mmgraph.datasets._checks import check_float, check_int


def load_synthetic(
    *,
    num_items: int = 200,
    modalities: Sequence[str] = ("a", "b", "c"),
    num_classes: int = 5,
    dim: int = 16,
    noise: float = 0.5,
    link_fraction: float = 1.0,
    seed: int = 0,
) -> MultimodalDataset:
    """Items seen through several modalities, with class structure and known item links.

    Every item ``i`` has a class ``y_i`` and a latent vector ``z_i = c[y_i] + u_i``: a class
    centre ``c ~ N(0, 4 I)`` plus an item offset ``u_i ~ N(0, I)``. Its sample in modality
    ``m`` has the feature ``x = W_m z_i + noise * e`` with a random matrix ``W_m`` per modality
    and ``e ~ N(0, I)``. So labels are learnable from any modality, and an item's samples
    are nearer to each other after the right linear map than to other items of its class.

    Args:
        num_items: number of items; each has one sample per modality.
        modalities: modality names (node types).
        num_classes: number of classes (labels ``"0"``, ``"1"``, ...).
        dim: feature dimension of every modality (also the latent dimension).
        noise: standard deviation of the per-sample noise.
        link_fraction: fraction of items whose samples are linked by ``item``; the others
            have no item (the column ``true_item`` always holds it, for evaluation).
        seed: seed of everything random; the same arguments give the same dataset.

    Returns:
        The dataset, with ``features[m]`` of shape ``(num_items, dim)`` and ids ``a:0007``.
    """
    loader = "synthetic"
    check_int(num_items, param="num_items", loader=loader)
    check_int(num_classes, param="num_classes", loader=loader)
    check_int(dim, param="dim", loader=loader)
    check_int(seed, param="seed", loader=loader, minimum=0)
    check_float(noise, param="noise", loader=loader, low=0.0, high=float("inf"))
    check_float(link_fraction, param="link_fraction", loader=loader, low=0.0, high=1.0)
    if isinstance(modalities, str) or not modalities or len(set(modalities)) != len(modalities):
        raise DataError(
            f"The 'modalities' option of 'synthetic' must be a sequence of distinct names. "
            f"Got {modalities!r} instead."
        )

    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 2.0, size=(num_classes, dim))
    classes = rng.integers(0, num_classes, size=num_items)
    latent = np.empty((num_items, dim), dtype=np.float64)
    for rows in _chunks(num_items, dim):  # the same draws as one call, without a second full-size array
        latent[rows] = centres[classes[rows]] + rng.normal(0.0, 1.0, size=(rows.stop - rows.start, dim))
    linked = rng.permutation(num_items) < round(link_fraction * num_items)
    width = len(str(num_items - 1))
    names = [f"{i:0{width}d}" for i in range(num_items)]

    tables, features = [], {}
    for modality in modalities:
        projection = rng.normal(0.0, 1.0 / np.sqrt(dim), size=(dim, dim))
        x = features[modality] = np.empty((num_items, dim), dtype=np.float32)
        for rows in _chunks(num_items, dim):
            x[rows] = latent[rows] @ projection + noise * rng.normal(size=(rows.stop - rows.start, dim))
        tables.append(
            pd.DataFrame(
                {
                    "id": [f"{modality}:{n}" for n in names],
                    "modality": modality,
                    "item": [
                        f"item{n}" if keep else None
                        for n, keep in zip(names, linked, strict=True)
                    ],
                    "label": [str(c) for c in classes],
                    "true_item": [f"item{n}" for n in names],
                }
            )
        )
    return MultimodalDataset(
        pd.concat(tables, ignore_index=True), name="synthetic", features=features
    )


def _chunks(num_rows: int, dim: int) -> list[slice]:
    """Row blocks of about 2**22 values: a million samples are generated without float64 copies
    of every feature matrix (a normal draw in blocks gives the same numbers as one draw)."""
    step = max(1, 2**22 // max(dim, 1))
    return [slice(start, min(start + step, num_rows)) for start in range(0, num_rows, step)]
