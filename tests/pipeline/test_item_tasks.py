"""Item tasks end to end: a manifest of real files, its items asked through the pipeline.

The manifest (:func:`mmgraph.testing.write_item_manifest`): 36 items of three classes, each an
image (a PNG), an English and a French name and a spoken-like tone (a WAV clip); the encoders
are real ones that need no weights (``pixels``, ``tfidf``, ``logmel``), so the test runs offline
in seconds.
"""

from __future__ import annotations

import pytest

from mmgraph.benchmark import benchmark
from mmgraph.cli import main
from mmgraph.data import Task, from_manifest
from mmgraph.errors import NotApplicableError
from mmgraph.pipeline import pipeline
from mmgraph.testing import ITEM_CLASSES, ITEM_ENCODERS, ITEM_MODALITIES, write_item_manifest


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    return from_manifest(write_item_manifest(tmp_path_factory.mktemp("items")))


LABEL = Task(name="own-items", description="", kind="label", source="image", label_modalities=ITEM_MODALITIES,
             encoders=ITEM_ENCODERS, query="item", keep=0.5)
LINK = Task(name="own-items-text", description="", kind="link", source="image", target="text_en",
            encoders=ITEM_ENCODERS, query="item")


@pytest.mark.slow
def test_an_item_label_task_runs_end_to_end_on_a_manifest(manifest) -> None:
    result = pipeline(LABEL, dataset=manifest, model="items-concat", seed=0, cache=None, progress=False)
    assert result.task["query"] == "item" and result.task["keep"] == 0.5
    items = result.prepared.item_queries("test")
    assert result.metrics["num_items"] == len(items) > 0
    assert 0 <= result.metrics["accuracy"] <= 1 and 0 <= result.metrics["macro_f1"] <= 1
    assert result.metrics["accuracy"] > 1 / len(ITEM_CLASSES), "three well-separated classes are found"
    assert result.model_config["chosen"]["val_score"] is not None, "selected on the validation items"
    kept = items.kept_modalities()
    assert (kept.sum(1) >= 1).all() and not kept.all(), "keep=0.5 leaves some items partial"


@pytest.mark.slow
def test_an_item_link_task_runs_end_to_end_on_a_manifest(manifest) -> None:
    result = pipeline(LINK, dataset=manifest, model="items-average", seed=0, cache=None, progress=False)
    m = result.metrics
    assert 0 < m["mrr"] <= 1 and m["mrr"] == m["held-out/mrr"] and m["num_items"] > 0
    assert 0 <= m["hits@1"] <= m["hits@3"] <= m["hits@10"] <= 1 and 0 <= m["auc"] <= 1
    assert set(result.fitted.chosen_["weights"]) == {"image", "text_fr", "audio"}, "text_en is the target"


@pytest.mark.slow
def test_bench_runs_item_tasks_and_records_their_keep(manifest, tmp_path) -> None:
    frame = benchmark([LABEL], ["items-single", "logreg"], [0], out=tmp_path, dataset=manifest, cache=None,
                      progress=False)
    assert list(frame["keep"]) == [0.5, 0.5]
    ran = frame.set_index("model")
    assert ran.loc["items-single", "skipped"] is None and ran.loc["items-single", "accuracy"] > 0
    assert "scores single samples; the task asks about held-out items" in ran.loc["logreg", "skipped"]
    assert "keep" in (tmp_path / "results.md").read_text()


@pytest.mark.slow
def test_cli_runs_an_item_query_on_a_manifest(tmp_path, capsys) -> None:
    path = write_item_manifest(tmp_path / "own")
    encoders = [option for m, name in ITEM_ENCODERS.items() for option in ("--encoder", f"{m}={name}")]
    code = main(["run", "--manifest", str(path), "--source", "image", "--target", "text_en", "--query", "item",
                 "--keep", "0.5", "--model", "items-average", "--seed", "0", "--quiet", *encoders])
    out = capsys.readouterr().out
    assert code == 0 and "manifest:items->text_en" in out and "mrr" in out
    assert "mrr by level: keep=1 " in out and "only=audio " in out, "the same items asked at every level"
    examples = out.split("3 held-out items as asked (their kept samples) -> top-3 'text_en' (* marks a true link):\n")
    assert len(examples) == 2, out
    lines = examples[1].splitlines()[:3]
    assert all(" -> " in line and line.count(" | ") == 2 for line in lines), lines  # three candidates each
    assert any("*" in line.split(" -> ")[1] for line in lines), "the true name is among the top-3 of some item"


def test_cli_keep_needs_an_item_query(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--manifest", str(tmp_path / "m.csv"), "--source", "a", "--target", "b", "--keep", "0.5"])
    assert "--keep applies to --query item" in capsys.readouterr().err


def test_a_model_of_items_is_refused_a_sample_task(manifest) -> None:
    task = Task(name="own", description="", kind="label", source="image", encoders=ITEM_ENCODERS)
    with pytest.raises(NotApplicableError, match="answers item queries only"):
        pipeline(task, dataset=manifest, model="items-concat", seed=0, cache=None, progress=False)
