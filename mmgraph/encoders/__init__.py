"""Encoders turn samples into features: one registry, one base class, an on-disk cache.

=====================  ===========  =====================================================
name                   input        features
=====================  ===========  =====================================================
``minilm``             text         all-MiniLM-L6-v2 sentence embedding, 384-d
``tfidf``              text         word + character n-gram TF-IDF, SVD (fitted), 256-d
``efficientnet-lite0`` image file   EfficientNet-Lite0 pooled ImageNet features, 1280-d
``pixels``             image file   32x32 thumbnail, PCA (fitted), 128-d
``logmel``             audio file   log-mel band statistics, 256-d
``mfcc``               audio file   MFCC statistics, 80-d
``gru-logmel``         audio file   GRU over log-mel frames, next-frame prediction (fitted), 256-d
``precomputed``        sample id    a user's own features from a .npz / .parquet / dict
=====================  ===========  =====================================================

Example:
    >>> from mmgraph.encoders import resolve, default_encoder
    >>> default_encoder(["a cat on a mat"])
    'minilm'
    >>> resolve("logmel", n_mels=32)
    LogMelEncoder(sample_rate=16000, n_mels=32, n_fft=512, win_length=400, hop_length=160, fmin=0.0, fmax=None, mel_scale='slaney', batch_size=64)
"""  # noqa: E501

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mmgraph.encoders.audio import AUDIO_EXTENSIONS, LogMelEncoder, MFCCEncoder
from mmgraph.encoders.base import Encoder, EncodingError, NotFittedError, describe_payload
from mmgraph.encoders.cache import EmbeddingCache, default_cache_dir, encode_cached, fit_cached
from mmgraph.encoders.image import IMAGE_EXTENSIONS, EfficientNetLite0Encoder, PixelEncoder
from mmgraph.encoders.precomputed import PrecomputedEncoder
from mmgraph.encoders.sequence import GRULogMelEncoder
from mmgraph.encoders.text import MiniLMEncoder, TfidfEncoder
from mmgraph.errors import ConfigError, ConfigTypeError, DataError
from mmgraph.registry import Registry

ENCODERS: Registry[type[Encoder]] = Registry("encoder")
"""The registry of encoder classes by name."""
for _cls in (
    EfficientNetLite0Encoder,
    GRULogMelEncoder,
    LogMelEncoder,
    MFCCEncoder,
    MiniLMEncoder,
    PixelEncoder,
    PrecomputedEncoder,
    TfidfEncoder,
):
    ENCODERS.register(_cls.name, _cls)
del _cls

PAYLOAD_KINDS: tuple[str, ...] = ("text", "image", "audio")
DEFAULT_ENCODERS: dict[str, str] = {
    "text": "minilm",
    "image": "efficientnet-lite0",
    "audio": "logmel",
}
"""The encoder :func:`default_encoder` picks for each payload kind."""


def encoder_class(name: str) -> type[Encoder]:
    """Returns the registered encoder class of a name (case and ``_``/``-`` do not matter).

    Raises:
        ValueError: the name is unknown; the message lists the choices.
    """
    if not isinstance(name, str):
        raise ConfigTypeError(f"An encoder name must be a str. Got {type(name).__name__} instead.")
    normalized = name.strip().lower().replace("_", "-")
    return ENCODERS.get(normalized if normalized in ENCODERS else name)


def _choices() -> str:
    return "{" + ", ".join(repr(name) for name in ENCODERS.names()) + "}"


