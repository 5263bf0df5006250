"""The :class:`Encoder` base class: payloads in, one float32 feature row per sample out.

An encoder turns payloads (inline texts, file paths or sample ids, by its ``input_kind``) into
an array of shape ``(n, dim)``. Subclasses implement three small hooks:

* ``_prepare(payload)``: read and check one payload (decode a file, check a text), run per
  sample, possibly in worker threads; any error it raises is reported with the sample's index;
* ``_embed(prepared)``: turn a batch of prepared payloads into a ``(batch, dim)`` array;
* ``_get_state()`` / ``_set_state(state)``: the fitted state as NumPy arrays, for encoders that
  learn from the corpus in :meth:`Encoder.fit`.

The base class does the rest: batching, a progress bar, the checks that every output is finite
float32 of the right shape, the fingerprint used as cache key, and ``save`` / ``load`` as JSON
plus ``.npz`` (never pickle).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import sys
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from mmgraph.errors import (
    ConfigError,
    ConfigTypeError,
    DataError,
    EncodingError,
    MissingFileError,
    NotFittedError,
    SavedFileError,
)
from mmgraph.io import atomic_write, load_json

INPUT_KINDS: tuple[str, ...] = ("text", "image", "audio", "id", "any")
"""What an encoder's payloads are: inline text, an image file, an audio file, a sample id."""

PROGRESS_THRESHOLD = 256
"""``progress=None`` shows a progress bar from this many samples on."""

CONFIG_FILE = "config.json"
STATE_FILE = "state.npz"
_FORMAT = "mmgraph.encoder"
_FORMAT_VERSION = 1


def describe_payload(payload: object, *, limit: int = 80) -> str:
    """Returns a short printable form of a payload for error messages."""
    text = repr(os.fspath(payload)) if isinstance(payload, os.PathLike) else repr(payload)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def sample_name(index: int | None, payload: object) -> str:
    """Returns ``"sample 3 ('a.png')"``, the way errors name a sample."""
    where = f"sample {index}" if index is not None else "sample"
    return f"{where} ({describe_payload(payload)})"


