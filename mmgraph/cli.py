"""The ``mmgraph`` command: list tasks, run one (or your own manifest), predict with a saved run, benchmark."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence

from mmgraph.errors import ConfigError, DataError, MissingFileError, MMGraphError


class _Library(Sequence[str]):
    """The choices of an option, read from the library when argparse first needs them (to check a
    value or print the option's help), so that ``mmgraph --help`` imports no torch.

    ``where`` is ``"module:NAME"``: a :class:`~mmgraph.registry.Registry` (its names) or a tuple.
    """

    def __init__(self, where: str) -> None:
        self.where = where
        self._names: list[str] | None = None

    def _read(self) -> list[str]:
        if self._names is None:
            module, name = self.where.split(":")
            found = getattr(importlib.import_module(module), name)
            self._names = list(found.names() if hasattr(found, "names") else found)
        return self._names

    def __getitem__(self, index: int) -> str:
        return self._read()[index]

    def __len__(self) -> int:
        return len(self._read())

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __contains__(self, value: object) -> bool:
        return value in self._read()


def _choices(where: str, metavar: str) -> dict[str, object]:
    """``choices=`` read lazily from ``where`` (see :class:`_Library`) and a ``metavar``, so that argparse
    reads no choice while the parser is built; the option's help shows them as ``%(choices)s``."""
    return {"choices": _Library(where), "metavar": metavar}


KNN_HELP = ("kNN method of the similarity graph: auto (default: exact on small data; on large data faiss IVF "
            "where a probe measures it faster than exact), "
            "exact, flat, hnsw or ivf")


def _positive_int(text: str) -> int:
    """The argparse type of every option that takes a count (``--top-k``, ``--epochs``, ...):
    argparse then says ``argument --top-k: must be a positive integer, got 0`` and exits with 2."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mmgraph", description="Multimodal relation learning on heterogeneous graphs."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("datasets", help="list the tasks and whether their data is present")
    listing.add_argument("--data", help="folder of the shared data (default: $MMGRAPH_DATA)")

    commands.add_parser("encoders", help="list the encoders and their settings (for run --encoder)")
    commands.add_parser("models", help="list the models, the tasks they do, and the GNN's layers and decoders")

    run = commands.add_parser("run", help="run a task, a manifest or a stored configuration; print its metrics")
    run.add_argument("--config", metavar="FILE",
                     help="run a stored configuration again: a result.json or a config (JSON, or YAML); the "
                          "options given here override its keys")
    run.add_argument("--task", help="a named task (see `mmgraph datasets`)")
    run.add_argument("--manifest", help="a manifest of your own data (CSV, JSONL or Parquet)")
    run.add_argument("--links", help="an optional links table for --manifest")
    run.add_argument("--source", help="with --manifest: the query modality")
    run.add_argument("--target", help="with --manifest: the candidate modality")
    run.add_argument("--query", **_choices("mmgraph.data.task:QUERY_KINDS", "KIND"),
                     help="with --manifest, %(choices)s: ask about single held-out samples (default) or about "
                          "held-out items, each the samples of one 'item' of the manifest (item models: see "
                          "`mmgraph models`)")
    run.add_argument("--keep", type=float, metavar="P",
                     help="with --query item: the probability a held-out item keeps each of its samples (default 1)")
    run.add_argument("--split", choices=["item", "group"],
                     help="with --manifest: cold start by item (default) or by group")
    run.add_argument("--model", help="the model (default: gnn, the relation learner; on kg tasks kg-compgcn; see "
                                     "`mmgraph models`)")
    run.add_argument("--conv", **_choices("mmgraph.models:RUN_CONVOLUTIONS", "NAME"),
                     help="layers: %(choices)s; the GNN's on link and label tasks, the knowledge-graph ones on kg "
                          "tasks (wn18rr), where --conv X runs the model kg-X (default compgcn)")
    run.add_argument("--decoder", **_choices("mmgraph.models:RUN_DECODERS", "NAME"),
                     help="link decoder: %(choices)s (see `mmgraph models` for which apply to which task kind)")
    run.add_argument("--epochs", type=_positive_int,
                     help="training epochs of the GNN (kg tasks: of the kg model)")
    run.add_argument("--minutes", type=float, metavar="M",
                     help="kg tasks: CPU-minutes of training and validation (all threads together; default no limit)")
    run.add_argument("--seed", type=int, default=None, help="seed (drawn and printed if omitted)")
    run.add_argument("--k", type=_positive_int, help="GNN: similarity neighbours per node (default 10)")
    run.add_argument("--knn", metavar="METHOD", help=KNN_HELP)
    run.add_argument("--training", **_choices("mmgraph.models.gnn_model:TRAINING_MODES", "MODE"),
                     help="GNN: %(choices)s; full-batch or mini-batch training (default auto: mini-batch beyond "
                     "200,000 nodes and under torchrun, where only rank 0 prints and saves)")
    run.add_argument("--candidates", **_choices("mmgraph.data.task:CANDIDATE_SETS", "SET"),
                     help="with --manifest, %(choices)s: rank the held-out samples (default) or every target sample")
    run.add_argument("--setting", **_choices("mmgraph.data.prepared:SETTINGS", "SETTING"),
                     help="%(choices)s; inductive (default): held-out samples are new to every model; transductive: "
                          "their features (only) are visible to every model")
    run.add_argument("--encoder", action="append", default=[], metavar="MODALITY=NAME[:OPTIONS]",
                     help="the encoder of a modality, e.g. image=precomputed:vectors.npz (your own vectors by "
                          "sample id) or audio=mfcc:n_mfcc=20 (repeatable; see `mmgraph encoders`)")
    run.add_argument("--data", help="folder of the shared data (default: $MMGRAPH_DATA)")
    run.add_argument("--out", help="folder to save the result and the fitted model in (new, empty or an earlier run, "
                                   "whose result is replaced); checked to be writable before the run")
    run.add_argument("--overwrite", action="store_true",
                     help="save into --out even if it holds other files; only mmgraph's own files there are replaced")
    run.add_argument("--checkpoint-dir",
                     help="folder for training checkpoints (default: OUT/checkpoints with --out, else none); the same "
                          "command started again after a crash resumes from the last one; removed after success")
    run.add_argument("--checkpoint-every", type=_positive_int, default=None, metavar="N",
                     help="epochs between checkpoints (default 10; 1 on kg tasks, whose epochs are long)")
    run.add_argument("--examples", type=int, default=3,
                     help="link and item tasks: show the top-3 predictions (item tasks: the label, or the top-3) "
                          "for this many held-out samples or items (default 3; none on kg tasks)")
    run.add_argument("--quiet", action="store_true", help="no progress bars")

    predict = commands.add_parser("predict", help="rank candidates for new samples (or label or rank for new "
                                  "items) with a saved model")
    predict.add_argument("--model-dir", required=True, help="the folder `mmgraph run --out` wrote")
    predict.add_argument("--input", action="append", default=[], help="a file path or a text (repeatable)")
    predict.add_argument("--inputs-from", help="a text file with one input (path or text) per line; for a model of "
                                               "an item task, a CSV with columns item, path or text, and optionally "
                                               "modality (paths relative to the CSV)")
    predict.add_argument("--item", metavar="ITEM_ID",
                         help="the new item the --input samples belong to (all its samples: an image, a text, ...), "
                              "for a model of an item task (`mmgraph run --query item`)")
    predict.add_argument("--vectors", metavar="FILE",
                         help="the inputs' own vectors (.npz with 'ids' and 'features', or .parquet), for a model "
                              "run with a precomputed encoder; --input then picks ids (default: every id)")
    predict.add_argument("--modality", help="the inputs' modality (default: told from the inputs; items of "
                                            "several modalities of one kind: a modality column in --inputs-from)")
    predict.add_argument("--target", help="the candidates' modality (default: the other end of the relation)")
    predict.add_argument("--top-k", type=_positive_int, default=10, help="candidates per input (default 10)")
    predict.add_argument("--candidate", action="append", default=[],
                         help="a new candidate (path or text) to rank beside the catalogue (repeatable)")
    predict.add_argument("--candidates-from", help="a text file with one new candidate per line")
    predict.add_argument("--catalogue", **_choices("mmgraph.predict:CATALOGUES", "SET"), default="declared",
                         help="the known candidates to rank beside --candidate ones (%(choices)s): declared "
                              "(default) the task's declared candidate set, the one the run's metrics rank "
                              "(held-out tasks: the run's held-out samples of the target modality; all tasks: every "
                              "sample of it, without those "
                              "already linked when the relation is one-to-one); training: every training sample of "
                              "it, linked ones too; none: only --candidate ones")
    predict.add_argument("--json", action="store_true", help="print JSON records instead of a table")

    bench = commands.add_parser("bench", help="run models x tasks x seeds; write a table, a report and plots")
    bench.add_argument("--tasks", required=True, help="comma-separated task names (see `mmgraph datasets`)")
    bench.add_argument("--models", required=True, help="comma-separated model names, e.g. gnn,knn-transfer")
    bench.add_argument("--seeds", type=_positive_int, default=3, help="number of seeds, run as 0..N-1 (default 3)")
    bench.add_argument("--seed-list", help="comma-separated seeds to run instead of 0..N-1, e.g. 3,4")
    bench.add_argument("--out", required=True,
                       help="folder for results.json (the records of every run written there: earlier ones are "
                            "kept), results.md and a PNG per task (this command's runs); run again with the same "
                            "folder, the finished runs are not run again and a run killed while training resumes")
    bench.add_argument("--data", help="folder of the shared data (default: $MMGRAPH_DATA)")
    bench.add_argument("--threads", type=_positive_int, help="torch threads (1 is fastest on a busy machine)")
    bench.add_argument("--encoder", action="append", default=[], metavar="MODALITY=NAME[:OPTIONS]",
                       help="the encoder of a modality for every task that has it, e.g. audio=gru-logmel (repeatable)")
    bench.add_argument("--knn", metavar="METHOD", help=KNN_HELP + "; for every model run")
    bench.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _datasets(args: argparse.Namespace) -> int:
    from mmgraph.datasets import available, data_status
    from mmgraph.tasks import TASKS

    status = data_status(args.data)
    print(f"{'task':<22} {'kind':<6} {'data':<10} {'present':<8} description")
    for name in TASKS.names():
        task = TASKS.get(name)
        present = "yes" if status.get(task.dataset, False) else "no"
        print(f"{name:<22} {task.kind:<6} {task.dataset:<10} {present:<8} {task.description}")
    print(f"\n{'dataset':<22} {'present':<8} description (mmgraph.datasets.load)")
    for name, description in available().items():
        print(f"{name:<22} {'yes' if status[name] else 'no':<8} {description}")
    return 0


def _encoders() -> int:
    from mmgraph.encoders import DEFAULT_ENCODERS, ENCODERS

    defaults = {name: kind for kind, name in DEFAULT_ENCODERS.items()}
    print(f"{'encoder':<20} {'input':<7} {'default for':<12} settings")
    for name in ENCODERS.names():
        cls = ENCODERS.get(name)
        settings = ", ".join(sorted(cls.config_keys))
        print(f"{name:<20} {cls.input_kind:<7} {defaults.get(name, ''):<12} {settings}")
    print("\ne.g. mmgraph run --manifest M --source image --target text --encoder image=precomputed:vectors.npz "
          "--encoder text=tfidf:dim=128")
    return 0


def _models() -> int:
    from mmgraph.evaluation.metrics import METRIC_KINDS, metric_names
    from mmgraph.models import CONVOLUTIONS, DECODERS, KG_CONVOLUTIONS, KG_DECODERS, MODELS

    print(f"{'model':<18} {'tasks':<11} {'asks':<14} {'saves':<6} description")
    for name in MODELS.names():
        cls = MODELS.get(name)
        summary = (cls.__doc__ or "").strip().split("\n")[0]
        asks = "items" if cls.item_only else "samples+items" if cls.answers_items() else "samples"
        print(f"{name:<18} {'+'.join(cls.kinds):<11} {asks:<14} {'yes' if cls.savable() else 'no':<6} {summary}")
    print(f"\ngnn layers (run --conv): {', '.join(CONVOLUTIONS.names())}")
    print(f"gnn link decoders (run --decoder): {', '.join(DECODERS.names())}")
    print(f"knowledge-graph layers (kg tasks; run --conv X runs the model kg-X): {', '.join(KG_CONVOLUTIONS.names())}")
    print(f"knowledge-graph decoders (kg tasks, run --decoder): {', '.join(KG_DECODERS.names())}")
    for kind in METRIC_KINDS:
        print(f"metrics of {kind} tasks (run, bench): {', '.join(metric_names(kind))}")
    return 0


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from mmgraph.encoders import encoder_from_spec
    from mmgraph.pipeline import load_config, pipeline
    from mmgraph.tasks import Task
    from mmgraph.training.distributed import is_main_process, shutdown

    config = load_config(args.config) if args.config else {}
    if args.task and args.manifest:
        parser.error("give either --task or --manifest (with --source and --target), not both")
    if not (args.task or args.manifest or config):
        parser.error("give --task, --manifest (with --source and --target) or --config FILE")
    if (args.candidates or args.query) and not args.manifest:
        parser.error("--candidates and --query apply to --manifest; a named task declares its own")
    if args.keep is not None and args.query != "item":
        parser.error("--keep applies to --query item")
    dataset, task = None, args.task or config.get("task")
    if args.manifest:
        from mmgraph.data import from_manifest

        dataset = from_manifest(args.manifest, links=args.links)
        if args.source or args.target or not isinstance(task, dict):
            if not (args.source and args.target):
                parser.error("--manifest needs --source and --target modalities")
            task = Task.for_manifest(
                dataset, source=args.source, target=args.target, mode=args.split or "item",
                candidates=args.candidates or "held-out", query=args.query or "sample",
                keep=1.0 if args.keep is None else args.keep,
            )
    elif isinstance(task, dict) and not task.get("dataset"):
        raise ConfigError(
            f"The task {task.get('name')!r} of {args.config!r} ran on a user's own data; give its --manifest "
            "(and --links) to run it again."
        )
    if args.out:
        from mmgraph.pipeline import check_result_folder

        check_result_folder(args.out, overwrite=args.overwrite)  # before a long run, not after it
    cli_encoders = dict(encoder_from_spec(spec) for spec in args.encoder)
    if len(cli_encoders) < len(args.encoder):
        parser.error(f"--encoder names a modality twice: {args.encoder}")
    kg = _is_kg_task(task)
    if args.minutes is not None and not kg:
        parser.error("--minutes applies to knowledge-graph tasks (kind kg, e.g. --task wn18rr)")
    if args.setting and kg:
        parser.error("--setting applies to link and label tasks; a kg task is transductive (every entity is known)")
    if kg and args.conv is not None and not args.model:  # --conv picks the kg model: one model per convolution
        model = f"kg-{args.conv}"
    else:
        model = args.model or config.get("model", "kg-compgcn" if kg else "gnn")
    # the stored settings belong to the stored model; another --model starts from its own defaults
    options = dict(config.get("model_options") or {}) if model == config.get("model") else {}
    seed = args.seed if args.seed is not None else config.get("seed")
    if args.seed is not None and "seed" in options:
        options["seed"] = args.seed
    for key in ("conv", "decoder", "epochs", "k", "training"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    if args.minutes is not None:
        options["cpu_minutes"] = args.minutes
    if args.knn is not None:
        _check_knn_models([model], args.knn)
        options["knn"] = args.knn
    checkpoint_dir = args.checkpoint_dir
    if checkpoint_dir is None and args.out:
        from mmgraph.pipeline import CHECKPOINT_FOLDER

        checkpoint_dir = os.path.join(args.out, CHECKPOINT_FOLDER)
    result = pipeline(
        task, dataset=dataset, model=model, seed=seed, root=args.data, model_options=options,
        setting=args.setting or config.get("setting", "inductive"),
        encoders={**config.get("encoders", {}), **cli_encoders}, progress=not args.quiet,
        checkpoint_dir=checkpoint_dir, checkpoint_every=args.checkpoint_every,
    )
    shutdown()  # the process group of a torchrun run, if one was started
    if not is_main_process():  # under torchrun: rank 0 reports and saves, the other ranks only trained
        return 0
    print(result)
    if args.examples > 0 and not kg:
        if result.task.get("query", "sample") == "item":
            _print_item_examples(result, args.examples)
        else:
            _print_examples(result, args.examples)
    if args.out:
        print(f"saved to {result.save(args.out, overwrite=args.overwrite)}")
    return 0


def _is_kg_task(task: object) -> bool:
    """Whether ``task`` (a name, a stored spec or None) is a knowledge-graph task; an unknown name is
    left for the pipeline to refuse with the list of tasks."""
    from mmgraph.tasks import TASKS

    if isinstance(task, dict):
        return task.get("kind") == "kg"
    return isinstance(task, str) and task in TASKS and TASKS.get(task).kind == "kg"


def _print_examples(result, count: int, k: int = 3) -> None:
    """Predictions for a few held-out samples of the query modality, through the predict path."""

    prepared = result.prepared
    edge_type = prepared.target_edge_type
    if edge_type is None or edge_type[0] not in result.encoders:
        return
    source, relation, target = edge_type
    links = prepared.split.links("test")
    links = links[links["relation"] == relation]
    samples = prepared.split.samples("test")
    samples = samples[(samples["modality"] == source) & samples["id"].isin(links["src"])]
    if samples.empty:
        return
    samples = samples.sample(min(count, len(samples)), random_state=0)
    payload_of = _payloads(prepared.dataset.samples)
    payloads = [payload_of[i] for i in samples["id"]]
    if result.encoders[source].input_kind == "id":
        payloads = samples["id"].tolist()
    top = result.predictor().predict_links(payloads, modality=source, k=k)  # the declared set, as the metrics rank
    print(f"\n{len(samples)} held-out {source!r} samples, top-{k} {target!r} (* marks a true link):")
    for position, (sample_id, payload) in enumerate(zip(samples["id"], payloads, strict=True)):
        truth = set(links.loc[links["src"] == sample_id, "dst"])
        ranked = top[top["query"] == position]
        shown = [
            f"{'*' if row.id in truth else ''}{_short(payload_of.get(row.id, row.id))}"
            for row in ranked.itertuples()
        ]
        print(f"  {_short(payload)} -> {' | '.join(shown)}")


def _print_item_examples(result, count: int, k: int = 3) -> None:
    """Answers for a few held-out items as they were asked (their kept samples), through the
    predict path: the top-``k`` candidates of a link task, the label of a label task."""
    import pandas as pd

    prepared = result.prepared
    items = prepared.item_queries("test")
    members = prepared.item_members(items)
    if members.empty:
        return
    chosen = pd.Series(items.item_ids).sample(min(count, len(items)), random_state=0).tolist()
    asked = members[members["item"].isin(chosen)].copy()
    payload_of = _payloads(prepared.dataset.samples)
    asked["payload"] = [
        sample_id if result.encoders[m].input_kind == "id" else payload_of[sample_id]
        for sample_id, m in zip(asked["id"], asked["modality"], strict=True)
    ]
    answers = result.predictor().predict_items(
        asked["payload"].tolist(), asked["item"].tolist(), modalities=asked["modality"].tolist(), k=k
    )
    every = prepared.dataset.samples
    target = prepared.task.target
    what = f"top-{k} {target!r} (* marks a true link)" if target else "the label [the true label]"
    print(f"\n{len(chosen)} held-out items as asked (their kept samples) -> {what}:")
    for item in chosen:
        kept = asked[asked["item"] == item]
        given = ", ".join(f"{m}: {_short(p, 24)}" for m, p in zip(kept["modality"], kept["payload"], strict=True))
        rows = answers[answers["item"] == item]
        if target:
            truth = set(every.loc[(every["modality"] == target) & (every["item"] == item), "id"])
            shown = " | ".join(f"{'*' if r.id in truth else ''}{_short(payload_of.get(r.id, r.id))}"
                               for r in rows.itertuples())
        else:
            labels = every.loc[every["item"] == item, "label"].dropna()
            shown = f"{rows['label'].iloc[0]} [{labels.iloc[0] if len(labels) else '?'}]"
        print(f"  {item} ({given}) -> {shown}")


def _payloads(samples) -> dict[str, str]:
    """Each sample's payload as a user gives it, by id: its file path, else its text."""
    return {
        i: p if isinstance(p, str) else t
        for i, p, t in zip(samples["id"], samples["path"], samples["text"], strict=True)
    }


def _short(payload: str, width: int = 40) -> str:
    """A payload for one line of a table: a file by its name, a text cut to ``width``."""
    text = os.path.basename(payload) if os.path.isfile(str(payload)) else " ".join(str(payload).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _predict(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from mmgraph.predict import Predictor

    candidates = list(args.candidate) + _lines(args.candidates_from, "--candidates-from")
    if args.item is not None and not args.input:
        parser.error(f"--item {args.item} needs its samples: give each with --input (a file path or a text)")
    if args.catalogue == "none" and not candidates:
        parser.error("--catalogue none needs new candidates: --candidate or --candidates-from FILE")
    predictor = Predictor.load(args.model_dir)
    if args.item is not None or predictor.train.item_modalities:
        if args.vectors:
            parser.error("--vectors gives single samples; predict new items from --input / --inputs-from payloads")
        return _predict_items(args, predictor, candidates)
    inputs = list(args.input) + _lines(args.inputs_from, "--inputs-from")
    if not inputs and not args.vectors:
        parser.error("give at least one --input (a file path or a text), --inputs-from FILE or --vectors FILE")
    queries, modality = inputs, args.modality
    if args.vectors:
        inputs, queries, modality = _vectors(args.vectors, inputs, predictor, modality)
    top = predictor.predict_links(
        queries, modality=modality, target=args.target, k=args.top_k, catalogue=args.catalogue,
        new_candidates=candidates or None,
    )
    top.insert(0, "input", [inputs[q] for q in top["query"]])
    _print_table(top.drop(columns="query"), as_json=args.json)
    return 0


def _print_table(table, *, as_json: bool) -> None:
    import json

    if as_json:
        print(json.dumps(table.to_dict(orient="records"), ensure_ascii=False, indent=1))
    else:
        print(table.to_string(index=False, max_colwidth=60))


def _predict_items(args: argparse.Namespace, predictor, candidates: list[str]) -> int:
    """``mmgraph predict`` for new items: the samples of ``--item`` and those of an ``--inputs-from`` CSV."""
    inputs, items, modalities = [], [], []
    if args.item is not None:
        inputs += list(args.input)
        items += [args.item] * len(args.input)
        modalities += [args.modality] * len(args.input)
    if args.inputs_from:
        table = _item_inputs(args.inputs_from)
        inputs += table["input"].tolist()
        items += table["item"].tolist()
        modalities += [m or args.modality for m in table["modality"]]
    if not inputs:
        raise DataError(
            f"The model in {args.model_dir!r} answers items: give an item's samples with --item ITEM_ID --input ... "
            "or a CSV of them with --inputs-from FILE (columns item, path or text, and optionally modality)."
        )
    table = predictor.predict_items(
        inputs, items, modalities=modalities, k=args.top_k, catalogue=args.catalogue,
        new_candidates=candidates or None,
    )
    _print_table(table, as_json=args.json)
    return 0


def _item_inputs(path: str):
    """The samples of new items a ``--inputs-from`` CSV lists: a table of ``item``, ``input`` (a
    path, relative to the CSV's folder, or a text) and ``modality`` (None where not given)."""
    import pandas as pd

    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise MissingFileError(
            f"Cannot read --inputs-from {path!r} as a CSV ({error}). Give a CSV with columns item, path or text, "
            "and optionally modality."
        ) from error
    if "item" not in table.columns or not {"path", "text"} & set(table.columns):
        raise DataError(
            f"--inputs-from {path!r} has the columns {list(table.columns)}; a model of an item task reads a CSV with "
            "columns item, path or text (one of them per row), and optionally modality."
        )
    rows = []
    folder = os.path.dirname(os.path.abspath(path))
    for number, row in enumerate(table.to_dict(orient="records"), start=2):  # line 1 is the header
        given = row.get("path", "").strip()
        text = row.get("text", "")
        if (given and text.strip()) or not (given or text.strip()):
            raise DataError(
                f"Line {number} of --inputs-from {path!r} (item {row['item']!r}) gives "
                + ("both a path and a text" if given else "no path and no text")
                + "; give one of them per row."
            )
        payload = given if not given or os.path.isabs(given) else os.path.join(folder, given)
        rows.append({"item": row["item"], "input": payload or text, "modality": row.get("modality") or None})
    return pd.DataFrame(rows, columns=["item", "input", "modality"])


def _vectors(path: str, ids: list[str], predictor, modality: str | None):
    """``(ids, features, modality)`` of the queries a ``--vectors`` file holds (``ids`` picks some)."""
    import torch

    from mmgraph.encoders import PrecomputedEncoder

    table = PrecomputedEncoder(path=path).fit()
    ids = ids or table.ids_.tolist()
    features = torch.as_tensor(table.encode(ids, progress=False), dtype=torch.float32)
    if modality is None:
        edge_type = predictor.train.target_edge_type or ("", "", "")
        own = [m for m in dict.fromkeys((edge_type[0], edge_type[2])) if predictor.encoders.get(m) is None
               or isinstance(predictor.encoders[m], PrecomputedEncoder)]
        if len(own) != 1:
            raise DataError(
                f"Cannot tell which modality the vectors of {path!r} belong to: the model links "
                f"{edge_type[0]!r} and {edge_type[2]!r}. Name it with --modality."
            )
        modality = own[0]
    return ids, features, modality


def _lines(path: str | None, option: str) -> list[str]:
    """The non-empty lines of a list file given to ``option`` (none without a path)."""
    from mmgraph.io import not_utf8_message

    if not path:
        return []
    try:
        with open(path, encoding="utf-8") as stream:
            return [line.rstrip("\n") for line in stream if line.strip()]
    except OSError as error:
        raise MissingFileError(
            f"Cannot read {option} {path!r}: {error.strerror}. Give a text file, one entry a line."
        ) from None
    except UnicodeDecodeError as error:
        raise DataError(not_utf8_message(path, f"The {option} file")) from error


def _bench(args: argparse.Namespace) -> int:
    import torch

    from mmgraph.benchmark import benchmark, markdown_report

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    seeds = args.seeds
    if args.seed_list:
        try:
            seeds = [int(s) for s in args.seed_list.split(",") if s.strip()]
        except ValueError:
            raise ConfigError(f"--seed-list must be comma-separated ints, e.g. 3,4. Got {args.seed_list!r}.") from None
    from mmgraph.encoders import encoder_from_spec

    encoders = dict(encoder_from_spec(spec) for spec in args.encoder)
    options = None
    if args.knn is not None:
        _check_knn_models(models, args.knn)
        options = {name: {"knn": args.knn} for name in models}
    frame = benchmark(tasks, models, seeds, out=args.out, root=args.data, encoders=encoders, progress=not args.quiet,
                      model_options=options)
    print(markdown_report(frame), end="")
    print(f"\nwritten to {args.out}")
    failed = int(frame["error"].notna().sum())
    if failed:
        print(f"mmgraph: {failed} run(s) failed (see results.md); run the same command again to retry them",
              file=sys.stderr)
    return 1 if failed else 0


def _check_knn_models(models: list[str], method: str) -> None:
    """Raises a ConfigError if one of ``models`` builds no kNN graph for --knn to choose the method of."""
    import dataclasses

    from mmgraph.models import MODELS

    for name in models:
        MODELS.get(name)  # an unknown name fails with the list of choices
    with_knn = [
        name for name in MODELS.names() if "knn" in {f.name for f in dataclasses.fields(MODELS.get(name).Config)}
    ]
    without = [name for name in models if name not in with_knn]
    if without:
        raise ConfigError(
            f"--knn {method} sets the kNN method of a model's similarity graph, and the model(s) {without} build "
            f"no kNN graph. Drop --knn, or run a model that builds one: {with_knn}."
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mmgraph`` command."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code = _command(args, parser)
        sys.stdout.flush()  # a closed pipe (``mmgraph models | head``) shows here, inside the try
        return code
    except MMGraphError as error:  # the user's input: one line, no traceback; anything else is a bug
        print(f"mmgraph: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader stopped reading: not an error of ours, and no traceback
        _discard_stdout()
        return 1


def _command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.command == "datasets":
        return _datasets(args)
    if args.command == "encoders":
        return _encoders()
    if args.command == "models":
        return _models()
    if args.command == "bench":
        return _bench(args)
    if args.command == "predict":
        return _predict(args, parser)
    return _run(args, parser)


def _discard_stdout() -> None:
    """Point standard output at the null device, so that Python's flush at exit does not raise
    ``BrokenPipeError`` again (the recipe of the ``signal`` module's documentation)."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (a captured stream): nothing left to flush
        pass


def _one_line(error: MMGraphError) -> str:
    """The message of ``error`` as the command says it (:attr:`MMGraphError.cli_message`, if it
    has one), on one line (a message quoting a file's text may span several)."""
    message = error.cli_message or str(error)
    return " ".join(part.strip() for part in message.splitlines() if part.strip()) or type(error).__name__


if __name__ == "__main__":
    sys.exit(main())
