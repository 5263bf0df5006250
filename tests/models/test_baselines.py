"""The baselines: each one learns above chance on a small synthetic task, scores new samples one
by one, learns from the training view only; settings and errors."""

from __future__ import annotations

import itertools
import math
import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from torch import Tensor, nn

from mmgraph.data import MultimodalDataset, Task, split_dataset
from mmgraph.data.prepared import PreparedTask, component_classes, link_components
from mmgraph.datasets import load
from mmgraph.errors import NotFittedError
from mmgraph.evaluation.evaluator import evaluate_label_queries, evaluate_link_auc, evaluate_link_queries
from mmgraph.models import MODELS, GNNModel
from mmgraph.models.base import RelationModel, Scoring
from mmgraph.models.baselines import (
    BASELINES,
    ITEM_BASELINES,
    LABEL_BASELINES,
    LINK_BASELINES,
    NotApplicableError,
)
from mmgraph.models.baselines._common import LinkBaseline
from mmgraph.models.baselines.transfer import KNN_WEIGHTINGS, TRANSFER_MODES, neighbour_weights
from mmgraph.models.standardize import Standardize
from mmgraph.models.terms import HUBNESS_NEIGHBOURS, HUBNESS_WEIGHTS
from mmgraph.typing import DIRECTIONS

LINK = Task(name="syn", description="", kind="link", source="a", target="b")
LABEL = Task(name="synlab", description="", kind="label", source="a")
# Only "b" may show its labels: "a" learns them through its training links to "b".
LABEL_VIA_LINKS = Task(name="synlab-links", description="", kind="label", source="a", label_modalities=("b",))
EDGE = ("a", "same_item", "b")
# The models the contract tests below run over, read from the registry: every registered model but
# the GNN (its own tests run it at its size), the knowledge-graph models (kind "kg": tests/pipeline/
# test_kg_task.py) and the models of item tasks only (tests/models/test_item_fusion.py), so one
# registered by CONTRIBUTING.md's recipe is covered with no list to edit here.
REGISTERED = [
    name for name in MODELS.names()
    if MODELS.get(name) is not GNNModel and {"link", "label"} & set(MODELS.get(name).kinds)
    and not MODELS.get(name).item_only
]
REGISTERED_LINK = [name for name in REGISTERED if "link" in MODELS.get(name).kinds]
FAST = {
    "siamese": {"epochs": 60}, "siamese-l2": {"epochs": 60}, "fusion": {"epochs": 100},
    "attention-fusion": {"epochs": 100},
    "autoencoder": {"epochs": 60, "latent_dims": (32,), "recon_weights": (0.1, 1.0)},
}
# Fewer epochs where only the interface is tested, not the quality.
QUICK = {
    "siamese": {"epochs": 3}, "siamese-l2": {"epochs": 3}, "fusion": {"epochs": 3}, "attention-fusion": {"epochs": 3},
    "autoencoder": {"epochs": 3},
}


# Links inside classes: every "a" sample linked to three "b" samples of its class (many to many),
# each sample its own split unit; the links' connected components are the classes.
CLASS_LINK = Task(name="syn-class", description="", kind="link", source="a", target="b", split={"mode": "group"},
                  same_label_is_link=True)
# Models that need links forming classes; on one-to-one links they refuse the task.
NEEDS_CLASSES = ("component-class",)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def synthetic() -> MultimodalDataset:
    return load("synthetic", num_items=150, seed=0)


@pytest.fixture(scope="module")
def class_linked(synthetic) -> MultimodalDataset:
    samples = synthetic.samples.drop(columns=["true_item"]).assign(item=None)
    samples["group"] = samples["id"]
    rng = np.random.default_rng(0)
    by_class = {c: rows["id"].to_numpy() for c, rows in samples[samples["modality"] == "b"].groupby("label")}
    a = samples[samples["modality"] == "a"]
    links = [
        (i, j, "same_item") for i, c in zip(a["id"], a["label"], strict=True)
        for j in rng.choice(by_class[c], 3, replace=False)
    ]
    return MultimodalDataset(samples, pd.DataFrame(links, columns=["src", "dst", "relation"]), name="class-linked",
                             features=synthetic.features)


def _link_task(
    name: str, synthetic: MultimodalDataset, class_linked: MultimodalDataset
) -> tuple[Task, MultimodalDataset]:
    """The synthetic link task a link baseline is tested on: class-linked for the models that need classes."""
    return (CLASS_LINK, class_linked) if name in NEEDS_CLASSES else (LINK, synthetic)


def _with_features(dataset: MultimodalDataset, b: np.ndarray, name: str) -> MultimodalDataset:
    return MultimodalDataset(dataset.samples, name=name, features={**dataset.features, "b": b})


def _prepare(task: Task, dataset: MultimodalDataset, *, seed: int = 0, setting: str = "inductive") -> PreparedTask:
    dataset = task.make_dataset(dataset, seed)
    split = split_dataset(dataset, seed=seed, **task.split)
    features = {m: torch.as_tensor(x) for m, x in dataset.features.items()}
    return PreparedTask(task, dataset, split, features, setting=setting)


