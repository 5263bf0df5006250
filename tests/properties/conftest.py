"""Hypothesis settings of the property tests: no example database, no deadline, and its
storage folder (a cache of constants it reads from our source) in pytest's temporary folder.

Nothing is written into the repository; a failing example is printed by Hypothesis and kept
in the test as an explicit ``@example``.
"""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

settings.register_profile("mmgraph", database=None, deadline=None, max_examples=30, print_blob=True)
settings.load_profile("mmgraph")


@pytest.hookimpl(trylast=True)  # after pytest's tmp_path plugin is configured
def pytest_configure(config: pytest.Config) -> None:
    # Hypothesis's pytest plugin caches constants during collection, before any fixture runs,
    # so the folder is set here, in the session's base temporary folder (tmp_path's parent).
    set_hypothesis_home_dir(config._tmp_path_factory.mktemp("hypothesis"))


def pytest_unconfigure(config: pytest.Config) -> None:
    set_hypothesis_home_dir(None)
