"""Features a user already has: .npz, .parquet and in-memory tables looked up by id."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmgraph.encoders import Encoder, EncodingError, PrecomputedEncoder, resolve

IDS = ["a", "b", "c"]
FEATURES = np.arange(12, dtype=np.float64).reshape(3, 4)


def _check(encoder: PrecomputedEncoder) -> None:
    out = encoder.encode(["c", "a", "c"])
    assert out.dtype == np.float32 and out.shape == (3, 4)
    np.testing.assert_array_equal(out, FEATURES[[2, 0, 2]])
    assert encoder.dim == 4


def test_npz(tmp_path):
    np.savez(tmp_path / "f.npz", ids=np.asarray(IDS), features=FEATURES)
    _check(PrecomputedEncoder(path=tmp_path / "f.npz"))


def test_npz_with_integer_ids(tmp_path):
    np.savez(tmp_path / "f.npz", ids=np.array([10, 11, 12]), features=FEATURES)
    encoder = PrecomputedEncoder(path=str(tmp_path / "f.npz"))
    np.testing.assert_array_equal(encoder.encode([12, "10"]), FEATURES[[2, 0]])


def test_parquet_with_a_vector_column(tmp_path):
    pd.DataFrame({"id": IDS, "embedding": list(FEATURES)}).to_parquet(tmp_path / "f.parquet")
    _check(PrecomputedEncoder(path=tmp_path / "f.parquet"))


def test_parquet_with_numeric_columns(tmp_path):
    table = pd.DataFrame(FEATURES, columns=[f"f{i}" for i in range(4)]).assign(id=IDS)
    table.to_parquet(tmp_path / "f.parquet")
    _check(resolve("precomputed", path=tmp_path / "f.parquet"))


def test_in_memory_dict_and_pair():
    _check(PrecomputedEncoder(features=dict(zip(IDS, FEATURES, strict=True))))
    _check(PrecomputedEncoder(features=(IDS, FEATURES)))


def test_unknown_id_is_named():
    encoder = PrecomputedEncoder(features=(IDS, FEATURES))
    with pytest.raises(EncodingError, match=r"sample 1 \('zebra'\): unknown id 'zebra'"):
        encoder.encode(["a", "zebra"])


def test_bad_tables_raise_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="exactly one of 'path'"):
        PrecomputedEncoder()
    with pytest.raises(ValueError, match="ids must be unique; 'a' appears 2 times"):
        PrecomputedEncoder(features=(["a", "a", "b"], FEATURES))
    bad = FEATURES.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="must be finite; the row of id 'b'"):
        PrecomputedEncoder(features=(IDS, bad))
    with pytest.raises(ValueError, match="one feature row per id"):
        PrecomputedEncoder(features=(IDS[:2], FEATURES))
    np.savez(tmp_path / "objects.npz", ids=np.asarray(IDS, dtype=object), features=FEATURES)
    with pytest.raises(ValueError, match="stores its ids as Python objects"):
        PrecomputedEncoder(path=tmp_path / "objects.npz").encode(["a"])
    np.savez(tmp_path / "wrong.npz", names=np.asarray(IDS), features=FEATURES)
    with pytest.raises(ValueError, match="must hold the arrays 'ids' and 'features'"):
        PrecomputedEncoder(path=tmp_path / "wrong.npz").encode(["a"])
    pd.DataFrame({"key": IDS, "x": [1, 2, 3]}).to_parquet(tmp_path / "noid.parquet")
    with pytest.raises(ValueError, match="needs an 'id' column"):
        PrecomputedEncoder(path=tmp_path / "noid.parquet").encode(["a"])
    (tmp_path / "f.csv").write_text("id,x\na,1\n")
    with pytest.raises(ValueError, match="reads .npz and .parquet files"):
        PrecomputedEncoder(path=tmp_path / "f.csv").encode(["a"])


def test_file_is_read_lazily(tmp_path):
    encoder = PrecomputedEncoder(path=tmp_path / "later.npz")  # nothing read yet
    np.savez(tmp_path / "later.npz", ids=np.asarray(IDS), features=FEATURES)
    _check(encoder)


def test_save_load_round_trip(tmp_path):
    encoder = PrecomputedEncoder(features=(IDS, FEATURES))
    encoder.save(tmp_path / "pre")
    loaded = Encoder.load(tmp_path / "pre")
    assert loaded.fingerprint() == encoder.fingerprint()
    _check(loaded)
    other = PrecomputedEncoder(features=(IDS, FEATURES + 1))
    assert other.fingerprint() != encoder.fingerprint()