def _validate(prepared: PreparedTask):
    """The validation callback, as the pipeline builds it."""

    def validate(scoring: Scoring, *, max_links: int | None = None) -> dict[str, float]:
        scorer = scoring(prepared.new_samples("val"))
        if prepared.task.kind == "label":
            return evaluate_label_queries(scorer.predict_labels, prepared.label_queries("val"))
        return evaluate_link_queries(scorer.link_scores, prepared.link_queries("val"), max_links=max_links)

    return validate


def _fit(name: str, prepared: PreparedTask, *, validate: bool = True, options: dict | None = None, seed: int = 0):
    options = {**FAST.get(name, {}), "seed": seed, **(options or {})}
    model = MODELS.get(name)(**options)
    return model.fit(prepared.train_view(), validate=_validate(prepared) if validate else None, progress=False)


def _link_metrics(model: RelationModel, prepared: PreparedTask) -> dict[str, float]:
    scorer = model.scorer(prepared.new_samples("test"))
    queries = prepared.link_queries("test")
    ranking = evaluate_link_queries(scorer.link_scores, queries)
    return {**ranking, **evaluate_link_auc(scorer.link_scores, queries, seed=0)}


def _label_metrics(model: RelationModel, prepared: PreparedTask) -> dict[str, float]:
    scorer = model.scorer(prepared.new_samples("test"))
    return evaluate_label_queries(scorer.predict_labels, prepared.label_queries("test"))


def _chance_mrr(num_candidates: int) -> float:
    """The expected MRR of a random ranking of ``num_candidates``."""
    return sum(1 / r for r in range(1, num_candidates + 1)) / num_candidates


def _check_link_metrics(m: dict[str, float]) -> None:
    assert all(math.isfinite(v) for v in m.values()), m
    assert 0 < m["mrr"] <= 1 and 0 <= m["hits@1"] <= m["hits@3"] <= m["hits@10"] <= 1, m
    assert 0 <= m["auc"] <= 1, m


def test_every_baseline_is_registered() -> None:
    assert set(LINK_BASELINES) | set(LABEL_BASELINES) | set(ITEM_BASELINES) == set(BASELINES)
    assert not set(ITEM_BASELINES) & (set(LINK_BASELINES) | set(LABEL_BASELINES))
    for name, cls in BASELINES.items():
        assert name in MODELS and MODELS.get(name).name == name
        assert issubclass(cls, RelationModel)
        if name not in ITEM_BASELINES:
            assert cls.kinds == (("link",) if name in LINK_BASELINES else ("label",))


@pytest.mark.parametrize("name", [n for n in LINK_BASELINES if n not in ("cosine", *NEEDS_CLASSES)])
def test_link_baseline_beats_chance(synthetic, name: str) -> None:
    prepared = _prepare(LINK, synthetic)
    model = _fit(name, prepared)
    m = _link_metrics(model, prepared)
    _check_link_metrics(m)
    # Item split: the test pool is the held-out samples of the other side.
    for direction in ("src->dst", "dst->src"):
        num = int(m[f"{direction}/num_candidates"])
        chance = _chance_mrr(num)
        mrr, hits = m[f"{direction}/mrr"], m[f"{direction}/hits@10"]
        assert mrr > 2 * chance, f"{name} {direction}: MRR {mrr:.3f} vs chance {chance:.3f}"
        assert hits > 10 / num, f"{name} {direction}: Hits@10 {hits:.3f}"
    scorer = model.scorer()
    query, candidates = torch.arange(4), torch.arange(7)
    assert scorer.link_scores(EDGE, query, candidates, reverse=False).shape == (4, 7)
    assert scorer.link_scores(EDGE, query, candidates, reverse=True).shape == (4, 7)
    config = model.config()
    assert config["seed"] == 0 and "chosen" in config


def test_model_selection_is_recorded(synthetic) -> None:
    prepared = _prepare(LINK, synthetic)
    transfer = _fit("transfer", prepared)
    chosen = transfer.config()["chosen"]
    assert set(chosen) == {"src->dst", "dst->src", "hubness"}
    assert {chosen["hubness"][d]["weight"] for d in DIRECTIONS} <= set(HUBNESS_WEIGHTS)
    for choice in (chosen[d] for d in DIRECTIONS):
        assert choice["alpha"] in transfer.settings.alphas and choice["standardize"] in (True, False)
        assert choice["mode"] in TRANSFER_MODES and 0 < choice["val_mrr"] <= 1
    knn = _fit("knn-transfer", prepared)
    assert set(knn.config()["chosen"]) == {"src->dst", "dst->src", "hubness"}
    assert knn.config()["chosen"]["src->dst"]["k"] in knn.settings.ks
    assert knn.config()["chosen"]["src->dst"]["weighting"] in KNN_WEIGHTINGS
    # Without validation: the defaults, or every epoch.
    default = {"alpha": 10.0, "standardize": True, "mode": "carry-query"}
    assert _fit("transfer", prepared, validate=False).chosen_ == {"src->dst": default, "dst->src": default}
    assert _fit("knn-transfer", prepared, validate=False).chosen_ == {
        "k": 10, "weighting": "softmax", "temperature": 0.1,
    }
    siamese = _fit("siamese", prepared, validate=False, options={"epochs": 2})
    assert siamese.chosen_ == {"best_epoch": 2, "val_mrr": None}
    fusion = _fit("fusion", prepared, options={"epochs": 10, "eval_every": 5})
    assert fusion.chosen_["best_epoch"] in (5, 10) and 0 < fusion.chosen_["val_mrr"] <= 1


