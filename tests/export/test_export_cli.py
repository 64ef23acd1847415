"""``codesign export`` / ``codesign verify``: tables, JSON, exit codes and one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from codesign import cli


@pytest.fixture
def main():
    assert "export" in cli.COMMANDS and "verify" in cli.COMMANDS
    return cli.main


def test_export_of_a_missing_folder_is_one_line_and_exit_2(main, capsys: pytest.CaptureFixture, tmp_path: Path):
    assert main(["export", str(tmp_path / "nope"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("codesign export: error:") and "no such folder" in err and "\n" not in err


def test_run_selectors_are_refused_for_a_single_design(main, design_dirs: dict, capsys: pytest.CaptureFixture):
    assert main(["export", str(design_dirs["mlp"]), "--top", "2", "--no-progress"]) == 2
    assert "is a single design folder" in capsys.readouterr().err


@pytest.mark.slow
def test_export_of_a_design_folder_prints_a_verified_row(
    main, design_dirs: dict, csim_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = ["export", str(design_dirs["cnn"]), "--out", str(tmp_path), "--jobs", "1", "--no-progress"]
    assert main([*argv, "--cache-dir", str(csim_cache), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["designs"]
    assert row["status"] == "verified" and row["mismatches"] == 0 and row["n_samples"] == 360
    assert (tmp_path / "cnn" / "manifest.json").is_file()
    created = json.loads((tmp_path / "cnn" / "manifest.json").read_text())["created"]
    assert main(argv) == 0  # a rerun keeps the verified design (resume), it does not redo it
    assert " verified " in capsys.readouterr().out
    assert json.loads((tmp_path / "cnn" / "manifest.json").read_text())["created"] == created


def test_verify_prints_a_table_of_the_exported_designs(main, exported: tuple, csim_cache: Path, capsys) -> None:
    out, results = exported
    assert main(["verify", str(out), "--cache-dir", str(csim_cache), "--no-progress"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["design", "status", "mismatches"]
    assert len(table) == 1 + len(results) and all(" verified " in line for line in table[1:])


@pytest.mark.slow
def test_a_mismatch_fails_loudly_with_the_report_named(
    main, exported: tuple, csim_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    _, results = exported
    project = tmp_path / "tampered"
    shutil.copytree(results[0].project_dir, project, ignore=shutil.ignore_patterns("*.so"))
    expected = project / "tb_data" / "tb_output_predictions.dat"
    values = np.loadtxt(expected, ndmin=2)
    values[3, 0] += 1.0
    np.savetxt(expected, values, fmt="%.17g")
    assert main(["verify", str(project), "--cache-dir", str(csim_cache), "--no-progress"]) == 2
    captured = capsys.readouterr()
    assert "mismatch" in captured.out and "1/360" in captured.out
    assert "not bit-exact for 1 of 1 designs" in captured.err and "verification.json" in captured.err
    report = json.loads((project / "verification.json").read_text())
    assert report["bit_exact_mismatches"] == 1 and report["first_mismatch"] == 3


@pytest.mark.slow
def test_demo_ends_by_exporting_verified_pareto_designs(main, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """``codesign demo`` (shortened to a few trials): search, then export and C-simulate its best designs."""
    from codesign.cli.demo import demo_design_ids

    run = tmp_path / "demo"
    assert main(["demo", "--out", str(run), "--trials", "4", "--no-progress"]) == 0
    out = capsys.readouterr().out
    ids = demo_design_ids(run)
    assert 1 <= len(ids) <= 3
    for design_id in ids:
        report = json.loads((run / "exports" / design_id / "verification.json").read_text())
        assert report["bit_exact_mismatches"] == 0 and report["n_samples"] > 0
        assert report["csim_accuracy"] == report["model_accuracy"]
        assert f"{design_id}  " in out and "verified" in out
    assert out.strip().splitlines()[-1] == f"report: {run / 'report.html'}"
    report = (run / "report.html").read_text()
    assert f"Exported designs ({len(ids)})" in report and all(f">{i}<" in report for i in ids)


@pytest.mark.slow
def test_relative_output_folder_exports_and_verifies(
    main, design_dirs: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """As a user types it: a relative --out, then verify of that folder (the compile cache is relative too)."""
    monkeypatch.chdir(tmp_path)
    assert main(["export", str(design_dirs["mlp"]), "--out", "exports/mlp", "--jobs", "1", "--no-progress"]) == 0
    assert main(["verify", "exports/mlp", "--jobs", "1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert out.count("verified") == 2 and "0/" in out


@pytest.mark.slow
def test_a_spec_with_a_narrowed_result_type_exports_bit_exact(main, csim_cache: Path, tmp_path: Path, capsys) -> None:
    """A hand-written spec may round a layer's result below the exact accumulator: Brevitas rounds to it
    in training, hls4ml fuses the rounding into the layer's result type, and the C model agrees."""
    import yaml

    spec = yaml.safe_load((Path(__file__).resolve().parents[2] / "examples" / "digits_mlp_4bit.yaml").read_text())
    # exact sum ap_fixed<14,9>; the accumulator is stated (unset, it would be the result type: refused at train)
    spec["layers"][-1]["precision"] = {"result": "ap_fixed<11,9,AP_RND_CONV,AP_SAT>", "accum": "ap_fixed<14,9>"}
    spec["training"]["epochs"] = 2
    path = tmp_path / "narrow.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert main(["train", str(path), "--out", str(tmp_path / "design")]) == 0
    out = tmp_path / "exports"
    argv = ["export", str(tmp_path / "design"), "--out", str(out), "--cache-dir", str(csim_cache)]
    assert main([*argv, "--jobs", "1", "--no-progress"]) == 0
    manifest = json.loads((out / "design" / "manifest.json").read_text())
    applied = {a["ir_name"]: a["precision"] for a in manifest["hls4ml"]["applied"]}
    assert applied["fc2"]["result"].startswith("fixed<11,9,RND_CONV,SAT")
    assert applied["fc2"]["accum"].startswith("fixed<14,9")
    assert manifest["verification"]["bit_exact_mismatches"] == 0
