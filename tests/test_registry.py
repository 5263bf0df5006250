"""The name -> component registry: names are case-insensitive when registered and when looked up."""

from __future__ import annotations

import pytest

from mmgraph.registry import Registry


def test_a_name_registered_with_capitals_is_found_in_any_case() -> None:
    convolutions: Registry[object] = Registry("convolution")
    item = object()
    convolutions.register("GraphSAGE", item)
    assert convolutions.get("graphsage") is item
    assert convolutions.get("GraphSAGE") is item
    assert "GRAPHSAGE" in convolutions
    assert convolutions.names() == ["graphsage"]


def test_a_second_registration_under_the_lowercased_name_is_refused() -> None:
    convolutions: Registry[object] = Registry("convolution")
    first = object()
    convolutions.register("GraphSAGE", first)
    with pytest.raises(ValueError, match="The convolution name 'graphsage' is already registered."):
        convolutions.register("graphsage", object())
    assert convolutions.get("graphsage") is first
