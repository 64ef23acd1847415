"""The footprint of a run: wall and CPU time, peak memory, trainings, exports, energy and CO2.

:class:`Meter` is started before the work and read after it:

* wall seconds, and CPU seconds of this process and its finished children (user + system, ``os.times``:
  worker processes of exports and parallel searches are children);
* peak resident memory of this process and of its largest child (``resource.getrusage``, Linux/macOS);
* energy: measured through the Linux powercap interface (``/sys/class/powercap/*/energy_uj``, the CPU
  package counters of Intel RAPL and AMD) when readable, as the difference of the counters over the run
  (this counts the whole package, other programs included); otherwise estimated as CPU seconds x a stated
  power per busy core, :data:`WATTS_PER_CORE` by default (the Green Algorithms calculator's per-core
  figure for a typical server CPU, Lannelongue, Grealey and Inouye, Advanced Science 8(12), 2021);
* CO2: energy x a grid carbon intensity, :data:`GRID_G_PER_KWH` by default (the world-average carbon
  intensity of electricity generation in 2019, IEA Global Energy & CO2 Status Report 2019).

Both defaults are set with the environment variables ``CODESIGN_WATTS_PER_CORE`` and
``CODESIGN_GRID_G_PER_KWH`` (a wrong value is a one-line error).
"""

from __future__ import annotations

import glob
import os
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

from codesign._env import env_number

__all__ = [
    "GRID_G_PER_KWH",
    "WATTS_PER_CORE",
    "Footprint",
    "Meter",
    "format_footprint",
    "from_records",
    "peak_rss_mb",
    "total",
]

#: Default power of one busy CPU core, W (Green Algorithms, see the module docstring).
WATTS_PER_CORE = 12.0
#: Default grid carbon intensity, gCO2 per kWh (IEA 2019 world average, see the module docstring).
GRID_G_PER_KWH = 475.0
_POWERCAP = "/sys/class/powercap/*/energy_uj"


@dataclass(frozen=True)
class Footprint:
    """What a run cost the machine (see the module docstring)."""

    wall_s: float
    cpu_s: float
    cpu_children_s: float
    peak_rss_mb: float
    peak_rss_children_mb: float
    trainings: int
    exports: int
    energy_j: float
    energy_source: str
    co2_g: float
    grid_g_per_kwh: float
    watts_per_core: float

    def to_dict(self) -> dict[str, Any]:
        """The figures as a JSON-ready mapping (floats rounded to 3 decimals)."""
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


def _powercap_uj() -> dict[str, int] | None:
    """Every readable package energy counter, or None when none is."""
    out = {}
    for path in glob.glob(_POWERCAP):
        try:
            with open(path, encoding="ascii") as handle:
                out[path] = int(handle.read().strip())
        except (OSError, ValueError):
            return None
    return out or None


def _peak_mb(who: int) -> float:
    try:
        import resource
    except ImportError:  # not on Windows
        return 0.0
    peak = resource.getrusage(who).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB."""
    return _peak_mb(0)  # RUSAGE_SELF


def from_records(wall_s: float, cpu_s: float, peak_mb: float, trainings: int, exports: int) -> Footprint:
    """A footprint put together from per-trial records (a sweep cell, whose trials ran in any number of
    worker processes and machines): energy is CPU seconds x the per-core power, always (a package
    energy counter cannot be split between the cells that shared the machine)."""
    watts, grid = (
        env_number("CODESIGN_WATTS_PER_CORE", WATTS_PER_CORE),
        env_number("CODESIGN_GRID_G_PER_KWH", GRID_G_PER_KWH),
    )
    energy = cpu_s * watts
    return Footprint(
        wall_s, cpu_s, 0.0, peak_mb, 0.0, trainings, exports, energy,
        f"estimated as CPU seconds x {watts:g} W per core", energy / 3.6e6 * grid, grid, watts,
    )  # fmt: skip


class Meter:
    """Measure the footprint of the work between construction and :meth:`read`."""

    def __init__(self) -> None:
        self.watts_per_core = env_number("CODESIGN_WATTS_PER_CORE", WATTS_PER_CORE)
        self.grid = env_number("CODESIGN_GRID_G_PER_KWH", GRID_G_PER_KWH)
        self._wall = time.perf_counter()
        self._times = os.times()
        self._energy = _powercap_uj()

    def read(self, trainings: int = 0, exports: int = 0) -> Footprint:
        """The footprint so far."""
        times = os.times()
        cpu = (times.user - self._times.user) + (times.system - self._times.system)
        children = (times.children_user - self._times.children_user) + (
            times.children_system - self._times.children_system
        )
        energy, source = self._energy_j(cpu + children)
        return Footprint(
            wall_s=time.perf_counter() - self._wall,
            cpu_s=cpu,
            cpu_children_s=children,
            peak_rss_mb=_peak_mb(0),  # RUSAGE_SELF
            peak_rss_children_mb=_peak_mb(-1),  # RUSAGE_CHILDREN
            trainings=trainings,
            exports=exports,
            energy_j=energy,
            energy_source=source,
            co2_g=energy / 3.6e6 * self.grid,
            grid_g_per_kwh=self.grid,
            watts_per_core=self.watts_per_core,
        )

    def _energy_j(self, cpu_seconds: float) -> tuple[float, str]:
        now = _powercap_uj() if self._energy else None
        if now and now.keys() == self._energy.keys() and all(now[k] >= self._energy[k] for k in now):
            return sum(now[k] - self._energy[k] for k in now) / 1e6, "measured by powercap (whole CPU package)"
        return cpu_seconds * self.watts_per_core, f"estimated as CPU seconds x {self.watts_per_core:g} W per core"


def format_footprint(f: Footprint | dict[str, Any]) -> str:
    """One line for run summaries."""
    d = f.to_dict() if isinstance(f, Footprint) else f
    return (
        f"footprint: {d['wall_s']:.0f} s wall, {d['cpu_s'] + d['cpu_children_s']:.0f} s CPU "
        f"(children {d['cpu_children_s']:.0f} s), "
        f"peak memory {max(d['peak_rss_mb'], d['peak_rss_children_mb']):.0f} MB, "
        f"{d['trainings']} trainings, {d['exports']} exports, energy {d['energy_j'] / 3600:.2f} Wh "
        f"{d['energy_source']}, CO2 {d['co2_g']:.1f} g at {d['grid_g_per_kwh']:g} g/kWh"
    )


def total(sessions: list[dict[str, Any]]) -> dict[str, Any]:
    """The footprints of a run's sessions (a resumed run has several) added up (peaks: the largest)."""
    if not sessions:
        return {}
    out = dict(sessions[-1])
    for key in ("wall_s", "cpu_s", "cpu_children_s", "trainings", "exports", "energy_j", "co2_g"):
        out[key] = sum(s.get(key, 0) for s in sessions)
    for key in ("peak_rss_mb", "peak_rss_children_mb"):
        out[key] = max(s.get(key, 0.0) for s in sessions)
    out["sessions"] = len(sessions)
    return out
