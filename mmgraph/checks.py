"""Checks of user-given settings, with messages that name the setting, its owner and the value."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from mmgraph.errors import ConfigError


def check_positive_int(value: object, name: str, owner: str) -> int:
    """Returns ``value`` if it is a positive int (not a bool); raises :class:`~mmgraph.errors.ConfigError` if not.

    Numpy integers are accepted too; the result is always a plain ``int``.

    Example:
        >>> check_positive_int(-3, "k", "GraphBuilder")
        Traceback (most recent call last):
        ...
        mmgraph.errors.ConfigError: The 'k' parameter of GraphBuilder must be a positive int. Got -3 instead.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ConfigError(f"The {name!r} parameter of {owner} must be a positive int. Got {value!r} instead.")
    return int(value)


def check_choice(value: object, *, name: str, owner: str, choices: Iterable[object]) -> Any:
    """Returns ``value`` if it is one of ``choices``; raises :class:`~mmgraph.errors.ConfigError` listing them if not.

    Example:
        >>> check_choice("annoy", name="method", owner="knn", choices=("exact", "ivf"))
        Traceback (most recent call last):
        ...
        mmgraph.errors.ConfigError: The 'method' parameter of knn must be one of ['exact', 'ivf']. Got 'annoy' instead.
    """
    choices = tuple(choices)
    if value not in choices:
        raise ConfigError(f"The {name!r} parameter of {owner} must be one of {list(choices)}. Got {value!r} instead.")
    return value
