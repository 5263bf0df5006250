"""What a run records about where it ran, and the seeding every run starts with."""

from __future__ import annotations

import os
import platform
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch


def package_version() -> str:
    from mmgraph import __version__

    return __version__


def json_default(value: Any) -> Any:
    """Turns numpy scalars, tuples, sets and paths into JSON values (``json.dumps(default=...)``)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | set):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"Cannot write {type(value).__name__} to JSON")


def environment_record() -> dict[str, str]:
    import sklearn
    import torch_geometric

    return {
        "mmgraph": package_version(), "python": platform.python_version(), "torch": torch.__version__,
        "torch_geometric": torch_geometric.__version__, "numpy": np.__version__, "scikit-learn": sklearn.__version__,
        "machine": platform.machine(), "cpus": str(os.cpu_count()), "torch_threads": str(torch.get_num_threads()),
    }


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
