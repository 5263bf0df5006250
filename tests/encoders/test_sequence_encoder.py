"""The recurrent sequence encoder (``gru-logmel``) on real spoken digits: it learns from the clips
it is fitted on (their classes, or their next frames), encodes each clip on its own, and its fitted
state round-trips and keys the cache."""

from __future__ import annotations

import numpy as np
import pytest

from mmgraph.encoders import EmbeddingCache, Encoder, GRULogMelEncoder, encoder_from_spec, fit_cached, resolve

from .conftest import data_root, fsdd_clips, require

SMALL = {"objective": "apc", "hidden_dim": 16, "epochs": 3}

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
    assert modality == "audio" and encoder.dim == 16 and not encoder.is_fitted and encoder.needs_classes
    assert repr(encoder).startswith("GRULogMelEncoder(objective='classes', hidden_dim=8, shift=3, epochs=10,")
    assert not resolve("gru-logmel", objective="apc").needs_classes
    with pytest.raises(ValueError, match="not fitted yet"):
        encoder.encode(["a.wav"])
    with pytest.raises(ValueError, match="'hidden_dim' parameter of GRULogMelEncoder must be an int >= 1"):
        resolve("gru-logmel", hidden_dim=0)


def test_it_learns_the_classes_it_is_given_and_they_carry_to_a_new_speaker() -> None:
    require(data_root() / "fsdd" / "recordings")
    clips = [c for c in fsdd_clips(data_root(), every=5) if int(c.digit) < 5]
    speakers = sorted({c.speaker for c in clips})
    train = [c for c in clips if c.speaker != speakers[0]]
    new = [c for c in clips if c.speaker == speakers[0]]  # a speaker the encoder never heard
    y_train, y_new = np.array([int(c.digit) for c in train]), np.array([int(c.digit) for c in new])

    def accuracy(**settings) -> tuple[float, list[float]]:
        """Nearest class mean of the training clips' features, on the new speaker's clips."""
        encoder = resolve("gru-logmel", hidden_dim=32, **settings)
        encoder.fit([c.path for c in train], classes=y_train.tolist(), progress=False)
        x_train = encoder.encode([c.path for c in train], progress=False)
        x_new = encoder.encode([c.path for c in new], progress=False)
        means = np.stack([x_train[y_train == d].mean(0) for d in range(5)])
        predicted = ((x_new[:, None] - means[None]) ** 2).sum(-1).argmin(1)
        return float((predicted == y_new).mean()), encoder.loss_history_

    trained, losses = accuracy(epochs=15)
    untrained, _ = accuracy(epochs=1, lr=1e-9)  # the same GRU at its initial weights
    print(f"nearest class mean on a new speaker: accuracy {trained:.2f} trained, {untrained:.2f} untrained")
    assert losses[-1] < 0.5 * losses[0], losses
    # Measured: 0.42 trained, 0.30 untrained (logmel statistics: 0.44); a guess scores 0.2.
    assert trained > max(untrained + 0.05, 1.5 * 0.2), (trained, untrained)


def test_clips_without_a_class_only_enter_the_band_statistics(clips) -> None:
    spec = {"hidden_dim": 8, "epochs": 2}
    classes = [0, 1] * 10
    with_unlabelled = resolve("gru-logmel", **spec).fit(clips[:30], classes=classes + [-1] * 10, progress=False)
    labelled_only = resolve("gru-logmel", **spec).fit(clips[:20], classes=classes, progress=False)
    state, other = with_unlabelled._get_state(), labelled_only._get_state()
    assert not np.array_equal(state["band_mean"], other["band_mean"])  # ten more clips in the statistics
    # Labels are renumbered: classes 3 and 7 train the same weights as 0 and 1.
    renamed = resolve("gru-logmel", **spec).fit(clips[:20], classes=[3, 7] * 10, progress=False)
    np.testing.assert_array_equal(renamed._get_state()["weight_hh_l0"], other["weight_hh_l0"])


@pytest.mark.parametrize(
    ("classes", "message"),
    [
        (None, r"objective='classes' learns the classes of the training clips; fit got no classes.*objective='apc'"),
        ([0, 1, 0], r"needs one class per clip, ints >= -1 \(4 clips\). Got shape \(3,\)"),
        ([0, 0, -1, -1], r"at least two classes; got 1 class\(es\) among 4 clips \(2 with a class\)"),
        ([0.5, 1, 0, 1], r"needs one class per clip, ints >= -1 \(4 clips\). Got shape \(4,\), dtype float64"),
    ],
)
def test_bad_classes_are_a_clear_error(clips, classes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resolve("gru-logmel", hidden_dim=8, epochs=1).fit(clips[:4], classes=classes, progress=False)


def test_a_fit_is_stored_in_the_cache_and_restored_for_the_same_clips_and_classes(clips, tmp_path, monkeypatch) -> None:
    cache = EmbeddingCache(tmp_path)
    spec = {"hidden_dim": 8, "epochs": 2}
    classes = [0, 1] * 10
    first = fit_cached(resolve("gru-logmel", **spec), clips[:20], classes=classes, cache=cache, progress=False)

    def no_fit(*args, **kwargs):
        raise AssertionError("fit ran although the cache holds this fit")

    with monkeypatch.context() as patched:
        patched.setattr(GRULogMelEncoder, "fit", no_fit)
        again = fit_cached(resolve("gru-logmel", **spec), clips[:20], classes=classes, cache=cache, progress=False)
    assert again.fingerprint() == first.fingerprint()
    new = clips[20:24]
    np.testing.assert_array_equal(again.encode(new, progress=False), first.encode(new, progress=False))
    # Other classes, other clips or other settings are fitted anew.
    other = [fit_cached(resolve("gru-logmel", **spec), clips[:20], classes=classes[::-1], cache=cache, progress=False),
             fit_cached(resolve("gru-logmel", **spec), clips[1:21], classes=classes, cache=cache, progress=False),
             fit_cached(resolve("gru-logmel", hidden_dim=8, epochs=3), clips[:20], classes=classes, cache=cache,
                        progress=False)]
    assert len({e.fingerprint() for e in [first, *other]}) == 4
    assert all(len(e.loss_history_) > 0 for e in other)
    cache.clear()
    assert cache.get_state("anything") is None
    with monkeypatch.context() as patched:
        patched.setattr(GRULogMelEncoder, "fit", no_fit)
        with pytest.raises(AssertionError, match="fit ran"):
            fit_cached(resolve("gru-logmel", **spec), clips[:20], classes=classes, cache=cache, progress=False)
