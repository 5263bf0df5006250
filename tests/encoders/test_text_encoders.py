"""Text encoders: TF-IDF + SVD (fast) and MiniLM (slow: the model takes seconds to load)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from mmgraph.encoders import Encoder, EncodingError, MiniLMEncoder, TfidfEncoder

CORPUS = [
    "grinning face",
    "grinning face with big eyes",
    "smiling face with halo",
    "red apple",
    "green apple",
    "pear",
    "cat face",
    "dog face",
    "tiger",
    "rocket",
    "airplane departure",
    "school bus",
]


@pytest.fixture()
def tfidf():
    return TfidfEncoder(dim=8).fit(CORPUS)


def test_tfidf_shape_dtype_norm_and_determinism(tfidf):
    out = tfidf.encode(CORPUS)
    assert out.shape == (len(CORPUS), 8) and out.dtype == np.float32
    assert np.isfinite(out).all()
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(out, tfidf.encode(CORPUS))
    assert np.array_equal(out, TfidfEncoder(dim=8).fit(CORPUS).encode(CORPUS))


def test_tfidf_neighbours_share_words(tfidf):
    out = tfidf.encode(["apple", "face", "grinning"])
    corpus = tfidf.encode(CORPUS)
    best = [CORPUS[i] for i in (out @ corpus.T).argmax(axis=1)]
    assert "apple" in best[0] and "face" in best[1] and "grinning" in best[2]


def test_tfidf_clamps_dim_to_the_corpus_and_records_it():
    encoder = TfidfEncoder(dim=256).fit(CORPUS[:5])
    assert encoder.dim == encoder.dim_ == 5
    assert encoder.get_config()["dim"] == 256
    assert encoder.encode(["pear"]).shape == (1, 5)
    assert "dim_=5" in repr(encoder)


def test_tfidf_unknown_words_give_a_finite_vector(tfidf):
    out = tfidf.encode(["?!", "zzzz qqqq"])
    assert np.isfinite(out).all()


def test_tfidf_save_load_round_trip_without_pickle(tfidf, tmp_path):
    tfidf.save(tmp_path / "tfidf")
    files = sorted(p.name for p in (tmp_path / "tfidf").iterdir())
    assert files == ["config.json", "state.npz"]
    with np.load(tmp_path / "tfidf" / "state.npz", allow_pickle=False) as state:
        assert all(state[key].dtype != object for key in state.files)
    loaded = Encoder.load(tmp_path / "tfidf")
    assert isinstance(loaded, TfidfEncoder)
    assert loaded.fingerprint() == tfidf.fingerprint()
    assert np.array_equal(loaded.encode(CORPUS), tfidf.encode(CORPUS))
    assert json.loads((tmp_path / "tfidf" / "config.json").read_text())["name"] == "tfidf"


def test_tfidf_fingerprint_depends_on_corpus_and_settings(tfidf):
    assert TfidfEncoder(dim=8).fit(CORPUS[:-1]).fingerprint() != tfidf.fingerprint()
    assert TfidfEncoder(dim=8, char_ngrams=(2, 3)).fit(CORPUS).fingerprint() != tfidf.fingerprint()
    assert TfidfEncoder(dim=8, batch_size=3).fit(CORPUS).fingerprint() == tfidf.fingerprint()


@pytest.mark.parametrize("bad", [None, float("nan"), 7, b"bytes"])
def test_tfidf_non_string_text_names_the_sample(tfidf, bad):
    with pytest.raises(EncodingError, match=r"sample 2 .*must be a str") as err:
        tfidf.encode(["pear", "tiger", bad])
    assert err.value.index == 2
    with pytest.raises(EncodingError, match="sample 1"):
        TfidfEncoder().fit(["pear", bad, "tiger"])


def test_tfidf_fit_needs_words():
    with pytest.raises(ValueError, match="at least 2 texts"):
        TfidfEncoder().fit(["alone"])
    with pytest.raises(ValueError, match="found no usable terms"):
        TfidfEncoder().fit(["!", "?"])


@pytest.mark.parametrize("empty", ["", "  ", "\n\t"])
def test_an_empty_text_is_an_encoding_error_naming_the_sample(tfidf, empty):
    """An empty text has no meaning to rank by; every text encoder refuses it (MiniLM before loading its model)."""
    for encode in (tfidf.encode, TfidfEncoder(dim=8).fit, MiniLMEncoder().encode):
        with pytest.raises(EncodingError, match=rf"sample 1 \({re.escape(repr(empty))}\): the text is empty") as err:
            encode(["pear", empty, "tiger"])
        assert err.value.index == 1 and err.value.payload == empty


def test_minilm_rejects_non_strings_before_loading_the_model():
    with pytest.raises(EncodingError, match=r"sample 1 \(nan\).*must be a str, not float"):
        MiniLMEncoder().encode(["a cat", float("nan")])


@pytest.mark.slow
def test_minilm_shape_norm_determinism_and_meaning(minilm):
    texts = ["a small cat", "a little kitten", "the stock market fell", "a red apple"]
    out = minilm.encode(texts)
    assert out.shape == (4, 384) and out.dtype == np.float32 and np.isfinite(out).all()
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(out, minilm.encode(texts))
    similarity = out @ out.T
    assert similarity[0, 1] > similarity[0, 2] + 0.2, similarity


@pytest.mark.slow
def test_minilm_save_load_round_trip(minilm, tmp_path):
    minilm.save(tmp_path / "minilm")
    assert sorted(p.name for p in (tmp_path / "minilm").iterdir()) == ["config.json"]
    loaded = Encoder.load(tmp_path / "minilm")
    assert loaded.fingerprint() == minilm.fingerprint()
    assert np.array_equal(loaded.encode(["a cat"]), minilm.encode(["a cat"]))


@pytest.mark.slow
def test_minilm_loads_offline_and_once(minilm):
    import os

    from mmgraph.encoders.text import load_minilm

    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert load_minilm() is load_minilm()
