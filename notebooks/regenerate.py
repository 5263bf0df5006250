"""Runs the notebooks top to bottom with the full settings and saves them with their outputs.

Usage, from the repository root (6.5 minutes measured on 2 cores with a warm embedding cache):

    .venv/bin/python notebooks/regenerate.py                        # every notebook
    .venv/bin/python notebooks/regenerate.py 01_quickstart.ipynb    # some of them

Each notebook runs in a fresh kernel of this Python (the venv's, whatever kernels Jupyter knows
elsewhere) with a temporary folder as its working directory, so the notebook file is the only
thing written into the repository. ``MMGRAPH_DATA`` (default ``../shared/data`` beside the
checkout) points at the shared data; ``MMGRAPH_NOTEBOOK_SMALL`` is cleared, so the outputs are
those of the full settings. The tests (``tests/test_notebooks.py``) run the same :func:`execute`
with ``MMGRAPH_NOTEBOOK_SMALL=1``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent
REPO = NOTEBOOKS.parent
KERNEL = "mmgraph-notebooks"


@contextmanager
def _environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """Sets (or, for None, removes) environment variables, and puts them back afterwards."""
    old = {key: os.environ.get(key) for key in values}
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def execute(path: str | os.PathLike, *, cwd: str | os.PathLike, env: Mapping[str, str | None] | None = None,
            timeout: int = 1800) -> nbformat.NotebookNode:
    """Runs the notebook at ``path`` in a kernel of this Python, with ``cwd`` as working directory.

    Jupyter's runtime files, IPython's profile and the kernel spec go to ``cwd`` too. Raises
    ``nbclient.exceptions.CellExecutionError`` if a cell raises.

    Args:
        path: the notebook.
        cwd: an existing folder, the notebook's working directory (all it writes lands there).
        env: environment variables for the kernel (None: removed).
        timeout: seconds one cell may take.

    Returns:
        The executed notebook (the file at ``path`` is not changed).
    """
    cwd = Path(cwd)
    spec = cwd / ".jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (mmgraph)", "language": "python",
    }))
    notebook = nbformat.read(path, as_version=4)
    jupyter = {"JUPYTER_PATH": str(cwd / ".jupyter"), "JUPYTER_RUNTIME_DIR": str(cwd / ".jupyter" / "runtime"),
               "IPYTHONDIR": str(cwd / ".ipython"), "MPLBACKEND": None}
    with _environment({**jupyter, **(env or {})}):
        client = NotebookClient(notebook, timeout=timeout, kernel_name=KERNEL, record_timing=False,
                                resources={"metadata": {"path": str(cwd)}})
        client.execute()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebooks to run (default: every numbered notebook)")
    args = parser.parse_args()
    paths = [NOTEBOOKS / name for name in args.names] or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    env = {
        "MMGRAPH_NOTEBOOK_SMALL": None,
        "MMGRAPH_DATA": os.environ.get("MMGRAPH_DATA") or str(REPO.parent / "shared" / "data"),
        "MMGRAPH_BENCHMARK_RESULTS": str(REPO / "benchmarks" / "results"),
    }
    total = time.perf_counter()
    for path in paths:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="mmgraph-notebook-") as folder:
            notebook = execute(path, cwd=folder, env=env)
        nbformat.write(notebook, path)
        print(f"{path.name}: {time.perf_counter() - start:.0f} s")
    print(f"all: {time.perf_counter() - total:.0f} s")


if __name__ == "__main__":
    main()
