"""The wn18rr task through `mmgraph run`, `mmgraph bench` and the pipeline, on a small folder of
real WN18RR files (the 800 busiest entities and the triples among them), written under tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mmgraph.cli import main
from mmgraph.datasets import load_triples, wn18rr_triples
from mmgraph.errors import NotApplicableError
from mmgraph.models import KG_CONVOLUTIONS, MODELS, models_for
from mmgraph.pipeline import PipelineResult, pipeline
from mmgraph.testing import write_wn18rr

SLICE = 800  # train 815, val 24, test 14 triples
FAST = {"epochs": 2, "dim": 16, "batch_size": 256, "lr": 0.01}
TFIDF = {"entity": {"name": "tfidf", "dim": 32}}


@pytest.fixture(scope="module")
def kg_root(data_root, tmp_path_factory) -> Path:
    return write_wn18rr(wn18rr_triples(data_root).busiest(SLICE), tmp_path_factory.mktemp("kgdata"))


def test_the_small_folder_reads_back_as_the_slice(kg_root, data_root) -> None:
    read = load_triples("wn18rr", root=kg_root)
    sliced = wn18rr_triples(data_root).busiest(SLICE)
    assert read.entities == sliced.entities and read.entity_texts == sliced.entity_texts
    assert {name: len(rows) for name, rows in read.splits.items()} == {"train": 815, "val": 24, "test": 14}


def test_every_kg_convolution_is_a_model_of_kg_tasks() -> None:
    assert models_for("kg") == sorted(f"kg-{conv}" for conv in KG_CONVOLUTIONS.names())
    assert all(MODELS.get(name).savable() for name in models_for("kg"))


def test_a_model_of_another_kind_is_refused_before_any_data_is_read(tmp_path, capsys) -> None:
    empty = tmp_path / "no-data"  # nothing to read: the kind check comes first
    with pytest.raises(NotApplicableError, match=r"'gnn' model .* 'wn18rr' is a kg task\. For kg tasks use one of "
                                                  r"\['kg-compgcn', 'kg-none', 'kg-rgcn'\]"):
        pipeline("wn18rr", model="gnn", seed=0, root=empty)
    with pytest.raises(NotApplicableError, match=r"'kg-rgcn' model completes knowledge-graph triples; the task "
                                                  r"'openmoji-text' is a link task\. For link tasks use one of \["):
        pipeline("openmoji-text", model="kg-rgcn", seed=0, root=empty)
    assert main(["run", "--task", "wn18rr", "--model", "knn-transfer", "--data", str(empty)]) == 2
    assert "For kg tasks use one of ['kg-compgcn'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "--task", "openmoji-text", "--minutes", "1"])
    assert "--minutes applies to knowledge-graph tasks" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "--task", "wn18rr", "--setting", "inductive"])
    assert "a kg task is transductive" in capsys.readouterr().err


@pytest.mark.slow
def test_run_trains_on_train_triples_ranks_test_and_saves(kg_root, tmp_path, monkeypatch, capsys) -> None:
    seen = []
    original_fit = MODELS.get("kg-none").fit

    def spy_fit(self, train, **kwargs):
        seen.append(train)
        return original_fit(self, train, **kwargs)

    monkeypatch.setattr(MODELS.get("kg-none"), "fit", spy_fit)
    result = pipeline("wn18rr", model="kg-none", model_options={**FAST, "decoder": "rotate"}, seed=3, root=kg_root,
                      encoders=TFIDF, progress=False, cache=None)
    triples = load_triples("wn18rr", root=kg_root)
    (view,) = seen
    assert torch.equal(view.train, triples["train"]) and view.features.shape == (SLICE, 32)
    m = result.metrics
    assert m["num_test"] == 14 and 0 < m["known_entities/num_test"] <= 14
    assert m["mrr"] == pytest.approx((m["tail/mrr"] + m["head/mrr"]) / 2)
    assert result.model_config["decoder"] == "rotate" and result.model_config["chosen"]["best_epoch"] is not None
    assert result.config["model_options"]["seed"] == 3 and result.task["setting"] == "transductive"

    out = result.save(tmp_path / "run")
    loaded = PipelineResult.load(out)
    assert loaded.metrics == m
    entity, relation = triples["test"][:, 0], triples["test"][:, 1]
    assert torch.equal(loaded.fitted.scorer().score_tails(entity, relation),
                       result.fitted.scorer().score_tails(entity, relation))
    assert main(["predict", "--model-dir", str(out), "--input", "a dog"]) == 2  # a Predictor ranks links
    assert "is a 'kg-none' model of a knowledge-graph task" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_run_prints_both_sides_and_the_known_subset_and_saves(kg_root, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    code = main(["run", "--task", "wn18rr", "--conv", "rgcn", "--decoder", "distmult", "--epochs", "1", "--minutes",
                 "5", "--encoder", "entity=tfidf:dim=32", "--data", str(kg_root), "--seed", "1", "--out", str(out),
                 "--quiet"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "wn18rr | model kg-rgcn | seed 1 | transductive" in printed
    for line in ("  tail: mrr", "  head: mrr", "  known_entities: mrr", "  known_entities/head: mrr"):
        assert line in printed
    saved = PipelineResult.load(out)
    assert saved.model == "kg-rgcn" and saved.model_config["cpu_minutes"] == 5.0
    assert f"mrr {saved.metrics['mrr']:.4f}" in printed
    assert saved.fitted.settings.conv == "rgcn"


@pytest.mark.slow
def test_bench_runs_kg_models_skips_the_others_and_resumes(kg_root, tmp_path, caplog) -> None:
    from mmgraph.benchmark import benchmark
    from mmgraph.records import read_records

    options = {"kg-compgcn": FAST}
    frame = benchmark(["wn18rr"], ["kg-compgcn", "knn-transfer"], [0], out=tmp_path, root=kg_root,
                      model_options=options, encoders={"entity": "tfidf"}, cache=None, progress=False)
    records = {r["model"]: r for r in read_records(tmp_path)}
    assert records["kg-compgcn"]["status"] == "done" and records["kg-compgcn"]["kind"] == "kg"
    assert "does link tasks, not kg tasks" in records["knn-transfer"]["skipped"]
    assert frame.loc[frame["model"] == "kg-compgcn", "mrr"].item() == records["kg-compgcn"]["metrics"]["mrr"]
    assert "## wn18rr (kg task, main metric mrr)" in (tmp_path / "results.md").read_text()
    again = benchmark(["wn18rr"], ["kg-compgcn"], [0], out=tmp_path, root=kg_root, model_options=options,
                      encoders={"entity": "tfidf"}, cache=None, progress=False)
    assert "1 of 1 runs were already in" in caplog.text
    assert again["mrr"].item() == frame.loc[frame["model"] == "kg-compgcn", "mrr"].item()
