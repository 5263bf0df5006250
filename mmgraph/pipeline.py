"""One call from a task to a result: load, split, encode, build the graph, fit, evaluate."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import platform
import random
import shutil
import tempfile
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from mmgraph.data import CANDIDATE_SETS, DatasetSplit, MultimodalDataset, split_dataset
from mmgraph.data.dataset import check_informative
from mmgraph.data.prepared import SETTINGS, PreparedTask
from mmgraph.errors import (
    ConfigError,
    DataError,
    MissingFileError,
    MMGraphError,
    OutputExistsError,
    SavedFileError,
)
from mmgraph.evaluation.evaluator import evaluate_label_queries, evaluate_link_auc, evaluate_link_queries
from mmgraph.io import (
    LOCK_FILE,
    STAGING_PREFIX,
    check_writable,
    folder_lock,
    load_json,
    output_error,
    remove_leftovers,
)
from mmgraph.models.base import SAVABLE, RelationModel, Scoring, Validate
from mmgraph.predict import MODEL_FOLDER, Predictor
from mmgraph.tasks import Task, get_task, task_spec
from mmgraph.training.checkpoint import Checkpoint, fingerprint
from mmgraph.typing import NodeType

logger = logging.getLogger(__name__)


class UnseenLabelWarning(UserWarning):
    """Held-out samples carry a label that no training sample has: valid, but no model can predict it."""


class NoValidationWarning(UserWarning):
    """The split leaves nothing to validate on: valid, but models keep their default settings."""


def _version() -> str:
    from mmgraph import __version__

    return __version__


def encode_dataset(
    dataset: MultimodalDataset,
    split: DatasetSplit,
    *,
    encoders: Mapping[NodeType, Any] | None = None,
    cache: Any = "default",
    progress: bool = True,
    task: Task | None = None,
) -> tuple[dict[NodeType, Tensor], dict[NodeType, Any]]:
    """Encodes every modality of ``dataset``.

    Encoders that learn from the corpus (TF-IDF, pixel PCA, the GRU) are fitted on training
    samples only; an encoder that learns classes (``needs_classes``) gets the classes that the
    ``task``'s training links and labels define (:func:`training_classes`), the information
    every model's ``fit`` reads. Features the dataset already carries are used as they are.

    Returns:
        ``(features, fitted encoders)``; a modality with dataset features has no encoder.
    """
    from mmgraph.encoders import EmbeddingCache, default_encoder, encode_cached, fit_cached, resolve

    if cache == "default":
        cache = EmbeddingCache()
    unknown = sorted(set(encoders or {}) - set(dataset.modalities))
    if unknown:
        raise DataError(
            f"Encoders were given for {unknown}, and {dataset.name!r} has no modality of that name; its modalities "
            f"are {dataset.modalities}. Name encoders by modality, e.g. image=precomputed:vectors.npz."
        )
    features, fitted = {}, {}
    train_ids = set(split.sample_ids("train"))
    classes: dict[NodeType, dict[str, int]] | None = None
    for modality in dataset.modalities:
        if modality in dataset.features:
            features[modality] = torch.as_tensor(dataset.features[modality], dtype=torch.float32)
            continue
        ids = dataset.node_ids(modality)
        payloads = dataset.payloads(modality)
        choice = (encoders or {}).get(modality) or default_encoder(payloads)
        encoder = resolve(choice)
        if encoder.input_kind == "id":  # features a user holds, looked up by sample id
            payloads = [str(i) for i in ids]
        train = [(p, i) for p, i in zip(payloads, ids, strict=True) if i in train_ids]
        # with no training sample, an encoder that learns from its payloads would learn from held-out ones
        # (one that looks up a user's vectors by id learns nothing from them)
        if not train and encoder.requires_fit and encoder.input_kind != "id":
            raise DataError(
                f"The modality {modality!r} has no training sample, and its {encoder.name!r} encoder learns from the "
                "training samples; fitting it on held-out samples would let them shape the features. Give the "
                "modality training samples (check the split's mode and groups) or an encoder with fixed weights "
                "(see `mmgraph encoders`)."
            )
        if not train:
            fit_cached(encoder, [], cache=None, progress=False)  # reads a vectors file; fixed weights: a no-op
        elif encoder.needs_classes:
            if task is None:
                raise DataError(
                    f"The {encoder.name!r} encoder of modality {modality!r} learns the classes of the training "
                    f"samples, which come from the task's training links and labels; pass task= to encode_dataset."
                )
            classes = classes or training_classes(task, dataset, split)
            fit_cached(encoder, [p for p, _ in train], classes=[classes[modality].get(str(i), -1) for _, i in train],
                       cache=cache, progress=progress)
        else:
            fit_cached(encoder, [p for p, _ in train], cache=cache, progress=progress)
        logger.info("encoding %d %s samples with %r", len(payloads), modality, encoder)
        array = encode_cached(encoder, payloads, cache=cache, progress=progress)
        check_informative(array, f"The {encoder.name!r} features of modality {modality!r}")
        features[modality] = torch.as_tensor(array, dtype=torch.float32)
        fitted[modality] = encoder
    return features, fitted


def training_classes(task: Task, dataset: MultimodalDataset, split: DatasetSplit) -> dict[NodeType, dict[str, int]]:
    """Per modality, the class of each training sample (by id) that the task's training links
    and labels define (:meth:`~mmgraph.data.TrainView.sample_classes`); samples outside a class
    are absent. Built from the task's training view, so it reads only what ``fit`` may read."""
    no_features = {m: torch.zeros(len(dataset.node_ids(m)), 0) for m in dataset.modalities}
    view = PreparedTask(task, dataset, split, no_features).train_view()
    classes, _ = view.sample_classes()
    return {
        m: {str(i): int(c) for i, c in zip(view.node_ids[m], classes[m], strict=True) if c >= 0}
        for m in view.node_types
    }