def _recording(prepared: PreparedTask, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list]:
    """The validation callback, and the settings (of direction src->dst) that it scored: each
    candidate's own scoring records its setting when validation calls it."""
    tried, choose_per_direction = [], LinkBaseline._choose_per_direction

    def spy(self, grid, default, scoring, **kwargs):
        def recorded(setting):
            candidate = scoring(setting)

            def scored(new):
                tried.append(setting[False])
                return candidate(new)

            return scored

        return choose_per_direction(self, grid, default, recorded, **kwargs)

    monkeypatch.setattr(LinkBaseline, "_choose_per_direction", spy)
    return _validate(prepared), tried


@pytest.mark.parametrize(("name", "attribute"), [
    ("transfer", "setting_"), ("knn-transfer", "k_"), ("cosine", "center_"), ("late-fusion", "weights_"),
    ("logreg", "classifiers_"), ("label-transfer", "k_"), ("autoencoder", "module_"), ("siamese", "module_"),
    ("fusion", "module_"),
])
def test_validation_scores_candidate_settings_without_setting_them_on_the_model(name, attribute, synthetic) -> None:
    """A grid search scores each setting through its own scorer; the choice is set once, at the end
    (the hubness correction, chosen after it, is tested below)."""
    hubness = {"hubness": False} if "link" in BASELINES[name].kinds else {}
    model = BASELINES[name](**FAST.get(name, {}), **hubness)
    prepared = _prepare(LABEL if "label" in model.kinds else LINK, synthetic)
    validate, held = _validate(prepared), []

    def spy(scoring, **options):
        held.append(hasattr(model, attribute))
        return validate(scoring, **options)

    model.fit(prepared.train_view(), validate=spy, progress=False)
    assert held and not any(held) and hasattr(model, attribute)


def test_hubness_weight_is_chosen_per_direction_on_validation_after_the_models_own_search(
    synthetic, monkeypatch
) -> None:
    prepared = _prepare(LINK, synthetic)
    validate, tried = _recording(prepared, monkeypatch)
    model = BASELINES["cosine"]().fit(prepared.train_view(), validate=validate, progress=False)
    assert tried == [False, True, *HUBNESS_WEIGHTS]  # centring first, then the weights over its choice
    for reverse, direction in zip((False, True), DIRECTIONS, strict=True):
        scores = [
            _validate(prepared)(lambda new, w=w: model._corrected(new, {False: w, True: w}))[f"{direction}/mrr"]
            for w in HUBNESS_WEIGHTS
        ]
        best = HUBNESS_WEIGHTS[scores.index(max(scores))]  # the first best: 0 unless a weight helps
        assert model.hubness_[reverse] == best == model.chosen_["hubness"][direction]["weight"]
        assert model.chosen_["hubness"][direction]["val_mrr"] == max(scores)
    # Off, or nothing to validate on: no correction and nothing recorded.
    for off in (BASELINES["cosine"](hubness=False).fit(prepared.train_view(), validate=_validate(prepared)),
                BASELINES["cosine"]().fit(prepared.train_view(), progress=False)):
        assert off.hubness_ == {False: 0.0, True: 0.0} and "hubness" not in off.chosen_


def test_hubness_corrected_scores_are_the_models_minus_each_candidates_hub_score(synthetic) -> None:
    prepared = _prepare(LINK, synthetic)
    train = prepared.train_view()
    model = _fit("transfer", prepared)
    weights = {False: 0.5, True: 1.0}
    model.hubness_ = weights
    model.chosen_["hubness"] = {d: {"weight": weights[r]} for r, d in zip((False, True), DIRECTIONS, strict=True)}
    new = prepared.new_samples("test")
    base, scorer = model._uncorrected_scorer(new), model.scorer(new)
    for reverse, (query_type, answer_type) in ((False, ("a", "b")), (True, ("b", "a"))):
        queries = torch.arange(train.num_nodes(query_type), train.num_nodes(query_type) + 5)  # new samples
        candidates = torch.arange(train.num_nodes(answer_type) + len(new[answer_type]))  # view and new
        by_training_queries = base.link_scores(EDGE, train.train_rows[query_type], candidates, reverse=reverse)
        hub = by_training_queries.topk(HUBNESS_NEIGHBOURS, dim=0).values.mean(0)
        expected = base.link_scores(EDGE, queries, candidates, reverse=reverse) - weights[reverse] * hub
        torch.testing.assert_close(scorer.link_scores(EDGE, queries, candidates, reverse=reverse), expected)
        # A saved and loaded model corrects with the same weights.
        loaded = type(model).from_state(*model.state(), train)
        torch.testing.assert_close(
            loaded.scorer(new).link_scores(EDGE, queries, candidates, reverse=reverse), expected
        )