def resolve(encoder: str | type[Encoder] | Encoder | Mapping[str, Any], /, **config: Any) -> Encoder:
    """Returns an encoder from a registry name, an encoder class, an instance or a spec.

    Args:
        encoder: ``"minilm"``, ``MiniLMEncoder``, ``MiniLMEncoder()`` or a spec, the name with
            settings as :func:`encoder_spec` gives it: ``{"name": "tfidf", "max_features": 1000}``.
        **config: settings for a name or class (see the class); not allowed with an instance.

    Returns:
        An encoder instance (an instance given is returned as is).

    Raises:
        ValueError: unknown name (the message lists the choices).
        TypeError: unknown setting (the message lists the valid ones), settings given with an
            instance, or an object that is not an encoder.

    Example:
        >>> resolve("minlm")
        Traceback (most recent call last):
        ...
        ValueError: Could not resolve encoder 'minlm' among choices {'efficientnet-lite0', 'gru-logmel', 'logmel', 'mfcc', 'minilm', 'pixels', 'precomputed', 'tfidf'}
    """  # noqa: E501
    if isinstance(encoder, Mapping):
        spec = dict(encoder)
        if not isinstance(spec.get("name"), str):
            raise ConfigTypeError(f"An encoder spec needs its registry 'name'. Got {encoder!r} instead.")
        return resolve(spec.pop("name"), **spec, **config)
    if isinstance(encoder, Encoder):
        if config:
            raise ConfigTypeError(
                f"resolve got the instance {encoder!r} and settings {sorted(config)}; pass "
                f"settings only with a name or class, or set them on the instance."
            )
        return encoder
    if isinstance(encoder, str):
        cls = encoder_class(encoder)
    elif isinstance(encoder, type) and issubclass(encoder, Encoder):
        cls = encoder
    else:
        raise ConfigTypeError(
            f"resolve needs an encoder name, Encoder subclass or instance. Got "
            f"{type(encoder).__name__} ({encoder!r}) instead; names are {_choices()}."
        )
    unknown = sorted(set(config) - set(cls.config_keys) - _extra_keys(cls))
    if unknown:
        raise ConfigTypeError(
            f"{cls.__name__} ({cls.name!r}) got unknown parameter(s) {unknown}; valid ones are "
            f"{sorted(set(cls.config_keys) | _extra_keys(cls))}."
        )
    return cls(**config)


def encoder_from_spec(spec: str) -> tuple[str, Encoder]:
    """Returns ``(modality, encoder)`` from a command-line spec ``MODALITY=NAME[:OPTIONS]``.

    ``OPTIONS`` are ``key=value`` pairs separated by commas (numbers, ``true``/``false`` and
    ``none`` are read as such); ``precomputed`` also takes the path of its vectors alone.

    Raises:
        ValueError: a malformed spec, an unknown encoder or setting (the message says which).

    Example:
        >>> encoder_from_spec("image=precomputed:vectors.npz")
        ('image', PrecomputedEncoder(path='vectors.npz'))
        >>> encoder_from_spec("audio=mfcc:n_mfcc=20")[1].n_mfcc
        20
    """
    modality, equals, choice = str(spec).partition("=")
    name, _, options = choice.partition(":")
    if not equals or not modality.strip() or not name.strip():
        raise ConfigError(
            f"An encoder spec reads MODALITY=NAME[:OPTIONS], e.g. image=precomputed:vectors.npz or "
            f"audio=mfcc:n_mfcc=20. Got {spec!r} instead; names are {_choices()}."
        )
    cls = encoder_class(name.strip())
    config: dict[str, Any] = {}
    if options and cls is PrecomputedEncoder and "=" not in options:
        config["path"] = options
    elif options:
        for pair in options.split(","):
            key, equals, value = pair.partition("=")
            if not equals or not key.strip():
                raise ConfigError(
                    f"The options of the encoder spec {spec!r} must be key=value pairs separated by commas; "
                    f"{pair!r} is not. Settings of {cls.name!r}: {sorted(set(cls.config_keys) | _extra_keys(cls))}."
                )
            config[key.strip()] = _option_value(value.strip())
    try:
        return modality.strip(), resolve(cls, **config)
    except TypeError as error:
        raise ConfigError(f"In the encoder spec {spec!r}: {error}") from None


