"""A run's configuration: what it records, and reading a stored one (YAML or JSON)."""

from __future__ import annotations

import dataclasses
import json
import os
import reprlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mmgraph.errors import (
    ConfigError,
    MissingFileError,
)
from mmgraph.io import (
    not_utf8_message,
)
from mmgraph.models.base import RelationModel
from mmgraph.pipeline.environment import json_default, package_version
from mmgraph.tasks import Task, task_spec
from mmgraph.training.checkpoint import fingerprint
from mmgraph.typing import NodeType


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


def run_fingerprint(config: Mapping[str, Any], data: str) -> str:
    """What identifies a run: its configuration (keys of :data:`CONFIG_KEYS`, as far as the caller
    knows them), the data's fingerprint and the mmgraph version, hashed. A checkpoint resumes only
    a run of the same fingerprint; the benchmark keys its records by it to reuse finished runs."""
    return fingerprint({"config": dict(config), "data": data, "mmgraph": package_version()})


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
    example = "'task: openmoji-text' and 'model: gnn' on lines of their own" if yaml_file else (
        '{"task": "openmoji-text", "model": "gnn"}'
    )
    expected = f"a mapping of settings such as {example} (keys {list(CONFIG_KEYS)}, 'task' at least)"
    try:
        text = path.read_text(encoding="utf-8")
        record = (yaml.safe_load(text) if yaml_file else json.loads(text)) if text.strip() else None
    except UnicodeDecodeError as error:
        raise ConfigError(not_utf8_message(path, "The configuration file")) from error
    except (ValueError, RecursionError, yaml.YAMLError) as error:  # JSONDecodeError: ValueError
        raise ConfigError(
            f"The configuration file {str(path)!r} cannot be parsed as {'YAML' if yaml_file else 'JSON'} ({error})."
        ) from error
    if record is None:  # an empty file, only comments, or a bare null
        raise ConfigError(f"The configuration file {str(path)!r} is empty; it must be {expected}.")
    if not isinstance(record, dict):
        kinds = {list: "a list", str: "a text", int: "a number", float: "a number", bool: "a boolean"}
        raise ConfigError(
            f"The configuration file {str(path)!r} must be {expected}. Found {kinds.get(type(record), 'a value')}: "
            f"{reprlib.repr(record)}."
        )
    if isinstance(record.get("config"), dict) and "metrics" in record:
        record = record["config"]  # a saved result: its configuration
    if "task" not in record:
        raise ConfigError(
            f"The configuration file {str(path)!r} holds no run configuration: expected a result.json or a mapping "
            f"with the keys {list(CONFIG_KEYS)} ('task' at least). Got a mapping with the keys {sorted(record)}."
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
