"""A model from its name (or instance), its options and the seed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mmgraph.models.base import RelationModel


def make_model(model: str | RelationModel, options: Mapping[str, Any] | None, seed: int) -> RelationModel:
    """Builds a model from its name (``"gnn"``) or returns an instance as it is."""
    from mmgraph.models import MODELS

    if not isinstance(model, str):
        return model
    options = dict(options or {})
    options.setdefault("seed", seed)
    return MODELS.get(model)(**options)
