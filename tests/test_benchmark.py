"""The benchmark harness on tiny synthetic tasks: every model, one seed, files written."""

from __future__ import annotations

import json
import math

import pytest

from mmgraph.benchmark import METRICS, benchmark
from mmgraph.cli import main
from mmgraph.data import MultimodalDataset
from mmgraph.datasets import load
from mmgraph.models import MODELS
from mmgraph.models.baselines import LABEL_BASELINES, LINK_BASELINES
from mmgraph.tasks import Task

LINK = Task(name="syn-link", description="", kind="link", source="a", target="b")
LABEL = Task(name="syn-label", description="", kind="label", source="a")
OPTIONS = {
    "gnn": {"epochs": 20}, "siamese": {"epochs": 40}, "fusion": {"epochs": 40},
    "attention-fusion": {"epochs": 40}, "siamese-l2": {"epochs": 40},
    "autoencoder": {"epochs": 20, "latent_dims": (16,), "recon_weights": (0.1, 1.0)},
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def synthetic() -> MultimodalDataset:
    return load("synthetic", num_items=100, seed=0)


@pytest.fixture(scope="module")
def run(tmp_path_factory, synthetic):
    out = tmp_path_factory.mktemp("bench")
    frame = benchmark([LINK, LABEL], MODELS.names(), 1, out=out, dataset=synthetic,
                      model_options=OPTIONS, cache=None, progress=False)
    return frame, out


def test_every_model_gives_valid_metrics_or_a_reason(run) -> None:
    frame, _ = run
    assert len(frame) == 2 * len(MODELS.names())
    for record in frame.to_dict("records"):
        applies = record["model"] == "gnn" or record["model"] in (
            LINK_BASELINES if record["kind"] == "link" else LABEL_BASELINES
        )
        if not applies:
            assert record["skipped"] and f"not {record['kind']} tasks" in record["skipped"], record
            continue
        assert record["skipped"] is None, record
        for metric in METRICS[record["kind"]]:
            value = record[metric]
            assert math.isfinite(value) and 0 <= value <= 1, (record["task"], record["model"], metric, value)
        assert record["train_seconds"] >= 0


def test_files_are_written(run) -> None:
    frame, out = run
    records = json.loads((out / "results.json").read_text())
    assert len(records) == len(frame)
    ran = [r for r in records if "skipped" not in r]
    assert all({"task", "model", "seed", "metrics", "train_seconds"} <= set(r) for r in ran)
    assert all(isinstance(r["skipped"], str) for r in records if "skipped" in r)
    report = (out / "results.md").read_text()
    assert "## syn-link" in report and "## syn-label" in report and "Skipped:" in report
    rows = [line for line in report.splitlines() if line.startswith("| ") and "±" in line]
    link_runs = sum(r["kind"] == "link" for r in ran)
    # one mean ± std row per model that ran on a task, and for link tasks a second one: both candidate sets
    assert len(rows) == len(ran) + link_runs, report
    assert "Both candidate sets (declared: `held-out`" in report
    assert all(r["candidates"] == ("held-out" if r["kind"] == "link" else None) for r in records)
    assert "**" in report and "seeds: 0" in report and "cores" in report
    for task in ("syn-link", "syn-label"):
        assert (out / f"{task}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "a temporary file was left behind"


def test_cosine_between_spaces_of_different_sizes_is_skipped(tmp_path, synthetic) -> None:
    narrow = MultimodalDataset(
        synthetic.samples, name="narrow", features={**synthetic.features, "b": synthetic.features["b"][:, :8]}
    )
    frame = benchmark([LINK], ["cosine", "transfer"], [3], out=tmp_path, dataset={"syn-link": narrow},
                      cache=None, progress=False)
    skipped = frame.set_index("model")["skipped"]
    assert "share one feature space" in skipped["cosine"] and skipped["transfer"] is None
    assert "cosine: " in (tmp_path / "results.md").read_text()


def test_bad_arguments_are_reported(tmp_path, capsys) -> None:
    with pytest.raises(ValueError, match=r"model_options names models that are not run: \['gnn'\]"):
        benchmark([LINK], ["transfer"], 1, model_options={"gnn": {}}, cache=None, progress=False)
    with pytest.raises(ValueError, match="'seeds' parameter of benchmark"):
        benchmark([LINK], ["transfer"], 0, cache=None, progress=False)
    common = ["--seeds", "1", "--out", str(tmp_path), "--quiet"]
    code = main(["bench", "--tasks", "no-such-task", "--models", "gnn", *common])
    assert code == 2 and "among choices" in capsys.readouterr().err
    code = main(["bench", "--tasks", "openmoji-text", "--models", "gnm", *common])
    assert code == 2 and "Could not resolve model 'gnm'" in capsys.readouterr().err
