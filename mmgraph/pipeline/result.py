"""The result of a run and its folder: saved whole or not at all, under a lock, loaded back as a Predictor."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmgraph.data.items import LEVEL_PREFIXES
from mmgraph.data.prepared import PreparedTask
from mmgraph.errors import (
    ConfigError,
    MissingFileError,
    MMGraphError,
    OutputExistsError,
    SavedFileError,
)
from mmgraph.evaluation.metrics import main_metric
from mmgraph.io import (
    LOCK_FILE,
    STAGING_PREFIX,
    check_writable,
    folder_lock,
    load_json,
    output_error,
    remove_leftovers,
)
from mmgraph.models.base import savable_models
from mmgraph.pipeline.environment import json_default
from mmgraph.predict import MODEL_FOLDER, Predictor
from mmgraph.typing import NodeType

logger = logging.getLogger(__name__)


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
    A knowledge-graph (``kg``) run saves its model alone (``model/``: its settings, the training
    triples' graph, the entity features and the weights); :meth:`load` reads it back into ``fitted``.

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
                    if self.fitted is not None and self.fitted.savable() and self.task.get("kind") == "kg":
                        self.fitted.save(staging / MODEL_FOLDER)  # its triples' graph and features within
                    elif self.fitted is not None and self.fitted.savable():
                        self.predictor().save(staging / MODEL_FOLDER)
                    else:
                        record["model_saved"] = (f"no: the {self.model!r} model cannot be saved yet "
                                                 f"(can: {', '.join(savable_models())})")
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
        if result.task.get("kind") == "kg" and (directory / MODEL_FOLDER / "model.json").exists():
            from mmgraph.models import MODELS

            result.fitted = MODELS.get(result.model).load(directory / MODEL_FOLDER, train=None)  # type: ignore[arg-type]
        elif (directory / MODEL_FOLDER / "model.json").exists():
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
        lines.append("  " + "  ".join(f"{k} {m[k]}" if isinstance(m[k], int) else f"{k} {m[k]:.4f}" for k in headline))
        for prefix in ("src->dst", "dst->src"):
            if f"{prefix}/mrr" in m:
                lines.append(
                    f"  {prefix}: mrr {m[f'{prefix}/mrr']:.4f}, hits@10 {m[f'{prefix}/hits@10']:.4f} "
                    f"({m[f'{prefix}/num_queries']} queries, {m[f'{prefix}/num_candidates']} candidates)"
                )
        for prefix in ("tail", "head", "known_entities", "known_entities/tail", "known_entities/head"):  # kg tasks
            if f"{prefix}/mrr" in m:
                count = m["known_entities/num_test"] if prefix.startswith("known_entities") else m["num_test"]
                lines.append(
                    f"  {prefix}: " + ", ".join(f"{k} {m[f'{prefix}/{k}']:.4f}" for k in ("mrr", "hits@1", "hits@10"))
                    + f" ({count} triples)"
                )
        main = f"/{main_metric(task['kind'])}" if task.get("kind") in ("link", "label") else None
        levels = [k.removesuffix(main) for k in m if main and k.startswith(LEVEL_PREFIXES) and k.endswith(main)]
        if levels:  # an item task's other levels (mmgraph.data.items.item_levels)
            lines.append(f"  {main[1:]} by level: " + ", ".join(f"{level} {m[level + main]:.4f}" for level in levels))
        for other in ("held-out", "all"):
            if task.get("kind") == "link" and other != task.get("candidates"):
                value = m.get(f"{other}/mrr")
                lines.append(
                    f"  {other} candidates: "
                    + (f"mrr {value:.4f}, hits@10 {m[f'{other}/hits@10']:.4f}" if value is not None else "n/a")
                )
        lines.append("  " + ", ".join(f"{k} {v:.1f}s" for k, v in self.timings.items()))
        return "\n".join(lines)
