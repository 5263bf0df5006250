"""The command line offers what the library registers: its choices are read from the registries,
so a new model, convolution, decoder or dataset needs no edit of the CLI."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest

from mmgraph.cli import main
from mmgraph.data.prepared import SETTINGS
from mmgraph.data.task import CANDIDATE_SETS
from mmgraph.datasets import DATASETS
from mmgraph.evaluation.metrics import METRICS
from mmgraph.models import CONVOLUTIONS, DECODERS, KG_CONVOLUTIONS, KG_DECODERS, LEARNERS, MODELS
from mmgraph.predict import CATALOGUES
from mmgraph.tasks import TASKS


def _offered(command: str, capsys, monkeypatch) -> dict[str, list[str]]:
    """The choices ``mmgraph COMMAND --help`` shows, per option (read from the printed help)."""
    monkeypatch.setenv("COLUMNS", "1000")  # one line per option
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    offered = {}
    for line in capsys.readouterr().out.splitlines():
        found = re.match(r"\s+(--[\w-]+) [A-Z]+\s+(.*)", line)
        if found:
            option, text = found.groups()
            offered[option] = re.findall(r"[\w-]+", text)
    return offered


def test_run_offers_every_registered_convolution_and_decoder(capsys, monkeypatch) -> None:
    offered = _offered("run", capsys, monkeypatch)
    for option, registry in (("--conv", CONVOLUTIONS), ("--decoder", DECODERS), ("--conv", KG_CONVOLUTIONS),
                             ("--decoder", KG_DECODERS)):
        missing = set(registry.names()) - set(offered[option])
        assert not missing, f"mmgraph run {option} does not offer the registered {registry.kind}s {sorted(missing)}"
    training = ("auto", *LEARNERS.names())  # a registered learner's training mode, or auto
    for option, names in (("--training", training), ("--candidates", CANDIDATE_SETS), ("--setting", SETTINGS)):
        assert set(names) <= set(offered[option]), option
    assert set(CATALOGUES) <= set(_offered("predict", capsys, monkeypatch)["--catalogue"])


def test_models_lists_every_registered_model_convolution_decoder_and_metric(capsys) -> None:
    assert main(["models"]) == 0
    table, gnn_parts = capsys.readouterr().out.split("\n\n")
    rows = {line.split()[0]: line.split()[1:4] for line in table.splitlines()}
    missing = set(MODELS.names()) - set(rows)
    assert not missing, f"mmgraph models does not list the registered models {sorted(missing)}"
    assert rows["siamese-l2"] == ["link", "samples", "yes"] and rows["gnn"] == ["link+label", "samples+items", "yes"]
    assert rows["logreg"] == ["label", "samples", "no"] and rows["items-average"][1] == "items"
    assert all(rows[f"kg-{conv}"] == ["kg", "samples", "yes"] for conv in KG_CONVOLUTIONS.names())
    listed = set(re.findall(r"[\w@-]+", gnn_parts))
    every = (CONVOLUTIONS, DECODERS, KG_CONVOLUTIONS, KG_DECODERS, METRICS)
    missing = set().union(*(registry.names() for registry in every)) - listed
    assert not missing, f"mmgraph models does not list {sorted(missing)}"


def test_a_reader_that_stops_early_gets_no_traceback(monkeypatch) -> None:
    """``mmgraph models | head -1``: the closed pipe ends the command quietly (it printed a
    ``BrokenPipeError`` traceback)."""

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["models"]) == 1


def test_datasets_lists_every_registered_dataset_and_task(capsys) -> None:
    assert main(["datasets"]) == 0
    first_words = [line.split(" ", 1)[0] for line in capsys.readouterr().out.splitlines()]
    missing = (set(DATASETS.names()) | set(TASKS.names())) - set(first_words)
    assert not missing, f"mmgraph datasets does not list {sorted(missing)}"


def test_a_choice_not_registered_is_refused_with_the_registered_ones(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--task", "openmoji-text", "--conv", "grpahsage"])
    error = capsys.readouterr().err
    assert exit_.value.code == 2
    choices = "'gat', 'graphconv', 'hgt', 'sage', 'compgcn', 'none', 'rgcn'"
    assert f"invalid choice: 'grpahsage' (choose from {choices})" in error
    # a value the registry knows passes the parser (and goes on to the model's settings)
    args = _parsed(["run", "--task", "t", "--conv", "hgt", "--decoder", "mlp", "--training", "minibatch"])
    assert (args.conv, args.decoder, args.training) == ("hgt", "mlp", "minibatch")


def _parsed(argv: list[str]):
    from mmgraph.cli import _parser

    return _parser().parse_args(argv)


def test_the_top_level_help_reads_no_registry() -> None:
    """``mmgraph --help`` stays fast: the registries (torch, PyG) are read only when a choice is needed."""
    script = ("import sys; from mmgraph.cli import main\n"
              "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
              "print(sorted(m for m in ('torch', 'mmgraph.models') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