def _option_value(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def encoder_spec(encoder: Encoder) -> dict[str, Any]:
    """The registry name and settings of an encoder as JSON values; :func:`resolve` rebuilds it.

    Example:
        >>> encoder_spec(resolve("pixels", size=8))["size"]
        8
    """
    return {"name": encoder.name, **encoder.get_config()}


def _extra_keys(cls: type[Encoder]) -> set[str]:
    return {"features"} if cls is PrecomputedEncoder else set()


def _kind_of(payload: Any, index: int, modality: str | None = None) -> str:
    """Returns ``"text"``, ``"image"`` or ``"audio"`` for one payload, or raises."""
    sample = f"Sample {index}" + (f" of modality {modality!r}" if modality else "")
    if isinstance(payload, os.PathLike) or (
        isinstance(payload, str) and "\n" not in payload and len(payload) < 4096
    ):
        suffix = Path(payload).suffix.lower()
        if suffix in IMAGE_EXTENSIONS:
            return "image"
        if suffix in AUDIO_EXTENSIONS:
            return "audio"
        if isinstance(payload, os.PathLike) or os.path.isfile(payload):
            found = (
                f"{sample} ({describe_payload(payload)}) is a file of an unknown kind "
                f"({suffix or 'no extension'!r}). Known extensions: images "
                f"{', '.join(IMAGE_EXTENSIONS)}; audio {', '.join(AUDIO_EXTENSIONS)}. Name an "
                "encoder for this modality instead, e.g. "
            )
            choices = f" or any of {_choices()}."
            raise DataError(
                found + "resolve('precomputed', path=...)" + choices,
                cli_message=found + f"--encoder {modality or 'MODALITY'}=precomputed:path=FILE" + choices,
            )
    if isinstance(payload, str):
        return "text"
    raise DataError(
        f"{sample} ({describe_payload(payload)}) is neither a text nor a file path but a "
        f"{type(payload).__name__}; fill or drop missing payloads first."
    )


def payload_kind(payloads: Sequence[Any], *, modality: str | None = None) -> str:
    """Returns the kind of a modality's payloads: ``"text"``, ``"image"`` or ``"audio"``.

    A payload is an image or audio file when its extension says so (see ``IMAGE_EXTENSIONS``
    and ``AUDIO_EXTENSIONS``); any other string that is not an existing file is inline text.
    ``modality``, if given, is named in the errors.

    Raises:
        ValueError: no payloads, kinds mixed, a file of unknown type, or a non-text value.
    """
    if isinstance(payloads, str | bytes | os.PathLike):
        raise ConfigTypeError(
            f"payload_kind takes a sequence of payloads, not a single {type(payloads).__name__}."
        )
    items = list(payloads)
    if not items:
        raise DataError("payload_kind needs at least one payload to tell its kind. Got none.")
    kinds = [_kind_of(payload, index, modality) for index, payload in enumerate(items)]
    first = {}
    for index, kind in enumerate(kinds):
        first.setdefault(kind, index)
    if len(first) > 1:
        examples = "; ".join(
            f"{kind} (e.g. sample {i}: {describe_payload(items[i])})" for kind, i in first.items()
        )
        raise DataError(
            f"The payloads mix several kinds: {examples}. One modality must hold one kind; "
            f"split them into modalities or name an encoder."
        )
    return kinds[0]


def default_encoder(payloads: Sequence[Any], *, modality: str | None = None) -> str:
    """Returns the registry name of the encoder suited to the payloads' kind.

    Inline text gives ``"minilm"``, image files ``"efficientnet-lite0"``, audio files
    ``"logmel"``.

    Raises:
        ValueError: see :func:`payload_kind` (which names ``modality``, if given).
    """
    return DEFAULT_ENCODERS[payload_kind(payloads, modality=modality)]


__all__ = [
    "AUDIO_EXTENSIONS",
    "DEFAULT_ENCODERS",
    "ENCODERS",
    "IMAGE_EXTENSIONS",
    "EfficientNetLite0Encoder",
    "EmbeddingCache",
    "Encoder",
    "EncodingError",
    "GRULogMelEncoder",
    "LogMelEncoder",
    "MFCCEncoder",
    "MiniLMEncoder",
    "NotFittedError",
    "PixelEncoder",
    "PrecomputedEncoder",
    "TfidfEncoder",
    "default_cache_dir",
    "default_encoder",
    "encode_cached",
    "fit_cached",
    "encoder_class",
    "encoder_from_spec",
    "encoder_spec",
    "payload_kind",
    "resolve",
]