def prepare_task(
    task: Task,
    dataset: MultimodalDataset,
    *,
    seed: int,
    features: Mapping[NodeType, Tensor],
    split: DatasetSplit | None = None,
    setting: str = "inductive",
) -> PreparedTask:
    """Splits the dataset (unless ``split`` is given) and prepares the task's views."""
    split = split or split_dataset(dataset, seed=seed, **task.split)
    return PreparedTask(task, dataset, split, dict(features), setting=setting)


# ---------------------------------------------------------------------- models
def make_model(model: str | RelationModel, options: Mapping[str, Any] | None, seed: int) -> RelationModel:
    """Builds a model from its name (``"gnn"``) or returns an instance as it is."""
    from mmgraph.models import MODELS

    if not isinstance(model, str):
        return model
    options = dict(options or {})
    options.setdefault("seed", seed)
    return MODELS.get(model)(**options)


def validator(prepared: PreparedTask, *, part: str = "val") -> Validate | None:
    """The validation callback of a prepared task: a scoring's scores of the validation samples,
    attached as new samples, on the questions of the task's declared candidate set. ``None``
    when validation asks nothing."""
    new = prepared.new_samples(part)
    if prepared.task.kind == "link":
        queries = prepared.link_queries(part)
        if not queries:
            return None

        def validate(scoring: Scoring, *, max_links: int | None = None) -> dict[str, float]:
            return evaluate_link_queries(scoring(new).link_scores, queries, max_links=max_links)
    else:
        labels = prepared.label_queries(part)
        if labels.nodes.numel() == 0:
            return None

        def validate(scoring: Scoring, *, max_links: int | None = None) -> dict[str, float]:
            return evaluate_label_queries(scoring(new).predict_labels, labels)
    return validate


