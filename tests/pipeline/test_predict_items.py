"""Predicting for new items from a saved model: ``Predictor.predict_items`` and ``mmgraph predict --item``.

The runs are item tasks on the manifest of :func:`mmgraph.testing.write_item_manifest` (items
with an image, an English and a French name and an audio clip; encoders that need no weights),
saved with ``result.save`` and loaded with ``Predictor.load``. The held-out test items, given
by their samples' payloads, must get what the evaluator scored for them.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from mmgraph.cli import main
from mmgraph.data import Task, from_manifest
from mmgraph.data.prepared import ITEM
from mmgraph.errors import DataError, NotApplicableError
from mmgraph.models import MODELS
from mmgraph.pipeline import pipeline
from mmgraph.predict import Predictor
from mmgraph.testing import ITEM_ENCODERS, ITEM_MODALITIES, write_item_manifest

pytestmark = pytest.mark.usefixtures("one_torch_thread")

LINK = Task(name="own-items-text", description="", kind="link", source="image", target="text_en",
            encoders=ITEM_ENCODERS, query="item")
LABEL = Task(name="own-items", description="", kind="label", source="image", label_modalities=ITEM_MODALITIES,
             encoders=ITEM_ENCODERS, query="item")
# (task, model, options): a link and a label run of the fusion baselines, and the learner on labels
RUNS = {
    "items-average": (LINK, None),
    "items-concat": (LABEL, None),
    "items-mlp": (LABEL, {"hidden": (16,), "alphas": (1e-2,), "default_hidden": 16, "max_iter": 200}),
    "gnn": (LABEL, {"epochs": 20}),
    "items-attention": (LINK, {"token_dims": (16,), "dropouts": (0.1,), "heads": 2, "epochs": 10}),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """Each run of :data:`RUNS`, fitted, saved and loaded: ``name -> (result, predictor, manifest folder,
    run folder)``."""
    root = tmp_path_factory.mktemp("predict-items")
    dataset = from_manifest(write_item_manifest(root / "data"))
    out = {}
    for name, (task, options) in RUNS.items():
        result = pipeline(task, dataset=dataset, model=name, seed=0, cache=None, progress=False, model_options=options)
        folder = result.save(root / name)
        out[name] = (result, Predictor.load(folder), root / "data", folder)
    return out


def _test_items(result, data) -> tuple[list[str], list[str], list[str]]:
    """The held-out test items as a user gives them: each kept sample's payload, item and modality."""
    prepared = result.prepared
    items = prepared.item_queries("test")
    new_ids = prepared.new_sample_ids("test")
    samples = prepared.dataset.samples.set_index("id")
    inputs, names, modalities = [], [], []
    for modality in items.modalities:
        num_view = prepared.train_view().num_nodes(modality)
        for index, item in zip(items.members[modality].tolist(), items.member_items[modality].tolist(), strict=True):
            row = samples.loc[new_ids[modality][index - num_view]]
            inputs.append(str(data / row["path"]) if isinstance(row["path"], str) else row["text"])
            names.append(str(items.item_ids[item]))
            modalities.append(modality)
    return inputs, names, modalities


def _evaluated(result) -> pd.DataFrame:
    """What the evaluator's scorer gives the test items: their labels, or every candidate's score."""
    prepared = result.prepared
    items = prepared.item_queries("test")
    scorer = result.fitted.item_scorer(prepared.new_samples("test"), items)
    names = [str(i) for i in items.item_ids]
    train = prepared.train_view()
    if train.kind == "label":
        return pd.DataFrame({"item": names, "label": [train.classes[c] for c in scorer.predict_labels(ITEM).tolist()]})
    question = items.question
    target = question.edge_type[2]
    num_view, new_ids = train.num_nodes(target), prepared.new_sample_ids("test")[target]
    candidates = question.candidates.tolist()
    ids = [str(train.node_ids[target][c] if c < num_view else new_ids[c - num_view]) for c in candidates]
    scores = scorer.link_scores(question.edge_type, torch.arange(len(items)), question.candidates, reverse=False)
    return pd.DataFrame([(names[i], ids[c], float(scores[i, c])) for i in range(len(names)) for c in range(len(ids))],
                        columns=["item", "id", "score"])


@pytest.mark.slow
@pytest.mark.parametrize("name", list(RUNS))
def test_saved_item_models_predict_what_the_evaluator_scored(runs, name: str) -> None:
    result, predictor, data, _ = runs[name]
    inputs, items, modalities = _test_items(result, data)
    expected = _evaluated(result)
    if result.task["kind"] == "label":
        got = predictor.predict_items(inputs, items, modalities=modalities)
        assert list(got.columns) == ["item", "label"]
        pd.testing.assert_frame_equal(got.sort_values("item", ignore_index=True),
                                      expected.sort_values("item", ignore_index=True))
        assert set(got["label"]) > {got["label"][0]}, "the test items are not all given one class"
        return
    candidates = expected["id"].nunique()
    got = predictor.predict_items(inputs, items, modalities=modalities, k=candidates)  # every candidate, ranked
    assert list(got.columns) == ["item", "rank", "id", "payload", "score"]
    assert got["payload"].notna().all(), "the catalogue's names come back with their ids"
    merged = got.merge(expected, on=["item", "id"], suffixes=("", "_evaluated"), validate="one_to_one")
    assert len(merged) == len(got) == len(expected), "the declared catalogue is the evaluator's candidates"
    assert np.allclose(merged["score"], merged["score_evaluated"], atol=1e-5)
    if name == "items-attention":  # a network trained on two dozen items: only its saved scores are checked
        return
    top = got[got["rank"] == 1].set_index("item")["id"]
    assert (top == "text_en:" + top.index).mean() > 0.5, "most items find their own English name first"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["items-average", "gnn"])
