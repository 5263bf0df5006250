"""Checks of user-given settings, with messages that name the setting, its owner and the value."""

from __future__ import annotations


def check_positive_int(value: object, name: str, owner: str) -> int:
    """Returns ``value`` if it is a positive int (not a bool); raises a clear ``ValueError`` otherwise.

    Example:
        >>> check_positive_int(-3, "k", "GraphBuilder")
        Traceback (most recent call last):
        ...
        ValueError: The 'k' parameter of GraphBuilder must be a positive int. Got -3 instead.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"The {name!r} parameter of {owner} must be a positive int. Got {value!r} instead.")
    return value
