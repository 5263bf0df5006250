"""The notebooks run top to bottom against the public API (slow: they train real models)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # files a notebook writes land in a temporary folder
    cells = json.loads(path.read_text())["cells"]
    namespace: dict = {}
    for number, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        exec(compile(source, f"{path.name}[cell {number}]", "exec"), namespace)  # noqa: S102
    assert os.path.exists(tmp_path / "runs" / "openmoji-text" / "result.json") or path.name != "quickstart.ipynb"


def test_notebooks_are_valid_json_with_code() -> None:
    assert NOTEBOOKS, "no notebook under notebooks/"
    for path in NOTEBOOKS:
        notebook = json.loads(path.read_text())
        assert notebook["nbformat"] == 4
        assert any(c["cell_type"] == "code" for c in notebook["cells"]), path.name
