"""Brand-new samples: encoded, attached to the fitted graph by similarity, ranked."""

from __future__ import annotations

import pandas as pd
import pytest

from mmgraph.data import MultimodalDataset
from mmgraph.pipeline import pipeline, predict_links
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
    top = predict_links(result, queries, modality="text_en", target="text_fr", k=4)
    assert list(top.columns) == ["query", "rank", "id", "score"]
    assert len(top) == 8 and sorted(top["query"].unique()) == [0, 1]
    for _, rows in top.groupby("query"):
        assert rows["rank"].tolist() == [1, 2, 3, 4]
        assert rows["score"].is_monotonic_decreasing
        assert rows["id"].str.startswith("fr").all() and rows["id"].is_unique
    again = predict_links(result, queries, modality="text_en", target="text_fr", k=4)
    pd.testing.assert_frame_equal(top, again)


def test_reverse_direction_and_state_restored(result) -> None:
    before = result.fitted.link_scores(result.fitted.data_.target_edge_type,
                                       *_some_pairs(result), reverse=False)
    top = predict_links(result, ["un coeur rouge numero 902"], modality="text_fr", target="text_en", k=3)
    assert top["id"].str.startswith("en").all()
    after = result.fitted.link_scores(result.fitted.data_.target_edge_type, *_some_pairs(result), reverse=False)
    assert before.equal(after), "predict_links left the fitted model changed"


def _some_pairs(result):
    import torch

    return torch.arange(5), torch.arange(5)


def test_wrong_modalities_are_named(result) -> None:
    with pytest.raises(ValueError, match="No fitted encoder for modality 'audio'"):
        predict_links(result, ["x"], modality="audio", target="text_fr")
    with pytest.raises(ValueError, match="not 'text_en' -> 'text_en'"):
        predict_links(result, ["x"], modality="text_en", target="text_en")
