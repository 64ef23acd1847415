"""Batch co-design sweeps: one search per cell of a matrix of config values, on many workers.

* :func:`load_sweep` - read and expand a sweep file (:mod:`.spec`);
* :func:`run_sweep` - run or resume it with local worker processes (``codesign sweep``);
* :func:`run_worker` - join a recorded sweep from any machine (``codesign worker``);
* :func:`write_sweep_results` - ``sweep.csv``, ``pareto_all.csv``, ``sweep.html`` (``codesign report``).

See ``docs/sweep.md``.
"""

from codesign.sweep.results import write_sweep_results
from codesign.sweep.runner import SweepRun, load_sweep_record, run_sweep, run_worker
from codesign.sweep.spec import Cell, Sweep, load_sweep, sweep_from_dict

__all__ = [
    "Cell",
    "Sweep",
    "SweepRun",
    "load_sweep",
    "load_sweep_record",
    "run_sweep",
    "run_worker",
    "sweep_from_dict",
    "write_sweep_results",
]
