"""The pipeline end to end on tiny data, results saved and loaded, and the command line."""

from __future__ import annotations

import dataclasses
import json
import math
import re

import pytest

from mmgraph.cli import main
from mmgraph.datasets import load
from mmgraph.errors import ConfigError, NotApplicableError
from mmgraph.models import item_models
from mmgraph.pipeline import PipelineResult, pipeline, validator
from mmgraph.tasks import TASKS, Task


@pytest.fixture(scope="module")
def synthetic():
    return load("synthetic", num_items=150, seed=0)


def test_link_pipeline_learns_above_chance(synthetic) -> None:
    task = Task(name="syn", description="", kind="link", source="a", target="b")
    result = pipeline(task, dataset=synthetic, seed=0, progress=False, cache=None,
                      model_options={"epochs": 60})
    m = result.metrics
    assert result.task["candidates"] == "held-out" and result.task["setting"] == "inductive"
    chance = 1 / m["src->dst/num_candidates"]
    assert 0 < m["mrr"] <= 1 and 0 <= m["hits@1"] <= m["hits@3"] <= m["hits@10"] <= 1
    assert m["mrr"] > 5 * chance, f"MRR {m['mrr']:.3f} vs chance about {chance:.3f}"
    assert 0.5 < m["auc"] <= 1, f"AUC {m['auc']:.3f}"
    assert result.seed == 0 and result.version and result.timings["train_seconds"] > 0


def test_label_pipeline_learns_above_chance(synthetic) -> None:
    task = Task(name="synlab", description="", kind="label", source="a")
    result = pipeline(task, dataset=synthetic, seed=1, progress=False, cache=None,
                      model_options={"epochs": 60})
    assert result.metrics["accuracy"] > 0.5, f"accuracy {result.metrics['accuracy']:.3f} (5 classes)"


def test_result_round_trip(tmp_path, synthetic) -> None:
    task = Task(name="syn", description="", kind="link", source="a", target="b")
    result = pipeline(task, dataset=synthetic, seed=3, progress=False, cache=None,
                      model_options={"epochs": 5})
    result.save(tmp_path / "run")
    loaded = PipelineResult.load(tmp_path / "run")
    assert loaded.metrics == result.metrics and loaded.seed == 3 and loaded.task == result.task
    assert loaded.fitted is not None  # the learner came back with its weights
    record = json.loads((tmp_path / "run" / "result.json").read_text())
    assert all(math.isfinite(v) for v in record["metrics"].values())
    assert not list(tmp_path.glob(".run.*")), "a staging folder was left behind"


def test_same_seed_same_metrics(synthetic) -> None:
    task = Task(name="syn", description="", kind="link", source="a", target="c")
    runs = [pipeline(task, dataset=synthetic, seed=7, progress=False, cache=None,
                     model_options={"epochs": 10}).metrics for _ in range(2)]
    assert runs[0] == runs[1]


def test_unknown_model_and_task_list_choices(synthetic) -> None:
    with pytest.raises(ValueError, match="among choices"):
        pipeline("no-such-task")
    task = Task(name="syn", description="", kind="link", source="a", target="b")
    with pytest.raises(ValueError, match="Could not resolve model 'gnm'"):
        pipeline(task, dataset=synthetic, model="gnm", seed=0, cache=None, progress=False)
    with pytest.raises(TypeError, match="unknown setting"):
        pipeline(task, dataset=synthetic, seed=0, cache=None, progress=False, model_options={"epoch": 3})


@pytest.mark.parametrize(("task", "model"), [
    (Task(name="syn", description="", kind="link", source="a", target="b"), "gnn"),
    (Task(name="kg", description="", kind="kg", source="entity", split={"mode": "predefined"}), "kg-none"),
])
def test_a_task_naming_no_dataset_asks_for_one(task: Task, model: str) -> None:
    with pytest.raises(ConfigError, match=f"The task '{task.name}' names no dataset; pass dataset="):
        pipeline(task, model=model, seed=0, cache=None, progress=False)


def test_a_model_of_single_samples_is_refused_an_item_task_before_any_data_is_read(tmp_path) -> None:
    with pytest.raises(NotApplicableError, match="'emoji-items-group:keep=0.5' asks about held-out items") as error:
        pipeline("emoji-items-group:keep=0.5", model="logreg", root=tmp_path / "no-data", seed=0)
    assert str(item_models()) in str(error.value)


def test_cli_lists_every_task(capsys) -> None:
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in TASKS.names():
        assert name in out


