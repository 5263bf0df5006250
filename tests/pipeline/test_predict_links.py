"""Brand-new samples: encoded, attached to the fitted graph by similarity, ranked."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import torch

from mmgraph.cli import main
from mmgraph.data import MultimodalDataset
from mmgraph.errors import EncodingError
from mmgraph.pipeline import pipeline
from mmgraph.tasks import Task

COLOURS = ["red", "green", "blue", "yellow", "black", "white", "pink"]
COULEURS = ["rouge", "vert", "bleu", "jaune", "noir", "blanc", "rose"]
SHAPES = ["circle", "square", "star", "heart", "moon"]
FORMES = ["cercle", "carre", "etoile", "coeur", "lune"]


@pytest.fixture(scope="module")
def result():
    rows = []
    for i in range(70):
        c, s = i % 7, i % 5
        rows.append((f"en{i}", "text_en", f"a {COLOURS[c]} {SHAPES[s]} number {i}", f"item{i}"))
        rows.append((f"fr{i}", "text_fr", f"un {FORMES[s]} {COULEURS[c]} numero {i}", f"item{i}"))
    samples = pd.DataFrame(rows, columns=["id", "modality", "text", "item"])
    dataset = MultimodalDataset(samples, name="words")
    task = Task.for_manifest(dataset, source="text_en", target="text_fr",
                             encoders={"text_en": "tfidf", "text_fr": "tfidf"})
    return pipeline(task, dataset=dataset, seed=0, progress=False, cache=None, model_options={"epochs": 20})


def test_new_samples_get_top_k_candidates(result) -> None:
    queries = ["a blue star number 900", "a pink moon number 901"]
    top = result.predictor().predict_links(queries, modality="text_en", target="text_fr", k=4)
    assert list(top.columns) == ["query", "rank", "id", "payload", "score"]
    assert top["payload"].str.startswith("un ").all()  # the French names of the catalogue
    assert len(top) == 8 and sorted(top["query"].unique()) == [0, 1]
    for _, rows in top.groupby("query"):
        assert rows["rank"].tolist() == [1, 2, 3, 4]
        assert rows["score"].is_monotonic_decreasing
        assert rows["id"].str.startswith("fr").all() and rows["id"].is_unique
    again = result.predictor().predict_links(queries, modality="text_en", target="text_fr", k=4)
    pd.testing.assert_frame_equal(top, again)


def test_reverse_direction_and_state_restored(result) -> None:
    edge_type = result.prepared.target_edge_type
    pairs = torch.arange(5), torch.arange(5)
    before = result.fitted.scorer().link_scores(edge_type, *pairs, reverse=False)
    top = result.predictor().predict_links(["un coeur rouge numero 902"], modality="text_fr", target="text_en", k=3)
    assert top["id"].str.startswith("en").all()
    after = result.fitted.scorer().link_scores(edge_type, *pairs, reverse=False)
    assert before.equal(after), "predict_links left the fitted model changed"


@pytest.mark.parametrize("model", ["gnn", "knn-transfer"])
def test_evaluator_top_k_is_what_predict_returns(model: str) -> None:
    """The evaluator scores held-out samples through the predict path: for the test queries, its
    top-k among the held-out candidates are the ids predict_links returns for the same samples."""
    from mmgraph.datasets import load
    from mmgraph.evaluation.evaluator import score_queries
    from mmgraph.predict import rank_links as predict_new

    dataset = load("synthetic", num_items=120, seed=1)
    task = Task(name="syn", description="", kind="link", source="a", target="b")
    run = pipeline(task, dataset=dataset, model=model, seed=1, progress=False, cache=None,
                   model_options={"epochs": 20} if model == "gnn" else None)
    prepared = run.prepared
    queries = prepared.link_queries("test", "held-out")["src->dst"]
    scorer = run.fitted.scorer(prepared.new_samples("test"))
    (nodes, scores), = list(score_queries(scorer.link_scores, queries, batch_size=10_000))
    k = 5
    by_index = {}
    for modality in ("a", "b"):
        index = prepared.scoring_index(modality, "test")
        ids = prepared.dataset.node_ids(modality)
        by_index[modality] = {int(index[i]): ids[i] for i in range(len(ids)) if index[i] >= 0}
    expected = [[by_index["b"][int(queries.candidates[j])] for j in row] for row in scores.topk(k, dim=1).indices]

    query_ids = [by_index["a"][int(q)] for q in nodes]
    candidate_ids = [by_index["b"][int(c)] for c in queries.candidates]
    features = {m: dict(zip(prepared.dataset.node_ids(m), prepared.features[m], strict=True)) for m in ("a", "b")}
    top = predict_new(
        run.fitted, prepared.train_view(), torch.stack([features["a"][i] for i in query_ids]), query_type="a", k=k,
        view_candidates=torch.zeros(0, dtype=torch.long),
        new_candidates=torch.stack([features["b"][i] for i in candidate_ids]), new_candidate_ids=candidate_ids,
    )
    got = top.sort_values(["query", "rank"]).groupby("query")["id"].apply(list).tolist()
    assert got == expected
    top_scores = top.sort_values(["query", "rank"])["score"].to_numpy().reshape(len(nodes), k)
    assert np.allclose(top_scores, scores.topk(k, dim=1).values.numpy(), atol=1e-5)


def test_wrong_modalities_are_named(result) -> None:
    with pytest.raises(ValueError, match="'audio' is not one of their ends"):
        result.predictor().predict_links(["x"], modality="audio", target="text_fr")
    with pytest.raises(ValueError, match="'text_en' samples rank 'text_fr', not 'text_en'"):
        result.predictor().predict_links(["x"], modality="text_en", target="text_en")
    with pytest.raises(ValueError, match=r"the modalities \['text_en', 'text_fr'\] all take text.*--modality"):
        result.predictor().predict_links(["une phrase"])


@pytest.fixture(scope="module")
def saved_folder(result, tmp_path_factory):
    return result.save(tmp_path_factory.mktemp("words") / "run")


@pytest.mark.parametrize("modality", [None, "text_en"])
def test_a_folder_or_a_file_is_not_read_as_an_inline_text(result, tmp_path, modality) -> None:
    """Before, the path of a folder (or of a file no modality takes) was ranked as a text, silently."""
    (tmp_path / "notes.txt").write_text("a red star number 3")
    for payload, found in [(tmp_path, "a folder"), (tmp_path / "notes.txt", r"a file of no known kind \('.txt'\)")]:
        message = (rf"The input 1 \('{payload}'\) is {found}\. Each input is a file of its modality, or an inline "
                   r"text for a text modality: here 'text_en' takes an inline text")
        with pytest.raises(EncodingError, match=message) as error:
            result.predictor().predict_links(["a red star", str(payload)], modality=modality, target="text_fr")
        assert error.value.index == 1 and error.value.payload == str(payload)
    with pytest.raises(EncodingError, match=rf"The new candidate 0 \('{tmp_path}'\) is a folder.*'text_fr' takes"):
        result.predictor().predict_links(["a red star"], modality="text_en", new_candidates=[str(tmp_path)])


@pytest.mark.parametrize("empty", ["", "   "])
def test_an_empty_input_is_an_encoding_error(result, empty) -> None:
    with pytest.raises(EncodingError, match=r"could not encode sample 0 .*: the text is empty"):
        result.predictor().predict_links([empty], modality="text_en")


@pytest.mark.parametrize(("payload", "message"), [
    ("FOLDER", r"The input 0 \('.*'\) is a folder\. Each input is a file of its modality"),
    ("", r"could not encode sample 0 \(''\): the text is empty"),
])
def test_the_command_refuses_a_folder_or_an_empty_input(saved_folder, payload, message, capsys) -> None:
    payload = str(saved_folder) if payload == "FOLDER" else payload
    assert main(["predict", "--model-dir", str(saved_folder), "--input", payload, "--modality", "text_en"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and re.match(rf"mmgraph: error: .*{message}", captured.err)
