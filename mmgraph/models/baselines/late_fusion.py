"""Model-level (late) fusion: per-modality predictors combined at the score level.

- ``late-fusion``: four predictors, each judging a (query, candidate) pair in one modality's
  feature space (ridge transfer and kNN transfer, each into the source space and into the
  target space), fitted apart; their scores are summed with weights chosen on validation.

Feature-level fusion (``fusion``, ``attention-fusion``) joins the two modalities' features in
one network; late fusion joins the decisions of separate predictors.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

from torch import Tensor

from mmgraph.data.prepared import TrainView
from mmgraph.errors import ConfigError
from mmgraph.models.base import Scoring, Validate
from mmgraph.models.baselines._common import DIRECTIONS, LinkBaseline, LinkBaselineConfig
from mmgraph.models.baselines.transfer import KNNTransferBaseline, TransferBaseline
from mmgraph.models.terms import PerDirection, Transposed, WeightedSum
from mmgraph.training.checkpoint import Checkpoint
from mmgraph.typing import NodeType


@dataclass
class LateFusionConfig(LinkBaselineConfig):
    """Settings of :class:`LateFusionBaseline`."""

    # The predictors' weights are tried on every point of the simplex with this step (0.25:
    # 35 combinations, each one a validation ranking); each component tunes its own settings.
    weight_step: float = 0.25
    seed: int = 0


def simplex(parts: int, step: float) -> list[tuple[float, ...]]:
    """Every weight vector of ``parts`` non-negative multiples of ``step`` summing to one.

    Example:
        >>> simplex(2, 0.5)
        [(0.0, 1.0), (0.5, 0.5), (1.0, 0.0)]
    """
    n = round(1 / step)
    points = (p for p in itertools.product(range(n + 1), repeat=parts) if sum(p) == n)
    return [tuple(v / n for v in p) for p in points]


class LateFusionBaseline(LinkBaseline):
    """Late (model-level) fusion of per-modality predictors.

    Two transfer models are fitted on the training links, each choosing its own settings on
    validation: ridge ``transfer`` and ``knn-transfer``. Each gives two predictors of a pair
    ``(s, d)``: one carries ``s`` into the modality of ``d`` and compares there (the model's
    score in that direction), the other carries ``d`` into the modality of ``s`` and compares
    there (the model's score in the other direction, transposed). The four scores, cosine
    similarities each, are summed with weights on the simplex (step ``weight_step``), chosen
    per direction on the validation MRR; a weight of one on a single predictor is among the
    choices, so fusion is kept only where validation prefers it.

    Label tasks are not covered: a label query has one modality of its own (a held-out clip),
    so there are no per-modality predictions of it to combine.
    """

    name = "late-fusion"
    Config = LateFusionConfig

    def _validate_settings(self) -> None:
        step = self.settings.weight_step
        number = isinstance(step, int | float) and not isinstance(step, bool) and 0 < step <= 1
        if not number or abs(1 / step - round(1 / step)) > 1e-6:
            raise ConfigError(
                f"The 'weight_step' parameter of the {self.name!r} model must be 1/n for a positive int n "
                f"(0.25, 0.5, 1). Got {step!r} instead."
            )

    def _fit_links(
        self, train: TrainView, links: Tensor, *, validate: Validate | None, progress: bool,
        checkpoint: Checkpoint | None,
    ) -> None:
        c = self.settings
        self.components_ = {
            # carry-query only: each predictor compares in one modality's space (named in _names)
            # (uncorrected: the fused sum is corrected for hubness as a whole, if validation says so)
            "transfer": TransferBaseline(seed=c.seed, modes=("carry-query",), hubness=False),
            "knn-transfer": KNNTransferBaseline(seed=c.seed, hubness=False),
        }
        for component in self.components_.values():
            component.fit(train, validate=validate, progress=progress)
        grid = simplex(2 * len(self.components_), c.weight_step)
        equal = tuple(1 / len(grid[0]) for _ in grid[0])

        def fused(weights: dict[bool, tuple[float, ...]]) -> Scoring:
            return lambda new: self._fused(new, weights)

        self.weights_, scores = self._choose_per_direction(
            grid, equal, fused, validate=validate, progress=progress
        )
        self.chosen_ = {
            "components": {name: component.chosen_ for name, component in self.components_.items()},
            # Per direction, the weight of each predictor, named by the space it compares in.
            **{
                d: {
                    "weights": dict(zip(self._names(reverse), self.weights_[reverse], strict=True)),
                    "val_mrr": None if scores is None else scores[d],
                }
                for reverse, d in ((False, DIRECTIONS[0]), (True, DIRECTIONS[1]))
            },
        }

    def _names(self, reverse: bool) -> list[str]:
        """The predictors' names in the order of the weights of a direction."""
        src, _, dst = self.edge_type_
        spaces = (src, dst) if reverse else (dst, src)  # the query carried over, then the candidate
        return [f"{name} in {space} space" for name in self.components_ for space in spaces]

    def _uncorrected_scorer(self, new: Mapping[NodeType, Tensor] | None) -> PerDirection:
        """The weighted sum of the components' scorers, its weights chosen per direction."""
        return self._fused(new, self.weights_)

    def _fused(self, new: Mapping[NodeType, Tensor] | None, weights: dict[bool, tuple[float, ...]]) -> PerDirection:
        """Each component's scorer twice, as it is (the query carried into the candidates'
        space) and transposed (the candidate carried into the query's), summed with ``weights``."""
        terms = []
        for component in self.components_.values():
            scorer = component.scorer(new)
            terms += [scorer, Transposed(scorer)]
        return PerDirection(WeightedSum(terms, weights[False]), WeightedSum(terms, weights[True]))