def test_transfer_tries_every_setting_on_validation_and_keeps_the_best_per_direction(synthetic, monkeypatch) -> None:
    prepared = _prepare(LINK, synthetic)
    validate, tried = _recording(prepared, monkeypatch)
    options = {"alphas": (1.0, 100.0), "hubness": False}
    model = BASELINES["transfer"](**options).fit(prepared.train_view(), validate=validate, progress=False)
    assert sorted(tried) == sorted(itertools.product((1.0, 100.0), (True, False), TRANSFER_MODES))
    # The recorded choice is the best of the grid on validation, direction by direction.
    for direction, reverse in (("src->dst", False), ("dst->src", True)):
        choice = model.chosen_[direction]
        best = max(
            _validate(prepared)(_fit("transfer", prepared, validate=False, options={
                "default_alpha": a, "default_standardize": st, "default_mode": mo, **options,
            }).scorer)[f"{direction}/mrr"]
            for a, st, mo in tried
        )
        assert choice["val_mrr"] == pytest.approx(best)
        assert model.setting_[reverse] == (choice["alpha"], choice["standardize"], choice["mode"])


def test_transfer_modes_carry_the_query_the_candidate_or_both(synthetic) -> None:
    prepared = _prepare(LINK, synthetic)
    scores = {}
    for mode in TRANSFER_MODES:
        model = _fit("transfer", prepared, validate=False, options={"default_mode": mode})
        scorer = model.scorer()
        query, candidates = torch.arange(5), torch.arange(8)
        scores[mode] = {r: scorer.link_scores(EDGE, query, candidates, reverse=r) for r in (False, True)}
    # Carrying the candidate of one direction is carrying the query of the other, transposed.
    query, candidates = torch.arange(5), torch.arange(8)
    forward = _fit("transfer", prepared, validate=False).scorer().link_scores(EDGE, candidates, query, reverse=True)
    torch.testing.assert_close(scores["carry-candidate"][False], forward.T)
    for r in (False, True):
        torch.testing.assert_close(scores["sum"][r], scores["carry-query"][r] + scores["carry-candidate"][r])
    with pytest.raises(ValueError, match=r"'modes' of the 'transfer' model must be among \['carry-query'"):
        MODELS.get("transfer")(modes=("both",))
    with pytest.raises(ValueError, match="'standardize' parameter of the 'transfer' model must be bools"):
        MODELS.get("transfer")(standardize=())


def test_knn_transfer_tries_every_weighting_on_validation(synthetic, monkeypatch) -> None:
    prepared = _prepare(LINK, synthetic)
    validate, tried = _recording(prepared, monkeypatch)
    options = {"ks": (1, 5), "temperatures": (0.05, 0.5), "hubness": False}
    model = BASELINES["knn-transfer"](**options).fit(prepared.train_view(), validate=validate, progress=False)
    expected = [(k, w, t) for k in (1, 5) for w, t in
                (("uniform", None), ("cosine", None), ("softmax", 0.05), ("softmax", 0.5))]
    assert tried == expected
    for direction in ("src->dst", "dst->src"):
        choice = model.chosen_[direction]
        assert (choice["k"], choice["weighting"], choice["temperature"]) in expected
    with pytest.raises(ValueError, match=r"'weightings' of the 'knn-transfer' model must be among"):
        MODELS.get("knn-transfer")(weightings=("gaussian",))


def test_neighbour_weightings() -> None:
    similarities = torch.tensor([[0.9, 0.3, -0.2], [-0.1, -0.5, -0.9]])
    torch.testing.assert_close(neighbour_weights(similarities, "uniform", None), torch.full((2, 3), 1 / 3))
    cosine = neighbour_weights(similarities, "cosine", None)
    torch.testing.assert_close(cosine[0], torch.tensor([0.75, 0.25, 0.0]))
    torch.testing.assert_close(cosine[1], torch.full((3,), 1 / 3))  # nothing positive: equal weights
    torch.testing.assert_close(
        neighbour_weights(similarities, "softmax", 0.1), torch.softmax(similarities / 0.1, dim=1)
    )


def test_cosine_chooses_centring_on_validation(synthetic, monkeypatch) -> None:
    # One shared space, but "b" sits far off the origin: centring each modality removes the offset.
    noise = np.random.default_rng(0).normal(0, 0.3, synthetic.features["a"].shape)
    offset = _prepare(LINK, _with_features(synthetic, synthetic.features["a"] + noise + 20.0, "offset"))
    validate, tried = _recording(offset, monkeypatch)
    model = BASELINES["cosine"](hubness=False).fit(offset.train_view(), validate=validate, progress=False)
    assert tried == [False, True]
    chosen = model.config()["chosen"]
    assert chosen["src->dst"]["center"] is True and chosen["dst->src"]["center"] is True
    centred_mrr = _link_metrics(model, offset)["mrr"]
    assert centred_mrr > 0.8
    raw = _fit("cosine", offset, validate=False)
    assert raw.chosen_ == {"src->dst": {"center": False}, "dst->src": {"center": False}}
    assert _link_metrics(raw, offset)["mrr"] < centred_mrr - 0.2


