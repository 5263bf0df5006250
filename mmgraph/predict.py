"""Prediction for new samples: attach, score, rank. The one scoring path of mmgraph.

The evaluator scores held-out samples through :meth:`RelationModel.scorer` exactly as this
module does for a user's new samples, so a reported metric is what prediction gives.
:class:`Predictor` is a fitted model with everything prediction needs (the training view, the
fitted encoders, the catalogue's payloads); it saves to a model folder (JSON and safetensors,
no pickle) and loads in a fresh process.

Example:
    >>> from mmgraph.pipeline import pipeline  # doctest: +SKIP
    >>> pipeline("openmoji-text", seed=0).save("runs/openmoji")  # doctest: +SKIP
    >>> Predictor.load("runs/openmoji").predict_links(["a red apple"], target="openmoji")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from mmgraph.checks import check_positive_int
from mmgraph.data.prepared import ITEM, Catalogue, ItemQueries, TrainView
from mmgraph.errors import (
    ConfigError,
    DataError,
    EncodingError,
    MissingFileError,
    MMGraphError,
    NotApplicableError,
    SavedFileError,
)
from mmgraph.io import atomic_write, load_json
from mmgraph.models.base import RelationModel, savable_models
from mmgraph.typing import NodeType

MODEL_FOLDER = "model"
"""The folder of a saved run that holds the model (beside ``result.json``)."""

CATALOGUES: tuple[str, ...] = ("declared", "training", "none")
"""What :meth:`Predictor.predict_links` ranks besides the new candidates it is given:
``"declared"`` (default) the task's declared candidate set, the very candidates the evaluator
ranks for the test queries (:class:`~mmgraph.data.prepared.Catalogue`: for ``held-out`` tasks the
run's held-out samples of the target modality; for ``all`` tasks every training and held-out
sample of it, less those already holding a training link of a one-to-one relation);
``"training"`` every training sample of the target modality, linked ones included; ``"none"``
only the new candidates."""

ITEM_BATCH = 512
"""Items whose candidates' scores are computed at once (a ``(512, candidates)`` block)."""


