"""Prediction for new samples: attach, score, rank. The one scoring path of mmgraph.

The evaluator scores held-out samples through :meth:`RelationModel.scorer` exactly as this
module does for a user's new samples, so a reported metric is what prediction gives.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from mmgraph.checks import check_positive_int
from mmgraph.data.prepared import TrainView
from mmgraph.errors import DataError
from mmgraph.models.base import RelationModel
from mmgraph.typing import NodeType


def predict_links(
    model: RelationModel,
    train: TrainView,
    queries: Tensor,
    *,
    query_type: NodeType,
    k: int = 10,
    catalogue: bool = True,
    new_candidates: Tensor | None = None,
    new_candidate_ids: list[str] | None = None,
    exclude_linked: bool = False,
    batch_size: int = 512,
) -> pd.DataFrame:
    """Ranks candidates of the other modality of the task's relation for new query samples.

    Args:
        model: a fitted model.
        train: the training view it was fitted on.
        queries: features of the new query samples (in the fitted feature space).
        query_type: their modality, one end of ``train.target_edge_type``.
        k: how many candidates to return per query.
        catalogue: rank the training view's samples of the other modality (the ``"all"``
            candidate set); ``False`` ranks only ``new_candidates`` (the ``"held-out"`` set).
        new_candidates: features of new samples of the other modality to rank as well.
        new_candidate_ids: their ids (default ``"new:0"``, ``"new:1"``, ...).
        exclude_linked: leave out catalogue samples that already hold a training link of the
            relation (for a one-to-one relation, they are taken).
        batch_size: queries scored at once.

    Returns:
        One row per (query, rank): ``query`` (position in ``queries``), ``rank`` (1 is best),
        ``id`` of the candidate and ``score``.

    Shapes:
        queries: ``(num_queries, dim)``; new_candidates: ``(num_new, dim)``.
    """
    check_positive_int(k, "k", "predict_links")
    edge_type = train.target_edge_type
    if edge_type is None or query_type not in (edge_type[0], edge_type[2]):
        raise DataError(f"The model predicts {edge_type} links; {query_type!r} is not one of their ends.")
    reverse = query_type != edge_type[0]
    target = edge_type[0] if reverse else edge_type[2]
    num_view = train.num_nodes(target)
    candidate_ids = list(train.node_ids[target]) if catalogue else []
    candidates = torch.arange(num_view) if catalogue else torch.zeros(0, dtype=torch.long)
    if catalogue and exclude_linked:
        linked = train.target_links()[0 if reverse else 1]
        keep = torch.ones(num_view, dtype=torch.bool)
        keep[linked] = False
        candidates = candidates[keep]
        candidate_ids = [candidate_ids[i] for i in candidates.tolist()]
    new: dict[NodeType, Tensor] = {query_type: queries}
    query_index = train.num_nodes(query_type) + torch.arange(len(queries))
    if new_candidates is not None:
        first = train.num_nodes(target) + (len(queries) if target == query_type else 0)
        new[target] = torch.cat([new[target], new_candidates]) if target == query_type else new_candidates
        candidates = torch.cat([candidates, first + torch.arange(len(new_candidates))])
        candidate_ids += list(new_candidate_ids or [f"new:{i}" for i in range(len(new_candidates))])
    if candidates.numel() == 0:
        raise DataError("predict_links has no candidate to rank: give catalogue=True or new_candidates.")
    scorer = model.scorer(new)
    rows = []
    for start in range(0, len(queries), batch_size):
        batch = query_index[start : start + batch_size]
        scores = scorer.link_scores(edge_type, batch, candidates, reverse=reverse)
        top = scores.topk(min(k, candidates.numel()), dim=1)
        for q in range(len(batch)):
            for r in range(top.indices.shape[1]):
                rows.append((start + q, r + 1, candidate_ids[int(top.indices[q, r])], float(top.values[q, r])))
    return pd.DataFrame(rows, columns=["query", "rank", "id", "score"]).astype({"id": object})


def predict_labels(model: RelationModel, train: TrainView, samples: Tensor, *, node_type: NodeType) -> np.ndarray:
    """The predicted label name of each new sample of ``node_type``, ``(num_samples,)``."""
    scorer = model.scorer({node_type: samples})
    predicted = scorer.predict_labels(node_type)[train.num_nodes(node_type) :]
    return np.asarray(train.classes, dtype=object)[predicted.numpy()]