def test_component_class_ranks_links_inside_classes(class_linked, monkeypatch) -> None:
    prepared = _prepare(CLASS_LINK, class_linked)
    validate, tried = _recording(prepared, monkeypatch)
    model = BASELINES["component-class"](cs=(0.1, 1.0), hubness=False)
    model.fit(prepared.train_view(), validate=validate, progress=False)
    assert sorted(tried) == [(0.1, 0.1), (0.1, 1.0), (1.0, 0.1), (1.0, 1.0)]
    chosen = model.config()["chosen"]
    assert chosen["num_classes"] == 5 and chosen["coverage"] > 0.5  # the synthetic data's five classes
    assert chosen["src->dst"]["C a"] in (0.1, 1.0) and 0 < chosen["src->dst"]["val_mrr"] <= 1
    m = _link_metrics(model, prepared)
    _check_link_metrics(m)
    assert m["mrr"] > 0.9, m["mrr"]  # separable classes: every same-class candidate is an answer
    # A score is the dot product of two class-probability vectors.
    scores = model.scorer().link_scores(EDGE, torch.arange(3), torch.arange(4), reverse=False)
    assert bool(((scores >= 0) & (scores <= 1 + 1e-6)).all())


def test_component_class_refuses_one_to_one_links(synthetic) -> None:
    refusal = r"'component-class'.*form \d+ component\(s\) \(median size 2\).*one to one"
    with pytest.raises(NotApplicableError, match=refusal):
        _fit("component-class", _prepare(LINK, synthetic))
    with pytest.raises(ValueError, match="'min_coverage' parameter of the 'component-class' model must be in"):
        MODELS.get("component-class")(min_coverage=0)


def test_link_components() -> None:
    # a0-b0, a1-b0, a2-b1: two components; a3 and b2 hold no link.
    links = {("a", "to", "b"): torch.tensor([[0, 1, 2], [0, 0, 1]])}
    parts = link_components({"a": 4, "b": 3}, links)
    assert parts["a"].tolist() == [0, 0, 1, -1] and parts["b"].tolist() == [0, 1, -1]
    # A shared label joins a3 to b0's component; a label held by one sample makes its own.
    labels = {"a": torch.tensor([-1, -1, -1, 7]), "b": torch.tensor([7, -1, 5])}
    parts = link_components({"a": 4, "b": 3}, links, labels)
    assert parts["a"].tolist() == [0, 0, 1, 0] and parts["b"].tolist() == [0, 1, 2]


def test_component_classes_drops_small_components() -> None:
    # Components of sizes 4, 2 and 1 (7 nodes): a share of 0.25 keeps the first two.
    parts = {"a": np.array([0, 0, 1, 2, -1]), "b": np.array([0, 0, 1])}
    classes, coverage = component_classes(parts, min_class_share=0.25)
    assert classes["a"].tolist() == [0, 0, 1, -1, -1] and classes["b"].tolist() == [0, 0, 1]
    assert coverage == pytest.approx(6 / 7)


def test_cosine_ranks_a_shared_space(synthetic) -> None:
    # "b" seen through the same "encoder" as "a", with noise: one shared space.
    noise = np.random.default_rng(0).normal(0, 0.3, synthetic.features["a"].shape)
    shared = _prepare(LINK, _with_features(synthetic, synthetic.features["a"] + noise, "shared"))
    m = _link_metrics(_fit("cosine", shared), shared)
    _check_link_metrics(m)
    assert m["mrr"] > 0.8, f"cosine in a shared space: MRR {m['mrr']:.3f}"


def test_cosine_refuses_spaces_of_different_sizes(synthetic) -> None:
    narrow = _prepare(LINK, _with_features(synthetic, synthetic.features["b"][:, :8], "narrow"))
    with pytest.raises(NotApplicableError, match=r"share one feature space.*16-d.*8-d.*'transfer'"):
        _fit("cosine", narrow)


@pytest.mark.parametrize("task", [LABEL, LABEL_VIA_LINKS], ids=["own-labels", "labels-via-links"])
@pytest.mark.parametrize("name", LABEL_BASELINES)
def test_label_baseline_beats_chance(synthetic, name: str, task: Task) -> None:
    prepared = _prepare(task, synthetic, seed=1)
    model = _fit(name, prepared, seed=1)
    m = _label_metrics(model, prepared)
    assert 0 <= m["macro_f1"] <= 1 and 0 <= m["accuracy"] <= 1
    assert m["accuracy"] > 0.5, f"{name} on {task.name}: accuracy {m['accuracy']:.3f} (5 classes, chance 0.2)"
    chosen = model.config()["chosen"]
    labels_from = chosen["labels_from"]["a"]
    assert labels_from == ("own training labels" if task is LABEL else "labels of linked ['b'] nodes")
    assert "val_accuracy" in chosen and chosen["setting"] is not None


def test_link_baseline_refuses_a_label_task(synthetic) -> None:
    with pytest.raises(NotApplicableError, match="'siamese' model ranks cross-modal links.*'logreg'"):
        _fit("siamese", _prepare(LABEL, synthetic))


