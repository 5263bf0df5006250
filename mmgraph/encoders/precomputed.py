"""Features a user already has, looked up by sample id."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from mmgraph.encoders.base import Encoder, describe_payload
from mmgraph.errors import ConfigError, DataError, MissingFileError, SavedFileError


class PrecomputedEncoder(Encoder):
    """Looks features up by sample id, from a file or from memory.

    Payloads are sample ids (compared as strings, so ``7`` and ``"7"`` are the same id).

    Args:
        path: a ``.npz`` file with arrays ``ids`` (strings or ints) and ``features``
            ``(n, dim)``; or a ``.parquet`` file with an ``id`` column and either one column
            whose values are vectors or only numeric columns besides ``id``.
        features: in memory instead of ``path``: a mapping ``{id: vector}`` or a pair
            ``(ids, array)``.

    Example:
        >>> encoder = PrecomputedEncoder(features={"a": [1.0, 0.0], "b": [0.0, 1.0]})
        >>> encoder.encode(["b", "a"]).tolist()
        [[0.0, 1.0], [1.0, 0.0]]
    """

    name: ClassVar[str] = "precomputed"
    config_keys: ClassVar[tuple[str, ...]] = ("path",)
    input_kind: ClassVar[str] = "id"
    requires_fit: ClassVar[bool] = True  # "fitted" once the table is read; done on first use
    batch_size: int = 4096

    def __init__(
        self,
        *,
        path: str | os.PathLike[str] | None = None,
        features: Mapping[Any, Any] | tuple[Sequence[Any], Any] | None = None,
    ) -> None:
        if (path is None) == (features is None):
            raise ConfigError(
                "PrecomputedEncoder needs exactly one of 'path' (a .npz or .parquet file) and "
                f"'features' (a dict {{id: vector}} or a pair (ids, array)). Got "
                f"path={path!r} and features of type {type(features).__name__} instead."
            )
        if path is not None and not isinstance(path, str | os.PathLike):
            raise ConfigError(
                f"The 'path' parameter of PrecomputedEncoder must be a str or path. "
                f"Got {path!r} instead."
            )
        super().__init__(path=None if path is None else os.fspath(path))
        if features is not None:
            self._set_table(*_from_memory(features))

    # The table is read lazily, so that __init__ only stores the arguments.
    def _is_fitted(self) -> bool:
        if not hasattr(self, "features_") and self.path is not None:
            self._set_table(*_read_file(Path(self.path)))
        return hasattr(self, "features_")

    def fit(self, payloads: Sequence[Any] = (), *, progress: bool | None = None) -> Encoder:
        """Reads the features file if not done yet; the payloads are not needed.

        Returns:
            The encoder itself.
        """
        self.check_fitted()
        return self

    def _set_table(self, ids: np.ndarray, features: np.ndarray) -> None:
        ids = np.asarray([str(i) for i in ids.tolist()], dtype=str)
        features = np.asarray(features)
        if features.ndim != 2 or len(ids) != features.shape[0]:
            raise DataError(
                f"PrecomputedEncoder needs one feature row per id: {len(ids)} ids and features "
                f"of shape {features.shape}."
            )
        if not np.issubdtype(features.dtype, np.number) or np.iscomplexobj(features):
            raise DataError(f"Precomputed features must be real numbers. Got {features.dtype}.")
        features = features.astype(np.float32)
        unique, counts = np.unique(ids, return_counts=True)
        if (counts > 1).any():
            raise DataError(
                f"Precomputed ids must be unique; {describe_payload(str(unique[counts > 1][0]))} "
                f"appears {int(counts.max())} times."
            )
        bad = ~np.isfinite(features).all(axis=1)
        if bad.any():
            raise DataError(
                f"Precomputed features must be finite; the row of id "
                f"{describe_payload(str(ids[np.flatnonzero(bad)[0]]))} holds NaN or inf "
                f"({int(bad.sum())} rows do)."
            )
        self.ids_ = ids
        self.features_ = features
        self._rows = {sample_id: row for row, sample_id in enumerate(ids.tolist())}

    @classmethod
    def _restore(cls, config: dict[str, Any], state: dict[str, np.ndarray]) -> Encoder:
        encoder = cls.__new__(cls)
        Encoder.__init__(encoder, path=config.get("path"))
        encoder._set_state(state)
        return encoder

    def _get_state(self) -> dict[str, np.ndarray]:
        return {"ids": self.ids_, "features": self.features_} if self._is_fitted() else {}

    def _set_state(self, state: Mapping[str, np.ndarray]) -> None:
        if set(state) != {"ids", "features"}:
            raise SavedFileError(
                f"A PrecomputedEncoder state needs the arrays ['features', 'ids']. "
                f"Got {sorted(state)} instead."
            )
        self._set_table(state["ids"], state["features"])

    def _dim(self) -> int:
        self.check_fitted()
        return int(self.features_.shape[1])

    def _prepare(self, payload: Any) -> int:
        if isinstance(payload, bool) or not isinstance(payload, str | int | np.integer):
            raise DataError(f"a sample id must be a str or int, not {type(payload).__name__}")
        row = self._rows.get(str(payload))
        if row is None:
            raise DataError(
                f"unknown id {str(payload)!r}: it is not among the {len(self._rows)} ids of the "
                f"precomputed features"
            )
        return row

    def _embed(self, prepared: list[int]) -> np.ndarray:
        return self.features_[np.asarray(prepared, dtype=np.int64)]

    def __repr__(self) -> str:
        if self.path is not None:
            return f"PrecomputedEncoder(path={self.path!r})"
        return f"PrecomputedEncoder(features=<{len(self.ids_)} x {self.features_.shape[1]}>)"


def _from_memory(features: Any) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(features, Mapping):
        if not features:
            raise DataError("The 'features' of PrecomputedEncoder must not be empty.")
        ids = list(features)
        try:
            rows = np.stack([np.asarray(features[i], dtype=np.float64).reshape(-1) for i in ids])
        except (ValueError, TypeError) as err:
            raise DataError(
                f"The 'features' of PrecomputedEncoder must map each id to a vector of numbers, "
                f"all of one length ({err})."
            ) from err
        return np.asarray(ids, dtype=object), rows
    if isinstance(features, tuple) and len(features) == 2:
        ids, array = features
        return np.asarray(list(ids), dtype=object), np.asarray(array)
    raise ConfigError(
        "The 'features' parameter of PrecomputedEncoder must be a dict {id: vector} or a pair "
        f"(ids, array). Got {type(features).__name__} instead."
    )


def _read_file(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise MissingFileError(f"PrecomputedEncoder: no such file {str(path)!r}.")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as arrays:
                missing = {"ids", "features"} - set(arrays.files)
                if missing:
                    raise DataError(
                        f"{str(path)!r} must hold the arrays 'ids' and 'features'; "
                        f"it has {sorted(arrays.files)}."
                    )
                return arrays["ids"], arrays["features"]
        except ValueError as err:
            if "pickle" in str(err).lower():
                raise DataError(
                    f"{str(path)!r} stores its ids as Python objects; save them as strings or "
                    f"ints (np.asarray(ids, dtype=str)), since pickled data is not loaded."
                ) from err
            raise
    if suffix == ".parquet":
        import pandas as pd

        table = pd.read_parquet(path)
        if "id" not in table.columns:
            raise DataError(f"{str(path)!r} needs an 'id' column; it has {list(table.columns)}.")
        rest = [c for c in table.columns if c != "id"]
        numeric = [c for c in rest if pd.api.types.is_numeric_dtype(table[c])]
        if len(rest) == 1 and not numeric:
            try:
                rows = np.stack([np.asarray(v, dtype=np.float64) for v in table[rest[0]]])
            except (ValueError, TypeError) as err:
                raise DataError(
                    f"The column {rest[0]!r} of {str(path)!r} must hold vectors of numbers, all "
                    f"of one length ({err})."
                ) from err
        elif rest and len(numeric) == len(rest):
            rows = table[rest].to_numpy(dtype=np.float64)
        else:
            raise DataError(
                f"{str(path)!r} must have, besides 'id', either one column of vectors or only "
                f"numeric columns; it has {list(table.columns)}."
            )
        return table["id"].to_numpy(dtype=object), rows
    raise DataError(
        f"PrecomputedEncoder reads .npz and .parquet files. Got {str(path)!r} instead."
    )


__all__ = ["PrecomputedEncoder"]
