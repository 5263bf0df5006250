"""The notebooks run top to bottom in a kernel of this Python, on small settings, in a temporary folder.

Each notebook reads ``MMGRAPH_NOTEBOOK_SMALL=1`` (a subset, few epochs); a cell that raises fails
the test. The committed notebooks carry the outputs of a full run (``notebooks/regenerate.py``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NEEDS_DATA = {"04_your_own_data.ipynb"}  # reads the shared data folder (MMGRAPH_DATA)
WRITES = {  # a file each notebook must have written into its working folder
    "01_quickstart.ipynb": "runs/openmoji-text/result.json",
    "04_your_own_data.ipynb": "runs/my_data/model/model.json",
}


def _regenerate():
    spec = importlib.util.spec_from_file_location("regenerate", REPO / "notebooks" / "regenerate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_notebooks_are_there() -> None:
    names = [p.name for p in NOTEBOOKS]
    assert names == ["01_quickstart.ipynb", "02_graph_analysis.ipynb", "03_benchmarks.ipynb",
                     "04_your_own_data.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    env = {"MMGRAPH_NOTEBOOK_SMALL": "1", "OMP_NUM_THREADS": "1",
           "MMGRAPH_BENCHMARK_RESULTS": str(REPO / "benchmarks" / "results")}
    if path.name in NEEDS_DATA:
        env["MMGRAPH_DATA"] = str(request.getfixturevalue("data_root"))  # skips, saying why, without the data
    notebook = _regenerate().execute(path, cwd=tmp_path, env=env, timeout=600)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "a code cell did not run"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, "the notebook drew no figure"
    if path.name in WRITES:
        assert (tmp_path / WRITES[path.name]).is_file()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_carries_outputs_of_a_full_run(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and all(c.execution_count for c in code), f"{path.name}: run notebooks/regenerate.py"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs), f"{path.name} has no figure"
    text = nbformat.writes(notebook)
    assert "/tmp/" not in text and "mmgraph-notebook-" not in text, f"{path.name} shows a temporary path"
