"""The registry, payload kinds, default encoders and the base-class contract."""

from __future__ import annotations

import numpy as np
import pytest

from mmgraph.encoders import (
    ENCODERS,
    EfficientNetLite0Encoder,
    Encoder,
    GRULogMelEncoder,
    LogMelEncoder,
    MFCCEncoder,
    MiniLMEncoder,
    NotFittedError,
    PixelEncoder,
    PrecomputedEncoder,
    TfidfEncoder,
    default_encoder,
    payload_kind,
    resolve,
)

CHEAP = {  # encoders that can be built without data
    "efficientnet-lite0": EfficientNetLite0Encoder,
    "gru-logmel": GRULogMelEncoder,
    "logmel": LogMelEncoder,
    "mfcc": MFCCEncoder,
    "minilm": MiniLMEncoder,
    "pixels": PixelEncoder,
    "tfidf": TfidfEncoder,
}


def test_registry_lists_every_encoder():
    assert ENCODERS.names() == sorted([*CHEAP, "precomputed"])
    for name in ENCODERS.names():
        cls = ENCODERS.get(name)
        assert issubclass(cls, Encoder) and cls.name == name
        assert cls.input_kind in ("text", "image", "audio", "id", "any")


@pytest.mark.parametrize("name", sorted(CHEAP))
def test_resolve_by_name_class_and_instance(name):
    by_name = resolve(name)
    assert type(by_name) is CHEAP[name]
    assert type(resolve(CHEAP[name])) is CHEAP[name]
    assert resolve(by_name) is by_name
    assert by_name.get_config() == resolve(name.upper().replace("-", "_")).get_config()


def test_resolve_passes_settings():
    encoder = resolve("logmel", n_mels=32, sample_rate=8000)
    assert (encoder.n_mels, encoder.sample_rate, encoder.dim) == (32, 8000, 128)
    assert resolve(TfidfEncoder, dim=16).get_config()["dim"] == 16


def test_resolve_unknown_name_lists_choices():
    with pytest.raises(ValueError, match="Could not resolve encoder 'minlm' among choices") as err:
        resolve("minlm")
    message = str(err.value)
    for name in ENCODERS.names():
        assert repr(name) in message


def test_resolve_unknown_setting_lists_valid_ones():
    with pytest.raises(TypeError, match=r"unknown parameter\(s\) \['dimm'\].*'dim'"):
        resolve("tfidf", dimm=3)