def test_label_baseline_refuses_a_link_task(synthetic) -> None:
    with pytest.raises(NotApplicableError, match="'logreg' model predicts node labels.*'knn-transfer'"):
        _fit("logreg", _prepare(LINK, synthetic))


def test_scorers_refuse_what_they_do_not_do(synthetic) -> None:
    link = _fit("transfer", _prepare(LINK, synthetic), validate=False).scorer()
    with pytest.raises(NotApplicableError, match="'transfer' model ranks cross-modal links; it does not predict"):
        link.predict_labels("a")
    with pytest.raises(ValueError, match=r"fitted for \('a', 'same_item', 'b'\) links"):
        link.link_scores(("a", "same_item", "c"), torch.arange(2), torch.arange(2), reverse=False)
    label = _fit("logreg", _prepare(LABEL, synthetic), validate=False).scorer()
    with pytest.raises(NotApplicableError, match="'logreg' model predicts node labels; it does not score links"):
        label.link_scores(EDGE, torch.arange(2), torch.arange(2), reverse=False)
    with pytest.raises(ValueError, match=r"has labels for \['a', 'b', 'c'\]. Got 'z' instead"):
        label.predict_labels("z")


def test_fusion_negatives_are_never_training_links(synthetic) -> None:
    prepared = _prepare(LINK, synthetic)
    model = _fit("fusion", prepared, validate=False, options=QUICK["fusion"])
    links = prepared.train_view().target_links()
    pairs, target = model._pairs(links, torch.Generator().manual_seed(0))
    positives = {tuple(p) for p in links.T.tolist()}
    negatives = {tuple(p) for p in pairs[:, target == 0].T.tolist()}
    assert negatives and not negatives & positives


@pytest.mark.parametrize("name", REGISTERED)
def test_a_new_sample_scores_the_same_alone_as_in_a_batch(synthetic, class_linked, name: str) -> None:
    task, dataset = _link_task(name, synthetic, class_linked) if name in REGISTERED_LINK else (LABEL, synthetic)
    if name == "cosine":
        noise = np.random.default_rng(0).normal(0, 0.3, synthetic.features["a"].shape)
        dataset = _with_features(synthetic, synthetic.features["a"] + noise, "shared")
    prepared = _prepare(task, dataset)
    train = prepared.train_view()
    model = _fit(name, prepared, validate=False, options=QUICK.get(name))
    if isinstance(model, LinkBaseline):
        model.hubness_ = {False: 0.5, True: 1.0}  # the correction's path too (validation may choose these)
    new = prepared.new_samples("test")
    alone = model.scorer({m: x[:1] for m, x in new.items()})
    batch = model.scorer(new)
    if task is LABEL:
        n = train.num_nodes("a")
        alone_labels, batch_labels = alone.predict_labels("a"), batch.predict_labels("a")
        assert alone_labels.shape == (n + 1,) and batch_labels.shape == (n + len(new["a"]),)
        assert torch.equal(alone_labels, batch_labels[: n + 1])
        return
    for reverse, (query_type, answer_type) in ((False, ("a", "b")), (True, ("b", "a"))):
        query = torch.tensor([train.num_nodes(query_type)])  # the first new sample
        candidates = torch.arange(0, train.num_nodes(answer_type), 3)  # a fixed set of view nodes
        one = alone.link_scores(EDGE, query, candidates, reverse=reverse)
        many = batch.link_scores(EDGE, torch.cat([query, query + 1, query + 2]), candidates, reverse=reverse)
        torch.testing.assert_close(one[0], many[0], rtol=1e-5, atol=1e-5)
        # And a new sample among the candidates scores as alone too.
        with_new = torch.cat([candidates, torch.tensor([train.num_nodes(answer_type)])])
        one = alone.link_scores(EDGE, query, with_new, reverse=reverse)
        many = batch.link_scores(EDGE, query, with_new, reverse=reverse)
        torch.testing.assert_close(one, many, rtol=1e-5, atol=1e-5)


def _held_out_as_nan(task: Task, dataset: MultimodalDataset, setting: str = "inductive") -> PreparedTask:
    """The task with every held-out feature NaN: any use of one in ``fit`` shows."""
    prepared = _prepare(task, dataset)
    features = {}
    for m, x in prepared.features.items():
        x = x.clone()
        x[torch.as_tensor(prepared.parts[m] != "train")] = math.nan
        features[m] = x
    return PreparedTask(task, prepared.dataset, prepared.split, features, setting=setting)


