"""The SQLite embedding cache and encode_cached."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import soundfile

from mmgraph.encoders import (
    EmbeddingCache,
    Encoder,
    EncodingError,
    LogMelEncoder,
    PrecomputedEncoder,
    TfidfEncoder,
    default_cache_dir,
    encode_cached,
)

CORPUS = ["grinning face", "cat face", "red apple", "green apple", "rocket", "school bus"]


class CountingEncoder(Encoder):
    """Text lengths as features; counts what it encodes and can fail on one text."""

    name: ClassVar[str] = "counting"
    config_keys: ClassVar[tuple[str, ...]] = ("scale", "batch_size")
    input_kind: ClassVar[str] = "text"

    def __init__(self, *, scale: float = 1.0, batch_size: int = 2) -> None:
        super().__init__(scale=scale, batch_size=batch_size)
        self.seen: list[str] = []
        self.fail_on: str | None = None

    def _dim(self) -> int:
        return 2

    def _prepare(self, payload: Any) -> str:
        if payload == self.fail_on:
            raise ValueError("failing on purpose")
        return payload

    def _embed(self, prepared: list[str]) -> np.ndarray:
        self.seen.extend(prepared)
        return np.array([[len(t) * self.scale, 1.0] for t in prepared], dtype=np.float32)


@pytest.fixture()
def cache(tmp_path: Path) -> EmbeddingCache:
    with EmbeddingCache(tmp_path / "cache") as cache:
        yield cache


def test_second_call_is_all_hits_and_identical(cache, tones):
    encoder = LogMelEncoder()
    first = encode_cached(encoder, tones, cache=cache)
    assert (cache.misses, cache.hits) == (3, 0)
    second = encode_cached(LogMelEncoder(), tones, cache=cache)
    assert (cache.misses, cache.hits) == (0, 3)
    assert np.array_equal(first, second) and second.dtype == np.float32
    assert np.array_equal(first, encoder.encode(tones))
    assert (cache.root / "embeddings.sqlite").is_file() and len(cache) == 3


def test_changed_file_content_invalidates_only_its_entry(cache, tones):
    first = encode_cached(LogMelEncoder(), tones, cache=cache)
    t = np.arange(4800) / 16000
    soundfile.write(tones[1], 0.5 * np.sin(2 * np.pi * 1234.0 * t), 16000)  # same path, new sound
    second = encode_cached(LogMelEncoder(), tones, cache=cache)
    assert (cache.misses, cache.hits) == (1, 2)
    assert np.array_equal(first[[0, 2]], second[[0, 2]])
    assert not np.allclose(first[1], second[1])
    assert np.array_equal(second, LogMelEncoder().encode(tones))


def test_config_change_invalidates(cache, tones):
    encode_cached(LogMelEncoder(), tones, cache=cache)
    encode_cached(LogMelEncoder(n_mels=32), tones, cache=cache)
    assert cache.misses == 3
    encode_cached(LogMelEncoder(batch_size=1), tones, cache=cache)  # runtime setting only
    assert cache.misses == 0


def test_fitted_state_is_part_of_the_key(cache):
    encode_cached(TfidfEncoder(dim=4).fit(CORPUS), CORPUS, cache=cache)
    encode_cached(TfidfEncoder(dim=4).fit(CORPUS[:-1]), CORPUS, cache=cache)
    assert cache.misses == len(CORPUS)
    encode_cached(TfidfEncoder(dim=4).fit(CORPUS), CORPUS, cache=cache)
    assert cache.misses == 0


def test_unfitted_encoder_fails_before_touching_the_cache(cache):
    with pytest.raises(ValueError, match="not fitted"):
        encode_cached(TfidfEncoder(), ["a"], cache=cache)


def test_duplicates_are_encoded_once(cache):
    encoder = CountingEncoder()
    out = encode_cached(encoder, ["ab", "abc", "ab", "ab"], cache=cache)
    assert encoder.seen == ["ab", "abc"]
    assert out[:, 0].tolist() == [2, 3, 2, 2]
    assert cache.misses == 2


def test_interrupted_run_keeps_only_whole_batches(cache):
    texts = ["a", "bb", "ccc", "dddd", "eeeee", "ffffff"]
    failing = CountingEncoder(batch_size=2)
    failing.fail_on = "eeeee"
    with pytest.raises(EncodingError, match=r"sample 4 \('eeeee'\): failing on purpose"):
        encode_cached(failing, texts, cache=cache)
    assert len(cache) == 4  # the first two batches were committed
    encoder = CountingEncoder(batch_size=2)
    out = encode_cached(encoder, texts, cache=cache)
    assert encoder.seen == ["eeeee", "ffffff"] and (cache.misses, cache.hits) == (2, 4)
    assert out[:, 0].tolist() == [1, 2, 3, 4, 5, 6]


def test_a_failing_write_leaves_no_partial_entry(cache):
    cache.put_many("fp", ["x"], np.ones((1, 2)))
    with pytest.raises(sqlite3.Error):
        cache.put_many("fp", ["y", ["not", "bindable"]], np.ones((2, 2)))  # type: ignore[list-item]
    assert len(cache) == 1 and set(cache.get_many("fp", ["x", "y"])) == {"x"}


def test_error_names_the_sample_by_its_position_among_all(cache):
    encode_cached(CountingEncoder(), ["a", "b"], cache=cache)
    failing = CountingEncoder()
    failing.fail_on = "zz"
    with pytest.raises(EncodingError, match=r"sample 3 \('zz'\)"):
        encode_cached(failing, ["a", "b", "c", "zz"], cache=cache)


def test_text_keys_and_id_keys(cache):
    encoder = PrecomputedEncoder(features={"x": [1.0, 2.0], "y": [3.0, 4.0]})
    out = encode_cached(encoder, ["y", "x"], cache=cache)
    assert out.tolist() == [[3.0, 4.0], [1.0, 2.0]] and cache.misses == 2
    encode_cached(encoder, ["x"], cache=cache)
    assert cache.hits == 1
    with pytest.raises(EncodingError, match=r"sample 1 \(None\) must be a str"):
        encode_cached(CountingEncoder(), ["a", None], cache=cache)


def test_database_is_wal_and_clear_works(cache):
    encode_cached(CountingEncoder(), ["a", "b"], cache=cache)
    encode_cached(CountingEncoder(scale=2.0), ["a"], cache=cache)
    mode = sqlite3.connect(cache.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert cache.clear(CountingEncoder(scale=2.0).fingerprint()) == 1
    assert len(cache) == 2 and cache.clear() == 2 and len(cache) == 0


def test_damaged_database_gives_a_clear_error(tmp_path):
    (tmp_path / "embeddings.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(ValueError, match="cannot be opened .*delete the file"):
        encode_cached(CountingEncoder(), ["a"], cache=EmbeddingCache(tmp_path))


def test_no_cache_just_encodes(tones):
    assert np.array_equal(encode_cached(LogMelEncoder(), tones, cache=None),
                          LogMelEncoder().encode(tones))
    with pytest.raises(TypeError, match="must be an EmbeddingCache or None"):
        encode_cached(LogMelEncoder(), tones, cache="~/.cache")


def test_default_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MMGRAPH_CACHE", str(tmp_path / "here"))
    assert default_cache_dir() == tmp_path / "here"
    assert EmbeddingCache().path == tmp_path / "here" / "embeddings.sqlite"
    monkeypatch.delenv("MMGRAPH_CACHE")
    assert default_cache_dir() == Path.home() / ".cache" / "mmgraph"
    assert repr(EmbeddingCache(tmp_path)) == f"EmbeddingCache(root={str(tmp_path)!r})"


def test_caches_opened_at_the_same_moment_wait_for_each_other(tmp_path) -> None:
    """Two benchmark processes starting together once failed with 'database is locked' while both
    switched a new file to WAL mode; opening now waits its turn."""
    import threading

    from mmgraph.encoders import EmbeddingCache

    for attempt in range(10):
        root = tmp_path / f"cache{attempt}"
        barrier, errors = threading.Barrier(4), []

        def open_cache(root=root, barrier=barrier, errors=errors) -> None:
            barrier.wait()
            try:
                assert len(EmbeddingCache(root)) == 0
            except Exception as error:  # noqa: BLE001 - collected for the assertion below
                errors.append(error)

        threads = [threading.Thread(target=open_cache) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