class Predictor:
    """A fitted model and what prediction needs: training view, fitted encoders, the declared
    candidates and their payloads.

    Args:
        model: a fitted model.
        train: the training view it was fitted on.
        encoders: the fitted encoder of each modality that has one (a modality given as
            features has none: pass its new samples as features).
        task: the task's settings (as in a result's ``task``).
        payloads: per modality, the payload (path or text) of samples by id, shown beside
            predicted ids (optional).
        catalogue: the task's declared candidates (:meth:`PreparedTask.catalogue`), what
            :meth:`predict_links` ranks by default (link tasks).
    """

    def __init__(
        self, model: RelationModel, train: TrainView, encoders: Mapping[NodeType, Any], *,
        task: Mapping[str, Any], payloads: Mapping[NodeType, Mapping[str, str | None]] | None = None,
        catalogue: Catalogue | None = None,
    ) -> None:
        self.model, self.train, self.encoders = model, train, dict(encoders)
        self.task, self.payloads = dict(task), {m: dict(p) for m, p in (payloads or {}).items()}
        self.catalogue = catalogue

    def __repr__(self) -> str:
        return f"Predictor(model={self.model.name!r}, task={self.task.get('name')!r}, train={self.train!r})"

    # ------------------------------------------------------------------ files
    def save(self, directory: str | os.PathLike) -> Path:
        """Writes the model folder: ``model.json`` + ``weights.safetensors`` (the model),
        ``view.json`` + ``view.safetensors`` (the training view), ``encoders/<modality>/`` and
        ``catalogue.json`` + ``catalogue.safetensors`` (the declared candidates) and
        ``predictor.json`` (task, payloads)."""
        directory = Path(directory)
        self.model.save(directory)
        self.train.save(directory)
        if self.catalogue is not None:
            self.catalogue.save(directory)
        for modality, encoder in self.encoders.items():
            encoder.save(directory / "encoders" / modality)
        record = {"task": self.task, "encoders": sorted(self.encoders), "payloads": self.payloads}
        atomic_write(directory / "predictor.json", json.dumps(record, default=str))
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike) -> Predictor:
        """Loads a model folder written by :meth:`save` (or a run folder holding one in ``model/``)."""
        from mmgraph.encoders import Encoder
        from mmgraph.models import MODELS

        directory = Path(directory)
        if not directory.is_dir():
            raise MissingFileError(f"No model folder at {str(directory)!r}; give the folder `mmgraph run --out` wrote.")
        if (directory / MODEL_FOLDER / "model.json").exists():
            directory = directory / MODEL_FOLDER
        if not (directory / "model.json").exists():
            raise SavedFileError(
                f"{str(directory)!r} holds no saved model (no model.json). Runs of models that cannot be saved "
                f"write result.json only; save a run of {', '.join(map(repr, savable_models()))}."
            )
        name = load_json(directory / "model.json").get("model")
        if name not in MODELS:
            raise SavedFileError(
                f"The model folder {str(directory)!r} names an unknown model {name!r}; it is damaged or was written "
                f"by another version of mmgraph. Known models: {MODELS.names()}."
            )
        if "kg" in MODELS.get(name).kinds:
            raise NotApplicableError(
                f"The model in {str(directory)!r} is a {name!r} model of a knowledge-graph task; a Predictor (mmgraph "
                "predict) ranks cross-modal links of new samples. Load it with PipelineResult.load(RUN_FOLDER) and "
                "rank entities with result.fitted.scorer().score_tails(head, relation) or score_heads(tail, relation)."
            )
        try:
            record = load_json(directory / "predictor.json")
            train = TrainView.load(directory)
            model = MODELS.get(name).load(directory, train)
            encoders = {m: Encoder.load(directory / "encoders" / m) for m in record["encoders"]}
            catalogue = Catalogue.load(directory) if (directory / "catalogue.json").exists() else None
            return cls(model, train, encoders, task=record["task"], payloads=record["payloads"], catalogue=catalogue)
        except MissingFileError as error:  # a file of the folder, not the folder the user named
            raise SavedFileError(
                f"The model folder {str(directory)!r} is damaged or incomplete ({error}); run the task again to "
                "save a new one."
            ) from error
        except MMGraphError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as error:  # a JSON record without its fields
            raise SavedFileError(
                f"The model folder {str(directory)!r} is damaged or incomplete ({type(error).__name__}: {error}); "
                "run the task again to save a new one."
            ) from error

    # ------------------------------------------------------------------ prediction
    def _ends(self) -> list[NodeType]:
        edge_type = self.train.target_edge_type
        return list(dict.fromkeys([edge_type[0], edge_type[2]] if edge_type else self.encoders))

    def _input_forms(self, modalities: Sequence[NodeType] | None = None) -> str:
        """What an input of each of ``modalities`` (default: both ends of the relation) is, for
        messages: ``"'image' takes an image file (.png, ...), 'text' takes an inline text ..."``."""
        from mmgraph.encoders import AUDIO_EXTENSIONS, IMAGE_EXTENSIONS

        forms = {
            "text": "an inline text (the text itself, not a file)",
            "image": f"an image file ({', '.join(IMAGE_EXTENSIONS)})",
            "audio": f"an audio file ({', '.join(AUDIO_EXTENSIONS)})",
            "id": "a sample id of its vectors (--vectors FILE)",
        }
        described = [
            (m, forms.get(self.encoders[m].input_kind, "an input of its encoder") if m in self.encoders else "features")
            for m in modalities or self._ends()
        ]
        return ", ".join(f"{m!r} takes {form}" for m, form in described)

    def _check_payloads(self, payloads: Sequence[str], *, what: str = "input",
                       modalities: Sequence[NodeType] | None = None) -> None:
        """Raises :class:`EncodingError` for a payload that names a folder, or a file that none of
        ``modalities`` (default: both ends of the relation) takes (a ``.txt`` file, an image for a
        text modality): the text encoders would read its path as a text and rank it, exit 0. The
        message says what an input of those modalities is."""
        from mmgraph.encoders import AUDIO_EXTENSIONS, IMAGE_EXTENSIONS

        modalities = list(modalities or self._ends())
        kinds = {self.encoders[m].input_kind for m in modalities if m in self.encoders}
        if not kinds & {"text", "image", "audio"}:  # ids of a vectors file, or features: no path to check
            return
        for index, payload in enumerate(payloads):
            if not isinstance(payload, str | os.PathLike):
                continue  # the encoder names a payload of the wrong type
            suffix = Path(payload).suffix.lower()
            kind = "image" if suffix in IMAGE_EXTENSIONS else "audio" if suffix in AUDIO_EXTENSIONS else None
            if os.path.isdir(payload):
                found, fix = "a folder", " Give the files in it one at a time."
            elif os.path.isfile(payload) and kind not in kinds:
                found = f"an {kind} file" if kind else f"a file of no known kind ({suffix or 'no extension'!r})"
                fix = ""
            else:
                continue
            raise EncodingError(
                f"The {what} {index} ({os.fspath(payload)!r}) is {found}. Each {what} is a file of its modality, or "
                f"an inline text for a text modality: here {self._input_forms(modalities)}.{fix}",
                index=index, payload=payload,
            )

    def modality_of(self, payload: str, *, among: Sequence[NodeType] | None = None) -> NodeType:
        """The modality a payload belongs to, from its kind (text, image or audio file) and the
        fitted encoders of ``among`` (default: both ends of the relation); raises when none or
        several of them take that kind."""
        from mmgraph.encoders import payload_kind

        kind = payload_kind([payload])
        ends = list(among or self._ends())
        matches = [m for m in ends if m in self.encoders and self.encoders[m].input_kind == kind]
        if len(matches) != 1:
            raise DataError(
                f"Cannot tell the modality of {payload!r} (a {kind} payload): "
                + (f"the modalities {matches} all take {kind}" if matches else f"no modality of {ends} takes {kind} "
                   f"(here {self._input_forms(ends)})")
                + ". Name it with --modality (modality=...)."
            )
        return matches[0]

    def encode(self, inputs: Sequence[str], modality: NodeType) -> Tensor:
        """Features of new samples of ``modality`` from their payloads, with the fitted encoder."""
        if modality not in self.encoders:
            raise DataError(
                f"No fitted encoder for modality {modality!r}; have {sorted(self.encoders)}. "
                "Give the new samples as features instead."
            )
        return torch.as_tensor(self.encoders[modality].encode(list(inputs), progress=False), dtype=torch.float32)

    def predict_links(
        self,
        inputs: Sequence[str] | Tensor,
        *,
        modality: NodeType | None = None,
        target: NodeType | None = None,
        k: int = 10,
        catalogue: str = "declared",
        new_candidates: Sequence[str] | Tensor | None = None,
        new_candidate_ids: list[str] | None = None,
    ) -> pd.DataFrame:
        """Ranks candidates of the other end of the task's relation for new samples.

        Args:
            inputs: payloads (paths or texts) of the new samples, or their features.
            modality: their modality (default: told from the payloads).
            target: the candidates' modality (checked against the relation; default: the other end).
            k: candidates per query.
            catalogue: the known candidates to rank (:data:`CATALOGUES`): ``"declared"`` (default,
                the task's declared candidate set, as the reported metrics rank it), ``"training"``
                (every training sample of the target modality) or ``"none"``.
            new_candidates: payloads or features of further target samples to rank too.
            new_candidate_ids: their ids (default: the payloads, or ``new:0``, ``new:1``, ...).

        Returns:
            One row per (query, rank): ``query`` (position in ``inputs``), ``rank``, ``id``,
            ``payload`` (the candidate's path or text, if known) and ``score``.
        """
        check_positive_int(k, "k", "predict_links")
        _check_catalogue(catalogue, "predict_links")
        if not len(inputs):
            raise DataError("predict_links needs at least one input.")
        edge_type = self.train.target_edge_type
        if edge_type is None:
            raise DataError(f"The task {self.task.get('name')!r} predicts labels, not links.")
        if not isinstance(inputs, Tensor):
            self._check_payloads(inputs, modalities=[modality] if modality else None)
        if modality is None:
            if isinstance(inputs, Tensor):
                raise DataError("Name the modality of inputs given as features (modality=...).")
            kinds = {self.modality_of(x) for x in inputs}
            if len(kinds) > 1:
                raise DataError(f"The inputs mix modalities {sorted(kinds)}; predict each modality on its own.")
            modality = kinds.pop()
        if modality not in (edge_type[0], edge_type[2]):
            raise DataError(f"The model predicts {edge_type} links; {modality!r} is not one of their ends.")
        other = edge_type[2] if modality == edge_type[0] else edge_type[0]
        if target is not None and target != other:
            raise DataError(
                f"The model predicts {edge_type} links: {modality!r} samples rank {other!r}, not {target!r}."
            )
        queries = inputs if isinstance(inputs, Tensor) else self.encode(inputs, modality)
        view_candidates, extra, extra_ids, payload_of = self._candidates(
            other, catalogue, new_candidates, new_candidate_ids
        )
        top = rank_links(
            self.model, self.train, queries, query_type=modality, k=k, view_candidates=view_candidates,
            new_candidates=extra, new_candidate_ids=extra_ids,
        )
        top.insert(3, "payload", top["id"].map(payload_of))
        return top

    def _candidates(
        self, target: NodeType, catalogue: str, new_candidates: Sequence[str] | Tensor | None,
        new_candidate_ids: list[str] | None,
    ) -> tuple[Tensor | None, Tensor | None, list[str], dict[str, str | None]]:
        """What a prediction ranks of ``target``: ``(view nodes (None: all of them), features of new
        candidates (None: none), their ids, the payload of every candidate id known)``, from the
        ``catalogue`` (:data:`CATALOGUES`) and the ``new_candidates`` given."""
        payload_of = dict(self.payloads.get(target, {}))
        view_candidates, extra, extra_ids = None, [], []
        if catalogue == "declared":
            if self.catalogue is None:
                raise DataError(
                    "This predictor holds no declared candidate set (it was built without one); "
                    "pass catalogue='training' (--catalogue training) to rank the training samples."
                )
            view_candidates = self.catalogue.view_nodes[target]
            extra.append(self.catalogue.new_features[target])
            extra_ids += [str(i) for i in self.catalogue.new_ids[target]]
        elif catalogue == "none":
            view_candidates = torch.zeros(0, dtype=torch.long)
        if new_candidates is not None:
            if isinstance(new_candidates, Tensor):
                extra.append(new_candidates)
                extra_ids += new_candidate_ids or [f"new:{i}" for i in range(len(new_candidates))]
            else:
                self._check_payloads(new_candidates, what="new candidate", modalities=[target])
                extra.append(self.encode(new_candidates, target))
                new_candidate_ids = new_candidate_ids or [str(x) for x in new_candidates]
                payload_of.update(zip(new_candidate_ids, new_candidates, strict=True))
                extra_ids += new_candidate_ids
        return view_candidates, torch.cat(extra) if extra_ids else None, extra_ids, payload_of

    def predict_items(
        self,
        inputs: Sequence[str | Tensor],
        items: Sequence[str],
        *,
        modalities: Sequence[NodeType | None] | None = None,
        k: int = 10,
        catalogue: str = "declared",
        new_candidates: Sequence[str] | Tensor | None = None,
        new_candidate_ids: list[str] | None = None,
    ) -> pd.DataFrame:
        """Answers the task's question for new items, each given as its samples (item tasks).

        Every input is one sample of one of the task's item modalities (every modality but the
        link target), and ``items[i]`` names the item input ``i`` belongs to: an item is all the
        inputs of its name, any subset of the item modalities. The inputs are encoded with the
        fitted encoders, grouped into the :class:`~mmgraph.data.prepared.ItemQueries` of these
        items (every sample kept) and scored by the model's
        :meth:`~mmgraph.models.base.RelationModel.item_scorer`, the function the evaluator scores
        held-out items with. Items are independent: an item's rows are the same whatever other
        items are in the call.

        Args:
            inputs: each sample's payload (a path or a text), or its features (a ``(dim,)``
                tensor, for a modality given as features or a precomputed encoder).
            items: the item of each input (the same length as ``inputs``).
            modalities: the modality of each input (None, or a None entry: told from the payload
                among the item modalities; features need theirs named).
            k: candidates per item (link tasks).
            catalogue: the known candidates to rank (:data:`CATALOGUES`), as in :meth:`predict_links`.
            new_candidates: payloads or features of further target samples to rank too.
            new_candidate_ids: their ids (default: the payloads, or ``new:0``, ``new:1``, ...).

        Returns:
            Label tasks: one row per item, ``item`` and ``label`` (the predicted class; the
            scorers give a class, no probability). Link tasks: one row per (item, rank), ``item``,
            ``rank``, ``id``, ``payload`` (the candidate's path or text, if known) and ``score``.
            Items are in the order of their first input.

        Raises:
            NotApplicableError: the model does not answer items, or its task asks about single samples.
            DataError: an input without an item, or of a modality that is not an item modality.
        """
        from mmgraph.models.base import item_models

        check_positive_int(k, "k", "predict_items")
        _check_catalogue(catalogue, "predict_items")
        if not self.model.answers_items():
            from mmgraph.models import MODELS

            savable = [m for m in item_models() if MODELS.get(m).savable()]
            raise NotApplicableError(
                f"The {self.model.name!r} model scores single samples; it does not answer items. Run an item task "
                f"(--query item) with one of {savable}, save it and predict items with that run."
            )
        modalities_of_items = list(self.train.item_modalities)
        if not modalities_of_items:
            raise NotApplicableError(
                f"The task {self.task.get('name')!r} asks about single samples; predict_items needs a model fitted on "
                "an item task. Run it with --query item (Task(query='item')), or predict single samples with "
                "predict_links."
            )
        if len(items) != len(inputs):
            raise DataError(
                f"predict_items needs one item per input; got {len(inputs)} inputs and {len(items)} items. "
                "Name the item of every input."
            )
        if not len(inputs):
            raise DataError("predict_items needs at least one input (a sample of an item).")
        if modalities is not None and len(modalities) != len(inputs):
            raise DataError(
                f"predict_items takes one modality per input (None: told from the payload); got {len(modalities)} "
                f"for {len(inputs)} inputs."
            )
        for index, item in enumerate(items):
            if item is None or not str(item).strip():
                raise DataError(
                    f"The input {index} ({_shown(inputs[index])}) has no item ({item!r}); every input is a sample "
                    "of an item: name its item."
                )
        self._check_payloads(list(inputs), modalities=modalities_of_items)  # folders, files no item modality takes
        named = list(modalities) if modalities is not None else [None] * len(inputs)
        groups: dict[NodeType, list[int]] = {}
        for index, (payload, modality) in enumerate(zip(inputs, named, strict=True)):
            if modality is None:
                if not isinstance(payload, str | os.PathLike):
                    raise DataError(
                        f"The input {index} is given as features; name its modality (one of {modalities_of_items})."
                    )
                modality = self.modality_of(os.fspath(payload), among=modalities_of_items)
            if modality not in modalities_of_items:
                target = _item_target(self.train)
                raise DataError(
                    f"The input {index} ({_shown(payload)}) is of the modality {modality!r}, which is not one of the "
                    f"task's item modalities {modalities_of_items}"
                    + (f" (the items' answers are {target!r} samples, ranked, not given)" if target else "")
                    + ". Give each item's samples of those modalities."
                )
            groups.setdefault(modality, []).append(index)
        names = list(dict.fromkeys(str(item) for item in items))
        position = {name: i for i, name in enumerate(names)}
        new, members, member_items = {}, {}, {}
        for modality in modalities_of_items:
            chosen = groups.get(modality, [])
            new[modality] = self._item_features([inputs[i] for i in chosen], modality, chosen)
            members[modality] = self.train.num_nodes(modality) + torch.arange(len(chosen))
            member_items[modality] = torch.tensor([position[str(items[i])] for i in chosen], dtype=torch.long)
        queries = ItemQueries(
            part="new", keep=1.0, only=None, item_ids=np.asarray(names, dtype=object), members=members,
            member_items=member_items,
        )
        if self.train.kind == "label":
            scorer = self.model.item_scorer(new, queries)
            labels = scorer.predict_labels(ITEM).tolist()
            return pd.DataFrame({"item": names, "label": [self.train.classes[c] for c in labels]})
        target = _item_target(self.train)
        view_candidates, extra, extra_ids, payload_of = self._candidates(
            target, catalogue, new_candidates, new_candidate_ids
        )
        candidates, candidate_ids = _candidate_index(
            self.train, target, view_candidates, extra, extra_ids, first=self.train.num_nodes(target)
        )
        if extra is not None:
            new[target] = extra
        scorer = self.model.item_scorer(new, queries)
        edge_type = (ITEM, self.train.target_edge_type[1], target)
        rows = []
        for start in range(0, len(names), ITEM_BATCH):
            batch = torch.arange(start, min(start + ITEM_BATCH, len(names)))
            rows += _top_rows(scorer.link_scores(edge_type, batch, candidates, reverse=False), candidate_ids, k, start)
        top = pd.DataFrame(rows, columns=["item", "rank", "id", "score"]).astype({"id": object})
        top["item"] = [names[i] for i in top["item"]]
        top.insert(3, "payload", top["id"].map(payload_of))
        return top

    def _item_features(self, inputs: list[str | Tensor], modality: NodeType, positions: list[int]) -> Tensor:
        """The features of the inputs of one modality (at ``positions`` of the call): payloads
        encoded, features stacked.

        Shapes:
            return: ``(len(inputs), dim)``.
        """
        dim = self.train.features[modality].shape[1]
        if not inputs:
            return torch.zeros(0, dim)
        given = [isinstance(x, str | os.PathLike) for x in inputs]
        if all(given):
            self._check_payloads(inputs, what=f"{modality!r} input", modalities=[modality])
            return self.encode([os.fspath(x) for x in inputs], modality)
        rows = []
        for index, x in zip(positions, inputs, strict=True):
            if isinstance(x, str | os.PathLike):  # a payload among features: encode it alone
                rows.append(self.encode([os.fspath(x)], modality)[0])
                continue
            row = torch.as_tensor(np.asarray(x), dtype=torch.float32)
            if row.shape != (dim,):
                raise DataError(
                    f"The input {index} ({modality!r}) has features of shape {tuple(row.shape)}; the model was fitted "
                    f"on {dim}-d {modality!r} features. Give ({dim},) features from the encoder the model was run with."
                )
            rows.append(row)
        return torch.stack(rows)


