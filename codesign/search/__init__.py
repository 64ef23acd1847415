"""The joint architecture x hardware co-design search.

Entry points:

* :func:`run_config` - run or resume the search a config file describes (``codesign search``);
* :func:`search` - the same driver on a user's space, cost function and evaluator (library API),
  returning a :class:`SearchResult` (Pareto designs, every design, the study);
* :func:`search_hardware` - the inner hardware search of one architecture;
* :func:`load_design` / :func:`load_designs`, :func:`pareto_design_ids`, :func:`top_design_ids` - a finished
  run's designs.

Modules: :mod:`.hardware_space` (families and per-layer options), :mod:`.inner` (the per-architecture
solver), :mod:`.objectives` (metrics, budgets, scalarizations), :mod:`.formulation` (what a trial
reports), :mod:`.early_stop`, :mod:`.samplers` (registry; :mod:`.surrogate`, :mod:`.rl`),
:mod:`.proxies` (zero-cost accuracy proxies), :mod:`.problem`, :mod:`.trial`, :mod:`.driver`,
:mod:`.search_result` (what :func:`search` returns), :mod:`.config` (the config schema),
:mod:`.records`, :mod:`.results`, :mod:`.report`, :mod:`.api`.
Optuna, torch and matplotlib are imported only when a search runs or a report is written.
"""

from codesign.search.api import plan_from_settings, run_config, search
from codesign.search.config import SearchSettings, load_search_config, search_settings_from_dict
from codesign.search.driver import RunPlan, RunSummary, run_search
from codesign.search.hardware_space import HardwareRanges, HardwareSpace
from codesign.search.inner import HardwareFront, HardwarePoint, search_hardware
from codesign.search.objectives import Budget, Scalarization
from codesign.search.problem import Evaluation, FunctionProblem, Problem, ToolkitProblem
from codesign.search.results import (
    load_design,
    load_designs,
    open_run,
    pareto_design_ids,
    top_design_ids,
    write_results,
)
from codesign.search.search_result import Design, SearchResult

__all__ = [
    "Budget",
    "Design",
    "Evaluation",
    "FunctionProblem",
    "HardwareFront",
    "HardwarePoint",
    "HardwareRanges",
    "HardwareSpace",
    "Problem",
    "RunPlan",
    "RunSummary",
    "Scalarization",
    "SearchResult",
    "SearchSettings",
    "ToolkitProblem",
    "load_design",
    "load_designs",
    "load_search_config",
    "open_run",
    "pareto_design_ids",
    "plan_from_settings",
    "run_config",
    "run_search",
    "search",
    "search_hardware",
    "search_settings_from_dict",
    "top_design_ids",
    "write_results",
]
