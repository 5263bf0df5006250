"""The methods of issue 14 on a small real task: spoken digits (a tenth of FSDD) against 200 MNIST
images, through the pipeline as the benchmark runs them. Each new link model scores above the
chance of a ranking that reads no feature; the GRU audio encoder is fitted on training clips only."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmgraph.data import MultimodalDataset, split_dataset
from mmgraph.datasets import load
from mmgraph.encoders import EmbeddingCache, resolve
from mmgraph.pipeline import encode_dataset, pipeline, training_classes
from mmgraph.tasks import get_task

OPTIONS = {
    "siamese-l2": {"epochs": 15},
    "autoencoder": {"epochs": 20, "latent_dims": (32,), "recon_weights": (0.1, 1.0)},
    "late-fusion": {"weight_step": 0.5},
    "component-class": {"cs": (0.1, 1.0)},
}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def digits(data_root) -> MultimodalDataset:
    dataset = load("digits", root=data_root, mnist_limit=200)
    samples = dataset.samples
    keep = (samples["modality"] != "audio") | samples["id"].str.endswith(tuple(f"_{i}" for i in range(0, 50, 10)))
    return MultimodalDataset(samples[keep].reset_index(drop=True), name="digits")


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> EmbeddingCache:
    return EmbeddingCache(tmp_path_factory.mktemp("cache"))


def _chance_mrr(num_candidates: int) -> float:
    return sum(1 / r for r in range(1, num_candidates + 1)) / num_candidates


@pytest.mark.parametrize("model", list(OPTIONS))
def test_new_link_model_beats_chance_on_digits(digits, cache, model: str) -> None:
    result = pipeline("digits-audio-image", dataset=digits, model=model, model_options=OPTIONS[model], seed=0,
                      cache=cache, progress=False)
    m = result.metrics
    assert all(math.isfinite(v) for v in m.values() if isinstance(v, float)), m
    chances = []
    for direction in ("src->dst", "dst->src"):
        # Filtered ranks: a query's other true links (its digit, a tenth of the candidates) are
        # removed, so a featureless ranking ranks each link among at least 80% of the candidates.
        chance = _chance_mrr(int(0.8 * m[f"{direction}/num_candidates"]))
        chances.append(chance)
        # 1.5x per direction: with 60 validation clips, late fusion's weights (chosen on validation)
        # can favour one direction's weaker component (src->dst 0.065 against chance 0.035 at seed 0).
        assert m[f"{direction}/mrr"] > 1.5 * chance, (model, direction, m[f"{direction}/mrr"], chance)
    assert m["mrr"] > 2 * max(chances), (model, m["mrr"], chances)
    assert result.model_config["chosen"]
    if model == "component-class":  # every training clip links images of its digit: ten components, ten classes
        assert result.model_config["chosen"]["num_classes"] == 10


def test_gru_encoder_is_fitted_on_training_clips_and_their_link_classes_only(digits, cache) -> None:
    spec = {"name": "gru-logmel", "hidden_dim": 32, "epochs": 3}
    result = pipeline("digits-audio-image", dataset=digits, model="knn-transfer", encoders={"audio": spec}, seed=0,
                      cache=cache, progress=False)
    assert all(math.isfinite(v) for v in result.metrics.values() if isinstance(v, float))
    fitted = result.encoders["audio"]
    assert fitted.name == "gru-logmel" and result.prepared.features["audio"].shape[1] == 64
    prepared = result.prepared
    classes = training_classes(prepared.task, prepared.dataset, prepared.split)
    # The classes come from the training links: ten components, one per digit; no held-out sample has one.
    train = set(prepared.split.sample_ids("train"))
    assert set(classes["audio"]) <= train and set(classes["image"]) <= train
    digit = dict(zip(prepared.dataset.samples["id"], prepared.dataset.samples["label"], strict=True))
    pairs = {(c, digit[i]) for m in ("audio", "image") for i, c in classes[m].items()}
    assert len(pairs) == len({c for c, _ in pairs}) == len({d for _, d in pairs}) == 10, sorted(pairs)
    # Refitted on exactly the training clips and those classes, it has the very same state.
    audio = prepared.dataset.samples.query("modality == 'audio'")
    kept = [(p, i) for p, i in zip(audio["path"], audio["id"], strict=True) if i in train]
    assert 0 < len(kept) < len(audio)
    again = resolve(spec).fit([p for p, _ in kept], classes=[classes["audio"].get(i, -1) for _, i in kept],
                              progress=False)
    for key, array in again._get_state().items():
        np.testing.assert_array_equal(array, fitted._get_state()[key], err_msg=key)


def test_training_classes_of_a_label_task_come_from_training_labels_and_links_only(digits) -> None:
    task = get_task("digits-audio-label")
    dataset = task.make_dataset(digits, 0)
    split = split_dataset(dataset, seed=0, **task.split)
    classes = training_classes(task, dataset, split)
    train = set(split.sample_ids("train"))
    labelled_clips = {i for i in classes["audio"]}
    # Clips carry no readable label in this task: a clip has a class only through a training link
    # to a labelled image, and then the class of that image's digit.
    linked = set(split.links("train").query("src.str.startswith('audio') or dst.str.startswith('audio')")
                 .pipe(lambda t: set(t["src"]) | set(t["dst"])))
    assert labelled_clips and labelled_clips <= linked & train
    # Hiding every held-out label changes nothing.
    samples = dataset.samples.copy()
    samples.loc[~samples["id"].isin(train), "label"] = None
    hidden = MultimodalDataset(samples, dataset.links, name=dataset.name)
    assert training_classes(task, hidden, split) == classes
    with pytest.raises(ValueError, match="'gru-logmel' encoder of modality 'audio' learns the classes.*pass task="):
        encode_dataset(dataset, split, encoders={"audio": "gru-logmel"}, cache=None, progress=False)