def evaluate(model: RelationModel, prepared: PreparedTask, part: str = "test", *, seed: int = 0) -> dict[str, float]:
    """Metrics of a fitted model on one held-out part, through its scorer of new samples.

    Link tasks: the rank metrics of the declared candidate set without prefix, both candidate
    sets under ``"held-out/..."`` and ``"all/..."`` (a set that asks nothing is left out), and
    AUC/AP with negatives drawn like the declared candidates. Label tasks: accuracy, macro-F1.
    """
    scorer = model.scorer(prepared.new_samples(part))
    if prepared.task.kind == "label":
        queries = prepared.label_queries(part)
        metrics = evaluate_label_queries(scorer.predict_labels, queries)
        if not metrics:
            raise DataError(f"The task {prepared.task.name!r} has no labelled {part} samples to evaluate.")
        seen = {int(c) for labels in prepared.train_view().labels.values() for c in labels[labels >= 0]}
        unseen = sorted({queries.classes[c] for c in queries.labels.tolist() if c not in seen})
        if unseen:  # valid (a new class exists), but no model can predict it: say so beside the numbers
            count = sum(queries.classes[c] in unseen for c in queries.labels.tolist())
            warnings.warn(
                f"{count} {part} samples of the task {prepared.task.name!r} carry labels no training sample has "
                f"({unseen[:5]}{' ...' if len(unseen) > 5 else ''}); no model can predict them, and they count as "
                "errors in accuracy and macro-F1.",
                UnseenLabelWarning, stacklevel=2,
            )
        return metrics
    metrics: dict[str, float] = {}
    for candidate_set in CANDIDATE_SETS:
        queries = prepared.link_queries(part, candidate_set)
        values = evaluate_link_queries(scorer.link_scores, queries)
        metrics.update({f"{candidate_set}/{k}": v for k, v in values.items()})
        if candidate_set == prepared.task.candidates:
            if not values:
                raise DataError(
                    f"The task {prepared.task.name!r} asks no cold {part} link from the {candidate_set!r} candidates: "
                    "no held-out sample of the query modality has a link of the evaluated type whose other end is a "
                    "candidate. Check the split (mode, hide) and the candidate set."
                )
            metrics.update(values)
            metrics.update(evaluate_link_auc(scorer.link_scores, queries, seed=seed))
    return metrics


# ---------------------------------------------------------------------- results
RESULT_FILES: tuple[str, ...] = ("result.json", MODEL_FOLDER)
"""The entries that hold a saved result in its folder (see :func:`is_own_entry` for all of mmgraph's)."""

CHECKPOINT_FOLDER = "checkpoints"
"""The folder of a run's checkpoints inside its result folder (``mmgraph run --out``) while it trains."""


def is_own_entry(name: str) -> bool:
    """Whether an entry of a result folder is mmgraph's own: the result (:data:`RESULT_FILES`), the
    checkpoints of a run training there (:data:`CHECKPOINT_FOLDER`), the lock of a save
    (:data:`~mmgraph.io.LOCK_FILE`) or the staging folder of a save under way or killed
    (:data:`~mmgraph.io.STAGING_PREFIX`). Nothing else in a result folder is ever touched."""
    return name in (*RESULT_FILES, CHECKPOINT_FOLDER, LOCK_FILE) or name.startswith(STAGING_PREFIX)


