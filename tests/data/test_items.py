"""Item queries: held-out items as sets of new samples, each kept with probability ``keep``.

Synthetic data checks the draw and the questions; the named emoji item tasks are checked on the
real data (skipped with the reason when it is absent).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from mmgraph.data import MultimodalDataset, Task, split_dataset
from mmgraph.data.items import item_levels, kept_samples, sample_draws
from mmgraph.data.prepared import ITEM, ItemQueries, LabelQueries, LinkQueries, PreparedTask
from mmgraph.datasets import load
from mmgraph.errors import DataError, NotApplicableError
from mmgraph.evaluation.evaluator import evaluate_link_queries
from mmgraph.tasks import get_task, task_spec
from mmgraph.testing import chance_mrr

MODALITIES = ("a", "b", "c", "d")


def _dataset(*, without_b_every: int = 0, num_items: int = 300) -> MultimodalDataset:
    """Synthetic items seen as four modalities; with ``without_b_every=k``, every k-th item has no ``b``."""
    base = load("synthetic", num_items=num_items, modalities=MODALITIES, num_classes=3, seed=0)
    samples = base.samples
    keep = np.ones(len(samples), dtype=bool)
    if without_b_every:
        number = samples["item"].str.removeprefix("item").astype(int)
        keep = (samples["modality"] != "b").to_numpy() | (number % without_b_every != 0).to_numpy()
    modality = samples["modality"].to_numpy()
    features = {m: base.features[m][keep[modality == m]] for m in MODALITIES}
    return MultimodalDataset(samples[keep].drop(columns="true_item"), name="items", features=features)


def _prepared(task: Task, dataset: MultimodalDataset, *, seed: int = 0, setting: str = "inductive") -> PreparedTask:
    split = split_dataset(dataset, seed=seed, **task.split)
    features = {m: torch.zeros(len(dataset.node_ids(m)), 2) for m in dataset.modalities}
    return PreparedTask(task, dataset, split, features, setting=setting)


LABEL = Task(name="items-label", description="", kind="label", source="a", label_modalities=MODALITIES, query="item")
LINK = Task(name="items-link", description="", kind="link", source="a", target="d", query="item")


def _ids(prepared: PreparedTask, queries: ItemQueries, modality: str) -> np.ndarray:
    """The sample ids of the kept samples of one modality, in the order of ``members``."""
    index = prepared.scoring_index(modality, queries.part)
    by_scoring = np.empty(int(index.max()) + 1, dtype=object)
    by_scoring[index[index >= 0]] = prepared.dataset.node_ids(modality)[index >= 0]
    return by_scoring[queries.members[modality].numpy()]


def _kept(queries: ItemQueries) -> set[tuple[str, str]]:
    """Every kept sample as (item name, modality)."""
    return {
        (queries.item_ids[i], m) for m in queries.members for i in queries.member_items[m].tolist()
    }


# ---------------------------------------------------------------------- the draw
def test_kept_samples_keep_a_share_and_at_least_one_per_item_nested_across_levels() -> None:
    items = np.repeat(np.arange(5000), 4)
    draws = sample_draws(len(items), seed=3)
    assert np.array_equal(draws, sample_draws(len(items), seed=3))
    assert not np.array_equal(draws, sample_draws(len(items), seed=4))
    levels = {keep: kept_samples(items, draws, keep) for keep in (1.0, 0.5, 0.25)}
    assert levels[1.0].all()
    for keep, kept in levels.items():
        per_item = np.bincount(items, weights=kept)
        assert per_item.min() >= 1
        # each sample kept with probability keep, plus the lowest draw of an item with none below keep
        expected = 4 * keep + (1 - keep) ** 4
        assert abs(per_item.mean() - expected) < 0.05, (keep, per_item.mean(), expected)
    assert not (levels[0.25] & ~levels[0.5]).any() and not (levels[0.5] & ~levels[1.0]).any()


# ---------------------------------------------------------------------- the task's options
def test_item_options_are_checked_and_named() -> None:
    assert LABEL.variant("keep=0.50") == dataclasses.replace(LABEL, name="items-label:keep=0.5", keep=0.5)
    assert LABEL.variant("keep=1") is LABEL
    assert LINK.variant("only=b").only == "b"
    bad = {
        "keep=0": "must be a probability in \\(0, 1\\]. Got 0.0",
        "keep=half": "must be a probability in \\(0, 1\\]. Got 'half'",
        "only=d": "must be one of its query modalities .*Got 'd'",  # the target is never part of an item
        "size=3": "not one of its options",
    }
    for option, message in bad.items():
        with pytest.raises(DataError, match=message):
            LINK.variant(option)
    with pytest.raises(DataError, match="asks about single samples and takes none"):
        get_task("emoji-group:keep=0.5")
    with pytest.raises(DataError, match="already sets keep=0.5, only=None; an item task takes one option"):
        get_task("emoji-items-group:keep=0.5:only=image")
    with pytest.raises(DataError, match="give one of them"):
        dataclasses.replace(LABEL, keep=0.5, only="a")
    with pytest.raises(DataError, match="apply to item tasks"):
        Task(name="t", description="", kind="label", source="a", keep=0.5)
    with pytest.raises(DataError, match="must be one of its query modalities"):
        dataclasses.replace(LABEL, modalities=("a", "b"), only="c")


def test_a_variant_is_resolved_and_recorded_by_its_name() -> None:
    task = get_task("emoji-items-text:keep=0.25")
    assert (task.keep, task.only, task.query) == (0.25, None, "item")
    assert task_spec(task) == "emoji-items-text:keep=0.25"
    assert get_task(task_spec(task)) == task
    assert Task.from_spec(task.spec()).spec() == task.spec()
    assert task.summary()["keep"] == 0.25
    only = get_task("emoji-items-group:only=openmoji")
    assert only.only == "openmoji" and task_spec(only) == "emoji-items-group:only=openmoji"
    # a sample task's spec and summary are the ones written before item tasks existed
    sample = get_task("emoji-group")
    assert not {"query", "keep", "only"} & (set(sample.spec()) | set(sample.summary()))


# ---------------------------------------------------------------------- the questions
@pytest.mark.parametrize("setting", ["inductive", "transductive"])
@pytest.mark.parametrize("task", [LABEL, LINK], ids=["label", "link"])
def test_an_item_is_its_held_out_samples_of_the_query_modalities(task: Task, setting: str) -> None:
    dataset = _dataset()
    prepared = _prepared(dataset=dataset, task=task, setting=setting)
    train = prepared.train_view()
    for part in ("val", "test"):
        queries = prepared.item_queries(part)
        assert len(queries) > 10
        assert queries.modalities == [m for m in MODALITIES if m != task.target]
        for m in queries.members:
            ids = _ids(prepared, queries, m)
            assert set(prepared.split.sample_split[ids]) == {part}
            if setting == "inductive":  # new samples: beyond the training view's nodes
                assert (queries.members[m] >= train.num_nodes(m)).all()
                assert not set(ids) & set(train.node_ids[m])
            items = dataset.modality_samples(m).set_index("id").loc[ids, "item"].to_numpy()
            assert (items == queries.item_ids[queries.member_items[m].numpy()]).all()
        assert not set(queries.item_ids) & set(prepared.split.samples("train")["item"])
        assert len(_kept(queries)) == len(queries) * len(queries.modalities)  # keep=1: every sample
        if task.kind == "label":
            assert isinstance(queries.question, LabelQueries) and queries.question.node_type == ITEM
            labels = dataset.samples.drop_duplicates("item").set_index("item")["label"]
            classes = np.asarray(queries.question.classes)
            assert (classes[queries.question.labels.numpy()] == labels[queries.item_ids].to_numpy()).all()
        else:
            question = queries.question
            assert isinstance(question, LinkQueries) and question.edge_type == (ITEM, "same_item", "d")
            assert question.links[0].tolist() == list(range(len(queries)))  # one answer per item
            target_ids = prepared.dataset.node_ids("d")
            index = prepared.scoring_index("d", part)
            answer = {int(index[i]): target_ids[i] for i in np.flatnonzero(index >= 0)}
            assert [answer[a] for a in question.links[1].tolist()] == [f"d:{i[4:]}" for i in queries.item_ids]
            # "item007" is answered by "d:007"
            held_out = np.flatnonzero(prepared.parts["d"] == part)
            assert sorted(question.candidates.tolist()) == sorted(index[held_out].tolist())
            assert torch.equal(question.known, question.links)


def test_the_keep_draw_is_seeded_the_same_on_every_call_and_keeps_at_least_one() -> None:
    dataset = _dataset(num_items=1000)
    by_keep = {}
    for keep in (1.0, 0.5, 0.25):
        task = LINK.variant(f"keep={keep}")
        first = _prepared(task, dataset).item_queries("test")
        again = _prepared(task, dataset).item_queries("test")  # another PreparedTask, as another model gets
        assert _kept(first) == _kept(again) and (first.item_ids == again.item_ids).all()
        mask = first.kept_modalities()
        assert mask.any(1).all(), "an item kept no sample"
        assert "d" not in first.members
        by_keep[keep] = _kept(first)
        share = mask.float().mean().item()
        assert abs(share - (keep + (1 - keep) ** 3 / 3)) < 0.1, (keep, share)
    assert by_keep[0.25] <= by_keep[0.5] <= by_keep[1.0] and by_keep[0.25] != by_keep[0.5]
    other_seed = _prepared(LINK.variant("keep=0.5"), dataset, seed=1).item_queries("test")
    assert _kept(other_seed) != by_keep[0.5]


def test_one_modality_only_asks_the_items_that_have_it() -> None:
    dataset = _dataset(without_b_every=3)
    prepared = _prepared(LABEL.variant("only=b"), dataset)
    queries = prepared.item_queries("test")
    assert queries.modalities == ["b"] and queries.only == "b"
    assert queries.member_items["b"].tolist() == list(range(len(queries)))  # one b sample per item
    every = _prepared(LABEL, dataset).item_queries("test")
    have_b = {every.item_ids[i] for i in every.member_items["b"].tolist()}
    assert set(queries.item_ids) == have_b and len(have_b) < len(every)


def test_a_level_asked_of_one_task_is_the_items_of_that_variant() -> None:
    """``item_queries(part, keep=..)`` / ``(only=..)`` asks the items another task variant asks:
    one fitted model answers every level of :func:`item_levels`."""
    dataset = _dataset(without_b_every=3)
    prepared = _prepared(LABEL.variant("keep=0.5"), dataset)
    assert list(item_levels(LABEL.query_modalities(MODALITIES))) == [
        "keep=1", "keep=0.5", "keep=0.25", "only=a", "only=b", "only=c", "only=d"]
    for level, options in item_levels(MODALITIES).items():
        variant = LABEL if level == "keep=1" else LABEL.variant(level)
        asked, expected = prepared.item_queries("test", **options), _prepared(variant, dataset).item_queries("test")
        assert _kept(asked) == _kept(expected) and (asked.item_ids == expected.item_ids).all(), level
        assert (asked.keep, asked.only) == (expected.keep, expected.only)
    own = _prepared(LABEL.variant("keep=0.5"), dataset).item_queries("test")
    assert _kept(prepared.item_queries("test")) == _kept(own), "no level: the task's own"
    with pytest.raises(DataError, match="one of keep or only"):
        prepared.item_queries("test", keep=0.5, only="b")
    with pytest.raises(DataError, match=r"in \(0, 1\]; got 0"):
        prepared.item_queries("test", keep=0)


def test_item_members_name_each_kept_sample_by_its_id() -> None:
    dataset = _dataset(num_items=200)
    prepared = _prepared(LINK.variant("keep=0.5"), dataset)
    queries = prepared.item_queries("test")
    members = prepared.item_members(queries)
    assert len(members) == sum(len(v) for v in queries.members.values())
    for m in queries.members:
        rows = members[members["modality"] == m]
        assert list(rows["id"]) == list(_ids(prepared, queries, m))  # the test's own inverse of the scoring index
        samples = dataset.samples.set_index("id").loc[rows["id"]]
        assert list(samples["item"]) == list(rows["item"]), "each sample is of the item it is listed under"


@pytest.mark.parametrize("keep", [1.0, 0.5])
def test_a_scorer_that_reads_no_feature_answers_items_at_chance(keep: float) -> None:
    """The item question leaks nothing a featureless scorer could use: neither the candidates'
    training links and newness nor how many samples an item kept. (Not checked: the numbering.
    Items and their answers come in the same order, as held-out samples of two modalities do in
    sample tasks, so a scorer reading indices alone would answer; no model reads them.)"""
    for seed in range(3):
        prepared = _prepared(LINK if keep == 1.0 else LINK.variant(f"keep={keep}"), _dataset(), seed=seed)
        items = prepared.item_queries("test")
        question = items.question
        train = prepared.train_view()
        size = int(prepared.scoring_index("d", "test").max()) + 1
        degree = torch.zeros(size)
        for src, _, dst in train.links:
            if dst == "d":
                degree += torch.bincount(train.links[src, _, dst][1], minlength=size).float()
        degree += (torch.arange(size) >= train.num_nodes("d")).float() * 0.5  # newness
        kept = items.kept_modalities().sum(1).float()
        featureless = {
            "degree and newness": lambda q, c, d=degree: d[c].expand(len(q), -1),
            "kept samples": lambda q, c, k=kept: k[q][:, None] * (c[None, :] % 2).float(),
        }
        for name, scores in featureless.items():
            mrr = evaluate_link_queries(lambda _, q, c, *, reverse, f=scores: f(q, c), {"q": question})["mrr"]
            assert mrr <= 1.1 * chance_mrr(question), (name, keep, seed, mrr, chance_mrr(question))


def test_item_queries_refuse_sample_tasks_training_items_and_items_of_mixed_labels() -> None:
    dataset = _dataset(num_items=60)
    with pytest.raises(NotApplicableError, match="asks about single samples"):
        _prepared(dataclasses.replace(LABEL, query="sample", label_modalities=None), dataset).item_queries("test")
    with pytest.raises(DataError, match="Training items are not asked"):
        _prepared(LABEL, dataset).item_queries("train")
    samples = dataset.samples.copy()
    samples.loc[samples["modality"] == "b", "label"] = "other"
    with pytest.raises(DataError, match="must share one label.*has the labels"):
        _prepared(LABEL, MultimodalDataset(samples, name="mixed", features=dataset.features)).item_queries("test")


# ---------------------------------------------------------------------- the named emoji item tasks
ITEM_TASKS = ("emoji-items-group", "emoji-items-subgroup", "emoji-items-text")


@pytest.mark.slow
def test_named_item_tasks_on_the_real_emoji(named_tasks) -> None:
    for name in ITEM_TASKS:
        prepared = named_tasks[name]
        task = prepared.task
        groups = prepared.dataset.samples.set_index("id")["group"]
        for part in ("val", "test"):
            queries = prepared.item_queries(part)
            assert len(queries) > 300, (name, part)
            # split by base emoji: no held-out item shares its base emoji with a training sample
            ids = np.concatenate([_ids(prepared, queries, m) for m in queries.members])
            assert set(prepared.split.sample_split[ids]) == {part}
            assert not set(groups[ids]) & set(prepared.split.samples("train")["group"])
            assert task.target not in queries.members
            expected = 12 if task.target else 13  # the Noto image, the OpenMoji drawing, the names
            assert queries.kept_modalities().sum(1).max() == expected
        if name == "emoji-items-subgroup":
            # the 101 subgroups but the 2 of the 'Component' group, which has no fully-qualified emoji
            assert prepared.dataset.samples["label"].nunique() == 99
        if name == "emoji-items-text":
            question = prepared.item_queries("test").question
            held_out = np.flatnonzero(prepared.parts["text_en"] == "test")
            assert question.candidates.numel() == len(held_out) == question.links.shape[1]


@pytest.mark.slow
@pytest.mark.parametrize("name", ITEM_TASKS)
def test_named_item_task_keep_levels_on_the_real_emoji(named_tasks, name: str) -> None:
    prepared = named_tasks[name]
    kept, sizes = {}, {}
    for keep in (1.0, 0.5, 0.25):
        variant = PreparedTask(
            get_task(f"{name}:keep={keep}"), prepared.dataset, prepared.split, prepared.features
        )
        queries = variant.item_queries("test")
        kept[keep], sizes[keep] = _kept(queries), queries.kept_modalities().sum(1).float()
        assert sizes[keep].min() >= 1
        assert _kept(variant.item_queries("test")) == kept[keep]
    assert kept[0.25] <= kept[0.5] <= kept[1.0]
    assert sizes[1.0].mean() > 1.8 * sizes[0.5].mean() > 3 * sizes[0.25].mean()
    only = PreparedTask(get_task(f"{name}:only=text_hi"), prepared.dataset, prepared.split, prepared.features)
    hindi = only.item_queries("test")
    assert hindi.modalities == ["text_hi"] and 0 < len(hindi) <= len(prepared.item_queries("test"))
