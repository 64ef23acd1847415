"""The shipped default table: loads, carries its provenance, matches the current analytical model, and is
reproducible from the calibration data by scripts/build_lut_table.py."""

from __future__ import annotations

import json
from pathlib import Path

from cost_models import GraphBuilder, get_cost_model
from cost_models.lut import DEFAULT_TABLE, LutModel, analytical_fingerprint, load_table
from hw_templates.config import HardwareConfig, Strategy
from hw_templates.parts import resolve_part
from hw_templates.precision import FixedType


def test_the_default_table_loads_and_states_its_provenance() -> None:
    provenance = load_table().provenance
    for key in ("sources", "tool_versions", "parts", "rows", "script", "created", "analytical_fingerprint"):
        assert provenance.get(key), f"provenance lacks {key}"
    assert provenance["script"] == "scripts/build_lut_table.py"
    assert provenance["rows"]["used"] == sum(provenance["rows"]["by_source"].values())


def test_the_default_table_was_built_against_the_current_analytical_model() -> None:
    # Corrections are relative to the analytical model: refit its constants, then rebuild the table with
    # `python scripts/build_lut_table.py`.
    assert load_table().provenance["analytical_fingerprint"] == analytical_fingerprint()


def test_the_default_table_holds_no_calibration_rows() -> None:
    data = json.loads(DEFAULT_TABLE.read_text())
    text = DEFAULT_TABLE.read_text()
    for column in ('"model_id"', '"LUT"', '"layer_summary"', '"arch_json"', '"design_path"'):
        assert column not in text
    allowed = {"level", "key", "rows", "groups", "sources", "smoothing", "residuals", "nodes", "alias_of"}
    assert all(set(b) <= allowed for b in data["buckets"])


def test_the_registered_model_uses_the_default_table() -> None:
    b = GraphBuilder("jet", (16,), FixedType(16, 6))
    b.add("dense", units=64)
    b.add("activation", function="relu")
    b.add("dense", units=5)
    hw = HardwareConfig(resolve_part("xcu250"), reuse_factor=16, strategy=Strategy.RESOURCE)
    for target in ("hls", "synth"):
        model = get_cost_model("lut", target)
        assert isinstance(model, LutModel) and model.table is load_table()
        cost = model.estimate(b.build(), hw)
        assert set(cost.intervals) == {"lut", "ff", "dsp", "bram18", "latency_cycles"}


def test_the_default_table_is_reproducible_from_the_calibration_data(
    calibration_path: Path, tmp_path: Path, load_script
) -> None:
    script = load_script("build_lut_table")
    shipped = json.loads(DEFAULT_TABLE.read_text())
    out = tmp_path / "rebuilt.json"
    assert (
        script.main(["--data", str(calibration_path), "--out", str(out), "--date", shipped["provenance"]["created"]])
        == 0
    )
    assert json.loads(out.read_text()) == shipped
