"""``codesign train``: accuracy and estimated cost side by side, JSON for scripts, design saved for export."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from codesign.cli import main
from codesign.design import TrainedDesign, load_model

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "digits_mlp_4bit.yaml")

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("cost_models.analytical") is None, reason="the analytical cost model is not there yet"
)


def test_json_report_has_accuracy_time_epochs_and_cost_totals(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    code = main(["train", EXAMPLE, "--epochs", "2", "--seed", "3", "--threads", "1", "--json", "--out", str(tmp_path)])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert {"accuracy", "train_seconds", "epochs", "total"} <= set(report)
    assert report["epochs"] == 2 and report["seed"] == 3 and 0 < report["accuracy"] <= 1
    assert report["total"]["lut"] > 0 and "latency_cycles" in report["total"]
    design = TrainedDesign.load(tmp_path)
    assert design.accuracy == report["accuracy"] and design.train["seed"] == 3
    assert design.hardware.part.name == "xc7z020"
    load_model(tmp_path)


def test_text_report_shows_both_sides(capsys: pytest.CaptureFixture) -> None:
    assert main(["train", EXAMPLE, "--epochs", "1", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and "estimated cost on xc7z020" in out


def test_a_dataset_that_does_not_fit_the_spec_is_a_one_line_error(capsys: pytest.CaptureFixture) -> None:
    assert main(["train", EXAMPLE, "--dataset", "wine"]) == 2
    err = capsys.readouterr().err.strip()
    assert "13 features" in err and "\n" not in err
    assert main(["train", EXAMPLE, "--dataset", "digts"]) == 2
    assert "did you mean 'digits'" in capsys.readouterr().err
