"""A saved run predicts in a fresh process exactly as in the session that trained it."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from mmgraph.cli import main
from mmgraph.data import Task, from_manifest
from mmgraph.errors import DataError, MissingFileError
from mmgraph.models import MODELS, savable_models
from mmgraph.pipeline import pipeline
from mmgraph.predict import Predictor
from mmgraph.testing import write_tiny_manifest

pytestmark = pytest.mark.usefixtures("one_torch_thread")

QUERIES = ["a small cat", "the pale moon", "a red rose"]
# The savable models that rank links of single samples (the knowledge-graph models save too:
# tests/pipeline/test_kg_task.py; the item fusion ones: tests/pipeline/test_predict_items.py).
SAVABLE_LINK = [
    name for name in savable_models() if "link" in MODELS.get(name).kinds and not MODELS.get(name).item_only
]


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict:
    """A run of every model that can be saved on the tiny real-file manifest (English -> French names), saved."""
    root = tmp_path_factory.mktemp("model-folder")
    dataset = from_manifest(write_tiny_manifest(root / "data"))
    task = Task.for_manifest(dataset, source="text_en", target="text_fr", candidates="all")
    out = {}
    options = {"gnn": {"epochs": 5, "k": 2}, "siamese": {"epochs": 5}, "siamese-l2": {"epochs": 5}}
    for name in SAVABLE_LINK:
        result = pipeline(task, dataset=dataset, model=name, seed=0, progress=False, model_options=options.get(name))
        folder = result.save(root / name)
        out[name] = (result, folder, result.predictor().predict_links(QUERIES, modality="text_en", k=3))
    return out


def test_the_models_that_can_be_saved_are_those_whose_class_saves_its_state() -> None:
    assert savable_models() == [  # l2: the siamese towers
        "gnn", "items-attention", "items-average", "items-combiner", "items-concat", "items-mlp", "items-single",
        "kg-compgcn", "kg-none",
        "kg-rgcn", "knn-transfer", "siamese", "siamese-l2", "transfer",
    ]


@pytest.mark.parametrize("name", SAVABLE_LINK)
def test_a_fresh_process_predicts_the_same_top_k(saved, name: str) -> None:
    _, folder, before = saved[name]
    script = (
        "import json, sys; from mmgraph.predict import Predictor; "
        f"top = Predictor.load(sys.argv[1]).predict_links({QUERIES!r}, modality='text_en', k=3); "
        "print(top.to_json(orient='records'))"
    )
    done = subprocess.run([sys.executable, "-c", script, str(folder)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    after = pd.DataFrame(json.loads(done.stdout.strip().splitlines()[-1]))
    assert after["id"].tolist() == before["id"].tolist()
    assert after["query"].tolist() == before["query"].tolist()
    assert (after["score"] - before["score"]).abs().max() < 1e-5
    assert after["payload"].notna().all()  # the catalogue's French names come back with their ids


def test_the_cli_predicts_from_a_saved_run(saved, capsys) -> None:
    _, folder, before = saved["knn-transfer"]
    code = main(["predict", "--model-dir", str(folder), "--input", QUERIES[0], "--modality", "text_en",
                 "--top-k", "3", "--json"])
    assert code == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in records] == before[before["query"] == 0]["id"].tolist()
    assert {r["input"] for r in records} == {QUERIES[0]} and all(r["payload"] for r in records)
    code = main(["predict", "--model-dir", str(folder), "--input", QUERIES[0], "--modality", "text_en",
                 "--candidate", "un chat",
                 "--candidate", "une lune", "--catalogue", "none"])
    assert code == 0
    table = capsys.readouterr().out
    assert "un chat" in table and "une lune" in table


def test_a_model_that_cannot_be_saved_says_so(tmp_path) -> None:
    dataset = from_manifest(write_tiny_manifest(tmp_path / "data"))
    task = Task.for_manifest(dataset, source="text_en", target="text_fr")
    folder = pipeline(task, dataset=dataset, model="late-fusion", seed=0, progress=False).save(tmp_path / "fusion")
    assert json.loads((folder / "result.json").read_text())["model_saved"].startswith("no: the 'late-fusion' model")
    with pytest.raises(DataError, match="holds no saved model.*" + ", ".join(map(repr, savable_models()))):
        Predictor.load(folder)


def test_damaged_or_foreign_folders_fail_clearly(saved, tmp_path) -> None:
    import shutil

    _, folder, _ = saved["knn-transfer"]
    other = tmp_path / "other"
    shutil.copytree(folder, other)
    record = json.loads((other / "model" / "model.json").read_text())
    (other / "model" / "model.json").write_text(json.dumps({**record, "mmgraph": "0.0.1"}))
    with pytest.raises(DataError, match="written by mmgraph 0.0.1; this is mmgraph"):
        Predictor.load(other)
    (other / "model" / "model.json").write_text(json.dumps({**record, "format": 2}))
    with pytest.raises(DataError, match="saved in the older layout 2 .* Run the task again"):
        Predictor.load(other)
    (other / "model" / "model.json").write_text(json.dumps(record))
    (other / "model" / "weights.safetensors").write_bytes(b"not tensors")
    with pytest.raises(DataError, match="incomplete or damaged"):
        Predictor.load(other)
    (other / "model" / "view.json").write_text("{")
    with pytest.raises(DataError, match="view.json' is damaged"):
        Predictor.load(other)
    with pytest.raises(MissingFileError, match="No model folder"):
        Predictor.load(tmp_path / "missing")
    assert main(["predict", "--model-dir", str(tmp_path / "missing"), "--input", "x"]) == 2


def test_held_out_openmoji_drawings_find_their_names(tmp_path, capsys) -> None:
    """`mmgraph predict` on held-out drawings, with the held-out names as new candidates: the true
    name is in the top-10 for most drawings (600 of the emoji and 40 epochs, to keep the suite fast)."""
    from mmgraph.datasets import load_openmoji

    dataset = load_openmoji(limit=600)
    result = pipeline("openmoji-text", dataset=dataset, model="gnn", seed=0, progress=False,
                      model_options={"epochs": 40})
    folder = result.save(tmp_path / "run")
    prepared = result.prepared
    test = prepared.split.samples("test")
    drawings = test[test["modality"] == "openmoji"].sample(100, random_state=0)  # dataset order groups look-alikes
    names = test[test["modality"] == "text_en"].set_index("item")["text"]
    (tmp_path / "inputs.txt").write_text("\n".join(drawings["path"]) + "\n")
    (tmp_path / "names.txt").write_text("\n".join(names) + "\n")
    code = main(["predict", "--model-dir", str(folder), "--inputs-from", str(tmp_path / "inputs.txt"),
                 "--candidates-from", str(tmp_path / "names.txt"), "--catalogue", "none", "--target", "text_en",
                 "--top-k", "10", "--json"])
    assert code == 0
    records = pd.DataFrame(json.loads(capsys.readouterr().out))
    truth = dict(zip(drawings["path"], drawings["item"].map(names), strict=True))
    found = records.groupby("input")["payload"].apply(lambda p: truth[p.name] in set(p))
    share = float(found.mean())
    print(f"true name in the top-10 for {share:.0%} of {len(found)} held-out drawings")
    expected = result.metrics["src->dst/hits@10"]  # the evaluator's figure on every held-out drawing
    assert share > 0.5, (
        f"the true name is in the top-10 for {share:.0%} of {len(found)} held-out drawings "
        f"(the evaluator's Hits@10 on all of them: {expected:.0%})"
    )


def test_run_with_own_vectors_from_the_cli_then_predict_from_vectors(tmp_path, capsys) -> None:
    """`run --encoder image=precomputed:F` stores the user's vectors; `predict --vectors` ranks new ones."""
    import numpy as np
    import torch

    manifest = write_tiny_manifest(tmp_path / "data")
    ids = [i for i in pd.read_csv(manifest)["id"] if i.startswith("image:")]
    vectors = np.random.default_rng(0).normal(size=(len(ids), 6)).astype(np.float32)
    np.savez(tmp_path / "vectors.npz", ids=np.asarray(ids), features=vectors)
    out = tmp_path / "run"
    code = main(["run", "--manifest", str(manifest), "--source", "image", "--target", "text_en", "--model", "gnn",
                 "--epochs", "3", "--k", "2", "--seed", "0", "--quiet", "--out", str(out),
                 "--encoder", f"image=precomputed:{tmp_path / 'vectors.npz'}", "--encoder", "text_en=tfidf:dim=4"])
    assert code == 0, capsys.readouterr().err
    predictor = Predictor.load(out / "model")
    assert type(predictor.encoders["image"]).__name__ == "PrecomputedEncoder"
    assert predictor.encoders["text_en"].dim == 4
    assert predictor.train.features["image"].shape[1] == 6

    new = vectors[:2] + 0.1
    np.savez(tmp_path / "new.npz", ids=np.asarray(["mine:1", "mine:2"]), features=new)
    capsys.readouterr()
    code = main(["predict", "--model-dir", str(out / "model"), "--vectors", str(tmp_path / "new.npz"),
                 "--top-k", "2", "--json"])
    assert code == 0, capsys.readouterr().err
    records = json.loads(capsys.readouterr().out)
    expected = predictor.predict_links(torch.as_tensor(new), modality="image", k=2)
    assert [r["id"] for r in records] == expected["id"].tolist()
    assert [r["input"] for r in records] == [["mine:1", "mine:2"][q] for q in expected["query"]]
    assert set(expected["query"]) == {0, 1}

    np.savez(tmp_path / "wrong.npz", ids=np.asarray(["x"]), features=np.zeros((1, 5), np.float32))
    code = main(["predict", "--model-dir", str(out / "model"), "--vectors", str(tmp_path / "wrong.npz")])
    assert code == 2
    assert "fitted on 6-d 'image' features" in capsys.readouterr().err


@pytest.mark.parametrize(("spec", "message"), [
    ("image", "MODALITY=NAME[:OPTIONS]"),
    ("image=pixles", "Could not resolve encoder 'pixles'"),
    ("image=pixels:dim", "key=value pairs"),
    ("image=pixels:depth=3", "unknown parameter(s) ['depth']"),
    ("picture=pixels", "has no modality of that name"),
])
def test_a_bad_encoder_spec_is_a_clear_error(tmp_path, capsys, spec: str, message: str) -> None:
    manifest = write_tiny_manifest(tmp_path / "data")
    code = main(["run", "--manifest", str(manifest), "--source", "image", "--target", "text_en", "--model",
                 "knn-transfer", "--quiet", "--encoder", spec])
    assert code == 2
    assert message in capsys.readouterr().err
