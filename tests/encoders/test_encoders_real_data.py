"""Embeddings mean something on real data: 1-NN label agreement far above chance.

FSDD spoken digits (speaker and digit labels), and Unicode emoji rendered with the Noto
colour font (subgroup labels, e.g. "face-smiling", "animal-mammal") with their English names.
Skipped, with the reason, where the shared data is absent.
"""

from __future__ import annotations

import pytest

from mmgraph.encoders import LogMelEncoder, MFCCEncoder, PixelEncoder, TfidfEncoder


@pytest.mark.slow
@pytest.mark.parametrize("encoder", [LogMelEncoder(), MFCCEncoder()], ids=["logmel", "mfcc"])
def test_fsdd_neighbours_share_speaker_and_digit(fsdd_subset, knn1, encoder):
    knn1_accuracy, chance_accuracy = knn1
    features = encoder.encode([clip.path for clip in fsdd_subset])
    speakers = [clip.speaker for clip in fsdd_subset]
    digits = [clip.digit for clip in fsdd_subset]
    speaker_acc, digit_acc = knn1_accuracy(features, speakers), knn1_accuracy(features, digits)
    print(f"{encoder.name}: 1-NN speaker {speaker_acc:.3f} (chance {chance_accuracy(speakers):.3f}),"
          f" digit {digit_acc:.3f} (chance {chance_accuracy(digits):.3f}), n={len(features)}")
    assert speaker_acc > 0.8, f"1-NN speaker accuracy {speaker_acc:.3f} on {len(features)} clips"
    assert digit_acc > 0.6, f"1-NN digit accuracy {digit_acc:.3f} on {len(features)} clips"


@pytest.mark.slow
def test_emoji_images_efficientnet_neighbours_share_subgroup(emoji_images, efficientnet, knn1):
    knn1_accuracy, chance_accuracy = knn1
    paths, subgroups = emoji_images
    acc = knn1_accuracy(efficientnet.encode(paths), subgroups)
    chance = chance_accuracy(subgroups)
    print(f"EfficientNet 1-NN subgroup {acc:.3f}, chance {chance:.3f}, n={len(paths)}")
    assert acc > 0.3, f"EfficientNet 1-NN subgroup accuracy {acc:.3f} (chance {chance:.3f})"


def test_emoji_images_pixels_neighbours_share_subgroup(emoji_images, knn1):
    knn1_accuracy, chance_accuracy = knn1
    paths, subgroups = emoji_images
    acc = knn1_accuracy(PixelEncoder().fit(paths).encode(paths), subgroups)
    chance = chance_accuracy(subgroups)
    assert acc > 10 * chance, f"pixels 1-NN subgroup accuracy {acc:.3f} (chance {chance:.3f})"


@pytest.mark.slow
def test_emoji_names_minilm_neighbours_share_subgroup(emoji_names, minilm, knn1):
    knn1_accuracy, chance_accuracy = knn1
    names, subgroups = emoji_names
    acc = knn1_accuracy(minilm.encode(names), subgroups)
    chance = chance_accuracy(subgroups)
    print(f"MiniLM 1-NN subgroup {acc:.3f}, chance {chance:.3f}, n={len(names)}")
    assert acc > 0.35, f"MiniLM 1-NN subgroup accuracy {acc:.3f} (chance {chance:.3f})"


def test_emoji_names_tfidf_neighbours_share_subgroup(emoji_names, knn1):
    knn1_accuracy, chance_accuracy = knn1
    names, subgroups = emoji_names
    acc = knn1_accuracy(TfidfEncoder().fit(names).encode(names), subgroups)
    chance = chance_accuracy(subgroups)
    assert acc > 0.25, f"TF-IDF 1-NN subgroup accuracy {acc:.3f} (chance {chance:.3f})"