def _tensors(value: Any, seen: set[int] | None = None) -> list[tuple[Tensor, bool]]:
    """Every tensor a fitted model holds, with whether it is a learned weight (of a module)."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return []
    seen.add(id(value))
    if isinstance(value, Tensor):
        return [(value, False)]
    if isinstance(value, nn.Module):
        return [(p.detach(), True) for p in value.state_dict().values()]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v, seen)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _tensors(v, seen)]
    if type(value).__module__.startswith("mmgraph.") and hasattr(value, "__dict__"):
        return _tensors(vars(value), seen)
    return []


@pytest.mark.parametrize("name", REGISTERED)
def test_fit_reads_the_training_view_only(synthetic, class_linked, name: str) -> None:
    link = name in REGISTERED_LINK
    task, dataset = _link_task(name, synthetic, class_linked) if link else (LABEL_VIA_LINKS, synthetic)
    if name == "cosine":
        dataset = _with_features(synthetic, synthetic.features["a"] * 1.1, "shared")
    prepared = _held_out_as_nan(task, dataset)
    train = prepared.train_view()
    assert all(bool(x.isfinite().all()) for x in train.features.values())  # no held-out sample in it
    model = MODELS.get(name)(**QUICK.get(name, {})).fit(train, progress=False)
    held = _tensors(vars(model))
    most_rows = max(train.num_nodes(t) for t in train.node_types)
    for tensor, weight in held:
        if tensor.is_floating_point():
            assert bool(tensor.isfinite().all()), f"{name} holds a non-finite tensor of shape {tuple(tensor.shape)}"
        if tensor.ndim == 2 and not weight:
            assert tensor.shape[0] <= most_rows, f"{name} holds a {tuple(tensor.shape)} tensor"
    # It scores the view's nodes, and the same after a round trip through pickle (no closures held).
    copy = pickle.loads(pickle.dumps(model))
    if task.kind == "link":
        query, candidates = torch.arange(train.num_nodes("a")), torch.arange(train.num_nodes("b"))
        scores = model.scorer().link_scores(EDGE, query, candidates, reverse=False)
        assert scores.shape == (len(query), len(candidates)) and bool(scores.isfinite().all())
        torch.testing.assert_close(copy.scorer().link_scores(EDGE, query, candidates, reverse=False), scores)
    else:
        labels = model.scorer().predict_labels("a")
        assert labels.shape == (train.num_nodes("a"),)
        assert torch.equal(copy.scorer().predict_labels("a"), labels)


@pytest.mark.parametrize("name", [n for n in REGISTERED_LINK if n != "cosine"])
def test_statistics_come_from_training_rows(synthetic, class_linked, name: str) -> None:
    # Transductive: held-out samples are nodes of the view, with (here NaN) features; every
    # statistic comes from the training rows, so training samples still score finitely.
    prepared = _held_out_as_nan(*_link_task(name, synthetic, class_linked), setting="transductive")
    train = prepared.train_view()
    rows = {t: train.train_rows[t] for t in ("a", "b")}
    assert len(rows["a"]) < train.num_nodes("a")
    model = MODELS.get(name)(**QUICK.get(name, {})).fit(train, progress=False)
    scores = model.scorer().link_scores(EDGE, rows["a"], rows["b"], reverse=False)
    assert bool(scores.isfinite().all()), name


def test_standardize_takes_the_statistics_of_the_rows_it_is_fitted_on() -> None:
    x = torch.randn(10, 3)
    rows = torch.arange(6)
    standardize = Standardize(3).fit(x[rows])
    y = x.clone()
    y[6:] = 1e6
    torch.testing.assert_close(Standardize(3).fit(y[rows])(x), standardize(x))
    torch.testing.assert_close(standardize(x)[rows].mean(0), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(standardize(x)[rows].std(0), torch.ones(3))
    constant = torch.ones(4, 2)  # a feature that does not vary is only centred
    assert Standardize(2).fit(constant)(constant + 1).tolist() == [[1.0, 1.0]] * 4
    assert repr(standardize) == "Standardize(dim=3)"


def test_settings_repr_and_errors() -> None:
    model = MODELS.get("knn-transfer")(ks=(1, 5), seed=3)
    assert repr(model).startswith("KNNTransferBaseline(hubness=True, ks=(1, 5), weightings=(")
    assert model.config()["seed"] == 3 and "chosen" not in model.config()
    with pytest.raises(TypeError, match=r"unknown setting\(s\) \['epoch'\]. Valid settings: .*'epochs'"):
        MODELS.get("siamese")(epoch=3)
    with pytest.raises(ValueError, match="'negatives' parameter of the 'fusion' model must be a positive int"):
        MODELS.get("fusion")(negatives=0)
    with pytest.raises(ValueError, match="'epochs' parameter of the 'siamese' model must be a positive int"):
        MODELS.get("siamese")(epochs=2.5)
    with pytest.raises(ValueError, match="'lr' parameter of the 'fusion' model must be positive"):
        MODELS.get("fusion")(lr=0.0)
    with pytest.raises(ValueError, match="'dropout' parameter of the 'attention-fusion' model must be in"):
        MODELS.get("attention-fusion")(dropout=1.0)
    with pytest.raises(ValueError, match="'alphas' parameter of the 'transfer' model must be positive numbers"):
        MODELS.get("transfer")(alphas=())
    with pytest.raises(ValueError, match="'ks' of the 'label-transfer' model must be ints"):
        MODELS.get("label-transfer")(ks=(1.5,))
    with pytest.raises(NotFittedError, match="not fitted yet"):
        model.scorer()
    with pytest.raises(NotFittedError, match="not fitted yet"):
        MODELS.get("logreg")().scorer()


def test_the_squared_distance_loss_is_the_shared_space_objective_with_a_hinge() -> None:
    l2, infonce = MODELS.get("siamese-l2")(margin=1.0), MODELS.get("siamese")()
    assert l2.settings.loss == "squared-distance" and infonce.settings.loss == "infonce"
    module = infonce._build(4, 4)
    generator = torch.Generator().manual_seed(0)
    zs, zd = (torch.nn.functional.normalize(torch.randn(5, 8, generator=generator), dim=1) for _ in range(2))
    linked = torch.eye(5, dtype=torch.bool)
    linked[0, 1] = True  # a training link inside the batch is not a negative
    pull = (zs - zd).square().sum(1).mean()
    distances = torch.cdist(zs, zd).square()
    push = (1.0 - distances).clamp(min=0)[~linked].mean()
    torch.testing.assert_close(l2._loss(module, zs, zd, linked), pull + push)
    assert not torch.isclose(infonce._loss(module, zs, zd, linked), pull + push)
    # Collapse (every sample on one point) costs the margin; a separated shared space costs nothing.
    point = zs[:1].expand(5, 8)
    torch.testing.assert_close(l2._loss(module, point, point, linked), torch.tensor(1.0))
    torch.testing.assert_close(l2._loss(module, torch.eye(5, 8), torch.eye(5, 8), linked), torch.tensor(0.0))


def test_the_loss_option_changes_what_the_towers_learn(synthetic) -> None:
    prepared = _prepare(LINK, synthetic)
    infonce = _fit("siamese", prepared, validate=False, options={"epochs": 3})
    l2 = _fit("siamese", prepared, validate=False, options={"epochs": 3, "loss": "squared-distance"})
    named = _fit("siamese-l2", prepared, validate=False, options={"epochs": 3})
    weight = "src.0.weight"
    assert not torch.allclose(infonce.module_.state_dict()[weight], l2.module_.state_dict()[weight])
    torch.testing.assert_close(named.module_.state_dict()[weight], l2.module_.state_dict()[weight])
    with pytest.raises(ValueError, match=r"'loss' parameter of the 'siamese' model must be one of \['infonce'"):
        MODELS.get("siamese")(loss="l2")


def test_late_fusion_weights_are_chosen_on_validation(synthetic) -> None:
    prepared = _prepare(LINK, synthetic)
    model = _fit("late-fusion", prepared, options={"weight_step": 0.5})
    chosen = model.config()["chosen"]
    assert set(chosen["components"]) == {"transfer", "knn-transfer"}
    weights = chosen["src->dst"]["weights"]
    assert list(weights) == ["transfer in b space", "transfer in a space", "knn-transfer in b space",
                             "knn-transfer in a space"]
    assert sum(weights.values()) == pytest.approx(1.0) and 0 < chosen["src->dst"]["val_mrr"] <= 1
    # Its validation MRR is at least the best single predictor's among the choices (one weight of 1).
    single = _fit("knn-transfer", prepared).chosen_["src->dst"]["val_mrr"]
    assert chosen["src->dst"]["val_mrr"] >= single - 1e-9
    with pytest.raises(ValueError, match="'weight_step' parameter of the 'late-fusion' model must be 1/n"):
        MODELS.get("late-fusion")(weight_step=0.3)


def test_autoencoder_settings_are_chosen_on_validation(synthetic) -> None:
    prepared = _prepare(LINK, synthetic)
    model = _fit("autoencoder", prepared, options={"epochs": 10, "latent_dims": (8, 16), "recon_weights": (1.0,)})
    chosen = model.config()["chosen"]
    tried = chosen["val_mrr_per_setting"]
    assert set(tried) == {"latent_dim=8, recon_weight=1.0", "latent_dim=16, recon_weight=1.0"}
    assert chosen["val_mrr"] == max(tried.values())
    assert model.module_.encode_src[-1].out_features == chosen["latent_dim"]
    default = _fit("autoencoder", prepared, validate=False, options={"epochs": 2})
    assert default.chosen_["latent_dim"] == 128 and default.chosen_["recon_weight"] == 1.0
    assert default.chosen_["best_epoch"] == 2 and default.chosen_["val_mrr"] is None


@pytest.mark.parametrize("num_classes", [2, 4])
def test_component_class_probabilities_are_those_of_the_fitted_regression(num_classes: int) -> None:
    from sklearn.linear_model import LogisticRegression

    from mmgraph.models.baselines.component import _Linear

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(60, 5)), np.arange(60) % num_classes
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    torch.testing.assert_close(
        _Linear(model).probabilities(torch.as_tensor(x, dtype=torch.float32)),
        torch.as_tensor(model.predict_proba(x), dtype=torch.float32), atol=1e-5, rtol=1e-4,
    )


def test_component_class_is_reproducible(class_linked) -> None:
    prepared = _prepare(CLASS_LINK, class_linked, seed=3)
    scores = [
        _fit("component-class", prepared, seed=3).scorer(prepared.new_samples("test"))
        .link_scores(EDGE, torch.arange(10), torch.arange(20), reverse=False)
        for _ in range(2)
    ]
    torch.testing.assert_close(scores[0], scores[1], rtol=0, atol=0)