def test_resolve_rejects_settings_with_an_instance_and_non_encoders():
    with pytest.raises(TypeError, match="settings only with a name or class"):
        resolve(LogMelEncoder(), n_mels=3)
    with pytest.raises(TypeError, match="encoder name, Encoder subclass or instance"):
        resolve(42)
    with pytest.raises(TypeError, match="Encoder subclass"):
        resolve(dict)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: TfidfEncoder(dim=-3), "The 'dim' parameter of TfidfEncoder must be an int >= 1. "
         "Got -3 instead."),
        (lambda: TfidfEncoder(word_ngrams=(3, 1)), "'word_ngrams' parameter of TfidfEncoder"),
        (lambda: LogMelEncoder(mel_scale="bark"), "'mel_scale' parameter of LogMelEncoder must "
         "be one of"),
        (lambda: LogMelEncoder(win_length=1024), "'win_length' parameter of LogMelEncoder"),
        (lambda: MFCCEncoder(n_mfcc=50), "'n_mfcc' parameter of MFCCEncoder must be <= n_mels"),
        (lambda: MiniLMEncoder(batch_size=0), "'batch_size' parameter of MiniLMEncoder"),
        (lambda: MiniLMEncoder(normalize="yes"), "'normalize' parameter of MiniLMEncoder must be "
         "a bool"),
        (lambda: EfficientNetLite0Encoder(normalization="zscore"), "'normalization' parameter"),
        (lambda: PixelEncoder(size=True), "'size' parameter of PixelEncoder"),
    ],
)
def test_bad_settings_raise_clear_errors(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert message in str(err.value)


def test_repr_shows_settings():
    assert repr(LogMelEncoder(n_mels=32)).startswith("LogMelEncoder(sample_rate=16000, n_mels=32,")
    assert repr(TfidfEncoder(dim=8)) == (
        "TfidfEncoder(dim=8, word_ngrams=(1, 2), char_ngrams=(1, 4), min_df=1, "
        "sublinear_tf=True, seed=0, batch_size=1024)"
    )
    assert repr(MiniLMEncoder()) == "MiniLMEncoder(batch_size=64, normalize=True, num_threads=None)"
    assert repr(PrecomputedEncoder(features={"a": [1.0]})) == "PrecomputedEncoder(features=<1 x 1>)"


def test_config_round_trips_through_the_constructor():
    for name, cls in CHEAP.items():
        encoder = resolve(name)
        assert cls(**encoder.get_config()).get_config() == encoder.get_config()


def test_fingerprint_ignores_runtime_settings_but_not_others():
    assert LogMelEncoder(batch_size=3).fingerprint() == LogMelEncoder().fingerprint()
    assert LogMelEncoder(n_mels=32).fingerprint() != LogMelEncoder().fingerprint()
    assert MFCCEncoder().fingerprint() != LogMelEncoder(n_mels=40).fingerprint()
    assert MiniLMEncoder(num_threads=1).fingerprint() == MiniLMEncoder().fingerprint()
    assert len(LogMelEncoder().fingerprint()) == 64


@pytest.mark.parametrize(
    ("payloads", "kind", "name"),
    [
        (["a grinning face", "a cat"], "text", "minilm"),
        (["photos/a.png", "b.JPG", "c.jpeg", "d.gif", "e.bmp", "f.webp", "g.tif", "h.TIFF"],
         "image", "efficientnet-lite0"),
        (["clips/a.wav", "b.ogg", "c.FLAC"], "audio", "logmel"),
    ],
)
def test_default_encoder_follows_the_payload_kind(payloads, kind, name):
    assert payload_kind(payloads) == kind
    assert default_encoder(payloads) == name


def test_default_encoder_rejects_unknown_files(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\0" * 10)
    with pytest.raises(ValueError) as err:
        default_encoder([str(path)])
    message = str(err.value)
    assert "sample 0" in message.lower() and "clip.mp4" in message
    assert ".png" in message and ".wav" in message and "Name an encoder" in message
    with pytest.raises(ValueError, match="unknown kind"):
        default_encoder([tmp_path])  # a path object that is no image or audio file


def test_payload_kind_rejects_mixed_missing_and_empty():
    with pytest.raises(ValueError, match="mix several kinds: text .*image"):
        payload_kind(["a cat", "cat.png"])
    with pytest.raises(ValueError, match=r"Sample 1 \(None\) is neither a text nor a file path"):
        payload_kind(["a cat", None])
    with pytest.raises(ValueError, match="at least one payload"):
        payload_kind([])
    with pytest.raises(TypeError, match="sequence of payloads"):
        payload_kind("a cat")


def test_encode_rejects_a_single_string():
    with pytest.raises(TypeError, match=r"not a single str; wrap it in a list"):
        LogMelEncoder().encode("clip.wav")


def test_encoders_that_learn_refuse_to_encode_unfitted():
    for encoder in (TfidfEncoder(), PixelEncoder()):
        assert not encoder.is_fitted
        with pytest.raises(NotFittedError, match="not fitted yet. Call 'fit'"):
            encoder.encode(["x"])
        with pytest.raises(NotFittedError):
            encoder.fingerprint()


def test_encode_of_nothing_gives_an_empty_array():
    out = LogMelEncoder().encode([])
    assert out.shape == (0, 256) and out.dtype == np.float32


def test_load_on_the_base_class_finds_the_registered_class(tmp_path):
    LogMelEncoder(n_mels=16).save(tmp_path / "enc")
    loaded = Encoder.load(tmp_path / "enc")
    assert isinstance(loaded, LogMelEncoder) and loaded.n_mels == 16
    with pytest.raises(ValueError, match="holds a 'logmel' encoder, not 'tfidf'"):
        TfidfEncoder.load(tmp_path / "enc")
    with pytest.raises(FileNotFoundError, match="config.json is missing"):
        Encoder.load(tmp_path / "nothing")
    assert not list((tmp_path / "enc").glob("*.pkl"))