def check_result_folder(directory: str | os.PathLike, *, overwrite: bool = False) -> None:
    """Raises unless ``directory`` may receive a result: missing, empty, an earlier mmgraph run
    (also one whose save was killed), or (with ``overwrite``) any folder, where only mmgraph's
    entries are replaced; and it can be written (it is made if missing, as the run would).

    Raises:
        OutputExistsError: ``directory`` is a file, or holds other files and ``overwrite`` is off.
        OutputError: it cannot be written (read-only, no permission, a parent that is a file).
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise OutputExistsError(f"Cannot save the result to {str(directory)!r}: it is a file. Give a folder.")
    if directory.is_dir() and not overwrite:
        try:
            foreign = sorted(p.name for p in directory.iterdir() if not is_own_entry(p.name))
        except OSError as error:
            raise output_error(directory, error) from error
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise OutputExistsError(
                f"The folder {str(directory.resolve())!r} holds files mmgraph did not write ({shown}); saving "
                "there could mix a run with your files. Give another (new or empty) folder, or pass "
                "overwrite=True (--overwrite) to replace only mmgraph's result.json and model/ there."
            )
    check_writable(directory)


def _describe(path: Path) -> str | None:
    """A saved result in a few words (task, model, seed), for saying that it was replaced; None if none."""
    if not path.exists():
        return None
    try:
        record = load_json(path)
        return f"task {record['task']['name']}, model {record['model']}, seed {record['seed']}"
    except (MMGraphError, KeyError, TypeError):
        return "a result.json mmgraph cannot read"


def _move_in(staging: Path, directory: Path) -> None:
    """Moves the result staged in ``staging`` into ``directory``, the earlier result's entries into
    ``staging``. ``result.json`` leaves first and comes in last, so a ``result.json`` in the folder
    always belongs to the model beside it; an error puts back what was moved, then propagates."""
    moved: list[tuple[Path, Path]] = []
    try:
        for name in RESULT_FILES:  # the earlier run leaves, result.json first
            if (directory / name).exists():
                os.replace(directory / name, staging / f"{name}.old")
                moved.append((directory / name, staging / f"{name}.old"))
        for name in reversed(RESULT_FILES):  # this run comes in, result.json last
            if (staging / name).exists():
                os.replace(staging / name, directory / name)
                moved.append((staging / name, directory / name))
    except OSError:
        for source, target in reversed(moved):
            with contextlib.suppress(OSError):
                os.replace(target, source)
        raise


@dataclass
class PipelineResult:
    """What one run produced: metrics, settings, seed, timings and the fitted model.

    ``save(directory)`` writes ``result.json`` and, where the model can, its weights; no pickle.

    Provenance: ``seed`` (drawn and logged when none was given), ``config`` (the arguments of
    :func:`pipeline` that run the same thing again, see :func:`run_config`), ``model_config``
    (the model's settings and what it chose on validation), ``version`` and ``environment``
    (the versions of mmgraph, Python, torch, torch_geometric, numpy and scikit-learn, the
    machine and its threads) and ``data`` (the dataset's name, size and
    :meth:`~mmgraph.data.MultimodalDataset.fingerprint`).
    """

    task: dict[str, Any]
    model: str
    seed: int
    metrics: dict[str, float]
    config: dict[str, Any]
    timings: dict[str, float]
    version: str
    environment: dict[str, str] = field(default_factory=dict)
    model_config: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    fitted: Any = field(default=None, repr=False, compare=False)
    prepared: PreparedTask | None = field(default=None, repr=False, compare=False)
    encoders: dict[NodeType, Any] = field(default_factory=dict, repr=False, compare=False)
    _predictor: Predictor | None = field(default=None, init=False, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task, "model": self.model, "seed": self.seed, "metrics": self.metrics,
            "config": self.config, "timings": self.timings, "version": self.version,
            "environment": self.environment, "model_config": self.model_config, "data": self.data,
        }

    def save(self, directory: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Writes ``result.json`` and ``model/`` (the model folder of :class:`Predictor`, for the
        models that can be saved) to ``directory``; never deletes what mmgraph did not write.

        ``directory`` may be missing, empty or an earlier mmgraph run, whose ``result.json`` and
        ``model/`` are replaced (said in a warning); a folder holding anything else raises
        ``FileExistsError`` unless ``overwrite=True``, which replaces mmgraph's own entries there and
        leaves every other file as it is (see :func:`check_result_folder`).

        Safe to interrupt and to run twice at once: the result is written into a staging folder
        inside ``directory`` and moved in, ``result.json`` last, so a ``result.json`` there always
        belongs to the model beside it; what a killed save left is removed by the next one. Saves into
        one folder take turns (:func:`~mmgraph.io.folder_lock`): a second one waits, then replaces
        the first one's result, and says so.

        Raises:
            OutputExistsError: see :func:`check_result_folder`.
            OutputError: the folder cannot be written (read-only, full, no permission); the
                folder then holds what it held before.
        """
        directory = Path(directory)
        check_result_folder(directory, overwrite=overwrite)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            waiting = (f"another mmgraph run is saving its result into {str(directory)!r}; this result waits, "
                       "then replaces it")
            with folder_lock(directory, waiting=waiting):
                remove_leftovers(directory)  # every live save holds the lock: these are dead ones'
                staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=directory))
                try:
                    record = self.to_dict()
                    if self.fitted is not None and self.fitted.name in SAVABLE:
                        self.predictor().save(staging / MODEL_FOLDER)
                    else:
                        record["model_saved"] = (f"no: the {self.model!r} model cannot be saved yet "
                                                 f"(can: {', '.join(SAVABLE)})")
                    (staging / "result.json").write_text(json.dumps(record, indent=2, default=json_default))
                    earlier = _describe(directory / "result.json")
                    _move_in(staging, directory)
                finally:
                    shutil.rmtree(staging, ignore_errors=True)  # only what this call wrote or retired
        except MMGraphError:
            raise
        except OSError as error:
            raise output_error(directory, error) from error
        if earlier:
            logger.warning("the earlier result in %s (%s) was replaced by this one", directory, earlier)
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike) -> PipelineResult:
        """Reads a result written by :meth:`save`, with its model when one was saved.

        A ``result.json`` written by another mmgraph version loads (its ``version`` says which;
        keys this version does not know are left out); its model folder loads only with the
        version that wrote it (:class:`~mmgraph.errors.SavedFileError` otherwise).
        """
        directory = Path(directory)
        if not (directory / "result.json").exists():
            raise MissingFileError(f"No result.json in {str(directory)!r}; give the folder a run saved to.")
        record = load_json(directory / "result.json")
        stored = {f.name for f in dataclasses.fields(cls) if f.init} - {"fitted", "prepared", "encoders"}
        required = {f.name for f in dataclasses.fields(cls) if f.init and f.default is dataclasses.MISSING
                    and f.default_factory is dataclasses.MISSING}
        missing = sorted(required - set(record))
        if missing:
            raise SavedFileError(
                f"{str(directory / 'result.json')!r} is not a saved mmgraph result: it lacks {missing}. "
                "Give the folder `mmgraph run --out` (or PipelineResult.save) wrote."
            )
        result = cls(**{k: v for k, v in record.items() if k in stored})
        if (directory / MODEL_FOLDER / "model.json").exists():
            result._predictor = Predictor.load(directory / MODEL_FOLDER)
            result.fitted = result._predictor.model
        return result

    def predictor(self) -> Predictor:
        """The fitted model with what prediction needs (this session's run, or the loaded one)."""
        if self._predictor is None:
            if self.fitted is None or self.prepared is None:
                raise ConfigError(
                    "This result holds no fitted model: run the pipeline, or load a run saved with its model."
                )
            prepared, train = self.prepared, self.prepared.train_view()
            catalogue = prepared.catalogue("test") if prepared.target_edge_type is not None else None
            payloads = {}
            for modality, ids in train.node_ids.items():
                if modality in self.encoders:
                    known = {str(i) for i in ids}
                    known |= {str(i) for i in catalogue.new_ids.get(modality, ())} if catalogue else set()
                    payloads[modality] = {
                        str(i): p for i, p in zip(prepared.dataset.node_ids(modality),
                                                  prepared.dataset.payloads(modality), strict=True) if str(i) in known
                    }
            self._predictor = Predictor(
                self.fitted, train, self.encoders, task=self.task, payloads=payloads, catalogue=catalogue
            )
        return self._predictor

    def __str__(self) -> str:
        """The headline numbers: the declared candidate set's metrics, per direction, the other set."""
        task = self.task
        lines = [f"{task['name']} | model {self.model} | seed {self.seed} | {task.get('setting', 'inductive')}"
                 + (f", candidates {task['candidates']}" if task.get("kind") == "link" else "")]
        m = self.metrics
        headline = [k for k in m if "/" not in k]
        lines.append("  " + "  ".join(f"{k} {m[k]:.4f}" for k in headline))
        for prefix in ("src->dst", "dst->src"):
            if f"{prefix}/mrr" in m:
                lines.append(
                    f"  {prefix}: mrr {m[f'{prefix}/mrr']:.4f}, hits@10 {m[f'{prefix}/hits@10']:.4f} "
                    f"({m[f'{prefix}/num_queries']} queries, {m[f'{prefix}/num_candidates']} candidates)"
                )
        for other in ("held-out", "all"):
            if task.get("kind") == "link" and other != task.get("candidates"):
                value = m.get(f"{other}/mrr")
                lines.append(
                    f"  {other} candidates: "
                    + (f"mrr {value:.4f}, hits@10 {m[f'{other}/hits@10']:.4f}" if value is not None else "n/a")
                )
        lines.append("  " + ", ".join(f"{k} {v:.1f}s" for k, v in self.timings.items()))
        return "\n".join(lines)