def test_cli_runs_a_manifest(tmp_path, capsys) -> None:
    from mmgraph.testing import write_tiny_manifest

    manifest = write_tiny_manifest(tmp_path / "data")
    code = main(["run", "--manifest", str(manifest), "--source", "text_en", "--target", "text_fr",
                 "--seed", "0", "--epochs", "5", "--k", "2", "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    assert "mrr" in out
    assert (tmp_path / "out" / "result.json").exists()
    # a few held-out English names and the French names predicted for them, through the predict path
    examples = out[out.index("held-out 'text_en' samples, top-3 'text_fr'"):out.index("saved to")].splitlines()[1:]
    assert examples and all(" -> " in line for line in examples)
    assert "*le soleil" in out  # the held-out French name of "the bright sun", shown by its text


def test_cli_reports_bad_input(tmp_path, capsys) -> None:
    code = main(["run", "--manifest", str(tmp_path / "missing.csv"), "--source", "a", "--target", "b"])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def test_propagation_is_chosen_on_validation(synthetic) -> None:
    from mmgraph.models.gnn_model import LINK_WEIGHTS, PROPAGATION_SETTINGS

    task = Task(name="syn", description="", kind="link", source="a", target="b")
    refined = pipeline(task, dataset=synthetic, seed=0, progress=False, cache=None, model_options={"epochs": 20})
    chosen = refined.model_config["propagation_chosen"]
    assert (chosen["alpha"], chosen["steps"]) in PROPAGATION_SETTINGS
    assert all(w in LINK_WEIGHTS for w in chosen["weights"]) and 0 < chosen["val"] <= 1
    plain = pipeline(task, dataset=synthetic, seed=0, progress=False, cache=None,
                     model_options={"epochs": 20, "propagation": False})
    assert plain.model_config["propagation_chosen"]["weights"] == (0.0, 0.0)
    # The choice includes "learned score only", so validation can only improve on it.
    assert chosen["val"] >= plain.fitted.learner_.best_val_ - 1e-9


def test_hubness_correction_is_chosen_on_validation_and_is_csls(synthetic) -> None:
    import torch

    from mmgraph.models.gnn_model import HUBNESS_WEIGHTS
    from mmgraph.models.terms import HUBNESS_NEIGHBOURS

    task = Task(name="syn", description="", kind="link", source="a", target="b")
    result = pipeline(task, dataset=synthetic, seed=0, progress=False, cache=None, model_options={"epochs": 20})
    model, prepared = result.fitted, result.prepared
    chosen = model.choices_
    assert chosen.hubness in HUBNESS_WEIGHTS
    new = prepared.new_samples("val")
    train = prepared.train_view()
    edge_type = train.target_edge_type
    base = model.scorer(new, choices=dataclasses.replace(chosen, hubness=0.0))
    corrected = model.scorer(new, choices=dataclasses.replace(chosen, hubness=0.5))
    num_a, num_b = (train.num_nodes(t) + len(new.get(t, ())) for t in ("a", "b"))
    query, candidates = torch.arange(num_a), torch.arange(num_b)
    # By hand: each candidate's mean over its 10 best training queries (the training view's rows of "a").
    train_scores = base.link_scores(edge_type, model.train_rows_["a"], candidates, reverse=False)
    hub = train_scores.topk(HUBNESS_NEIGHBOURS, dim=0).values.mean(0)
    expected = base.link_scores(edge_type, query, candidates, reverse=False) - 0.5 * hub
    assert torch.allclose(corrected.link_scores(edge_type, query, candidates, reverse=False), expected, atol=1e-5)
    # Without the correction the validation score can only be lower or equal: 0 is among the choices.
    plain = pipeline(task, dataset=synthetic, seed=0, progress=False, cache=None,
                     model_options={"epochs": 20, "hubness": False})
    assert plain.model_config["propagation_chosen"]["hubness"] == 0.0
    assert chosen.val >= plain.model_config["propagation_chosen"]["val"] - 1e-9


def test_linear_map_is_chosen_on_validation_adds_the_ridge_score_and_is_saved(synthetic, tmp_path) -> None:
    import torch

    from mmgraph.models import GNNModel
    from mmgraph.models.baselines.transfer import TransferBaseline
    from mmgraph.models.gnn_model import MAP_WEIGHTS

    task = Task(name="syn", description="", kind="link", source="a", target="b")
    options = {"epochs": 20, "hubness": False}
    result = pipeline(task, dataset=synthetic, seed=0, progress=False, cache=None, model_options=options)
    model, prepared = result.fitted, result.prepared
    chosen = model.choices_
    assert chosen.map in MAP_WEIGHTS and (model.map_ is None) == (chosen.map == 0)
    assert (chosen.map_settings is None) == (chosen.map == 0)
    # Without the map the validation score can only be lower or equal: 0 is among the choices.
    plain = pipeline(task, dataset=synthetic, seed=0, progress=False, cache=None,
                     model_options={**options, "linear_map": False})
    assert plain.model_config["propagation_chosen"]["map"] == 0.0
    assert chosen.val >= plain.model_config["propagation_chosen"]["val"] - 1e-9

    # With weight 3: the learned and propagated score plus 3 x the ridge map's (the `transfer` model's) score.
    train, new = prepared.train_view(), prepared.new_samples("val")
    model.map_ = TransferBaseline().fit(train, validate=validator(prepared), progress=False)
    model.choices_ = dataclasses.replace(chosen, map=3.0, map_settings=model.map_.chosen_)
    edge_type = train.target_edge_type
    query, candidates = torch.arange(train.num_nodes("a") + len(new["a"])), torch.arange(train.num_nodes("b"))
    base = model.scorer(new, choices=dataclasses.replace(chosen, map=0.0)).link_scores(
        edge_type, query, candidates, reverse=False
    )
    mapped = model.map_.scorer(new).link_scores(edge_type, query, candidates, reverse=False)
    scores = model.scorer(new).link_scores(edge_type, query, candidates, reverse=False)
    assert torch.allclose(scores, base + 3.0 * mapped, atol=1e-5)
    # Saved and loaded, the map comes back with the model, and the choices as they were.
    loaded = GNNModel.load(model.save(tmp_path / "gnn"), train)
    assert loaded.map_ is not None and loaded.choices_ == model.choices_
    again = loaded.scorer(new).link_scores(edge_type, query, candidates, reverse=False)
    assert torch.allclose(again, scores, atol=1e-5)


def test_knn_option_reaches_the_graph_builder(tmp_path, synthetic) -> None:
    from mmgraph.models import GNNModel

    assert GNNModel(knn="hnsw").settings.knn == "hnsw" and not hasattr(GNNModel(), "builder_")  # built in fit
    task = Task(name="syn", description="", kind="link", source="a", target="b")
    result = pipeline(task, dataset=synthetic, seed=3, progress=False, cache=None,
                      model_options={"epochs": 5, "knn": "flat"})
    assert result.fitted.builder_.method == "flat" and result.config["model_options"]["knn"] == "flat"
    result.save(tmp_path / "run")
    assert PipelineResult.load(tmp_path / "run").fitted.builder_.method == "flat"


def test_auto_knn_is_exact_on_small_data(synthetic) -> None:
    task = Task(name="syn", description="", kind="link", source="a", target="b")
    runs = [pipeline(task, dataset=synthetic, seed=3, progress=False, cache=None,
                     model_options={"epochs": 5, "knn": knn}).metrics for knn in ("auto", "exact")]
    assert runs[0] == runs[1]


def test_bad_knn_option_lists_the_choices(tmp_path, synthetic, capsys, monkeypatch) -> None:
    task = Task(name="syn", description="", kind="link", source="a", target="b")
    message = ("The 'knn' parameter of the 'gnn' model must be one of ['auto', 'exact', 'flat', 'hnsw', 'ivf']. "
               "Got 'annoy'")
    with pytest.raises(ValueError, match=re.escape(message)):
        pipeline(task, dataset=synthetic, seed=0, cache=None, progress=False, model_options={"knn": "annoy"})
    code = main(["run", "--task", "openmoji-text", "--knn", "annoy", "--quiet"])
    assert code == 2 and message in capsys.readouterr().err
    for command in (["run", "--task", "openmoji-text", "--model", "knn-transfer"],
                    ["bench", "--tasks", "openmoji-text", "--models", "gnn,knn-transfer", "--out", str(tmp_path)]):
        assert main([*command, "--knn", "hnsw", "--quiet"]) == 2
        assert "the model(s) ['knn-transfer'] build no kNN graph. Drop --knn" in capsys.readouterr().err

    import mmgraph.benchmark

    seen = {}

    def fake_benchmark(tasks, models, seeds, **kwargs):
        seen.update(kwargs["model_options"])
        raise ConfigError("stop here")

    monkeypatch.setattr(mmgraph.benchmark, "benchmark", fake_benchmark)
    assert main(["bench", "--tasks", "openmoji-text", "--models", "gnn", "--out", str(tmp_path), "--knn", "ivf"]) == 2
    assert seen == {"gnn": {"knn": "ivf"}}
