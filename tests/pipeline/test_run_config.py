"""``mmgraph run --config FILE`` runs a stored configuration again: a saved result.json or a bare
configuration (JSON or YAML); options given on the command line override its keys."""

from __future__ import annotations

import json

import pytest

from mmgraph.cli import main
from mmgraph.data import Task
from mmgraph.errors import ConfigError
from mmgraph.pipeline import CONFIG_KEYS, load_config, pipeline
from mmgraph.pipeline.config import run_fingerprint
from mmgraph.testing import write_tiny_manifest

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SYNTHETIC = Task(name="syn", description="", kind="link", source="a", target="b", dataset="synthetic",
                 dataset_options={"num_items": 60, "seed": 2})
QUIET = ["--quiet", "--examples", "0"]


def _saved(folder) -> dict:
    return json.loads((folder / "result.json").read_text())


def test_a_saved_results_configuration_runs_again_through_the_command(tmp_path) -> None:
    first = pipeline(SYNTHETIC, model="knn-transfer", seed=3, cache=None, progress=False)
    first.save(tmp_path / "first")
    assert main(["run", "--config", str(tmp_path / "first" / "result.json"), "--out", str(tmp_path / "again"),
                 *QUIET]) == 0
    again = _saved(tmp_path / "again")
    assert again["metrics"] == _saved(tmp_path / "first")["metrics"] and again["config"] == first.config


def test_a_yaml_configuration_with_options_that_override_it(tmp_path) -> None:
    yaml = pytest.importorskip("yaml")
    config = {"task": SYNTHETIC.spec(), "model": "knn-transfer", "seed": 3, "model_options": {"seed": 3}}
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(config))
    assert load_config(tmp_path / "run.yaml") == config
    assert main(["run", "--config", str(tmp_path / "run.yaml"), "--seed", "4", "--out", str(tmp_path / "out"),
                 *QUIET]) == 0
    saved = _saved(tmp_path / "out")
    assert saved["seed"] == 4 and saved["config"]["model_options"]["seed"] == 4  # the stored model seed too
    expected = pipeline(SYNTHETIC, model="knn-transfer", seed=4, cache=None, progress=False)
    assert saved["metrics"] == expected.metrics


def test_a_run_on_own_data_runs_again_with_its_manifest(tmp_path) -> None:
    manifest = write_tiny_manifest(tmp_path / "data")
    own = ["--manifest", str(manifest), "--links", str(tmp_path / "data" / "links.csv")]
    assert main(["run", *own, "--source", "image", "--target", "text_en", "--model", "knn-transfer", "--seed", "5",
                 "--encoder", "image=pixels:size=8,dim=4", "--out", str(tmp_path / "first"), *QUIET]) == 0
    config = str(tmp_path / "first" / "result.json")
    assert main(["run", "--config", config, *own, "--out", str(tmp_path / "again"), *QUIET]) == 0
    first, again = _saved(tmp_path / "first"), _saved(tmp_path / "again")
    assert again["metrics"] == first["metrics"] and again["config"] == first["config"]
    assert first["config"]["encoders"]["image"]["dim"] == 4


def test_load_config_reads_results_and_bare_configurations(tmp_path) -> None:
    (tmp_path / "result.json").write_text(json.dumps({"metrics": {}, "config": {"task": "openmoji-text"}}))
    assert load_config(tmp_path / "result.json") == {"task": "openmoji-text"}
    (tmp_path / "bare.json").write_text(json.dumps({"task": "openmoji-text", "seed": 1}))
    assert load_config(tmp_path / "bare.json") == {"task": "openmoji-text", "seed": 1}
    assert set(CONFIG_KEYS) == {"task", "model", "model_options", "seed", "setting", "encoders"}
    for record, message in [
        ({"seed": 1}, r"holds no run configuration: .* with the keys \['seed'\]"),
        ({"task": "x", "seed": "1"}, r"The 'seed' of the configuration file .* must be a int or null. Got '1'"),
        ({"task": "x", "seed": True}, r"'seed' .* Got True"),
        ({"task": "x", "modle": "gnn"}, r"unknown key\(s\) \['modle'\]"),
    ]:
        (tmp_path / "bad.json").write_text(json.dumps(record))
        with pytest.raises(ConfigError, match=message):
            load_config(tmp_path / "bad.json")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("empty.yaml", "", r"is empty; it must be a mapping of settings such as 'task: openmoji-text'"),
    ("comments.yml", "# nothing yet\n", r"is empty; it must be a mapping of settings"),
    ("blank.json", " \n", r"""is empty; it must be a mapping of settings such as \{"task": "openmoji-text\""""),
    ("list.yaml", "- openmoji-text\n- gnn\n", r"must be a mapping of .*Found a list: \['openmoji-text', 'gnn'\]"),
    ("name.yaml", "openmoji-text\n", r"must be a mapping of settings .*Found a text: 'openmoji-text'"),
    ("number.json", "3", r"must be a mapping of settings .*Found a number: 3"),
])
def test_a_configuration_that_is_not_a_mapping_says_what_it_must_be(tmp_path, name, content, message) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(ConfigError, match=rf"The configuration file '.*{name}' {message}"):
        load_config(tmp_path / name)


def test_a_configuration_that_is_not_utf8_is_named_with_the_fix(tmp_path, capsys) -> None:
    text = "task: openmoji-text\nmodel: gnn # café\n"
    (tmp_path / "run.yaml").write_bytes(text.encode("latin-1"))  # one byte a character: é is 0xe9
    assert main(["run", "--config", str(tmp_path / "run.yaml")]) == 2
    message = capsys.readouterr().err
    where = f"at line 2 (byte {text.index('é')}: 0xe9)"
    assert f"configuration file '{tmp_path / 'run.yaml'}' is not UTF-8 text {where}" in message
    assert f"iconv -f latin1 -t utf-8 {tmp_path / 'run.yaml'}" in message


def test_the_run_fingerprint_names_the_configuration_the_data_and_the_version(monkeypatch) -> None:
    """One fingerprint for the benchmark's records and the checkpoints: the same run (keys in any
    order) gives the same one, another configuration, data or mmgraph version another."""
    import mmgraph

    config = {"task": "syn", "model": "gnn", "model_options": {"epochs": 3}, "seed": 0}
    same = run_fingerprint(config, "sha256:data")
    assert run_fingerprint(dict(reversed(config.items())), "sha256:data") == same and same.startswith("sha256:")
    assert run_fingerprint({**config, "seed": 1}, "sha256:data") != same
    assert run_fingerprint(config, "sha256:other") != same
    monkeypatch.setattr(mmgraph, "__version__", "0.0.0-other")
    assert run_fingerprint(config, "sha256:data") != same
