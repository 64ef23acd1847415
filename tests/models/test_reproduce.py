"""``codesign reproduce``: a recorded design is trained again bit-exact; a changed record fails ``--check``;
design files are specs for ``estimate`` and ``train``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codesign.cli import main
from codesign.design import TrainedDesign
from cost_models import get_cost_model

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "digits_mlp_4bit.yaml")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("design")
    assert main(["train", EXAMPLE, "--epochs", "2", "--seed", "1", "--threads", "1", "--out", str(out)]) == 0
    return out


def test_the_record_lists_settings_tools_and_hashes(trained: Path) -> None:
    record = TrainedDesign.load(trained).train
    assert record["config"]["epochs"] == 2 and record["config"]["learning_rate"] > 0 and record["threads"] == 1
    assert len(record["weights_sha256"]) == 64 and len(record["dataset_sha256"]) == 64
    assert {"torch", "brevitas", "numpy", "python"} <= set(record["tools"])


def test_reproduce_check_passes_and_saves_an_equal_design(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "again"
    assert main(["reproduce", str(trained), "--check", "--json", "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["matches"] and {c["name"] for c in report["checks"]} >= {"weights", "accuracy", "dataset", "cost"}
    assert TrainedDesign.load(out).train["weights_sha256"] == TrainedDesign.load(trained).train["weights_sha256"]
    assert main(["reproduce", str(trained), "--out", str(out)]) == 2  # never overwrites a design
    assert "already holds a design" in capsys.readouterr().err


def test_a_changed_record_fails_the_check(trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    copy = tmp_path / "changed"
    copy.mkdir()
    data = json.loads((trained / "design.json").read_text())
    data["accuracy"] += 0.01
    text = json.dumps(data)
    (copy / "design.json").write_text(text)
    assert main(["reproduce", str(copy / "design.json"), "--check"]) == 1
    out = capsys.readouterr().out
    assert "accuracy" in out and "DIFFERS" in out and "NOT reproduced exactly" in out
    assert (copy / "design.json").read_text() == text


def test_a_record_without_settings_is_a_one_line_error(trained: Path, tmp_path: Path, capsys) -> None:
    data = json.loads((trained / "design.json").read_text())
    data["train"] = {"epochs": 2, "seed": 1}
    (tmp_path / "design.json").write_text(json.dumps(data))
    assert main(["reproduce", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no training settings" in err


def test_estimate_reads_a_design_folder(trained: Path, capsys: pytest.CaptureFixture) -> None:
    design = TrainedDesign.load(trained)
    assert main(["estimate", str(trained), "--json"]) == 0
    total = json.loads(capsys.readouterr().out)["total"]
    assert total == pytest.approx(get_cost_model("analytical").estimate(design.graph, design.hardware).totals())


def test_train_reads_a_design_file_with_its_recorded_settings(trained: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["train", str(trained / "design.json"), "--threads", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    design = TrainedDesign.load(trained)
    assert report["epochs"] == 2 and report["seed"] == 1 and report["accuracy"] == design.accuracy
