"""An on-disk cache of embeddings, keyed by encoder fingerprint and payload content.

One SQLite file, ``<root>/embeddings.sqlite``, in WAL mode. A row is keyed by the encoder's
:meth:`~mmgraph.encoders.Encoder.fingerprint` and the SHA-256 of the payload's content (a
file's bytes, a text's UTF-8, an id), so an edited file or a changed encoder setting simply
misses and is recomputed, while every other entry stays valid. Entries are written one batch
per transaction: an interrupted run leaves complete entries only.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import random
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mmgraph.encoders.base import Encoder, EncodingError, sample_name
from mmgraph.errors import ConfigTypeError, DataError, SavedFileError

logger = logging.getLogger(__name__)

CACHE_FILE = "embeddings.sqlite"
OPEN_TIMEOUT = 60.0  # seconds to wait for another process holding the file
_QUERY_CHUNK = 500  # keys per SELECT, well under SQLite's limit on bound variables


def default_cache_dir() -> Path:
    """Returns ``$MMGRAPH_CACHE`` if set, else ``~/.cache/mmgraph``."""
    root = os.environ.get("MMGRAPH_CACHE")
    return Path(root).expanduser() if root else Path.home() / ".cache" / "mmgraph"


def content_key(payload: Any, *, kind: str, index: int | None = None) -> str:
    """Returns the SHA-256 (hex) of a payload's content, as the cache sees it.

    Args:
        payload: a path (``kind`` ``"image"`` or ``"audio"``), a text or a sample id.
        kind: the encoder's ``input_kind``; ``"any"`` hashes existing files by content and
            anything else as text.
        index: the sample's position, named in errors.

    Raises:
        EncodingError: a file cannot be read, or a text payload is not a string.
    """
    digest = hashlib.sha256()
    if kind in ("image", "audio") or (
        kind == "any" and isinstance(payload, str | os.PathLike) and os.path.isfile(payload)
    ):
        if not isinstance(payload, str | os.PathLike):
            raise EncodingError(
                f"{sample_name(index, payload)} must be a file path, not {type(payload).__name__}.",
                index=index,
                payload=payload,
            )
        digest.update(b"file\0")
        try:
            with open(payload, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
        except OSError as err:
            raise EncodingError(
                f"Cannot read {sample_name(index, payload)}: {err.strerror or err}.",
                index=index,
                payload=payload,
            ) from err
    elif kind == "id":
        if isinstance(payload, bool) or not isinstance(payload, str | int | np.integer):
            raise EncodingError(
                f"{sample_name(index, payload)} must be an id (str or int), not "
                f"{type(payload).__name__}.",
                index=index,
                payload=payload,
            )
        digest.update(b"id\0" + str(payload).encode("utf-8"))
    else:
        if not isinstance(payload, str):
            raise EncodingError(
                f"{sample_name(index, payload)} must be a str, not {type(payload).__name__}; "
                f"fill or drop missing texts before encoding.",
                index=index,
                payload=payload,
            )
        digest.update(b"text\0" + payload.encode("utf-8"))
    return digest.hexdigest()


class EmbeddingCache:
    """Embeddings on disk, in one SQLite database, keyed by (encoder fingerprint, content hash).

    Args:
        root: the directory of ``embeddings.sqlite``; default :func:`default_cache_dir`
            (``$MMGRAPH_CACHE`` or ``~/.cache/mmgraph``).

    Attributes:
        hits: payloads found in the cache by the last :func:`encode_cached` call.
        misses: payloads encoded by the last :func:`encode_cached` call.

    Example:
        >>> cache = EmbeddingCache(tmp_path)  # doctest: +SKIP
        >>> x = encode_cached(encoder, texts, cache=cache)  # doctest: +SKIP
        >>> cache.misses, cache.hits  # doctest: +SKIP
        (100, 0)
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        self.path = self.root / CACHE_FILE
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self.root.mkdir(parents=True, exist_ok=True)
            deadline = time.monotonic() + OPEN_TIMEOUT
            while True:
                connection = sqlite3.connect(self.path, timeout=OPEN_TIMEOUT, check_same_thread=False)
                try:
                    connection.execute("PRAGMA journal_mode=WAL")
                    connection.execute("PRAGMA synchronous=NORMAL")
                    with connection:
                        connection.execute(
                            "CREATE TABLE IF NOT EXISTS embeddings ("
                            " fingerprint TEXT NOT NULL,"
                            " key TEXT NOT NULL,"
                            " dim INTEGER NOT NULL,"
                            " vector BLOB NOT NULL,"
                            " PRIMARY KEY (fingerprint, key))"  # a rowid table: rows hold large blobs
                        )
                        connection.execute(
                            "CREATE TABLE IF NOT EXISTS fitted (key TEXT PRIMARY KEY, state BLOB NOT NULL)"
                        )
                    break
                except sqlite3.DatabaseError as err:
                    connection.close()
                    # Another process switching the file to WAL at the same moment: wait our turn.
                    if "locked" in str(err) and time.monotonic() < deadline:
                        time.sleep(0.05 + 0.1 * random.random())
                        continue
                    raise SavedFileError(
                        f"The embedding cache {str(self.path)!r} cannot be opened ({err}); delete "
                        f"the file or give EmbeddingCache another root."
                    ) from err
            self._connection = connection
        return self._connection

    def get_many(self, fingerprint: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Returns the cached vectors among ``keys`` of one encoder, as ``{key: vector}``."""
        found: dict[str, np.ndarray] = {}
        with self._lock:
            connection = self._connect()
            for start in range(0, len(keys), _QUERY_CHUNK):
                chunk = list(keys[start : start + _QUERY_CHUNK])
                marks = ",".join("?" * len(chunk))
                rows = connection.execute(
                    f"SELECT key, dim, vector FROM embeddings "
                    f"WHERE fingerprint = ? AND key IN ({marks})",
                    [fingerprint, *chunk],
                )
                for key, dim, blob in rows:
                    if len(blob) == 4 * dim:  # a damaged row is treated as a miss
                        found[key] = np.frombuffer(blob, dtype="<f4")
        return found

    def put_many(self, fingerprint: str, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Stores vectors of one encoder in a single transaction (all or nothing).

        Shapes:
            vectors: ``(len(keys), dim)``
        """
        vectors = np.asarray(vectors, dtype="<f4")
        if vectors.ndim != 2 or vectors.shape[0] != len(keys):
            raise DataError(
                f"put_many needs one vector per key: {len(keys)} keys and vectors of shape "
                f"{vectors.shape}."
            )
        rows = [
            (fingerprint, key, vectors.shape[1], vector.tobytes())
            for key, vector in zip(keys, vectors, strict=True)
        ]
        with self._lock:
            connection = self._connect()
            with connection:  # one transaction: committed whole or rolled back
                connection.executemany(
                    "INSERT OR REPLACE INTO embeddings (fingerprint, key, dim, vector) "
                    "VALUES (?, ?, ?, ?)",
                    rows,
                )

    def get_state(self, key: str) -> dict[str, np.ndarray] | None:
        """The fitted state stored under ``key`` by :meth:`put_state`, or ``None``."""
        with self._lock:
            row = self._connect().execute("SELECT state FROM fitted WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            with np.load(io.BytesIO(row[0]), allow_pickle=False) as arrays:
                return {name: arrays[name] for name in arrays.files}
        except (OSError, ValueError, EOFError) as error:  # a damaged row is treated as a miss
            logger.warning("ignoring the damaged fitted state %s in %s: %s", key, self.path, error)
            return None

    def put_state(self, key: str, state: dict[str, np.ndarray]) -> None:
        """Stores an encoder's fitted state (arrays, no pickle) in one transaction."""
        buffer = io.BytesIO()
        np.savez(buffer, **state)
        with self._lock:
            connection = self._connect()
            with connection:
                connection.execute("INSERT OR REPLACE INTO fitted (key, state) VALUES (?, ?)", (key, buffer.getvalue()))

    def clear(self, fingerprint: str | None = None) -> int:
        """Deletes the entries of one encoder fingerprint, or all; returns how many went."""
        with self._lock:
            connection = self._connect()
            with connection:
                if fingerprint is None:
                    connection.execute("DELETE FROM fitted")
                    cursor = connection.execute("DELETE FROM embeddings")
                else:
                    cursor = connection.execute(
                        "DELETE FROM embeddings WHERE fingerprint = ?", (fingerprint,)
                    )
        return cursor.rowcount

    def __len__(self) -> int:
        with self._lock:
            return self._connect().execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]

    def close(self) -> None:
        """Closes the database connection (it reopens on next use)."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        connection = getattr(self, "_connection", None)
        if connection is not None:
            connection.close()

    def __repr__(self) -> str:
        return f"EmbeddingCache(root={str(self.root)!r})"


def encode_cached(
    encoder: Encoder,
    payloads: Sequence[Any],
    *,
    cache: EmbeddingCache | None,
    progress: bool | None = None,
) -> np.ndarray:
    """Encodes payloads, reusing cached embeddings and storing the new ones.

    All payloads are looked up first; only the misses are encoded, batch by batch, and each
    batch is stored in one transaction as soon as it is done. Payloads with the same content
    are encoded once. ``cache.hits`` and ``cache.misses`` count the last call's payloads.

    Args:
        encoder: a ready encoder (fitted, if it learns from the corpus).
        payloads: as for :meth:`Encoder.encode`.
        cache: where to look up and store; ``None`` just encodes.
        progress: show a progress bar over the misses (``None``: from 256 samples on).

    Returns:
        Finite float32 features, the same as ``encoder.encode(payloads)`` would give.

    Shapes:
        output: ``(len(payloads), encoder.dim)``
    """
    if not isinstance(encoder, Encoder):
        raise ConfigTypeError(
            f"encode_cached needs an Encoder instance (see mmgraph.encoders.resolve). "
            f"Got {type(encoder).__name__} instead."
        )
    if cache is None:
        return encoder.encode(payloads, progress=progress)
    if not isinstance(cache, EmbeddingCache):
        raise ConfigTypeError(
            f"The 'cache' parameter of encode_cached must be an EmbeddingCache or None. "
            f"Got {type(cache).__name__} instead."
        )
    items = encoder._as_list(payloads)
    encoder.check_fitted()
    fingerprint = encoder.fingerprint()
    keys = [content_key(p, kind=encoder.input_kind, index=i) for i, p in enumerate(items)]
    first: dict[str, int] = {}
    for index, key in enumerate(keys):
        first.setdefault(key, index)
    found = cache.get_many(fingerprint, list(first))
    dim = encoder.dim
    out = np.empty((len(items), dim), dtype=np.float32)
    missing = [index for key, index in first.items() if key not in found]
    for positions, block in encoder.iter_batches(
        [items[i] for i in missing], indices=missing, progress=progress, total=len(missing)
    ):
        batch_keys = [keys[missing[p]] for p in positions]
        cache.put_many(fingerprint, batch_keys, block)
        found.update(zip(batch_keys, block, strict=True))
    for index, key in enumerate(keys):
        vector = found[key]
        if vector.shape != (dim,):
            raise SavedFileError(
                f"The cache {cache.path} holds a vector of {vector.shape[0]} features for "
                f"{sample_name(index, items[index])}, but the encoder gives {dim}; clear it with "
                f"EmbeddingCache.clear()."
            )
        out[index] = vector
    cache.misses = len(missing)
    cache.hits = len(items) - len(missing)
    return out


def fit_cached(
    encoder: Encoder,
    payloads: Sequence[Any],
    *,
    classes: Sequence[int] | None = None,
    cache: EmbeddingCache | None,
    progress: bool | None = None,
) -> Encoder:
    """Fits ``encoder`` on ``payloads``, or restores the state an identical earlier fit stored.

    The key is the encoder's :meth:`~mmgraph.encoders.Encoder.identity`, the content of every
    payload in order and the ``classes`` (passed to encoders that ``needs_classes``). Only
    encoders with ``cache_fit`` are stored; the others are fitted every time. A restored
    encoder has the fitted state, not the by-products of training (``loss_history_``).

    Returns:
        The encoder itself, fitted.
    """
    extra = {"classes": classes} if encoder.needs_classes else {}
    if cache is None or not encoder.cache_fit:
        return encoder.fit(payloads, progress=progress, **extra)
    items = encoder._as_list(payloads)
    record = {
        "encoder": encoder.identity(),
        "payloads": [content_key(p, kind=encoder.input_kind, index=i) for i, p in enumerate(items)],
        "classes": None if classes is None or not encoder.needs_classes else [int(c) for c in classes],
    }
    key = hashlib.sha256(json.dumps(record, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    state = cache.get_state(key)
    if state is not None:
        encoder._set_state(state)
        return encoder
    encoder.fit(items, progress=progress, **extra)
    cache.put_state(key, encoder._get_state())
    return encoder


__all__ = ["EmbeddingCache", "content_key", "default_cache_dir", "encode_cached", "fit_cached"]
