"""Figures for notebooks and reports: predicted links beside their images, graph statistics,
2-D projections, benchmark comparisons.

Every function returns a ``matplotlib.figure.Figure`` made without pyplot (no global state, safe
in tests and headless runs); a notebook shows it as the cell's value, and ``path=`` also writes
it as a PNG. Bad input raises ``ValueError`` (``FileNotFoundError`` for a missing image) that
says what is wrong, the value found and what to do.

Example:
    >>> from mmgraph.plotting import plot_benchmark, read_benchmark_results  # doctest: +SKIP
    >>> plot_benchmark(read_benchmark_results("benchmarks/results"), path="bench.png")  # doctest: +SKIP
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from torch_geometric.data import HeteroData

from mmgraph.data.items import LEVEL_PREFIXES
from mmgraph.errors import ConfigError, DataError, MissingFileError
from mmgraph.evaluation.metrics import main_metric
from mmgraph.io import atomic_write
from mmgraph.records import RESULTS_FILE, completed_runs, read_records, results_frame
from mmgraph.typing import EdgeType, NodeType

__all__ = [
    "component_table", "image_grid", "label_agreement", "link_gallery", "link_paths", "plot_benchmark", "plot_degrees",
    "plot_keep", "plot_label_agreement", "plot_paths", "plot_projections", "plot_seed_spread", "project",
    "read_benchmark_results", "save_figure",
]

OTHER = "other"
"""The legend entry of the labels beyond ``max_labels`` in :func:`plot_projections`."""


# ---------------------------------------------------------------------- shared
def save_figure(figure: Figure, path: str | os.PathLike, *, dpi: int = 100) -> Path:
    """Writes ``figure`` as a PNG to ``path`` (whole or not at all) and returns the path."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ConfigError(f"save_figure writes PNG files; the path must end in '.png'. Got {str(path)!r} instead.")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return atomic_write(path, buffer.getvalue())


def _finish(figure: Figure, path: str | os.PathLike | None) -> Figure:
    if path is not None:
        save_figure(figure, path)
    return figure