def json_default(value: Any) -> Any:
    """Turns numpy scalars, tuples, sets and paths into JSON values (``json.dumps(default=...)``)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | set):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"Cannot write {type(value).__name__} to JSON")


def _environment() -> dict[str, str]:
    import sklearn
    import torch_geometric

    return {
        "mmgraph": _version(), "python": platform.python_version(), "torch": torch.__version__,
        "torch_geometric": torch_geometric.__version__, "numpy": np.__version__, "scikit-learn": sklearn.__version__,
        "machine": platform.machine(), "cpus": str(os.cpu_count()), "torch_threads": str(torch.get_num_threads()),
    }


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pipeline(
    task: str | Task | Mapping[str, Any],
    *,
    dataset: MultimodalDataset | None = None,
    model: str | RelationModel = "gnn",
    seed: int | None = None,
    root: str | os.PathLike | None = None,
    model_options: Mapping[str, Any] | None = None,
    encoders: Mapping[NodeType, Any] | None = None,
    setting: str = "inductive",
    cache: Any = "default",
    progress: bool = True,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every: int = 10,
) -> PipelineResult:
    """Runs one task end to end and evaluates on its test split.

    The model is fitted on the training view only (in the default ``"inductive"`` setting, held-out
    samples do not exist for it), selected on validation, and the test samples are then scored
    as new samples through :meth:`RelationModel.scorer`, the path prediction takes.

    Args:
        task: a task name (see :data:`mmgraph.tasks.TASKS`), a :class:`Task` or its
            :meth:`Task.spec`.
        dataset: the dataset; default: the task's loader with its options.
        model: ``"gnn"`` (the default relation learner) or another registered model name.
        seed: seeds the split, the encoders' fitting and the model; drawn and logged if None.
        root: where the shared data lies (else ``MMGRAPH_DATA``).
        model_options: settings of the model (for ``"gnn"``: :class:`~mmgraph.models.gnn_model.GNNConfig`).
        encoders: encoder per modality (a name, an instance or a spec, see
            :func:`mmgraph.encoders.resolve`), overriding the task's choice.
        setting: ``"inductive"`` (default) or ``"transductive"`` (held-out features visible to
            every model alike); named in the result.
        cache: an :class:`~mmgraph.encoders.EmbeddingCache`, ``"default"`` or ``None``.
        progress: show progress bars.
        checkpoint_dir: a folder where training saves a checkpoint every ``checkpoint_every``
            epochs (models with a training loop: ``gnn``, ``siamese``, ``fusion``,
            ``attention-fusion``). Called again with the same arguments after being killed, the
            run resumes from the last checkpoint and gives the same result as an uninterrupted
            one; a checkpoint of another configuration or data is not resumed (the run starts
            fresh). The checkpoint's files are removed when the run succeeds.
        checkpoint_every: epochs between checkpoints.

    Returns:
        The :class:`PipelineResult`, with the fitted model in ``result.fitted``. Its ``config``
        holds the arguments that run the same thing again: ``pipeline(**result.config)`` (with
        the same ``dataset=`` when one was passed) gives the same metrics on the same machine.

    Example:
        >>> result = pipeline("openmoji-text", seed=0)  # doctest: +SKIP
        >>> result.metrics["mrr"]  # doctest: +SKIP
    """
    from mmgraph.datasets import load

    task = get_task(task)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0):
        raise ConfigError(f"The 'seed' of pipeline must be an int >= 0 (or None to draw one). Got {seed!r} instead.")
    if setting not in SETTINGS:
        raise ConfigError(f"The 'setting' of pipeline must be one of {SETTINGS}. Got {setting!r} instead.")
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**31))
        logger.warning("no seed given; drew seed %d", seed)
    fitted = make_model(model, model_options, seed)  # a wrong name or setting fails now, not after encoding
    seed_everything(seed)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    if dataset is None:
        if task.dataset is None:
            raise DataError(f"The task {task.name!r} names no dataset; pass dataset=.")
        dataset = load(task.dataset, root=root, **task.dataset_options)
    dataset = task.make_dataset(dataset, seed)
    split = split_dataset(dataset, seed=seed, **task.split)
    timings["load_seconds"] = time.perf_counter() - start

    start = time.perf_counter()
    features, fitted_encoders = encode_dataset(
        dataset, split, encoders={**task.encoders, **(encoders or {})}, cache=cache, progress=progress, task=task
    )
    timings["encode_seconds"] = time.perf_counter() - start

    prepared = prepare_task(task, dataset, seed=seed, features=features, split=split, setting=setting)
    _check_parts(prepared)
    start = time.perf_counter()
    name = getattr(fitted, "name", type(fitted).__name__)
    config = run_config(task, name, fitted, seed=seed, setting=setting, encoders=fitted_encoders)
    data = {"dataset": dataset.name, "fingerprint": dataset.fingerprint(), "samples": len(dataset.samples),
            "links": len(dataset.links)}
    checkpoint = None
    if checkpoint_dir is not None:
        run = {"config": config, "data": data["fingerprint"], "mmgraph": _version()}
        checkpoint = Checkpoint(checkpoint_dir, fingerprint=fingerprint(run), every=checkpoint_every)
    fitted.fit(prepared.train_view(), validate=validator(prepared), progress=progress, checkpoint=checkpoint)
    timings["train_seconds"] = time.perf_counter() - start

    start = time.perf_counter()
    metrics = evaluate(fitted, prepared, "test", seed=seed)
    timings["eval_seconds"] = time.perf_counter() - start
    if checkpoint is not None:
        checkpoint.remove()
    return PipelineResult(
        task={**task.summary(), "setting": setting}, model=name, seed=seed,
        metrics={k: int(v) if k.endswith(("num_queries", "num_candidates")) else float(v) for k, v in metrics.items()},
        config=config, timings=timings, version=_version(), environment=_environment(), model_config=fitted.config(),
        data=data, fitted=fitted, prepared=prepared, encoders=fitted_encoders,
    )


def _check_parts(prepared: PreparedTask) -> None:
    """Before training: a split whose test part asks nothing fails now, not after the fit; one whose
    validation part asks nothing is valid (models keep their default settings) and is said."""
    task = prepared.task

    def asks(part: str) -> bool:
        if task.kind == "label":
            return prepared.label_queries(part).nodes.numel() > 0
        return bool(prepared.link_queries(part, task.candidates))

    if not asks("test"):
        raise DataError(
            f"The split of the task {task.name!r} leaves no test {'labels' if task.kind == 'label' else 'links'} to "
            f"evaluate (split {task.split}, {prepared.split!r}). Give the test part a larger fraction or more data."
        )
    if not asks("val"):
        warnings.warn(
            f"The split of the task {task.name!r} leaves no validation "
            f"{'labels' if task.kind == 'label' else 'links'}; the model is not selected on validation and keeps its "
            "default settings.",
            NoValidationWarning, stacklevel=3,
        )


def run_config(
    task: Task, model: str, fitted: RelationModel, *, seed: int, setting: str, encoders: Mapping[NodeType, Any]
) -> dict[str, Any]:
    """The arguments of :func:`pipeline` that run the same thing again, as plain JSON values.

    ``task`` is a named task's name or every setting of the task; ``model_options`` every
    setting of the model (its seed too); ``encoders`` the name and settings of the encoder of
    every encoded modality. The dataset is not in it: pass the same ``dataset=`` when the run
    had one (the result's ``data["fingerprint"]`` tells whether it is the same data).
    """
    from mmgraph.encoders import encoder_spec

    options = dataclasses.asdict(fitted.settings)
    record = {
        "task": task_spec(task), "model": model, "model_options": options, "seed": seed, "setting": setting,
        "encoders": {m: encoder_spec(e) for m, e in encoders.items()},
    }
    return json.loads(json.dumps(record, default=json_default))  # tuples to lists: what a saved config reads


CONFIG_KEYS: tuple[str, ...] = ("task", "model", "model_options", "seed", "setting", "encoders")
"""The keys of a run's configuration (:func:`run_config`), the arguments of :func:`pipeline` it holds."""

_CONFIG_TYPES: dict[str, tuple[type, ...]] = {
    "task": (str, dict), "model": (str,), "model_options": (dict,), "seed": (int, type(None)), "setting": (str,),
    "encoders": (dict,),
}


def load_config(path: str | os.PathLike) -> dict[str, Any]:
    """Reads a run's configuration from a file: a saved ``result.json`` (its ``config``) or a bare
    configuration with the keys of :data:`CONFIG_KEYS`, as JSON or (``.yaml`` / ``.yml``) YAML.

    ``pipeline(**load_config(path))`` runs it again (with the same ``dataset=`` when the run had
    one). Only ``task`` is required; the other keys default as in :func:`pipeline`.

    Raises:
        MissingFileError: no such file.
        ConfigError: the file cannot be parsed, or holds no configuration, an unknown key or a
            value of the wrong type; the message names the file, the key and the value.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"The configuration file {str(path)!r} does not exist; give a result.json or a config.")
    import yaml

    yaml_file = path.suffix.lower() in (".yaml", ".yml")
    try:
        text = path.read_text(encoding="utf-8")
        record = yaml.safe_load(text) if yaml_file else json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError, yaml.YAMLError) as error:  # JSONDecodeError: ValueError
        raise ConfigError(
            f"The configuration file {str(path)!r} cannot be parsed as {'YAML' if yaml_file else 'JSON'} ({error})."
        ) from error
    if isinstance(record, dict) and isinstance(record.get("config"), dict) and "metrics" in record:
        record = record["config"]  # a saved result: its configuration
    if not isinstance(record, dict) or "task" not in record:
        raise ConfigError(
            f"The configuration file {str(path)!r} holds no run configuration: expected a result.json or a mapping "
            f"with the keys {list(CONFIG_KEYS)} ('task' at least). Got {type(record).__name__}"
            + (f" with the keys {sorted(record)}." if isinstance(record, dict) else ".")
        )
    unknown = sorted(set(record) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(
            f"The configuration file {str(path)!r} has unknown key(s) {unknown}. Valid keys: {list(CONFIG_KEYS)}."
        )
    for key, value in record.items():
        if not isinstance(value, _CONFIG_TYPES[key]) or isinstance(value, bool):
            kinds = " or ".join("null" if t is type(None) else t.__name__ for t in _CONFIG_TYPES[key])
            raise ConfigError(
                f"The {key!r} of the configuration file {str(path)!r} must be a {kinds}. Got {value!r} instead."
            )
    return record


def predict_links(
    result: PipelineResult,
    payloads: list[str],
    *,
    modality: NodeType | None = None,
    target: NodeType | None = None,
    k: int = 10,
    catalogue: str = "declared",
) -> pd.DataFrame:
    """Ranks ``target`` samples for brand-new samples (see :meth:`Predictor.predict_links`).

    The new samples are encoded with the run's fitted encoders, attached to the fitted model's
    training view by similarity (they have no known link) and scored, exactly as the evaluator
    scores held-out samples.

    Args:
        catalogue: the known candidates to rank (:data:`~mmgraph.predict.CATALOGUES`): by default
            the task's declared candidate set, the one the run's metrics rank.

    Returns:
        One row per (query, rank): ``query`` (position in ``payloads``), ``rank``, ``id`` and
        ``payload`` of the candidate, and ``score``.
    """
    return result.predictor().predict_links(payloads, modality=modality, target=target, k=k, catalogue=catalogue)
