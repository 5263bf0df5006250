"""The classical route through classes the training links form.

- ``component-class``: the connected components of the training link graph are classes; a
  classifier per modality learns its training samples' component; a link scores the dot product
  of the two class-probability vectors.

Where every training link joins two samples of one class (``digits-audio-image``: a clip and an
image of one digit), the components are those classes, and the model is the classic "classify
both sides, match the classes". Where links pair items one to one (the emoji tasks), every
component holds two samples and there is nothing to classify: the model refuses the task.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from torch import Tensor

from mmgraph.data.prepared import TrainView, component_classes, link_components
from mmgraph.errors import ConfigError, NotApplicableError
from mmgraph.models.base import Scoring, Validate
from mmgraph.models.baselines._common import (
    EmbeddingLinkBaseline,
    LinkBaselineConfig,
    check_positive,
    check_positive_ints,
    embedding_scores,
    per_direction_record,
    standardizers,
)
from mmgraph.training.checkpoint import Checkpoint
from mmgraph.typing import NodeType


@dataclass
class ComponentClassConfig(LinkBaselineConfig):
    """Settings of :class:`ComponentClassBaseline`."""

    cs: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)  # inverse penalties tried on validation, per modality
    default_c: float = 1.0  # used when the task has no validation links
    # A component is a class if it holds at least this share of the linked training samples;
    # the samples of smaller components (a clip whose images no other clip shares) are left out.
    min_class_share: float = 0.02
    # The classes must hold at least this share of the linked training samples, else the links
    # do not form classes (one-to-one links make one two-sample component per pair) and the
    # model refuses the task.
    min_coverage: float = 0.5
    max_iter: int = 1000
    seed: int = 0


class _Linear:
    """A fitted logistic regression as tensors: ``softmax(x @ weight.T + bias)`` over ``classes``."""

    def __init__(self, model: LogisticRegression) -> None:
        weight = torch.as_tensor(model.coef_, dtype=torch.float32)
        bias = torch.as_tensor(model.intercept_, dtype=torch.float32)
        if weight.shape[0] == 1:  # two classes: sklearn keeps one row, the logit of the second class
            weight, bias = torch.cat([torch.zeros_like(weight), weight]), torch.cat([torch.zeros(1), bias])
        self.weight, self.bias = weight, bias
        self.classes = torch.as_tensor(model.classes_, dtype=torch.long)

    def probabilities(self, x: Tensor) -> Tensor:
        """``(n, dim)`` -> ``(n, len(classes))``, as ``predict_proba``."""
        return torch.softmax(x @ self.weight.T + self.bias, dim=1)


class ComponentClassBaseline(EmbeddingLinkBaseline):
    """Classes from the connected components of the training links, one classifier per modality.

    The training links are an undirected graph over the training samples of both modalities;
    each of its connected components is a class. Per modality, a logistic regression on the
    standardised features (training-row statistics) learns the component of each linked
    training sample. A pair ``(s, d)`` scores ``p(s) . p(d)``, the dot product of the two
    class-probability vectors (the probability that both fall in one class, were they
    independent). The ``C`` of each modality's classifier is chosen per direction on the
    validation MRR. Components holding less than ``min_class_share`` of the linked samples are
    not classes (their samples are left out); where the classes hold less than
    ``min_coverage`` of them (one-to-one links: every component a pair) the model raises
    :class:`~mmgraph.errors.NotApplicableError`.
    """

    name = "component-class"
    Config = ComponentClassConfig

    def _validate_settings(self) -> None:
        check_positive(self.settings, self.name, ("cs", "default_c"))
        check_positive_ints(self.settings, self.name, ("max_iter",))
        for name in ("min_class_share", "min_coverage"):
            value = getattr(self.settings, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
                raise ConfigError(
                    f"The {name!r} parameter of the {self.name!r} model must be in (0, 1]. Got {value!r} instead."
                )

    def _fit_links(
        self, train: TrainView, links: Tensor, *, validate: Validate | None, progress: bool,
        checkpoint: Checkpoint | None,
    ) -> None:
        c = self.settings
        src, _, dst = self.edge_type_
        linked = link_components({src: train.num_nodes(src), dst: train.num_nodes(dst)}, {self.edge_type_: links})
        sizes = np.bincount(np.concatenate([linked[src], linked[dst]]) + 1)[1:]
        components, coverage = component_classes(linked, min_class_share=c.min_class_share)
        num_classes = int(max(v.max() for v in components.values())) + 1
        if num_classes < 2 or coverage < c.min_coverage:
            raise NotApplicableError(
                f"The 'component-class' model treats the connected components of the training links as classes; "
                f"the {links.shape[1]} training links of the task {train.task!r} form {len(sizes)} component(s) "
                f"(median size {int(np.median(sizes))}); {num_classes} of them hold at least min_class_share="
                f"{c.min_class_share} of the linked samples, together {coverage:.0%} (needed: 2 or more classes "
                f"holding min_coverage={c.min_coverage:.0%}). Links that pair samples one to one make one "
                f"component per pair: use 'transfer', 'knn-transfer', 'siamese' or 'gnn' there."
            )
        self.num_classes_ = num_classes
        self.standardize_ = standardizers(train, (src, dst))
        fitted: dict[tuple[NodeType, float], _Linear] = {}

        def classifier(node_type: NodeType, C: float) -> _Linear:
            if (node_type, C) not in fitted:
                rows = np.flatnonzero(components[node_type] >= 0)
                x = self.standardize_[node_type](self.features_[node_type][torch.as_tensor(rows)]).numpy()
                model = LogisticRegression(C=C, max_iter=c.max_iter, random_state=c.seed)
                fitted[node_type, C] = _Linear(model.fit(x, components[node_type][rows]))
            return fitted[node_type, C]

        def classifiers(settings: dict[bool, tuple[float, float]]) -> dict[bool, dict[NodeType, _Linear]]:
            return {
                r: {src: classifier(src, settings[r][0]), dst: classifier(dst, settings[r][1])} for r in (False, True)
            }

        def scoring(settings: dict[bool, tuple[float, float]]) -> Scoring:
            return self._scoring(lambda x: embedding_scores(self._embed_with(x, classifiers(settings))))

        grid = [(cs, cd) for cs in c.cs for cd in c.cs]
        self.setting_, scores = self._choose_per_direction(
            grid, (c.default_c, c.default_c), scoring, validate=validate, progress=progress
        )
        self.classifiers_ = classifiers(self.setting_)
        self.chosen_ = {
            "num_classes": num_classes, "components": len(sizes), "coverage": float(coverage),
            **per_direction_record(
                lambda r: {f"C {src}": self.setting_[r][0], f"C {dst}": self.setting_[r][1]}, scores
            ),
        }

    def _probabilities(self, node_type: NodeType, x: Tensor, classifier: _Linear) -> Tensor:
        """Class probabilities of every row, ``(n, num_classes)`` (columns in class order)."""
        out = torch.zeros(len(x), self.num_classes_)
        out[:, classifier.classes] = classifier.probabilities(self.standardize_[node_type](x))
        return out

    def _embed(self, x: dict[NodeType, Tensor]) -> dict[bool, tuple[Tensor, Tensor]]:
        return self._embed_with(x, self.classifiers_)

    def _embed_with(
        self, x: dict[NodeType, Tensor], all_classifiers: dict[bool, dict[NodeType, _Linear]]
    ) -> dict[bool, tuple[Tensor, Tensor]]:
        """Class probabilities of each direction's query and candidate side by its classifiers."""
        src, _, dst = self.edge_type_
        out = {}
        for reverse, (query_type, candidate_type) in ((False, (src, dst)), (True, (dst, src))):
            classifiers = all_classifiers[reverse]
            out[reverse] = tuple(
                self._probabilities(t, x[t], classifiers[t]) for t in (query_type, candidate_type)
            )
        return out
