"""Mel filterbank, audio reading (formats, rates, bad files) and the log-mel / MFCC encoders."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from mmgraph.encoders import Encoder, EncodingError, LogMelEncoder, MFCCEncoder
from mmgraph.encoders.audio import deltas, hz_to_mel, mel_filterbank, mel_to_hz, read_audio


def _tone(freq: float, rate: int, seconds: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return 0.5 * np.sin(2 * np.pi * freq * t)


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


@pytest.mark.parametrize("scale", ["htk", "slaney"])
def test_mel_scale_round_trips(scale):
    hz = np.array([0.0, 60.0, 440.0, 999.0, 1000.0, 1001.0, 4000.0, 8000.0])
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(hz, scale=scale), scale=scale), hz, atol=1e-6)
    assert np.all(np.diff(hz_to_mel(hz, scale=scale)) > 0)


def test_mel_scale_known_values():
    assert hz_to_mel(1000.0, scale="slaney") == pytest.approx(15.0)
    assert hz_to_mel(440.0, scale="slaney") == pytest.approx(6.6)
    assert hz_to_mel(1000.0, scale="htk") == pytest.approx(1000.0, abs=0.1)


def test_htk_filters_are_triangles_that_sum_to_one():
    rate, n_fft, n_mels = 16000, 1024, 40
    filters = mel_filterbank(sample_rate=rate, n_fft=n_fft, n_mels=n_mels, scale="htk", norm=None)
    assert filters.shape == (n_mels, n_fft // 2 + 1)
    assert filters.min() >= 0 and filters.max() <= 1 + 1e-12
    centres = mel_to_hz(np.linspace(0, hz_to_mel(rate / 2, scale="htk"), n_mels + 2), scale="htk")
    bins = np.linspace(0, rate / 2, n_fft // 2 + 1)
    inside = (bins >= centres[1]) & (bins <= centres[-2])
    np.testing.assert_allclose(filters[:, inside].sum(axis=0), 1.0, atol=1e-9)
    peaks = bins[filters.argmax(axis=1)]
    assert np.all(np.abs(peaks - centres[1:-1]) <= rate / n_fft)  # each peaks at its centre


def test_slaney_filters_have_unit_area():
    rate, n_fft = 16000, 4096
    filters = mel_filterbank(sample_rate=rate, n_fft=n_fft, n_mels=40)
    area = filters.sum(axis=1) * rate / n_fft
    np.testing.assert_allclose(area[5:], 1.0, rtol=0.02)


def test_mel_filterbank_rejects_bad_band():
    with pytest.raises(ValueError, match="fmin < fmax <= sample_rate / 2"):
        mel_filterbank(sample_rate=8000, n_fft=256, n_mels=10, fmax=6000)


def test_deltas_of_a_ramp_are_its_slope():
    ramp = np.arange(20, dtype=float)[None, :] * 3.0
    np.testing.assert_allclose(deltas(ramp)[0, 2:-2], 3.0)


def test_logmel_and_mfcc_shape_dtype_determinism(tones):
    for encoder, dim in ((LogMelEncoder(), 256), (MFCCEncoder(), 80)):
        out = encoder.encode(tones)
        assert out.shape == (3, dim) and out.dtype == np.float32 and np.isfinite(out).all()
        assert np.array_equal(out, encoder.encode(tones))
        assert np.abs(out[0] - out[1]).max() > 1  # different pitch, different features


def test_other_rates_formats_and_stereo_agree(tmp_path):
    reference = LogMelEncoder().encode([_write(tmp_path / "ref.wav", _tone(440, 16000), 16000)])[0]
    paths = [
        _write(tmp_path / "a.ogg", _tone(440, 44100), 44100),
        _write(tmp_path / "b.flac", _tone(440, 22050), 22050),
        _write(tmp_path / "c.wav", _tone(440, 8000), 8000),
        _write(tmp_path / "d.wav", np.stack([_tone(440, 16000)] * 2, axis=1), 16000),
    ]
    assert soundfile.info(paths[0]).format == "OGG"
    out = LogMelEncoder().encode(paths)
    for path, row in zip(paths, out, strict=True):
        assert _cosine(row, reference) > 0.98, path
    np.testing.assert_allclose(out[3], reference, atol=1e-4)  # stereo of equal channels = mono


def test_resampling_gives_the_target_rate(tmp_path):
    signal = read_audio(_write(tmp_path / "x.ogg", _tone(440, 44100, 1.0), 44100), sample_rate=16000)
    assert abs(len(signal) - 16000) <= 2 and signal.dtype == np.float32


@pytest.mark.parametrize("length", [1, 10, 300])
def test_clips_shorter_than_a_frame_still_work(tmp_path, length):
    path = _write(tmp_path / "short.wav", _tone(440, 16000)[:length], 16000)
    for encoder in (LogMelEncoder(), MFCCEncoder()):
        out = encoder.encode([path])
        assert out.shape == (1, encoder.dim) and np.isfinite(out).all()


def test_silence_gives_finite_features(tmp_path):
    path = _write(tmp_path / "silence.wav", np.zeros(4000), 16000)
    assert np.isfinite(LogMelEncoder().encode([path])).all()


def test_zero_length_wav_names_the_sample(tmp_path, tones):
    empty = _write(tmp_path / "empty.wav", np.zeros(0), 16000)
    with pytest.raises(EncodingError, match=r"sample 1 \('.*empty.wav'\): .*no samples"):
        LogMelEncoder().encode([tones[0], empty])


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("corrupt.wav", np.random.default_rng(1).bytes(3000), "not an audio file"),
        ("empty.wav", b"", "the file is empty"),
        ("notes.mp3", b"just some text, not audio at all" * 20, "not an audio file"),
        ("truncated.wav", b"RIFF\x24\x00\x00\x00WAVEfmt ", "not an audio file"),
    ],
)
def test_unreadable_audio_names_the_sample(tmp_path, tones, name, content, reason):
    bad = tmp_path / name
    bad.write_bytes(content)
    with pytest.raises(EncodingError) as err:
        MFCCEncoder().encode([*tones, str(bad)])
    assert f"sample 3 ('{bad}')" in str(err.value) and reason in str(err.value)
    assert err.value.index == 3


def test_nan_samples_name_the_sample(tmp_path):
    signal = _tone(440, 16000)
    signal[100] = np.nan
    path = _write(tmp_path / "nan.wav", signal, 16000, subtype="FLOAT")
    with pytest.raises(EncodingError, match="sample 0 .*NaN or infinite"):
        LogMelEncoder().encode([path])


def test_missing_file_names_the_sample():
    with pytest.raises(EncodingError, match=r"sample 0 \('nowhere.wav'\): no such file"):
        LogMelEncoder().encode(["nowhere.wav"])


def test_save_load_round_trip(tmp_path, tones):
    encoder = MFCCEncoder(n_mfcc=13, sample_rate=8000, n_fft=256, win_length=200, hop_length=80)
    encoder.save(tmp_path / "mfcc")
    loaded = Encoder.load(tmp_path / "mfcc")
    assert isinstance(loaded, MFCCEncoder) and loaded.get_config() == encoder.get_config()
    assert loaded.fingerprint() == encoder.fingerprint()
    assert np.array_equal(loaded.encode(tones), encoder.encode(tones))


def _write(path, signal, rate, **kwargs) -> str:
    soundfile.write(path, signal, rate, **kwargs)
    return str(path)
