"""The footprint meter: CPU time of the process and its children, energy from CPU time or powercap, CO2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from codesign.footprint import GRID_G_PER_KWH, Meter, format_footprint, total
from hw_templates.errors import SpecError


def test_cpu_time_of_the_process_and_its_children_is_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODESIGN_GRID_G_PER_KWH", raising=False)
    meter = Meter()
    sum(i * i for i in range(2_000_000))
    subprocess.run([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"], check=True)
    f = meter.read(trainings=2, exports=1)
    assert f.cpu_s > 0 and f.cpu_children_s > 0 and f.wall_s >= f.cpu_s * 0.1
    assert f.peak_rss_mb > 10 and f.trainings == 2 and f.exports == 1
    assert f.energy_j > 0 and f.co2_g == pytest.approx(f.energy_j / 3.6e6 * GRID_G_PER_KWH)
    if f.energy_source.startswith("estimated"):
        assert f.energy_j == pytest.approx((f.cpu_s + f.cpu_children_s) * f.watts_per_core, rel=0.05)
    assert "CO2" in format_footprint(f) and "trainings" in format_footprint(f)


def test_grid_intensity_and_core_power_are_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODESIGN_GRID_G_PER_KWH", "100")
    monkeypatch.setenv("CODESIGN_WATTS_PER_CORE", "5")
    f = Meter().read()
    assert f.grid_g_per_kwh == 100 and f.watts_per_core == 5
    monkeypatch.setenv("CODESIGN_GRID_G_PER_KWH", "lots")
    with pytest.raises(SpecError, match="CODESIGN_GRID_G_PER_KWH"):
        Meter()


def test_sessions_add_up() -> None:
    a = {"wall_s": 1.0, "cpu_s": 2.0, "cpu_children_s": 1.0, "trainings": 3, "exports": 0, "energy_j": 10.0,
         "co2_g": 1.0, "peak_rss_mb": 100.0, "peak_rss_children_mb": 50.0}  # fmt: skip
    b = {**a, "trainings": 1, "peak_rss_mb": 300.0}
    t = total([a, b])
    assert t["trainings"] == 4 and t["energy_j"] == 20.0 and t["peak_rss_mb"] == 300.0 and t["sessions"] == 2


def test_a_sweep_footprint_is_put_together_from_its_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    from codesign.sweep.results import sweep_footprint

    monkeypatch.setenv("CODESIGN_WATTS_PER_CORE", "10")
    monkeypatch.setenv("CODESIGN_GRID_G_PER_KWH", "500")
    cells = [
        {"cpu_seconds": 30.0, "trainings": 2, "exports": 1, "peak_memory_mb": 400},
        {"cpu_seconds": 6.0, "trainings": 1, "exports": 0, "peak_memory_mb": 900},
    ]
    f = sweep_footprint(cells, span_s=20.0)
    assert f["wall_s"] == 20.0 and f["cpu_s"] == 36.0 and f["peak_rss_mb"] == 900.0
    assert f["trainings"] == 3 and f["exports"] == 1 and f["energy_j"] == pytest.approx(360.0)
    assert f["co2_g"] == pytest.approx(360.0 / 3.6e6 * 500, abs=1e-3) and f["energy_source"].startswith("estimated")