def test_an_item_gets_the_same_rows_alone_and_in_a_batch(runs, name: str) -> None:
    result, predictor, data, _ = runs[name]
    inputs, items, modalities = _test_items(result, data)
    batch = predictor.predict_items(inputs, items, modalities=modalities, k=3)
    for item in dict.fromkeys(items):
        mine = [i for i, other in enumerate(items) if other == item]
        alone = predictor.predict_items([inputs[i] for i in mine], [item] * len(mine),
                                        modalities=[modalities[i] for i in mine], k=3)
        pd.testing.assert_frame_equal(alone, batch[batch["item"] == item].reset_index(drop=True))


@pytest.mark.slow
def test_the_item_modality_is_told_from_the_payload(runs) -> None:
    result, predictor, data, folder = runs["items-average"]
    image, french = str(data / "images" / "sky3.png"), "ciel bleu numéro 3"  # text_en is the target: one text
    told = predictor.predict_items([image, french], ["new", "new"], k=2)
    named = predictor.predict_items([image, french], ["new", "new"], modalities=["image", "text_fr"], k=2)
    pd.testing.assert_frame_equal(told, named)


@pytest.mark.slow
def test_the_cli_prints_an_items_predictions(runs, tmp_path, capsys) -> None:
    result, predictor, data, folder = runs["items-average"]
    image = str(data / "images" / "sky3.png")
    assert main(["predict", "--model-dir", str(folder), "--item", "sky3", "--input", image,
                 "--input", "ciel bleu numéro 3", "--top-k", "2"]) == 0
    table = capsys.readouterr().out
    expected = predictor.predict_items([image, "ciel bleu numéro 3"], ["sky3", "sky3"], k=2)
    assert table.split("\n")[0].split() == ["item", "rank", "id", "payload", "score"]
    assert all(row.id in table and row.item in table for row in expected.itertuples())
    shutil.copy(image, tmp_path / "sky.png")
    inputs = tmp_path / "items.csv"  # a path relative to the CSV's folder, a text, an absolute path
    pd.DataFrame({"item": ["sky3", "sky3", "fruit1"], "path": ["sky.png", "", str(data / "images" / "fruit1.png")],
                  "text": ["", "ciel bleu numéro 3", ""]}).to_csv(inputs, index=False)
    assert main(["predict", "--model-dir", str(folder), "--inputs-from", str(inputs), "--top-k", "2", "--json"]) == 0
    records = pd.DataFrame(json.loads(capsys.readouterr().out))
    assert records[records["item"] == "sky3"]["id"].tolist() == expected["id"].tolist()
    assert set(records["item"]) == {"sky3", "fruit1"}


@pytest.mark.slow
def test_item_inputs_fail_clearly(runs, tmp_path, capsys) -> None:
    result, predictor, data, folder = runs["items-average"]
    with pytest.raises(DataError, match=r"modality 'text_en', which is not one of the task's item modalities "
                                        r"\['image', 'text_fr', 'audio'\] \(the items' answers are 'text_en'"):
        predictor.predict_items(["blue sky"], ["x"], modalities=["text_en"])
    with pytest.raises(DataError, match=r"The input 1 \('ciel bleu'\) has no item \(''\)"):
        predictor.predict_items([str(data / "images" / "sky3.png"), "ciel bleu"], ["x", ""])
    with pytest.raises(DataError, match="one item per input; got 2 inputs and 1 items"):
        predictor.predict_items(["ciel", "bleu"], ["x"])
    with pytest.raises(DataError, match="features of shape \\(3,\\); the model was fitted on"):
        predictor.predict_items([torch.zeros(3)], ["x"], modalities=["audio"])
    with pytest.raises(SystemExit):
        main(["predict", "--model-dir", str(folder), "--item", "sky3"])
    assert "--item sky3 needs its samples" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"item": ["a"], "path": [""], "text": [""]}).to_csv(bad, index=False)
    assert main(["predict", "--model-dir", str(folder), "--inputs-from", str(bad)]) == 2
    assert "(item 'a') gives no path and no text" in capsys.readouterr().err


def test_a_model_of_single_samples_does_not_predict_items() -> None:
    predictor = Predictor(MODELS.get("transfer")(), train=None, encoders={}, task={"name": "t"})  # type: ignore[arg-type]
    with pytest.raises(NotApplicableError, match=r"'transfer' model scores single samples.*one of \['gnn', 'items-"):
        predictor.predict_items(["a red chair"], ["chair"])
