"""Shared fixtures: the real data folder (or a skip) and a per-session cache for generated files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def _mmgraph_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Points ``MMGRAPH_CACHE`` at a session folder unless already set (to keep a warm cache)."""
    if os.environ.get("MMGRAPH_CACHE"):
        yield
        return
    os.environ["MMGRAPH_CACHE"] = str(tmp_path_factory.mktemp("mmgraph-cache"))
    try:
        yield
    finally:
        os.environ.pop("MMGRAPH_CACHE", None)


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Tiny models run fastest on one thread, above all on a busy shared machine."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The shared data folder: ``MMGRAPH_DATA``, else ``<repo>/../shared/data``; skips if absent."""
    value = os.environ.get("MMGRAPH_DATA", "").strip()
    path = Path(value) if value else REPO.parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"shared data not found at {path}; set MMGRAPH_DATA")
    return path


@pytest.fixture(scope="session")
def emoji_texts(data_root: Path):
    """The real emoji dataset with English and Chinese names only (no rendering: fast)."""
    from mmgraph.datasets import load

    return load("emoji", root=data_root, modalities=("text_en", "text_zh"))


@pytest.fixture(scope="session")
def wn18rr(data_root: Path):
    """The real WN18RR dataset."""
    from mmgraph.datasets import load

    return load("wn18rr", root=data_root)


@pytest.fixture(scope="session")
def named_tasks(data_root: Path):
    """Every named task prepared with seed 0 and zero features (questions do not read features); the
    tasks that load a dataset with the same options share one load."""
    import torch

    from mmgraph.data import split_dataset
    from mmgraph.data.prepared import PreparedTask
    from mmgraph.datasets import load
    from mmgraph.tasks import TASKS

    loaded, out = {}, {}
    for name in TASKS.names():
        task = TASKS.get(name)
        key = (task.dataset, repr(sorted(task.dataset_options.items())))
        if key not in loaded:
            loaded[key] = load(task.dataset, root=data_root, **task.dataset_options)
        dataset = task.make_dataset(loaded[key], 0)
        split = split_dataset(dataset, seed=0, **task.split)
        features = {m: torch.zeros(len(dataset.node_ids(m)), 1) for m in dataset.modalities}
        out[name] = PreparedTask(task, dataset, split, features)
    return out
