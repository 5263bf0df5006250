"""Audio encoders: statistics of log-mel spectrograms and MFCCs, with NumPy and SciPy only.

A clip is read with soundfile (WAV, FLAC, OGG and the other formats of libsndfile), mixed down to
mono and resampled to a fixed rate with a polyphase filter. Its short-time power spectrum goes
through a mel filterbank and a logarithm (decibels, floored 80 dB below the clip's peak). The
features of a clip are the mean and standard deviation over time of each band, and of its
deltas (the local slope over time), so clips of any length give one vector of fixed size.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np

from mmgraph.checks import check_choice
from mmgraph.encoders.base import Encoder, check_float, check_int, check_nonempty_file
from mmgraph.errors import ConfigError, DataError

AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".ogg", ".flac")
"""File extensions that :func:`mmgraph.encoders.default_encoder` treats as audio."""

TOP_DB = 80.0
"""Log-mel values are floored this many decibels below the loudest bin of the clip."""


def hz_to_mel(frequencies: Any, *, scale: str = "slaney") -> np.ndarray:
    """Converts frequencies in Hz to mels.

    Args:
        frequencies: a number or array in Hz.
        scale: ``"htk"`` (``2595 log10(1 + f / 700)``) or ``"slaney"`` (linear below 1 kHz,
            logarithmic above, as in the Auditory Toolbox and librosa's default).
    """
    f = np.asarray(frequencies, dtype=np.float64)
    if scale == "htk":
        return 2595.0 * np.log10(1.0 + f / 700.0)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    linear = f / f_sp
    log = min_log_mel + np.log(np.maximum(f, min_log_hz) / min_log_hz) / logstep
    return np.where(f >= min_log_hz, log, linear)


def mel_to_hz(mels: Any, *, scale: str = "slaney") -> np.ndarray:
    """Converts mels to frequencies in Hz; the inverse of :func:`hz_to_mel`."""
    m = np.asarray(mels, dtype=np.float64)
    if scale == "htk":
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_filterbank(
    *,
    sample_rate: int,
    n_fft: int,
    n_mels: int,
    fmin: float = 0.0,
    fmax: float | None = None,
    scale: str = "slaney",
    norm: str | None = "slaney",
) -> np.ndarray:
    """Returns triangular mel filters over the bins of a real FFT.

    The ``n_mels`` triangles have their corners at ``n_mels + 2`` points evenly spaced in mels
    from ``fmin`` to ``fmax``; each rises from zero at its left corner to one at its centre and
    falls back to zero at its right corner.

    Args:
        sample_rate: sampling rate in Hz.
        n_fft: FFT length; the filters cover its ``n_fft // 2 + 1`` bins.
        n_mels: number of filters.
        fmin: lowest frequency in Hz.
        fmax: highest frequency in Hz; ``None`` means ``sample_rate / 2``.
        scale: ``"slaney"`` or ``"htk"`` mel scale (see :func:`hz_to_mel`).
        norm: ``"slaney"`` divides each triangle by its width in Hz (equal area), ``None``
            keeps peaks at one.

    Shapes:
        output: ``(n_mels, n_fft // 2 + 1)``
    """
    fmax = sample_rate / 2 if fmax is None else fmax
    if not 0 <= fmin < fmax <= sample_rate / 2:
        raise ConfigError(
            f"mel_filterbank needs 0 <= fmin < fmax <= sample_rate / 2. Got fmin={fmin}, "
            f"fmax={fmax}, sample_rate={sample_rate} instead."
        )
    fft_hz = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    mel_points = np.linspace(hz_to_mel(fmin, scale=scale), hz_to_mel(fmax, scale=scale), n_mels + 2)
    corners = mel_to_hz(mel_points, scale=scale)
    widths = np.diff(corners)
    rising = (fft_hz[None, :] - corners[:-2, None]) / widths[:-1, None]
    falling = (corners[2:, None] - fft_hz[None, :]) / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    if norm == "slaney":
        weights *= (2.0 / (corners[2:] - corners[:-2]))[:, None]
    elif norm is not None:
        raise ConfigError(f"The 'norm' of mel_filterbank must be 'slaney' or None. Got {norm!r}.")
    return weights


def read_audio(path: str | os.PathLike[str], *, sample_rate: int) -> np.ndarray:
    """Reads an audio file as mono float32 at ``sample_rate`` Hz.

    Args:
        path: a file that soundfile can read (WAV, FLAC, OGG, ...).
        sample_rate: the rate to resample to (polyphase filtering, ``scipy.signal.resample_poly``).

    Shapes:
        output: ``(num_samples,)``

    Raises:
        ValueError: the file is empty, unreadable, has no samples or holds NaN/infinite values.
        FileNotFoundError: the file does not exist.
    """
    import soundfile
    from scipy.signal import resample_poly

    path = check_nonempty_file(path)
    try:
        data, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as err:
        formats = ", ".join(sorted(soundfile.available_formats()))
        raise DataError(
            f"not an audio file that soundfile can read ({err}); readable formats: {formats}"
        ) from err
    if data.shape[0] == 0:
        raise DataError("the audio clip has no samples (zero length)")
    signal = data.mean(axis=1, dtype=np.float64)
    if not np.isfinite(signal).all():
        raise DataError("the audio holds NaN or infinite sample values")
    if rate != sample_rate:
        ratio = Fraction(sample_rate, int(rate)).limit_denominator(1000)
        signal = resample_poly(signal, ratio.numerator, ratio.denominator)
    return signal.astype(np.float32)


def deltas(features: np.ndarray, *, width: int = 2) -> np.ndarray:
    """Returns the regression slope of each row over time (the usual speech "delta" features).

    ``d_t = sum_n n (c_{t+n} - c_{t-n}) / (2 sum_n n^2)`` for ``n = 1..width``, with edge
    frames repeated.

    Shapes:
        features: ``(num_bands, num_frames)``; output: the same.
    """
    padded = np.pad(features, ((0, 0), (width, width)), mode="edge")
    frames = features.shape[1]
    out = np.zeros_like(features, dtype=np.float64)
    for n in range(1, width + 1):
        out += n * (
            padded[:, width + n : width + n + frames] - padded[:, width - n : width - n + frames]
        )
    return out / (2 * sum(n * n for n in range(1, width + 1)))


class LogMelEncoder(Encoder):
    """Log-mel spectrogram statistics: mean and std over time of each band and of its deltas.

    Args:
        sample_rate: clips are resampled to this rate in Hz.
        n_mels: mel bands; the output has ``4 * n_mels`` features.
        n_fft: FFT length in samples (zero-padded window).
        win_length: analysis window (Hann) in samples; 400 is 25 ms at 16 kHz.
        hop_length: step between frames in samples; 160 is 10 ms at 16 kHz.
        fmin: lowest mel frequency in Hz.
        fmax: highest mel frequency in Hz; ``None`` means ``sample_rate / 2``.
        mel_scale: ``"slaney"`` or ``"htk"``.
        batch_size: clips read at a time (two worker threads decode them).
    """

    name: ClassVar[str] = "logmel"
    config_keys: ClassVar[tuple[str, ...]] = (
        "sample_rate",
        "n_mels",
        "n_fft",
        "win_length",
        "hop_length",
        "fmin",
        "fmax",
        "mel_scale",
        "batch_size",
    )
    input_kind: ClassVar[str] = "audio"
    prepare_workers: ClassVar[int] = 2

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        n_mels: int = 64,
        n_fft: int = 512,
        win_length: int = 400,
        hop_length: int = 160,
        fmin: float = 0.0,
        fmax: float | None = None,
        mel_scale: str = "slaney",
        batch_size: int = 64,
    ) -> None:
        owner = type(self).__name__
        super().__init__(
            sample_rate=check_int(sample_rate, name="sample_rate", owner=owner),
            n_mels=check_int(n_mels, name="n_mels", owner=owner),
            n_fft=check_int(n_fft, name="n_fft", owner=owner, minimum=2),
            win_length=check_int(win_length, name="win_length", owner=owner, minimum=2),
            hop_length=check_int(hop_length, name="hop_length", owner=owner),
            fmin=check_float(fmin, name="fmin", owner=owner),
            fmax=None if fmax is None else check_float(fmax, name="fmax", owner=owner),
            mel_scale=check_choice(
                mel_scale, name="mel_scale", owner=owner, choices=("slaney", "htk")
            ),
            batch_size=check_int(batch_size, name="batch_size", owner=owner),
        )
        if self.win_length > self.n_fft:
            raise ConfigError(
                f"The 'win_length' parameter of {owner} must be <= n_fft={self.n_fft}. "
                f"Got {self.win_length} instead."
            )
        self._filters = mel_filterbank(
            sample_rate=self.sample_rate,
            n_fft=self.n_fft,
            n_mels=self.n_mels,
            fmin=self.fmin,
            fmax=self.fmax,
            scale=self.mel_scale,
        )
        window = np.hanning(self.win_length + 1)[:-1]  # periodic Hann
        offset = (self.n_fft - self.win_length) // 2
        self._window = np.zeros(self.n_fft)
        self._window[offset : offset + self.win_length] = window

    def _dim(self) -> int:
        return 4 * self.n_mels

    def log_mel(self, signal: np.ndarray) -> np.ndarray:
        """Returns the log-mel spectrogram of a mono signal at ``sample_rate``, in dB.

        Frames are centred (the signal is zero-padded by ``n_fft // 2`` on each side), so a clip
        shorter than one window still gives one frame.

        Shapes:
            signal: ``(num_samples,)``; output: ``(n_mels, num_frames)``
        """
        half = self.n_fft // 2
        padded = np.pad(np.asarray(signal, dtype=np.float64), (half, half))
        if padded.size < self.n_fft:
            padded = np.pad(padded, (0, self.n_fft - padded.size))
        frames = np.lib.stride_tricks.sliding_window_view(padded, self.n_fft)[:: self.hop_length]
        power = np.abs(np.fft.rfft(frames * self._window, axis=1)) ** 2
        mel = self._filters @ power.T
        db = 10.0 * np.log10(np.maximum(mel, 1e-10))
        return np.maximum(db, db.max() - TOP_DB)

    def _frame_features(self, signal: np.ndarray) -> np.ndarray:
        return self.log_mel(signal)

    def _prepare(self, payload: Any) -> np.ndarray:
        features = self._frame_features(read_audio(payload, sample_rate=self.sample_rate))
        slope = deltas(features)
        stats = [features.mean(axis=1), features.std(axis=1), slope.mean(axis=1), slope.std(axis=1)]
        return np.concatenate(stats).astype(np.float32)

    def _embed(self, prepared: list[np.ndarray]) -> np.ndarray:
        return np.stack(prepared)


class MFCCEncoder(LogMelEncoder):
    """MFCC statistics: mean and std over time of each cepstral coefficient and of its deltas.

    The MFCCs are the orthonormal DCT-II of the log-mel spectrogram (see
    :class:`LogMelEncoder`), first ``n_mfcc`` coefficients kept.

    Args:
        n_mfcc: coefficients kept; the output has ``4 * n_mfcc`` features.
        n_mels: mel bands before the DCT.
        **kwargs: the other settings of :class:`LogMelEncoder`.
    """

    name: ClassVar[str] = "mfcc"
    config_keys: ClassVar[tuple[str, ...]] = ("n_mfcc", *LogMelEncoder.config_keys)

    def __init__(self, *, n_mfcc: int = 20, n_mels: int = 40, **kwargs: Any) -> None:
        super().__init__(n_mels=n_mels, **kwargs)
        self.n_mfcc = check_int(n_mfcc, name="n_mfcc", owner=type(self).__name__)
        if self.n_mfcc > self.n_mels:
            raise ConfigError(
                f"The 'n_mfcc' parameter of {type(self).__name__} must be <= n_mels="
                f"{self.n_mels}. Got {self.n_mfcc} instead."
            )

    def _dim(self) -> int:
        return 4 * self.n_mfcc

    def _frame_features(self, signal: np.ndarray) -> np.ndarray:
        from scipy.fft import dct

        return dct(self.log_mel(signal), type=2, axis=0, norm="ortho")[: self.n_mfcc]


__all__ = [
    "AUDIO_EXTENSIONS",
    "LogMelEncoder",
    "MFCCEncoder",
    "deltas",
    "hz_to_mel",
    "mel_filterbank",
    "mel_to_hz",
    "read_audio",
]