def _short(text: object, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _read_image(path: object, owner: str) -> np.ndarray:
    from PIL import Image

    if not isinstance(path, str | os.PathLike) or not Path(path).is_file():
        raise MissingFileError(
            f"{owner} shows image files; {path!r} is not an existing file. Give the path of a PNG or JPEG "
            "(a sample's 'path' in the dataset)."
        )
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGBA"))
    except OSError as error:
        raise DataError(f"{owner} cannot read {str(path)!r} as an image ({error}). Give an image file.") from error


def _grid(count: int, ncols: int) -> tuple[int, int]:
    ncols = max(1, min(ncols, count))
    return math.ceil(count / ncols), ncols


def _panels(count: int, ncols: int, *, width: float, height: float, extra: float = 0.0) -> tuple[Figure, list[Axes]]:
    """A figure of ``count`` panels, ``ncols`` a row (each ``width`` x ``height`` inches, plus ``extra``
    inches for the legend), and its first ``count`` axes; the cells left over are hidden."""
    rows, ncols = _grid(count, ncols)
    figure = Figure(figsize=(width * ncols, height * rows + extra), layout="constrained")
    axes = list(figure.subplots(rows, ncols, squeeze=False).flat)
    for ax in axes[count:]:
        ax.set_axis_off()
    return figure, axes[:count]


# ---------------------------------------------------------------------- images and predicted links
def image_grid(
    images: Sequence[str | os.PathLike],
    captions: Sequence[str] | None = None,
    *,
    ncols: int = 5,
    title: str | None = None,
    path: str | os.PathLike | None = None,
) -> Figure:
    """Images in a grid, each with its caption (a sample's neighbours, a dataset's first rows).

    Args:
        images: image file paths.
        captions: one caption per image (default: the file names).
        ncols: images per row.
        title: the figure's title.
        path: also write the figure to this PNG.
    """
    images = list(images)
    if not images:
        raise DataError("image_grid needs at least one image. Got an empty list.")
    captions = [Path(p).name for p in images] if captions is None else list(captions)
    if len(captions) != len(images):
        raise DataError(
            f"image_grid needs one caption per image. Got {len(captions)} captions for {len(images)} images."
        )
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ConfigError(f"The 'ncols' parameter of image_grid must be a positive int. Got {ncols!r} instead.")
    rows, ncols = _grid(len(images), ncols)
    figure = Figure(figsize=(2.1 * ncols, 2.3 * rows + (0.4 if title else 0)), layout="constrained")
    axes = figure.subplots(rows, ncols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < len(images):
            ax.imshow(_read_image(images[i], "image_grid"))
            ax.set_title(_short(captions[i], 22), fontsize=8)
    if title:
        figure.suptitle(title)
    return _finish(figure, path)


def link_gallery(
    images: Sequence[str | os.PathLike],
    predictions: pd.DataFrame,
    *,
    truth: Sequence[str | None] | None = None,
    captions: Sequence[str] | None = None,
    title: str | None = None,
    path: str | os.PathLike | None = None,
) -> Figure:
    """Each query image beside its predicted links, best first, with their scores.

    Args:
        images: the image file of each query, in the order of ``predictions["query"]`` (0, 1, ...).
        predictions: the DataFrame of ``predict_links`` (columns ``query``, ``rank``, ``score`` and
            ``payload`` or ``id``; the payload, a name, is shown where known).
        truth: the true answer of each query (a payload or id, or None); a prediction equal to it
            is shown in green, marked "(true)".
        captions: a caption under each image (default: "query 0", "query 1", ...).
        title: the figure's title.
        path: also write the figure to this PNG.
    """
    images = list(images)
    if not images:
        raise DataError("link_gallery needs at least one query image. Got an empty list.")
    if not isinstance(predictions, pd.DataFrame):
        raise DataError(
            f"The 'predictions' of link_gallery must be the DataFrame predict_links returns. "
            f"Got {type(predictions).__name__} instead."
        )
    missing = [c for c in ("query", "rank", "score") if c not in predictions.columns]
    if missing or not {"payload", "id"} & set(predictions.columns):
        raise DataError(
            f"The 'predictions' of link_gallery need the columns query, rank, score and payload or id "
            f"(as predict_links returns). Found {list(predictions.columns)}."
        )
    truth = None if truth is None else list(truth)  # a Series is read by position, like the images
    captions = None if captions is None else list(captions)
    for name, values in (("truth", truth), ("captions", captions)):
        if values is not None and len(values) != len(images):
            raise DataError(
                f"link_gallery needs one entry of {name!r} per image. Got {len(values)} for {len(images)} images."
            )
    asked = set(predictions["query"].tolist())
    lacking = [i for i in range(len(images)) if i not in asked]
    if lacking:
        raise DataError(
            f"link_gallery has no prediction for the queries {lacking[:5]} (predictions hold queries "
            f"{sorted(asked)[:10]}). Give one image per query of predict_links, in the same order."
        )
    k = int(predictions.groupby("query").size().max())
    figure = Figure(figsize=(8, max(1.6, 0.32 * k + 0.5) * len(images) + (0.4 if title else 0)), layout="constrained")
    axes = figure.subplots(len(images), 2, squeeze=False, width_ratios=[1, 3])
    for i, (image_ax, text_ax) in enumerate(axes):
        image_ax.imshow(_read_image(images[i], "link_gallery"))
        image_ax.set_axis_off()
        image_ax.set_title(_short(captions[i], 24) if captions is not None else f"query {i}", fontsize=9)
        text_ax.set_axis_off()
        rows = predictions[predictions["query"] == i].sort_values("rank")
        for line, row in enumerate(rows.itertuples()):
            shown = row.payload if "payload" in predictions.columns and isinstance(row.payload, str) else row.id
            hit = truth is not None and truth[i] is not None and truth[i] in (shown, getattr(row, "id", None))
            text = f"{row.rank}. {_short(shown, 60)}   ({row.score:.2f})" + ("  (true)" if hit else "")
            text_ax.text(0, 1 - (line + 0.5) / max(k, 1), text, transform=text_ax.transAxes, va="center",
                         fontsize=9, color="tab:green" if hit else "black", fontweight="bold" if hit else "normal")
    if title:
        figure.suptitle(title)
    return _finish(figure, path)


# ---------------------------------------------------------------------- the graph as data
def _check_graph(graph: object, owner: str) -> HeteroData:
    if not isinstance(graph, HeteroData):
        raise DataError(
            f"{owner} needs a torch_geometric HeteroData (a fitted model's graph_). Got {type(graph).__name__} instead."
        )
    if not graph.edge_types:
        raise DataError(f"{owner} needs a graph with edges; this one has no edge type.")
    return graph


def plot_degrees(
    graph: HeteroData,
    *,
    edge_types: Sequence[EdgeType] | None = None,
    path: str | os.PathLike | None = None,
) -> Figure:
    """Histogram of the in-degree (edges received per node) for each edge type, log counts.

    Args:
        graph: the heterogeneous graph.
        edge_types: the edge types to show (default: every one).
        path: also write the figure to this PNG.
    """
    graph = _check_graph(graph, "plot_degrees")
    edge_types = list(graph.edge_types) if edge_types is None else [tuple(t) for t in edge_types]
    unknown = [t for t in edge_types if t not in graph.edge_types]
    if unknown or not edge_types:
        raise DataError(
            f"plot_degrees: unknown or no edge types {unknown or edge_types}. The graph has {graph.edge_types}."
        )
    figure, axes = _panels(len(edge_types), 2, width=5, height=3.2)
    for ax, edge_type in zip(axes, edge_types, strict=True):
        degree = torch.bincount(graph[edge_type].edge_index[1], minlength=graph[edge_type[2]].num_nodes).numpy()
        ax.hist(degree, bins=np.arange(degree.max() + 2) - 0.5, color="tab:blue", log=True)
        ax.set_title(f"{edge_type[0]} -{edge_type[1]}-> {edge_type[2]}", fontsize=10)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(f"in-degree of the {edge_type[2]} nodes (mean {degree.mean():.1f})")
        ax.set_ylabel("nodes (log scale)")
    figure.suptitle("Degree distributions per edge type")
    return _finish(figure, path)


def component_table(graph: HeteroData, *, edge_types: Sequence[EdgeType] | None = None) -> pd.DataFrame:
    """Connected components (edges taken in either direction) of the whole graph and of the
    subgraph of each edge type (its end types' nodes and its edges only).

    Returns:
        One row per graph: ``graph``, ``nodes``, ``components``, ``largest`` (nodes in the
        largest component) and ``isolated`` (nodes without an edge).
    """
    from mmgraph.graph import to_networkx

    graph = _check_graph(graph, "component_table")
    edge_types = list(graph.edge_types) if edge_types is None else [tuple(t) for t in edge_types]
    unknown = [t for t in edge_types if t not in graph.edge_types]
    if unknown:
        raise DataError(f"component_table: unknown edge types {unknown}. The graph has {graph.edge_types}.")
    whole = nx.Graph(to_networkx(graph, with_features=False))
    rows = [("whole graph", whole)]
    for edge_type in edge_types:
        sub = nx.Graph()
        for node_type in dict.fromkeys((edge_type[0], edge_type[2])):
            sub.add_nodes_from((node_type, i) for i in range(graph[node_type].num_nodes))
        src, dst = graph[edge_type].edge_index.tolist()
        sub.add_edges_from(((edge_type[0], u), (edge_type[2], v)) for u, v in zip(src, dst, strict=True))
        rows.append((f"{edge_type[0]} -{edge_type[1]}-> {edge_type[2]}", sub))
    table = []
    for name, g in rows:
        sizes = sorted((len(c) for c in nx.connected_components(g)), reverse=True)
        table.append({"graph": name, "nodes": g.number_of_nodes(), "components": len(sizes),
                      "largest": sizes[0] if sizes else 0, "isolated": nx.number_of_isolates(g)})
    return pd.DataFrame(table)


def label_agreement(graph: HeteroData, labels: Mapping[NodeType, Sequence[object]]) -> pd.DataFrame:
    """How often the two ends of an edge share a label, per edge type, against chance.

    Chance is the share expected if labels were shuffled within each node type:
    ``sum_c p_src(c) p_dst(c)`` over the labels ``c``.

    Args:
        graph: the heterogeneous graph.
        labels: per node type, the label of every node in graph order (None: unknown).

    Returns:
        One row per edge type with labels at both ends: ``edge_type``, ``edges`` (both ends
        labelled), ``same_label`` (share) and ``chance``.
    """
    graph = _check_graph(graph, "label_agreement")
    for node_type, values in labels.items():
        if node_type not in graph.node_types:
            raise DataError(
                f"label_agreement got labels of {node_type!r}; the graph's node types are {graph.node_types}."
            )
        if len(values) != graph[node_type].num_nodes:
            raise DataError(
                f"label_agreement needs one label per {node_type!r} node: the graph has "
                f"{graph[node_type].num_nodes}, got {len(values)}. Give them in graph order."
            )
    codes: dict[NodeType, np.ndarray] = {}
    classes = sorted({str(v) for values in labels.values() for v in values if v is not None and v == v})
    index = {c: i for i, c in enumerate(classes)}
    for node_type, values in labels.items():
        codes[node_type] = np.array([index[str(v)] if v is not None and v == v else -1 for v in values])
    rows = []
    for edge_type in graph.edge_types:
        src, _, dst = edge_type
        if src not in codes or dst not in codes:
            continue
        edge_index = graph[edge_type].edge_index.numpy()
        a, b = codes[src][edge_index[0]], codes[dst][edge_index[1]]
        known = (a >= 0) & (b >= 0)
        p = [np.bincount(codes[t][codes[t] >= 0], minlength=len(classes)) for t in (src, dst)]
        chance = float((p[0] / max(p[0].sum(), 1)) @ (p[1] / max(p[1].sum(), 1)))
        share = float((a[known] == b[known]).mean()) if known.any() else math.nan
        rows.append({"edge_type": f"{src} -{edge_type[1]}-> {dst}", "edges": int(known.sum()),
                     "same_label": share, "chance": chance})
    if not rows:
        raise DataError(
            f"label_agreement found no edge type with labels at both ends (labels given for {sorted(labels)})."
        )
    return pd.DataFrame(rows)


def plot_label_agreement(table: pd.DataFrame, *, path: str | os.PathLike | None = None) -> Figure:
    """Bars of :func:`label_agreement`: the share of edges whose ends share a label, and chance."""
    if not isinstance(table, pd.DataFrame) or not {"edge_type", "same_label", "chance"} <= set(table.columns):
        raise DataError(
            "plot_label_agreement needs the DataFrame of label_agreement (columns edge_type, same_label, chance). "
            f"Got {type(table).__name__}" + (f" with {list(table.columns)}" if isinstance(table, pd.DataFrame) else "")
            + "."
        )
    figure = Figure(figsize=(max(5.0, 1.6 * len(table) + 2), 3.8), layout="constrained")
    ax = figure.subplots()
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["same_label"], 0.4, label="edges whose ends share a label")
    ax.bar(x + 0.2, table["chance"], 0.4, label="chance (labels shuffled)", color="tab:gray")
    ax.set_xticks(x, table["edge_type"], rotation=20, ha="right", fontsize=9)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of edges")
    ax.set_title("Label mixing: do neighbours share a label?")
    ax.legend(fontsize="small", loc="upper right")
    return _finish(figure, path)


def link_paths(
    graph: HeteroData | nx.MultiDiGraph,
    query: tuple[NodeType, int],
    candidate: tuple[NodeType, int],
    *,
    max_paths: int = 6,
    cutoff: int = 4,
) -> list[list[tuple[NodeType, int]]]:
    """The shortest paths (edges in either direction) between a query node and a candidate.

    These are the routes along which a message-passing model can carry evidence from one to the
    other: the query's similarity neighbours, their known links, the candidate's neighbours.

    Args:
        graph: the graph (``HeteroData``, converted with :func:`mmgraph.graph.to_networkx`) or a
            networkx graph of ``(node type, index)`` nodes.
        query, candidate: ``(node type, index)`` of both ends.
        max_paths: at most this many paths, shortest first.
        cutoff: ignore paths longer than this many edges.

    Returns:
        Paths as lists of ``(node type, index)``; empty if none is as short as ``cutoff``.
    """
    from mmgraph.graph import to_networkx

    if isinstance(graph, HeteroData):
        graph = to_networkx(graph, with_features=False)
    if not isinstance(graph, nx.Graph):
        raise DataError(f"link_paths needs a HeteroData or a networkx graph. Got {type(graph).__name__} instead.")
    for name, node in (("query", query), ("candidate", candidate)):
        if tuple(node) not in graph:
            raise DataError(
                f"The {name} {node!r} of link_paths is not a node of the graph; give (node type, index) of a node "
                "there (attach a new sample first)."
            )
    undirected = graph.to_undirected(as_view=True)
    paths = []
    try:
        for found in nx.shortest_simple_paths(nx.Graph(undirected), tuple(query), tuple(candidate)):
            if len(found) - 1 > cutoff or len(paths) >= max_paths:
                break
            paths.append(found)
    except nx.NetworkXNoPath:
        return []
    return paths


def plot_paths(
    paths: Sequence[Sequence[tuple[NodeType, int]]],
    names: Mapping[tuple[NodeType, int], str] | None = None,
    *,
    title: str | None = None,
    path: str | os.PathLike | None = None,
) -> Figure:
    """Paths from a query to a candidate, one per row, each node named and coloured by type.

    Args:
        paths: from :func:`link_paths` (first node: the query, last: the candidate).
        names: a short text per node (a name, an item); default ``type:index``.
        title: the figure's title.
        path: also write the figure to this PNG.
    """
    paths = [list(p) for p in paths]
    if not paths or any(len(p) < 2 for p in paths):
        raise DataError(
            f"plot_paths needs at least one path of two or more nodes. Got {len(paths)} path(s); "
            "link_paths returns none when the ends are further apart than its cutoff."
        )
    names = dict(names or {})
    types = sorted({node[0] for p in paths for node in p})
    colours = {t: f"C{i}" for i, t in enumerate(types)}
    longest = max(len(p) for p in paths)
    figure = Figure(figsize=(3.4 * longest + 1.0, 0.75 * len(paths) + 1.2), layout="constrained")
    ax = figure.subplots()
    for row, nodes in enumerate(paths):
        y = len(paths) - 1 - row
        ax.plot(range(len(nodes)), [y] * len(nodes), color="lightgray", zorder=1)
        for x, node in enumerate(nodes):
            label = _short(names.get(tuple(node), f"{node[0]}:{node[1]}"), 36)
            ax.text(x, y, label, ha="center", va="center", fontsize=8, zorder=2,
                    bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": colours[node[0]]})
    for t in types:
        ax.plot([], [], color=colours[t], linewidth=4, label=t)
    ax.set_xlim(-0.6, longest - 0.4)
    ax.set_ylim(-0.7, len(paths) - 0.3)
    ax.set_xticks(range(longest), ["query"] + [f"hop {i}" for i in range(1, longest)])
    ax.set_yticks([])
    ax.set_xlabel("edges from the query (the last node of each row is the candidate)")
    ax.legend(title="node type", fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(title or "Paths between the query and the candidate")
    return _finish(figure, path)


# ---------------------------------------------------------------------- projections
def project(x: np.ndarray | torch.Tensor, *, method: str = "pca", seed: int = 0) -> np.ndarray:
    """A 2-D projection of ``x`` with scikit-learn: ``"pca"`` or ``"tsne"``.

    Shapes:
        x: ``(n, dim)``; return: ``(n, 2)``.
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] < 3 or x.shape[1] < 2:
        raise DataError(
            f"project needs a matrix of at least 3 rows and 2 columns (samples x features). Got shape {x.shape}."
        )
    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(x)
    if method == "tsne":
        perplexity = min(30.0, (x.shape[0] - 1) / 3)
        return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x)
    raise ConfigError(f"The 'method' of project must be 'pca' or 'tsne'. Got {method!r} instead.")


def plot_projections(
    spaces: Mapping[str, np.ndarray | torch.Tensor],
    labels: Sequence[object],
    *,
    method: str = "pca",
    max_labels: int = 8,
    seed: int = 0,
    title: str | None = None,
    path: str | os.PathLike | None = None,
) -> Figure:
    """One scatter plot per feature space of the same samples, coloured by label.

    The ``max_labels`` most frequent labels get a colour each, the others are grey ("other").

    Args:
        spaces: a name (the panel title) and a ``(n, dim)`` matrix per space, rows the same samples.
        labels: the label of each sample (None: shown as "other").
        method: ``"pca"`` or ``"tsne"`` (see :func:`project`).
        max_labels: labels with a colour of their own.
        seed: seeds the projection.
        title: the figure's title.
        path: also write the figure to this PNG.
    """
    if not spaces:
        raise DataError("plot_projections needs at least one feature space. Got none.")
    labels = ["" if v is None or v != v else str(v) for v in labels]
    for name, x in spaces.items():
        if len(x) != len(labels):
            raise DataError(
                f"plot_projections needs one label per row: the space {name!r} has {len(x)} rows, "
                f"got {len(labels)} labels."
            )
    if isinstance(max_labels, bool) or not isinstance(max_labels, int) or max_labels < 1:
        raise ConfigError(
            f"The 'max_labels' parameter of plot_projections must be a positive int. Got {max_labels!r} instead."
        )
    counts = pd.Series([v for v in labels if v]).value_counts()
    shown = list(counts.index[:max_labels])
    groups = [v if v in shown else OTHER for v in labels]
    figure = Figure(figsize=(5.2 * len(spaces), 5.2), layout="constrained")
    axes = figure.subplots(1, len(spaces), squeeze=False)[0]
    order = [OTHER, *shown]
    for ax, (name, x) in zip(axes, spaces.items(), strict=True):
        points = project(x, method=method, seed=seed)
        for i, group in enumerate(order):
            mask = np.array([g == group for g in groups])
            if mask.any():
                ax.scatter(points[mask, 0], points[mask, 1], s=6, alpha=0.7 if group != OTHER else 0.3,
                           color="lightgray" if group == OTHER else f"C{(i - 1) % 10}",
                           label=f"{group} ({int(mask.sum())})")
        ax.set_title(f"{name} ({method.upper() if method == 'pca' else 't-SNE'})")
        ax.set_xlabel("component 1")
        ax.set_ylabel("component 2")
    handles, texts = axes[0].get_legend_handles_labels()
    figure.legend(handles, texts, loc="outside lower center", ncols=min(4, len(texts)), fontsize="small",
                  markerscale=3, title="label (samples)")
    if title:
        figure.suptitle(title)
    return _finish(figure, path)


# ---------------------------------------------------------------------- benchmark results
def read_benchmark_results(folder: str | os.PathLike) -> pd.DataFrame:
    """The runs recorded by ``mmgraph bench`` under ``folder``, one row per (task, model, seed).

    Reads ``folder/results.json`` and every ``folder/*/results.json`` in sorted order; a later
    record of the same task, model and seed replaces an earlier one (as ``benchmarks/report.py``
    does). Columns as :func:`mmgraph.records.results_frame`.
    """
    folder = Path(folder)
    files = sorted(folder.glob(RESULTS_FILE)) + sorted(folder.glob(f"*/{RESULTS_FILE}"))
    if not files:
        raise DataError(
            f"read_benchmark_results found no results.json in {str(folder)!r} nor in its sub-folders. "
            "Give the --out folder of `mmgraph bench` (or a folder of such folders)."
        )
    latest: dict[tuple, dict] = {}
    for file in files:
        latest.update({(r["task"], r["model"], r["seed"]): r for r in read_records(file)})
    return results_frame(list(latest.values()))


SERIES: dict[str, tuple[tuple[str, str], ...]] = {
    "link": (("held-out/mrr", "MRR, held-out candidates"), ("all/mrr", "MRR, all candidates")),
    "label": (("accuracy", "accuracy"), ("macro_f1", "macro-F1")),
    "kg": (("mrr", "MRR, every entity (filtered)"), ("hits@10", "Hits@10, every entity (filtered)")),
}
"""The bars of :func:`plot_benchmark` per task kind: (metric, legend text)."""


def _check_frame(frame: object, owner: str) -> pd.DataFrame:
    needed = {"task", "kind", "model", "seed", "skipped", "error"}
    if not isinstance(frame, pd.DataFrame) or not needed <= set(frame.columns):
        raise DataError(
            f"{owner} needs the DataFrame of read_benchmark_results or mmgraph.benchmark.benchmark "
            f"(columns {sorted(needed)} and metrics). Got {type(frame).__name__}"
            + (f" with columns {list(frame.columns)}" if isinstance(frame, pd.DataFrame) else "") + "."
        )
    ran = completed_runs(frame)
    if ran.empty:
        raise DataError(f"{owner}: no run in the frame has results ({len(frame)} rows, all skipped, failed or none).")
    return ran


def plot_benchmark(
    frame: pd.DataFrame,
    *,
    tasks: Sequence[str] | None = None,
    ncols: int = 2,
    path: str | os.PathLike | None = None,
) -> Figure:
    """Models x tasks: mean ± std over seeds, one panel per task.

    Link tasks show the MRR against both candidate sets (``held-out/mrr``, ``all/mrr``); label
    tasks accuracy and macro-F1; knowledge-graph tasks the filtered MRR and Hits@10. "n/a" marks
    a set that asks no question for that task.

    Args:
        frame: runs, from :func:`read_benchmark_results` or :func:`mmgraph.benchmark.benchmark`.
        tasks: the tasks to show, in order (default: all, as they come).
        ncols: panels per row.
        path: also write the figure to this PNG.
    """
    ran = _check_frame(frame, "plot_benchmark")
    tasks = _tasks(ran, tasks, "plot_benchmark")
    figure, axes = _panels(len(tasks), ncols, width=6.2, height=4.2, extra=0.8)
    legend = {}
    for ax, task in zip(axes, tasks, strict=True):
        task_rows = ran[ran["task"] == task]
        kind = task_rows["kind"].iloc[0]
        models = list(dict.fromkeys(task_rows["model"]))
        series = [(m, text) for m, text in SERIES[kind] if m in task_rows]
        width = 0.8 / len(series)
        for i, (metric, text) in enumerate(series):
            stats = task_rows.groupby("model", sort=False)[metric].agg(["mean", "std", "count"]).reindex(models)
            x = np.arange(len(models)) + (i - (len(series) - 1) / 2) * width
            colour = f"C{list(SERIES).index(kind) * 2 + i}"
            bars = ax.bar(x, stats["mean"].fillna(0), width, yerr=stats["std"].fillna(0), capsize=2, color=colour)
            legend.setdefault(text, bars)
            for xi, mean in zip(x, stats["mean"], strict=True):
                if np.isnan(mean):
                    ax.text(xi, 0.02, "n/a", ha="center", va="bottom", rotation=90, fontsize=7)
        seeds = task_rows["seed"].nunique()
        ax.set_title(f"{task} ({kind}, {seeds} seed{'s' if seeds != 1 else ''})", fontsize=10)
        ax.set_xticks(np.arange(len(models)), models, rotation=35, ha="right", fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_ylabel("score (test)" if kind == "label" else "MRR (test)")
    figure.legend(list(legend.values()), list(legend), loc="outside lower center", ncols=len(legend),
                  fontsize="small")
    figure.suptitle("Test metrics per task: mean ± std over seeds")
    return _finish(figure, path)


def _tasks(ran: pd.DataFrame, tasks: Sequence[str] | None, owner: str) -> list[str]:
    present = list(dict.fromkeys(ran["task"]))
    if tasks is None:
        return present
    tasks = list(tasks)
    unknown = [t for t in tasks if t not in present]
    if unknown or not tasks:
        raise DataError(f"{owner}: unknown or no tasks {unknown or tasks}. The frame has results for {present}.")
    return tasks


def plot_seed_spread(
    frame: pd.DataFrame,
    *,
    tasks: Sequence[str] | None = None,
    ncols: int = 2,
    path: str | os.PathLike | None = None,
) -> Figure:
    """Every seed's value of the main metric (MRR on the declared candidates, or accuracy) per
    model, one dot per seed and a bar at the mean, one panel per task.

    Args:
        frame: runs, from :func:`read_benchmark_results` or :func:`mmgraph.benchmark.benchmark`.
        tasks: the tasks to show (default: all).
        ncols: panels per row.
        path: also write the figure to this PNG.
    """
    ran = _check_frame(frame, "plot_seed_spread")
    tasks = _tasks(ran, tasks, "plot_seed_spread")
    seeds = sorted(int(s) for s in ran["seed"].unique())
    figure, axes = _panels(len(tasks), ncols, width=6.2, height=4.0, extra=0.8)
    for ax, task in zip(axes, tasks, strict=True):
        task_rows = ran[ran["task"] == task]
        metric = main_metric(task_rows["kind"].iloc[0])
        models = list(dict.fromkeys(task_rows["model"]))
        offsets = np.linspace(-0.25, 0.25, len(seeds)) if len(seeds) > 1 else np.zeros(1)
        for j, seed in enumerate(seeds):
            at = task_rows[task_rows["seed"] == seed].set_index("model")[metric].reindex(models)
            ax.scatter(np.arange(len(models)) + offsets[j], at, s=14, color=f"C{j % 10}", label=f"seed {seed}",
                       zorder=3)
        means = task_rows.groupby("model", sort=False)[metric].mean().reindex(models)
        ax.hlines(means, np.arange(len(models)) - 0.35, np.arange(len(models)) + 0.35, color="black", linewidth=1,
                  label="mean", zorder=2)
        ax.set_title(f"{task}: {metric} per seed", fontsize=10)
        ax.set_xticks(np.arange(len(models)), models, rotation=35, ha="right", fontsize=8)
        ax.set_ylabel(f"{metric} (test)")
        ax.grid(axis="y", alpha=0.3)
    handles, texts = axes[0].get_legend_handles_labels()
    figure.legend(handles, texts, loc="outside lower center", ncols=len(texts), fontsize="small")
    figure.suptitle("Spread over seeds of each task's main metric (seed s: the same split for every model)")
    return _finish(figure, path)


def plot_keep(
    frame: pd.DataFrame,
    *,
    ncols: int = 2,
    path: str | os.PathLike | None = None,
) -> Figure:
    """Item tasks: each model's main metric (mean ± std over seeds) at each level its test items
    were asked at (:func:`~mmgraph.data.items.item_levels`), one panel per item task: the curve
    against ``keep``, the probability a held-out item keeps each of its samples, and, right of
    it, one point per modality kept alone.

    Args:
        frame: runs, from :func:`read_benchmark_results` or :func:`mmgraph.benchmark.benchmark`; the
            runs of item tasks (a ``keep``) are drawn from their level columns
            (``"keep=0.5/accuracy"``, ``"only=image/accuracy"``).
        ncols: panels per row.
        path: also write the figure to this PNG.
    """
    ran = _check_frame(frame, "plot_keep")
    ran = ran[ran["keep"].notna()] if "keep" in ran else ran.iloc[:0]
    levels = [c for c in ran.columns if c.startswith(LEVEL_PREFIXES)]
    if ran.empty or not levels:
        raise DataError(
            "plot_keep: the frame has no run of an item task with metrics by level (columns such as "
            "'keep=0.5/accuracy', written by mmgraph bench since the levels were added)."
        )
    tasks = list(dict.fromkeys(ran["task"]))
    figure, axes = _panels(len(tasks), ncols, width=6.2, height=4.2, extra=0.8)
    for ax, task in zip(axes, tasks, strict=True):
        of_task = ran[ran["task"] == task]
        metric = main_metric(of_task["kind"].iloc[0])
        columns = [c for c in levels if c.endswith(f"/{metric}") and of_task[c].notna().any()]
        keeps = sorted((c for c in columns if c.startswith("keep=")), key=lambda c: -float(c[5:].split("/")[0]))
        singles = sorted(c for c in columns if c.startswith("only="))
        for j, model in enumerate(dict.fromkeys(of_task["model"])):
            values = of_task.loc[of_task["model"] == model, keeps + singles].astype(float)
            mean, std = values.mean(), values.std().fillna(0)
            colour = f"C{j % 10}"
            ax.errorbar(np.arange(len(keeps)), mean[keeps], yerr=std[keeps], marker="o", capsize=2, color=colour,
                        label=model)
            ax.errorbar(len(keeps) + np.arange(len(singles)), mean[singles], yerr=std[singles], marker="s",
                        capsize=2, color=colour, linestyle="none")
        ticks = [c.removesuffix(f"/{metric}").replace("=", " ") for c in keeps + singles]
        ax.set_xticks(np.arange(len(ticks)), ticks, rotation=35, ha="right", fontsize=8)
        seeds = of_task["seed"].nunique()
        ax.set_title(f"{task}: {metric} as modalities go missing ({seeds} seed{'s' if seeds != 1 else ''})",
                     fontsize=10)
        ax.set_ylabel(f"{metric} (test)")
        ax.grid(axis="y", alpha=0.3)
    handles, texts = axes[0].get_legend_handles_labels()
    figure.legend(handles, texts, loc="outside lower center", ncols=min(len(texts), 6), fontsize="small")
    figure.suptitle("Item tasks: test score against the share of each item's samples kept "
                    "(one fitted model per run, settings chosen at the task's keep)")
    return _finish(figure, path)
