"""The figures of mmgraph.plotting: their panels, titles, bars and images, the files they write and
the errors bad input gets. Figures are made without pyplot, so no display is needed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure
from PIL import Image
from torch_geometric.data import HeteroData

from mmgraph.plotting import (
    component_table,
    image_grid,
    label_agreement,
    link_gallery,
    link_paths,
    plot_benchmark,
    plot_degrees,
    plot_keep,
    plot_label_agreement,
    plot_paths,
    plot_projections,
    plot_seed_spread,
    project,
    read_benchmark_results,
    save_figure,
)

SIM = ("image", "similar", "image")
LINK = ("image", "names", "text")


@pytest.fixture
def images(tmp_path: Path) -> list[str]:
    paths = []
    for i, colour in enumerate([(255, 0, 0), (0, 255, 0), (0, 0, 255)]):
        path = tmp_path / f"image{i}.png"
        Image.new("RGB", (8, 8), colour).save(path)
        paths.append(str(path))
    return paths


@pytest.fixture
def graph() -> HeteroData:
    """4 images in a chain 0-1-2 plus an isolated 3; images 0 and 2 name texts 0 and 1; 3 texts."""
    data = HeteroData()
    data["image"].x = torch.eye(4)
    data["text"].x = torch.eye(3)
    data[SIM].edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    data[LINK].edge_index = torch.tensor([[0, 2], [0, 1]])
    return data


def predictions(queries: int, k: int) -> pd.DataFrame:
    rows = [(q, r + 1, f"t{r}", f"name {r}", 1.0 - r / 10) for q in range(queries) for r in range(k)]
    return pd.DataFrame(rows, columns=["query", "rank", "id", "payload", "score"])


def texts(figure: Figure) -> list[str]:
    return [t.get_text() for ax in figure.axes for t in ax.texts]


def bars(ax) -> int:
    return len(ax.patches)


def records(path: Path, rows: list[tuple[str, str, str, int, dict | None]]) -> None:
    out = []
    for task, kind, model, seed, metrics in rows:
        record = {"task": task, "kind": kind, "model": model, "seed": seed, "candidates": "held-out"}
        record.update({"metrics": metrics, "train_seconds": 1.0} if metrics else {"skipped": "not for this task"})
        out.append(record)
    path.mkdir(parents=True, exist_ok=True)
    (path / "results.json").write_text(json.dumps(out))


LINK_METRICS = {"mrr": 0.5, "hits@1": 0.4, "hits@3": 0.5, "hits@10": 0.7, "held-out/mrr": 0.5, "all/mrr": 0.3}


@pytest.fixture
def bench(tmp_path: Path) -> Path:
    root = tmp_path / "results"
    records(root / "a", [
        ("link-task", "link", "gnn", 0, LINK_METRICS),
        ("link-task", "link", "gnn", 1, {**LINK_METRICS, "mrr": 0.7, "held-out/mrr": 0.7}),
        ("link-task", "link", "cosine", 0, {**LINK_METRICS, "mrr": 0.2, "held-out/mrr": 0.2, "all/mrr": 0.1}),
        ("label-task", "label", "gnn", 0, {"accuracy": 0.8, "macro_f1": 0.6}),
        ("label-task", "label", "cosine", 0, None),
    ])
    # a later folder replaces the run of the same task, model and seed
    records(root / "b", [("link-task", "link", "cosine", 0, {**LINK_METRICS, "mrr": 0.3, "held-out/mrr": 0.3})])
    return root


# ---------------------------------------------------------------------- galleries
def test_image_grid_shows_every_image_with_its_caption(images, tmp_path):
    figure = image_grid(images, ["red", "green", "blue"], ncols=2, title="colours", path=tmp_path / "grid.png")
    shown = [ax for ax in figure.axes if ax.images]
    assert len(shown) == 3 and len(figure.axes) == 4  # a 2x2 grid, one panel empty
    assert [ax.get_title() for ax in shown] == ["red", "green", "blue"]
    assert figure._suptitle.get_text() == "colours"
    assert Image.open(tmp_path / "grid.png").format == "PNG"


def test_image_grid_errors(images, tmp_path):
    with pytest.raises(ValueError, match="at least one image"):
        image_grid([])
    with pytest.raises(ValueError, match="one caption per image. Got 1 captions for 3"):
        image_grid(images, ["one"])
    with pytest.raises(ValueError, match="'ncols'.*Got 0"):
        image_grid(images, ncols=0)
    with pytest.raises(FileNotFoundError, match="not-there.png"):
        image_grid([str(tmp_path / "not-there.png")])
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(ValueError, match="cannot read .*text.png"):
        image_grid([str(tmp_path / "text.png")])


def test_link_gallery_puts_each_image_beside_its_predictions(images):
    figure = link_gallery(images[:2], predictions(2, 5), truth=["name 1", None], captions=["a", "b"], title="top")
    assert len(figure.axes) == 4
    assert sum(bool(ax.images) for ax in figure.axes) == 2
    lines = texts(figure)
    assert len(lines) == 10 and lines[0].startswith("1. name 0") and "(0.90)" in lines[1]
    assert [line for line in lines if line.endswith("(true)")] == ["2. name 1   (0.90)  (true)"]
    assert [ax.get_title() for ax in figure.axes if ax.images] == ["a", "b"]


def test_galleries_read_series_by_position(images):
    """Columns of a filtered DataFrame keep their index labels; they are read in order."""
    paths, names = pd.Series(images, index=[7, 3, 5]), pd.Series(["r", "g", "b"], index=[7, 3, 5])
    assert [ax.get_title() for ax in image_grid(paths, names).axes if ax.images] == ["r", "g", "b"]
    figure = link_gallery(paths, predictions(3, 2), truth=pd.Series(["name 0"] * 3, index=[7, 3, 5]), captions=names)
    assert [ax.get_title() for ax in figure.axes if ax.images] == ["r", "g", "b"]


def test_link_gallery_shows_ids_without_payloads(images):
    figure = link_gallery(images[:1], predictions(1, 2).drop(columns="payload"))
    assert texts(figure)[0].startswith("1. t0")


def test_link_gallery_errors(images):
    with pytest.raises(ValueError, match="at least one query image"):
        link_gallery([], predictions(1, 1))
    with pytest.raises(ValueError, match="DataFrame predict_links returns. Got list"):
        link_gallery(images, [])
    with pytest.raises(ValueError, match=r"columns query, rank, score.*Found \['query'\]"):
        link_gallery(images, pd.DataFrame({"query": [0]}))
    with pytest.raises(ValueError, match=r"no prediction for the queries \[2\]"):
        link_gallery(images, predictions(2, 3))
    with pytest.raises(ValueError, match="one entry of 'truth' per image. Got 1 for 3"):
        link_gallery(images, predictions(3, 3), truth=["x"])


# ---------------------------------------------------------------------- graph
def test_plot_degrees_one_histogram_per_edge_type(graph, tmp_path):
    figure = plot_degrees(graph, path=tmp_path / "degrees.png")
    titled = [ax for ax in figure.axes if ax.get_title()]
    assert [ax.get_title() for ax in titled] == ["image -similar-> image", "image -names-> text"]
    assert titled[0].get_xlabel() == "in-degree of the image nodes (mean 1.0)" and titled[0].get_ylabel()
    # in-degrees of the similarity edges: 1, 2, 1, 0 -> bins 0, 1, 2 hold 1, 2, 1 nodes
    assert [p.get_height() for p in titled[0].patches] == [1, 2, 1]
    assert (tmp_path / "degrees.png").stat().st_size > 0
    assert len(plot_degrees(graph, edge_types=[LINK]).axes) == 1


def test_plot_degrees_errors(graph):
    with pytest.raises(ValueError, match="needs a torch_geometric HeteroData.*Got dict"):
        plot_degrees({})
    with pytest.raises(ValueError, match=r"unknown or no edge types \[\('text', 'x', 'text'\)\]"):
        plot_degrees(graph, edge_types=[("text", "x", "text")])
    empty = HeteroData()
    empty["image"].x = torch.eye(2)
    with pytest.raises(ValueError, match="no edge type"):
        plot_degrees(empty)


def test_component_table(graph):
    table = component_table(graph, edge_types=[SIM])
    whole, similar = table.to_dict("records")
    assert whole == {"graph": "whole graph", "nodes": 7, "components": 3, "largest": 5, "isolated": 2}
    assert similar == {"graph": "image -similar-> image", "nodes": 4, "components": 2, "largest": 3, "isolated": 1}
    with pytest.raises(ValueError, match="unknown edge types"):
        component_table(graph, edge_types=[("a", "b", "c")])


def test_label_agreement_against_chance(graph, tmp_path):
    labels = {"image": ["a", "a", "b", None], "text": ["a", "b", "b"]}
    table = label_agreement(graph, labels).set_index("edge_type")
    # similarity edges 0-1 (a, a) twice, 1-2 (a, b) twice: half share a label; chance 2/3^2 + 1/3^2 = 5/9
    assert table.loc["image -similar-> image", "same_label"] == pytest.approx(0.5)
    assert table.loc["image -similar-> image", "chance"] == pytest.approx(5 / 9)
    assert table.loc["image -names-> text", "same_label"] == pytest.approx(1.0)  # (a, a) and (b, b)
    figure = plot_label_agreement(table.reset_index(), path=tmp_path / "mixing.png")
    ax = figure.axes[0]
    assert bars(ax) == 4 and ax.get_ylabel() == "share of edges" and ax.get_legend() is not None
    assert (tmp_path / "mixing.png").is_file()


def test_label_agreement_errors(graph):
    with pytest.raises(ValueError, match="one label per 'image' node: the graph has 4, got 2"):
        label_agreement(graph, {"image": ["a", "b"]})
    with pytest.raises(ValueError, match="labels of 'audio'"):
        label_agreement(graph, {"audio": ["a"]})
    with pytest.raises(ValueError, match="no edge type with labels at both ends"):
        label_agreement(graph, {"text": ["a", "b", "c"]})
    with pytest.raises(ValueError, match="DataFrame of label_agreement"):
        plot_label_agreement(pd.DataFrame({"x": [1]}))


def test_link_paths_and_plot(graph, tmp_path):
    paths = link_paths(graph, ("image", 1), ("text", 1))
    assert paths[0] == [("image", 1), ("image", 2), ("text", 1)]
    assert all(p[0] == ("image", 1) and p[-1] == ("text", 1) for p in paths)
    assert link_paths(graph, ("image", 3), ("text", 1)) == []  # isolated
    assert link_paths(graph, ("image", 0), ("text", 1), cutoff=2) == []  # 3 edges away
    figure = plot_paths(paths, {("image", 1): "query"}, title="why", path=tmp_path / "paths.png")
    ax = figure.axes[0]
    assert ax.get_title() == "why" and "query" in texts(figure) and "text:1" in texts(figure)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["image", "text"]
    assert (tmp_path / "paths.png").is_file()


def test_link_paths_errors(graph):
    with pytest.raises(ValueError, match=r"The query \('image', 9\) of link_paths is not a node"):
        link_paths(graph, ("image", 9), ("text", 0))
    with pytest.raises(ValueError, match="HeteroData or a networkx graph. Got list"):
        link_paths([], ("image", 0), ("text", 0))
    with pytest.raises(ValueError, match="at least one path of two or more nodes. Got 0"):
        plot_paths([])


# ---------------------------------------------------------------------- projections
def test_project_shapes_and_errors():
    x = np.random.default_rng(0).normal(size=(20, 5))
    assert project(x).shape == (20, 2)
    assert project(torch.as_tensor(x), method="tsne").shape == (20, 2)
    with pytest.raises(ValueError, match="'pca' or 'tsne'. Got 'umap'"):
        project(x, method="umap")
    with pytest.raises(ValueError, match=r"at least 3 rows and 2 columns.*Got shape \(2, 5\)"):
        project(x[:2])


def test_plot_projections_colours_the_most_frequent_labels(tmp_path):
    rng = np.random.default_rng(0)
    labels = ["a"] * 10 + ["b"] * 6 + ["c"] * 3 + [None]
    figure = plot_projections({"features": rng.normal(size=(20, 4)), "learned": rng.normal(size=(20, 3))}, labels,
                              max_labels=2, title="proj", path=tmp_path / "proj.png")
    assert [ax.get_title() for ax in figure.axes] == ["features (PCA)", "learned (PCA)"]
    assert all(ax.get_xlabel() == "component 1" for ax in figure.axes)
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert legend == ["other (4)", "a (10)", "b (6)"]
    assert sum(len(c.get_offsets()) for c in figure.axes[0].collections) == 20
    assert (tmp_path / "proj.png").is_file()


def test_plot_projections_errors():
    with pytest.raises(ValueError, match="at least one feature space"):
        plot_projections({}, [])
    with pytest.raises(ValueError, match="space 'x' has 5 rows, got 4 labels"):
        plot_projections({"x": np.zeros((5, 2))}, list("abcd"))
    with pytest.raises(ValueError, match="'max_labels'.*Got 0"):
        plot_projections({"x": np.zeros((4, 2))}, list("abcd"), max_labels=0)


# ---------------------------------------------------------------------- benchmark results
def test_read_benchmark_results_keeps_the_latest_run(bench):
    frame = read_benchmark_results(bench)
    assert len(frame) == 5
    cosine = frame[(frame["model"] == "cosine") & (frame["task"] == "link-task")]
    assert cosine["mrr"].tolist() == [0.3]
    assert frame["skipped"].notna().sum() == 1
    assert len(read_benchmark_results(bench / "a")) == 5  # a run folder itself


def test_read_benchmark_results_errors(tmp_path):
    with pytest.raises(ValueError, match="found no results.json"):
        read_benchmark_results(tmp_path)
    (tmp_path / "results.json").write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_benchmark_results(tmp_path)
    (tmp_path / "results.json").write_text('[{"task": "t"}]')
    with pytest.raises(ValueError, match="holds no list of run records"):
        read_benchmark_results(tmp_path)


def test_plot_benchmark_bars_per_model_and_candidate_set(bench, tmp_path):
    figure = plot_benchmark(read_benchmark_results(bench), path=tmp_path / "bench.png")
    link, label = figure.axes
    assert link.get_title() == "link-task (link, 2 seeds)" and label.get_title() == "label-task (label, 1 seed)"
    assert [t.get_text() for t in link.get_xticklabels()] == ["gnn", "cosine"]
    assert bars(link) == 4 and bars(label) == 2  # 2 models x 2 candidate sets; the skipped model has no bar
    heights = [p.get_height() for p in link.patches]
    assert heights == pytest.approx([0.6, 0.3, 0.3, 0.3])  # held-out gnn, cosine (later run); all gnn, cosine
    assert [t.get_text() for t in figure.legends[0].get_texts()] == [
        "MRR, held-out candidates", "MRR, all candidates", "accuracy", "macro-F1"]
    assert link.get_ylabel() == "MRR (test)" and (tmp_path / "bench.png").is_file()
    assert len(plot_benchmark(read_benchmark_results(bench), tasks=["label-task"]).axes) == 1


def test_plot_benchmark_marks_a_set_that_asks_nothing(bench):
    frame = read_benchmark_results(bench)
    frame.loc[frame["task"] == "link-task", "held-out/mrr"] = np.nan
    assert texts(plot_benchmark(frame, tasks=["link-task"])).count("n/a") == 2


def test_plot_seed_spread_one_dot_per_seed(bench, tmp_path):
    figure = plot_seed_spread(read_benchmark_results(bench), path=tmp_path / "spread.png")
    link = figure.axes[0]
    assert link.get_title() == "link-task: mrr per seed"
    dots = [c for c in link.collections if hasattr(c, "get_offsets") and len(c.get_offsets())]
    values = sorted(float(v) for c in dots[:2] for v in np.asarray(c.get_offsets())[:, 1] if not np.isnan(v))
    assert values == pytest.approx([0.3, 0.5, 0.7])
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["seed 0", "seed 1", "mean"]
    assert (tmp_path / "spread.png").is_file()


def test_benchmark_plot_errors(bench):
    with pytest.raises(ValueError, match="DataFrame of read_benchmark_results.*Got list"):
        plot_benchmark([])
    frame = read_benchmark_results(bench)
    with pytest.raises(ValueError, match="no run in the frame has results"):
        plot_seed_spread(frame[frame["skipped"].notna()])
    with pytest.raises(ValueError, match=r"unknown or no tasks \['nope'\]"):
        plot_benchmark(frame, tasks=["nope"])


def test_save_figure_needs_png(tmp_path):
    figure = Figure()
    assert save_figure(figure, tmp_path / "a.png").is_file()
    with pytest.raises(ValueError, match="must end in '.png'. Got"):
        save_figure(figure, tmp_path / "a.jpg")


def test_plot_keep_draws_each_model_against_keep_and_the_one_modality_points(tmp_path):
    rows = []
    for seed in (0, 1):
        for model, scores in (("gnn", (0.8, 0.6, 0.4, 0.3)), ("items-average", (0.7, 0.5, 0.45, 0.2))):
            levels = ("keep=1", "keep=0.5", "keep=0.25", "only=image")
            by_level = {f"{level}/accuracy": score + 0.02 * seed for level, score in zip(levels, scores, strict=True)}
            rows.append({"task": "items:keep=0.5", "kind": "label", "model": model, "seed": seed, "keep": 0.5,
                         "accuracy": scores[1] + 0.02 * seed, "skipped": None, "error": None, **by_level})
    rows.append({"task": "sample-task", "kind": "label", "model": "gnn", "seed": 0, "keep": None, "accuracy": 0.9,
                 "skipped": None, "error": None})
    figure = plot_keep(pd.DataFrame(rows), path=tmp_path / "keep.png")
    (ax,) = [a for a in figure.axes if a.get_title()]
    assert ax.get_title() == "items:keep=0.5: accuracy as modalities go missing (2 seeds)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["keep 1", "keep 0.5", "keep 0.25", "only image"]
    curves = {c.get_label(): c.lines[0] for c in ax.containers if c.get_label() and not c.get_label().startswith("_")}
    assert set(curves) == {"gnn", "items-average"}
    np.testing.assert_allclose(np.asarray(curves["gnn"].get_ydata(), dtype=float), [0.81, 0.61, 0.41])  # seed mean
    assert (tmp_path / "keep.png").is_file()
    with pytest.raises(ValueError, match="no run of an item task"):
        plot_keep(pd.DataFrame(rows[-1:]))