def rank_links(
    model: RelationModel,
    train: TrainView,
    queries: Tensor,
    *,
    query_type: NodeType,
    k: int = 10,
    view_candidates: Tensor | None = None,
    new_candidates: Tensor | None = None,
    new_candidate_ids: list[str] | None = None,
    batch_size: int = 512,
) -> pd.DataFrame:
    """Ranks candidates of the other modality of the task's relation for new query samples.

    Args:
        model: a fitted model.
        train: the training view it was fitted on.
        queries: features of the new query samples (in the fitted feature space).
        query_type: their modality, one end of ``train.target_edge_type``.
        k: how many candidates to return per query.
        view_candidates: the training-view nodes of the other modality to rank (default: all
            of them; an empty tensor: none).
        new_candidates: features of new samples of the other modality to rank as well.
        new_candidate_ids: their ids (default ``"new:0"``, ``"new:1"``, ...).
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
    for node_type, given, what in ((query_type, queries, "queries"), (target, new_candidates, "new candidates")):
        dim = train.features[node_type].shape[1]
        if given is not None and (given.dim() != 2 or given.shape[1] != dim):
            raise DataError(
                f"The {what} ({node_type!r}) have features of shape {tuple(given.shape)}; the model was fitted on "
                f"{dim}-d {node_type!r} features. Give (n, {dim}) features from the encoder the model was run with."
            )
    new: dict[NodeType, Tensor] = {query_type: queries}
    query_index = train.num_nodes(query_type) + torch.arange(len(queries))
    if new_candidates is not None and target == query_type:  # the new candidates come after the queries
        new[target] = torch.cat([queries, new_candidates])
    elif new_candidates is not None:
        new[target] = new_candidates
    candidates, candidate_ids = _candidate_index(
        train, target, view_candidates, new_candidates, new_candidate_ids,
        first=train.num_nodes(target) + (len(queries) if target == query_type else 0),
    )
    scorer = model.scorer(new)
    rows = []
    for start in range(0, len(queries), batch_size):
        batch = query_index[start : start + batch_size]
        scores = scorer.link_scores(edge_type, batch, candidates, reverse=reverse)
        rows += _top_rows(scores, candidate_ids, k, start)
    return pd.DataFrame(rows, columns=["query", "rank", "id", "score"]).astype({"id": object})


def _item_target(train: TrainView) -> NodeType | None:
    """The modality an item task's links rank (the end of its relation that is no item modality),
    None for a label task."""
    edge_type = train.target_edge_type
    if edge_type is None:
        return None
    return edge_type[0] if edge_type[2] in train.item_modalities else edge_type[2]


def _shown(payload: object) -> str:
    """An input for a message: a payload quoted, features by their shape."""
    if isinstance(payload, str | os.PathLike):
        return repr(os.fspath(payload))
    return f"features of shape {tuple(np.shape(payload))}"


def _check_catalogue(catalogue: str, caller: str) -> None:
    if catalogue not in CATALOGUES:
        raise ConfigError(f"The 'catalogue' of {caller} must be one of {CATALOGUES}. Got {catalogue!r} instead.")


def _candidate_index(
    train: TrainView, target: NodeType, view_candidates: Tensor | None, new_candidates: Tensor | None,
    new_candidate_ids: list[str] | None, *, first: int,
) -> tuple[Tensor, list[str]]:
    """The scoring indices and ids of the candidates of ``target``: the view nodes
    ``view_candidates`` (None: all of them), then the new candidates, whose scoring indices start at
    ``first``. Raises when there is none."""
    candidates = torch.arange(train.num_nodes(target)) if view_candidates is None else view_candidates.long()
    candidate_ids = [str(train.node_ids[target][i]) for i in candidates.tolist()]
    if new_candidates is not None:
        candidates = torch.cat([candidates, first + torch.arange(len(new_candidates))])
        candidate_ids += list(new_candidate_ids or [f"new:{i}" for i in range(len(new_candidates))])
    if candidates.numel() == 0:
        raise DataError(
            "The prediction has no candidate to rank: rank a catalogue (--catalogue declared or training) or give "
            "new candidates (--candidate, --candidates-from)."
        )
    return candidates, candidate_ids


def _top_rows(scores: Tensor, candidate_ids: list[str], k: int, start: int) -> list[tuple[int, int, str, float]]:
    """``(query, rank, candidate id, score)`` of the top ``k`` candidates of each row of ``scores``
    (row ``q`` is query ``start + q``).

    Shapes:
        scores: ``(b, len(candidate_ids))``.
    """
    top = scores.topk(min(k, len(candidate_ids)), dim=1)
    return [
        (start + q, r + 1, candidate_ids[int(top.indices[q, r])], float(top.values[q, r]))
        for q in range(top.indices.shape[0]) for r in range(top.indices.shape[1])
    ]
