"""Label baselines: ``logreg`` and ``label-transfer`` train on the training labels of a node type.

A node type without training labels of its own (``digits-audio-label``: only images are
labelled) borrows them through the training links: a training node linked to labelled nodes
of another modality takes their majority label, and those nodes are its training set (see
:meth:`mmgraph.data.prepared.TrainView.label_sources`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from sklearn.linear_model import LogisticRegression
from torch import Tensor

from mmgraph.data.prepared import TrainView
from mmgraph.models.base import Validate
from mmgraph.models.baselines._common import (
    LabelBaseline,
    check_int_ks,
    check_positive,
    check_positive_ints,
    row_mean,
    standardizers,
    statistic_rows,
    topk_similar,
    unit,
)
from mmgraph.typing import NodeType


@dataclass
class LogRegConfig:
    """Settings of :class:`LogRegBaseline`."""

    cs: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)  # inverse penalties tried on validation
    default_c: float = 1.0  # used when the task has no labelled validation nodes
    max_iter: int = 1000
    seed: int = 0


@dataclass
class LabelTransferConfig:
    """Settings of :class:`LabelTransferBaseline`."""

    ks: tuple[int, ...] = (1, 3, 5, 10, 20)
    temperatures: tuple[float, ...] = (0.05, 0.1, 1.0)
    default_k: int = 5
    default_temperature: float = 0.1
    center: bool = True
    seed: int = 0


class LogRegBaseline(LabelBaseline):
    """Logistic regression on each node type's standardised features.

    Trained on the node type's training labels; a node type without any (the audio clips of
    ``digits-audio-label``) trains on its linked training nodes, labelled with the labels of
    the nodes they link to (see :meth:`~mmgraph.data.prepared.TrainView.label_sources`), so its
    own features are classified directly. ``C`` is chosen on the validation accuracy of the
    task's source.
    """

    name = "logreg"
    Config = LogRegConfig

    def _validate_settings(self) -> None:
        check_positive(self.settings, self.name, ("cs", "default_c"))
        check_positive_ints(self.settings, self.name, ("max_iter",))

    def _fit_labels(
        self, train: TrainView, sources: dict[NodeType, tuple[Tensor, Tensor, str]], *,
        validate: Validate | None, progress: bool,
    ) -> None:
        c = self.settings
        self.standardize_ = standardizers(train, sources)
        features = {t: self.standardize_[t](self.features_[t]).numpy() for t in sources}
        fitted: dict[float, dict[NodeType, LogisticRegression | int]] = {}

        def classifiers(C: float) -> dict[NodeType, LogisticRegression | int]:
            if C not in fitted:
                fitted[C] = {}
                for node_type, (nodes, labels, _) in sources.items():
                    if labels.unique().numel() == 1:  # one class: predicted everywhere
                        fitted[C][node_type] = int(labels[0])
                        continue
                    model = LogisticRegression(C=C, max_iter=c.max_iter, random_state=c.seed)
                    fitted[C][node_type] = model.fit(features[node_type][nodes.numpy()], labels.numpy())
            return fitted[C]

        def predictor(C: float) -> Callable[[NodeType, Tensor], Callable[[], Tensor]]:
            return lambda node_type, x: self._predict(node_type, x, classifiers(C))

        self.classifiers_ = classifiers(self._select(list(c.cs), c.default_c, predictor, validate=validate,
                                                     progress=progress))

    def _predictor(self, node_type: NodeType, x: Tensor) -> Callable[[], Tensor]:
        return self._predict(node_type, x, self.classifiers_)

    def _predict(
        self, node_type: NodeType, x: Tensor, classifiers: dict[NodeType, LogisticRegression | int]
    ) -> Callable[[], Tensor]:
        """The prediction of every row of ``x`` by ``classifiers`` (one ``C``'s)."""
        classifier, standardize = classifiers[node_type], self.standardize_[node_type]

        def predict() -> Tensor:
            if isinstance(classifier, int):
                return torch.full((len(x),), classifier, dtype=torch.long)
            if len(x) == 0:
                return torch.zeros(0, dtype=torch.long)
            return torch.as_tensor(classifier.predict(standardize(x).numpy()), dtype=torch.long)

        return predict


class LabelTransferBaseline(LabelBaseline):
    """Label transfer by similarity: a node takes the weighted vote of the labels of its ``k``
    most cosine-similar labelled training nodes of its own modality (weights
    ``softmax(similarity / temperature)``). Without own labels, those neighbours are the
    training nodes linked to labelled nodes, carrying the labels reached through their links
    (see :meth:`~mmgraph.data.prepared.TrainView.label_sources`). ``k`` and the temperature are
    chosen on validation accuracy.
    """

    name = "label-transfer"
    Config = LabelTransferConfig

    def _validate_settings(self) -> None:
        check_positive(self.settings, self.name, ("ks", "temperatures", "default_k", "default_temperature"))
        check_int_ks(self.settings, self.name)

    def _fit_labels(
        self, train: TrainView, sources: dict[NodeType, tuple[Tensor, Tensor, str]], *,
        validate: Validate | None, progress: bool,
    ) -> None:
        c = self.settings
        self.num_neighbours_ = max(*c.ks, c.default_k)
        # Per node type: the training-row centre, the labelled training nodes (keys) and their
        # labels, and the view nodes' nearest keys.
        self.center_, self.keys_, self.key_labels_, self.neighbours_ = {}, {}, {}, {}
        for node_type, (nodes, labels, _) in sources.items():
            rows = statistic_rows(train, node_type)
            self.center_[node_type] = row_mean(self.features_[node_type], rows) if c.center else None
            units = unit(self.features_[node_type], self.center_[node_type])
            self.keys_[node_type], self.key_labels_[node_type] = units[nodes], labels
            self.neighbours_[node_type] = topk_similar(units, self.keys_[node_type], self.num_neighbours_)
        grid = [(k, t) for k in c.ks for t in c.temperatures]

        def predictor(setting: tuple[int, float]) -> Callable[[NodeType, Tensor], Callable[[], Tensor]]:
            return lambda node_type, x: self._predict(node_type, x, *setting)

        self.k_, self.temperature_ = self._select(
            grid, (c.default_k, c.default_temperature), predictor, validate=validate, progress=progress
        )

    def _predictor(self, node_type: NodeType, x: Tensor) -> Callable[[], Tensor]:
        return self._predict(node_type, x, self.k_, self.temperature_)

    def _predict(self, node_type: NodeType, x: Tensor, k: int, temperature: float) -> Callable[[], Tensor]:
        """The prediction of every row of ``x`` by a vote of its ``k`` nearest keys at ``temperature``."""
        num_classes = self.num_classes_
        view_values, view_indices = self.neighbours_[node_type]
        keys, key_labels, center = self.keys_[node_type], self.key_labels_[node_type], self.center_[node_type]

        def predict() -> Tensor:
            new_values, new_indices = topk_similar(unit(x[len(view_values) :], center), keys, self.num_neighbours_)
            values = torch.cat([view_values, new_values])[:, :k]
            labels = key_labels[torch.cat([view_indices, new_indices])[:, :k]]
            weights = torch.softmax(values / temperature, dim=1)
            votes = torch.zeros(len(values), num_classes).scatter_add_(1, labels, weights)
            return votes.argmax(1)

        return predict