def check_int(value: object, *, name: str, owner: str, minimum: int = 1) -> int:
    """Returns ``value`` if it is an int of at least ``minimum``; raises a clear error if not."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(
            f"The '{name}' parameter of {owner} must be an int >= {minimum}. Got {value!r} instead."
        )
    return int(value)


def check_float(
    value: object, *, name: str, owner: str, minimum: float = 0.0, maximum: float | None = None
) -> float:
    """Returns ``value`` as a float if it lies in ``[minimum, maximum]``; raises if not."""
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    ok = ok and np.isfinite(value) and value >= minimum and (maximum is None or value <= maximum)
    if not ok:
        bound = f"in [{minimum}, {maximum}]" if maximum is not None else f">= {minimum}"
        raise ConfigError(
            f"The '{name}' parameter of {owner} must be a number {bound}. Got {value!r} instead."
        )
    return float(value)


def check_bool(value: object, *, name: str, owner: str) -> bool:
    """Returns ``value`` if it is a bool; raises a clear error if not."""
    if not isinstance(value, bool | np.bool_):
        raise ConfigError(
            f"The '{name}' parameter of {owner} must be a bool. Got {value!r} instead."
        )
    return bool(value)


def check_range(value: object, *, name: str, owner: str) -> tuple[int, int]:
    """Returns ``value`` as ``(low, high)`` with ``1 <= low <= high``; raises if it is not one."""
    ok = isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2
    ok = ok and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    if not ok or not 1 <= value[0] <= value[1]:
        raise ConfigError(
            f"The '{name}' parameter of {owner} must be a pair (low, high) of ints with "
            f"1 <= low <= high. Got {value!r} instead."
        )
    return int(value[0]), int(value[1])


@contextmanager
def torch_threads(num_threads: int | None) -> Iterator[None]:
    """Runs a block with ``num_threads`` torch threads (all cores when ``None``), then restores.

    The count is capped at ``os.cpu_count()``.
    """
    import torch

    cores = os.cpu_count() or 1
    wanted = min(num_threads or cores, cores)
    previous = torch.get_num_threads()
    torch.set_num_threads(wanted)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def package_version(name: str) -> str | None:
    """Returns the installed version of a distribution, or ``None`` if it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _digest_arrays(state: Mapping[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for key in sorted(state):
        array = np.ascontiguousarray(state[key])
        digest.update(f"{key}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


class Encoder:
    """Base class of all encoders: ``encode(payloads) -> (n, dim)`` float32 array.

    Subclasses set the class attributes below, take their settings as keyword-only arguments
    (stored as attributes of the same name, listed in ``config_keys``) and implement
    ``_prepare``, ``_embed`` and ``_dim``; encoders that learn from the corpus also implement
    ``fit``, ``_get_state``, ``_set_state`` and ``_is_fitted``.

    Args:
        **config: the settings named in ``config_keys``; any other keyword raises.

    Attributes:
        name: the registry name (``"minilm"``).
        config_keys: the settings that :meth:`get_config` returns and :meth:`load` restores.
        runtime_keys: the settings among ``config_keys`` that do not change the output
            (batch size, thread count); they are left out of :meth:`fingerprint`.
        input_kind: what a payload is: ``"text"`` (inline text), ``"image"`` or ``"audio"``
            (a file path), ``"id"`` (a sample id) or ``"any"``.
        requires_fit: whether :meth:`fit` must run before :meth:`encode`.
        cache_fit: whether :func:`~mmgraph.encoders.fit_cached` may store the fitted state, keyed
            by config, training payload contents and classes: set where the state depends on
            nothing else (not where fit reads a file named in the config) and fitting is slow.
        version: bumped when the output for the same config changes, so caches invalidate.
        prepare_workers: threads that run ``_prepare`` (file decoding) in parallel.
        config_attributes: the attribute that stores a setting, where it is not the setting's
            own name (``{"dim": "wanted_dim"}``, since ``dim`` is the output dimension).
    """

    name: ClassVar[str] = "encoder"
    config_keys: ClassVar[tuple[str, ...]] = ()
    runtime_keys: ClassVar[tuple[str, ...]] = ("batch_size", "num_threads")
    input_kind: ClassVar[str] = "any"
    requires_fit: ClassVar[bool] = False
    cache_fit: ClassVar[bool] = False
    version: ClassVar[int] = 1
    prepare_workers: ClassVar[int] = 1
    config_attributes: ClassVar[dict[str, str]] = {}

    batch_size: int = 64

    def __init__(self, **config: Any) -> None:
        unknown = sorted(set(config) - set(self.config_keys))
        if unknown:
            raise ConfigTypeError(
                f"{type(self).__name__} got unknown parameter(s) {unknown}; "
                f"valid ones are {sorted(self.config_keys)}."
            )
        for key, value in config.items():
            setattr(self, self.config_attributes.get(key, key), value)

    # ----------------------------------------------------------------- hooks for subclasses
    def _prepare(self, payload: Any) -> Any:
        """Reads and checks one payload; raises ``ValueError``/``OSError`` with a reason."""
        return payload

    def _embed(self, prepared: list[Any]) -> np.ndarray:
        """Turns a batch of prepared payloads into an array of shape ``(batch, dim)``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _embed.")

    def _dim(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} does not implement _dim.")

    def _get_state(self) -> dict[str, np.ndarray]:
        """The fitted state as NumPy arrays (numeric or fixed-width unicode, never object)."""
        return {}

    def _set_state(self, state: Mapping[str, np.ndarray]) -> None:
        if state:
            raise SavedFileError(f"{type(self).__name__} has no fitted state; got {sorted(state)}.")

    def _is_fitted(self) -> bool:
        return True

    def _model_identity(self) -> dict[str, Any]:
        """What identifies the weights an encoder uses (package and version), for fingerprints."""
        return {}

    # --------------------------------------------------------------------- public interface
    @property
    def dim(self) -> int:
        """The number of features per sample (for a fitted encoder, what the corpus allowed)."""
        return self._dim()

    @property
    def needs_classes(self) -> bool:
        """Whether :meth:`fit` takes the classes of the training samples (``fit(payloads, classes=...)``,
        one int per payload, ``-1`` for none); :func:`mmgraph.pipeline.encode_dataset` passes the
        classes the task's training links and labels define."""
        return False

    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`encode` can run (always true for encoders that need no fitting)."""
        return not self.requires_fit or self._is_fitted()

    def fit(self, payloads: Sequence[Any], *, progress: bool | None = None) -> Encoder:
        """Learns from the corpus; a no-op for encoders with fixed weights.

        Args:
            payloads: the corpus, as for :meth:`encode`.
            progress: show a progress bar (``None``: from 256 samples on).

        Returns:
            The encoder itself.
        """
        self._as_list(payloads)
        return self

    def encode(self, payloads: Sequence[Any], *, progress: bool | None = None) -> np.ndarray:
        """Encodes payloads into features.

        Args:
            payloads: texts, file paths or ids, by ``input_kind``.
            progress: show a tqdm progress bar on stderr; ``None`` shows one from 256 samples on.

        Returns:
            A finite float32 array.

        Shapes:
            output: ``(len(payloads), dim)``

        Raises:
            EncodingError: a payload cannot be encoded; the message names the sample.
            NotFittedError: the encoder needs :meth:`fit` first.
        """
        items = self._as_list(payloads)
        self.check_fitted()
        out = np.empty((len(items), self.dim), dtype=np.float32)
        for positions, block in self.iter_batches(items, progress=progress):
            out[positions] = block
        return out

    def iter_batches(
        self,
        payloads: Sequence[Any],
        *,
        indices: Sequence[int] | None = None,
        progress: bool | None = None,
        total: int | None = None,
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Encodes payloads batch by batch, yielding ``(positions, features)`` per batch.

        Used by :func:`mmgraph.encoders.encode_cached` to store each batch as soon as it is
        done. ``positions`` index into ``payloads``; errors name the sample by ``indices``
        (the positions in the caller's own list) when given.

        Args:
            payloads: the payloads to encode.
            indices: the sample numbers to use in error messages; defaults to positions.
            progress: as for :meth:`encode`.
            total: the sample count that decides whether ``progress=None`` shows a bar.

        Yields:
            ``(positions, features)`` with ``features`` of shape ``(len(positions), dim)``.
        """
        items = self._as_list(payloads)
        self.check_fitted()
        names = list(range(len(items))) if indices is None else list(indices)
        for start, batch in self._batches(items, names, progress=progress, total=total):
            positions = np.arange(start, start + len(batch))
            yield positions, self._check_output(batch, items, names, start)

    def get_config(self) -> dict[str, Any]:
        """Returns the settings as a JSON-able dict; ``type(self)(**config)`` rebuilds it."""
        return {key: _jsonable(self._config_value(key)) for key in self.config_keys}

    def _config_value(self, key: str) -> Any:
        return getattr(self, self.config_attributes.get(key, key))

    def fingerprint(self) -> str:
        """Returns a stable hash of name, version, config (less runtime keys), weights and state.

        Two encoders with the same fingerprint give the same features; it is the cache key.
        """
        self.check_fitted()
        text = json.dumps({**self.identity(), "state": self._state_digest()}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def identity(self) -> dict[str, Any]:
        """What makes two encoders give the same features before any fitting: name, version,
        config (less runtime keys) and the weights they use (JSON-ready)."""
        config = {k: v for k, v in self.get_config().items() if k not in self.runtime_keys}
        return {"name": self.name, "version": self.version, "config": config, "model": self._model_identity()}

    def _state_digest(self) -> str:
        # Hashing a large state (a TF-IDF vocabulary, a table of features) takes a while; the
        # digest is kept while the state is made of the very same array objects.
        state = self._get_state()
        arrays = [(key, state[key]) for key in sorted(state)]
        memo = getattr(self, "_digest_memo", None)
        if memo is not None and len(memo[0]) == len(arrays):
            pairs = zip(memo[0], arrays, strict=True)
            if all(k1 == k2 and a1 is a2 for (k1, a1), (k2, a2) in pairs):
                return memo[1]
        digest = _digest_arrays(state)
        self._digest_memo = (arrays, digest)
        return digest

    def check_fitted(self) -> None:
        """Raises :class:`NotFittedError` if the encoder needs :meth:`fit` and had none."""
        if not self.is_fitted:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with the "
                f"corpus (for example encoder.fit(payloads)) before 'encode'."
            )

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Saves the config as JSON and any fitted state as ``.npz`` (no pickle).

        Args:
            directory: created if missing; ``config.json`` and ``state.npz`` are written there.

        Returns:
            The directory.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state = self._get_state() if self.is_fitted else {}
        meta = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "name": self.name,
            "version": self.version,
            "config": self.get_config(),
            "fitted": bool(state),
            "fingerprint": self.fingerprint() if self.is_fitted else None,
        }
        if state:
            atomic_write(directory / STATE_FILE, lambda stream: np.savez(stream, **state))
        else:
            (directory / STATE_FILE).unlink(missing_ok=True)
        atomic_write(directory / CONFIG_FILE, json.dumps(meta, indent=2, sort_keys=True) + "\n")
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> Encoder:
        """Loads an encoder saved by :meth:`save`.

        Called on :class:`Encoder` itself, the class is looked up in the registry by name.

        Args:
            directory: the directory given to :meth:`save`.

        Returns:
            The encoder, fitted if it was when saved.
        """
        directory = Path(directory)
        config_path = directory / CONFIG_FILE
        if not config_path.is_file():
            raise MissingFileError(
                f"No saved encoder in {str(directory)!r}: {CONFIG_FILE} is missing. Give the folder Encoder.save wrote."
            )
        meta = load_json(config_path)
        if meta.get("format") != _FORMAT or not isinstance(meta.get("name"), str):
            raise SavedFileError(
                f"{str(config_path)!r} is not an mmgraph encoder config (format {meta.get('format')!r})."
            )
        if meta.get("format_version", 1) > _FORMAT_VERSION:
            raise SavedFileError(
                f"{str(config_path)!r} was saved in encoder format {meta.get('format_version')!r}, newer than this "
                f"mmgraph reads ({_FORMAT_VERSION}); upgrade mmgraph or save the encoder again."
            )
        target: type[Encoder] = cls
        if cls is Encoder:
            from mmgraph.encoders import encoder_class

            target = encoder_class(meta["name"])
        elif meta["name"] != cls.name:
            raise SavedFileError(
                f"{str(directory)!r} holds a {meta['name']!r} encoder, not {cls.name!r}; load it "
                f"with Encoder.load or the matching class."
            )
        state: dict[str, np.ndarray] = {}
        state_path = directory / STATE_FILE
        if meta.get("fitted"):
            if not state_path.is_file():
                raise SavedFileError(f"{str(state_path)!r} is missing for a fitted encoder; save the encoder again.")
            try:
                with np.load(state_path, allow_pickle=False) as arrays:
                    state = {key: arrays[key] for key in arrays.files}
            except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
                raise SavedFileError(
                    f"The fitted state {str(state_path)!r} is damaged ({error}); save the encoder again."
                ) from error
        encoder = target._restore(meta["config"], state)
        saved = meta.get("fingerprint")
        if saved is not None and encoder.fingerprint() != saved:
            warnings.warn(
                f"The encoder loaded from {str(directory)!r} has another fingerprint than when "
                f"saved (a different package or weights version?); cached embeddings made "
                f"with the saved one will not be reused.",
                stacklevel=2,
            )
        return encoder

    @classmethod
    def _restore(cls, config: dict[str, Any], state: dict[str, np.ndarray]) -> Encoder:
        """Rebuilds a saved encoder from its config and fitted state."""
        encoder = cls(**config)
        if state:
            encoder._set_state(state)
        return encoder

    def __repr__(self) -> str:
        settings = ", ".join(f"{key}={self._config_value(key)!r}" for key in self.config_keys)
        return f"{type(self).__name__}({settings})"

    # ------------------------------------------------------------------------- internals
    def _as_list(self, payloads: Sequence[Any]) -> list[Any]:
        if isinstance(payloads, str | bytes | os.PathLike) or isinstance(payloads, Mapping):
            raise ConfigTypeError(
                f"{type(self).__name__} takes a sequence of payloads, not a single "
                f"{type(payloads).__name__}; wrap it in a list: [{describe_payload(payloads)}]."
            )
        if not isinstance(payloads, Iterable):
            raise ConfigTypeError(
                f"{type(self).__name__} takes a sequence of payloads. "
                f"Got {type(payloads).__name__} instead."
            )
        return list(payloads)

    def _prepare_one(self, index: int, payload: Any) -> Any:
        try:
            return self._prepare(payload)
        except EncodingError as err:
            if err.index is not None:
                raise
            raise EncodingError(
                f"{type(self).__name__} could not encode {sample_name(index, payload)}: {err}",
                index=index,
                payload=payload,
            ) from err
        except Exception as err:  # any reader error becomes one message naming the sample
            reason = str(err) or type(err).__name__
            raise EncodingError(
                f"{type(self).__name__} could not encode {sample_name(index, payload)}: {reason}",
                index=index,
                payload=payload,
            ) from err

    def _prepare_all(
        self, items: Sequence[Any], names: Sequence[int], pool: ThreadPoolExecutor | None
    ) -> list[Any]:
        if pool is None:
            return [self._prepare_one(i, p) for i, p in zip(names, items, strict=True)]
        return list(pool.map(self._prepare_one, names, items))

    def _batches(
        self,
        items: list[Any],
        names: list[int],
        *,
        progress: bool | None,
        total: int | None = None,
        embed: Callable[[list[Any]], np.ndarray] | None = None,
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Prepares and embeds ``items`` in batches of ``batch_size``, with a progress bar."""
        from tqdm.auto import tqdm

        embed = embed or self._embed
        show = progress if progress is not None else (total or len(items)) >= PROGRESS_THRESHOLD
        workers = min(self.prepare_workers, os.cpu_count() or 1)
        step = max(int(self.batch_size), 1)
        with (
            tqdm(
                total=len(items), desc=self.name, unit="sample", disable=not show, file=sys.stderr
            ) as bar,
            ThreadPoolExecutor(workers) if workers > 1 and len(items) > 1 else _no_pool() as pool,
        ):
            for start in range(0, len(items), step):
                prepared = self._prepare_all(
                    items[start : start + step], names[start : start + step], pool
                )
                yield start, embed(prepared)
                bar.update(len(prepared))

    def _check_output(
        self, block: np.ndarray, items: Sequence[Any], names: Sequence[int], start: int
    ) -> np.ndarray:
        block = np.asarray(block, dtype=np.float32)
        expected = (min(self.batch_size, len(items) - start), self.dim)
        if block.shape != expected:
            raise RuntimeError(
                f"{type(self).__name__} returned features of shape {block.shape} for a batch; "
                f"expected {expected}. This is a bug in the encoder."
            )
        bad = ~np.isfinite(block).all(axis=1)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise EncodingError(
                f"{type(self).__name__} produced NaN or infinite features for "
                f"{sample_name(names[start + row], items[start + row])}; check that the payload "
                f"holds valid data.",
                index=names[start + row],
                payload=items[start + row],
            )
        return block


@contextmanager
def _no_pool() -> Iterator[None]:
    yield None


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def check_nonempty_file(path: str | os.PathLike) -> Path:
    """The path of an existing, non-empty file.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is empty (0 bytes).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"no such file: {str(path)!r}")
    if path.stat().st_size == 0:
        raise DataError("the file is empty (0 bytes)")
    return path


class ProjectionEncoder(Encoder):
    """An encoder whose :meth:`fit` learns a projection ``components_`` of shape ``(dim, n)``
    (pixel PCA, TF-IDF SVD); ``wanted_dim`` is the asked size, ``dim_`` the fitted one."""

    wanted_dim: int

    @property
    def dim_(self) -> int:
        """The output dimension learned in :meth:`fit` (``dim`` or less for a small corpus)."""
        self.check_fitted()
        return int(self.components_.shape[0])

    def _dim(self) -> int:
        return self.dim_ if self._is_fitted() else self.wanted_dim

    def _is_fitted(self) -> bool:
        return hasattr(self, "components_")
