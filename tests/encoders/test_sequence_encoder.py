"""The recurrent sequence encoder (``gru-logmel``) on real spoken digits: it learns from the clips
it is fitted on, encodes each clip on its own, and its fitted state round-trips and keys the cache."""

from __future__ import annotations

import numpy as np
import pytest

from mmgraph.encoders import Encoder, GRULogMelEncoder, encoder_from_spec, resolve

from .conftest import data_root, fsdd_clips, require

SMALL = {"hidden_dim": 16, "epochs": 3}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def clips() -> list[str]:
    require(data_root() / "fsdd" / "recordings")
    return [clip.path for clip in fsdd_clips(data_root(), every=10)][:60]


@pytest.fixture(scope="module")
def fitted(clips) -> GRULogMelEncoder:
    return resolve("gru-logmel", **SMALL).fit(clips[:40], progress=False)


def test_it_learns_to_predict_the_next_frames(fitted) -> None:
    losses = fitted.loss_history_
    assert len(losses) == 3 and all(np.isfinite(losses))
    assert losses[-1] < 0.95 * losses[0], losses


def test_features_are_finite_and_each_clip_is_encoded_on_its_own(fitted, clips) -> None:
    batch = fitted.encode(clips, progress=False)
    assert batch.shape == (60, 32) and batch.dtype == np.float32 and np.isfinite(batch).all()
    assert np.unique(batch.round(4), axis=0).shape[0] == 60  # no two clips alike
    alone = fitted.encode(clips[7:8], progress=False)  # padded beside other clips in the batch, not here
    np.testing.assert_allclose(alone[0], batch[7], rtol=1e-5, atol=1e-5)


def test_save_load_round_trip_gives_identical_vectors(fitted, clips, tmp_path) -> None:
    loaded = Encoder.load(fitted.save(tmp_path / "gru"))
    assert isinstance(loaded, GRULogMelEncoder) and loaded.fingerprint() == fitted.fingerprint()
    np.testing.assert_array_equal(loaded.encode(clips[40:], progress=False), fitted.encode(clips[40:], progress=False))
    assert not (tmp_path / "gru" / "state.npz").read_bytes().startswith(b"\x80")  # arrays, not a pickle


def test_the_cache_key_covers_the_fitted_state(fitted, clips) -> None:
    same = resolve("gru-logmel", **SMALL).fit(clips[:40], progress=False)
    assert same.fingerprint() == fitted.fingerprint()  # seeded: the same clips give the same weights
    other = resolve("gru-logmel", **SMALL).fit(clips[20:60], progress=False)  # other training clips
    assert other.fingerprint() != fitted.fingerprint()
    assert not np.array_equal(other.encode(clips[:2], progress=False), fitted.encode(clips[:2], progress=False))


def test_it_is_selectable_by_name_and_needs_fitting() -> None:
    modality, encoder = encoder_from_spec("audio=gru-logmel:hidden_dim=8")
    assert modality == "audio" and encoder.dim == 16 and not encoder.is_fitted
    assert repr(encoder).startswith("GRULogMelEncoder(hidden_dim=8, shift=3, epochs=10,")
    with pytest.raises(ValueError, match="not fitted yet"):
        encoder.encode(["a.wav"])
    with pytest.raises(ValueError, match="'hidden_dim' parameter of GRULogMelEncoder must be an int >= 1"):
        resolve("gru-logmel", hidden_dim=0)
