"""One trial of the search: sample, cost, reject or train, record (see :mod:`codesign.search.driver`).

Order inside a trial (cheap things first):

1. sample the architecture and get its cost view (graph or explicit figures);
2. search its hardware (nested: every Pareto-optimal configuration; flat/random: the sampled one);
3. reject it, untrained, when nothing meets the primary part and the budgets;
4. reuse the accuracy of an identical architecture trained before (status ``duplicate``);
5. train it, stopping early when it cannot produce a useful design (:mod:`.early_stop`);
6. record its designs and report the formulation's values and the constraint.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from codesign.search.early_stop import HopelessRule
from codesign.search.formulation import Formulation
from codesign.search.fronts import figures_front, flat_front
from codesign.search.hardware_space import HardwareSpace
from codesign.search.inner import HardwareFront, search_hardware
from codesign.search.problem import Problem, safe_call
from codesign.search.records import design_record, trial_designs
from cost_models.base import CostModel
from cost_models.ir import LayerGraph
from hw_templates.errors import SpecError

if TYPE_CHECKING:
    import optuna

__all__ = ["Archive", "Outcome", "TrialContext", "run_trial", "takes_slot"]

logger = logging.getLogger(__name__)


@dataclass
class Archive:
    """What finished trials tell the next one: designs on the primary part, training curves, known archs.

    Kept up to date incrementally (:meth:`update` reads only trials it has not seen finished), so the
    bookkeeping costs the same per trial at trial 10 and at trial 10,000.
    """

    accuracy: np.ndarray = field(default_factory=lambda: np.zeros(0))
    costs: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    curves: list[tuple[list[float], float]] = field(default_factory=list)
    known: dict[str, float] = field(default_factory=dict)
    feasible: int = 0
    trainings: int = 0
    finished: int = 0  # finished trials that take a budget slot (:func:`takes_slot`)
    waiting: int = 0  # retries of dead workers' trials, queued
    _acc: list[float] = field(default_factory=list, repr=False)
    _costs: list[np.ndarray] = field(default_factory=list, repr=False)
    _seen: int = 0
    _pending: set[int] = field(default_factory=set, repr=False)

    @classmethod
    def from_trials(cls, trials: list[Any], formulation: Formulation, space: HardwareSpace) -> Archive:
        archive = cls()
        archive.update(trials, formulation, space)
        return archive

    def update(self, trials: list[Any], formulation: Formulation, space: HardwareSpace) -> None:
        """Add the trials (a study's ``get_trials()``, ordered by number) that finished since the last call."""
        for t in trials[self._seen :]:
            self._pending.add(t.number)
        self._seen = max(self._seen, len(trials))
        done = [n for n in self._pending if n < len(trials) and trials[n].state.is_finished()]
        for n in sorted(done):
            self._pending.discard(n)
            self._add(trials[n], formulation, space)
        self.waiting = sum(1 for n in self._pending if n < len(trials) and trials[n].state.name == "WAITING")
        width = len(formulation.cost_metrics)
        if done or self.costs.shape[1:] != (width,):
            self.accuracy = np.array(self._acc)
            self.costs = np.array(self._costs) if self._costs else np.zeros((0, width))

    @property
    def running(self) -> int:
        """Trials seen but not finished (running in this worker or another, or waiting for a retry)."""
        return len(self._pending)

    def _add(self, t: Any, formulation: Formulation, space: HardwareSpace) -> None:
        attrs = t.user_attrs
        if attrs.get("trained"):
            self.trainings += 1
        self.finished += 1 if takes_slot(t) else 0
        if getattr(t.state, "name", "") != "COMPLETE":  # failed or interrupted: partial records
            return
        if attrs.get("status") == "trained" and attrs.get("val_history"):
            self.curves.append((list(attrs["val_history"]), float(attrs["accuracy"])))
        if attrs.get("status") in ("trained", "stopped") and "arch_key" in attrs:
            self.known[attrs["arch_key"]] = float(attrs["accuracy"])
        part = space.primary
        for d in trial_designs(t):
            if d.part == part.name:
                self._acc.append(d.accuracy)
                self._costs.append(formulation.design_costs(d.totals, part, space.clock_ns))
                self.feasible += 1

    def pareto_count(self) -> int:
        from codesign.search.pareto import nondominated

        if len(self.accuracy) == 0:
            return 0
        return len(nondominated(np.column_stack([-self.accuracy, self.costs])))


def takes_slot(trial: Any) -> bool:
    """Does a finished trial take a slot of the trial budget? Completed trials, rejected (pruned) trials
    and trials that failed for a reason of their own do; trials interrupted by Ctrl-C and trials of workers
    that died (failed by a stale heartbeat, with no status of their own; retried) do not
    (:mod:`codesign.search.worker`)."""
    state = getattr(trial.state, "name", "")
    attrs = trial.user_attrs
    if state in ("COMPLETE", "PRUNED"):
        return True
    return state == "FAIL" and attrs.get("status") == "failed" and attrs.get("reason") != "interrupted"


@dataclass
class TrialContext:
    """Everything a trial needs; built once per run by the driver."""

    problem: Problem
    formulation: Formulation
    space: HardwareSpace
    model: CostModel
    mode: str
    rule: HopelessRule | None
    run_dir: Path | None
    archive: Archive = field(default_factory=Archive)
    hw_seconds: float = 0.0
    catch: tuple[type[BaseException], ...] | None = None  # None: every failure fails the trial only
    #: ``(arch_key, trial_number) -> accuracy | None``: an identical architecture trained (or being
    #: trained) by a concurrent trial (:func:`codesign.search.worker.peer_accuracy`).
    peer_accuracy: Callable[[str, int], float | None] | None = None
    #: where trained weights are stored for other machines (an Optuna artifact store), or None
    artifacts: Any = None
    #: ``arch_key -> HardwareFront`` a sampler already computed for the architecture it proposes (nested
    #: mode: the front depends on the graph alone); the trial takes it instead of searching again
    fronts: dict[str, HardwareFront] = field(default_factory=dict)


@dataclass
class Outcome:
    """How the driver should tell the trial."""

    state: str  # "complete" | "prune" (rejected: no values, a positive constraint) | "fail"
    values: list[float] | None = None
    constraint: float = 0.0
    attrs: dict[str, Any] = field(default_factory=dict)
    trained: bool = False


def _front(ctx: TrialContext, trial: optuna.Trial, cost: Any) -> tuple[HardwareFront, LayerGraph | None]:
    f = ctx.formulation
    if isinstance(cost, LayerGraph):
        if ctx.mode == "nested":
            front = search_hardware(cost, ctx.space, ctx.model, f.cost_metrics, f.budgets, f.fit_probability)
        else:
            front = flat_front(trial, cost, ctx.space, ctx.model, f.budgets, f.fit_probability)
        return front, cost
    return figures_front(cost, ctx.space, f.cost_metrics, f.budgets), None


def _record_front(
    front: HardwareFront, model: CostModel | None = None, graph: LayerGraph | None = None
) -> dict[str, Any]:
    """The front's user attributes; with ``model`` and ``graph``, each design keeps the model's intervals."""

    def intervals(point: Any) -> Any:
        return model.intervals(graph, point.totals) if model is not None and graph is not None else None

    return {
        "designs": [design_record(p, intervals(p)) for pts in front.points.values() for p in pts],
        "hw_search": {
            "configurations": front.configurations,
            "evaluated": front.evaluated,
            "seconds": round(front.seconds, 6),
            "exact": front.exact,
        },
        "feasible_parts": [name for name, pts in front.points.items() if pts],
    }


def run_trial(ctx: TrialContext, trial: optuna.Trial, set_attr: Callable[[str, Any], None]) -> Outcome:
    """Run one trial (see the module docstring); exceptions from the problem propagate to the driver."""
    part, clock, f = ctx.space.primary, ctx.space.clock_ns, ctx.formulation
    arch = safe_call("sample(trial)", lambda: ctx.problem.sample(trial))
    desc = ctx.problem.describe(arch)
    key = json.dumps(desc, sort_keys=True, default=str)
    set_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
    set_attr("trained", False)  # a retried trial starts with the attributes of the one whose worker died
    set_attr("arch", desc)
    set_attr("arch_key", key)
    cost = safe_call("cost(arch)", lambda: ctx.problem.cost(arch))
    known = ctx.fronts.pop(key, None) if ctx.mode == "nested" and isinstance(cost, LayerGraph) else None
    front, graph = (known, cost) if known is not None else _front(ctx, trial, cost)
    ctx.hw_seconds += front.seconds
    if graph is not None:
        set_attr("graph", graph.to_json())
    for name, value in _record_front(front, ctx.model, graph).items():
        set_attr(name, value)
    primary = front.points.get(part.name, ())
    if not primary:
        reason = "; ".join(front.reasons[-3:]) or "no hardware configuration meets the part and budgets"
        excess = max(front.best_violation.get(part.name, 1.0), 1e-9)
        bounds = _cost_bounds(front.bounds[part.name], f, part, clock)
        attrs = {"status": "rejected", "reason": reason, "violation": excess, "cost_bounds": bounds}
        return Outcome("prune", None, excess, attrs)
    totals = [p.totals for p in primary]
    accuracy = ctx.archive.known.get(key)
    if accuracy is None and ctx.peer_accuracy is not None:
        accuracy = ctx.peer_accuracy(key, trial.number)
    if accuracy is not None:
        attrs = {"status": "duplicate", "accuracy": accuracy, "train_seconds": 0.0}
        return Outcome("complete", f.trial_values(accuracy, totals, part, clock), 0.0, attrs)
    costs = np.array([f.design_costs(t, part, clock) for t in totals])
    needed = f.needed_accuracy(costs, ctx.archive.accuracy, ctx.archive.costs)
    set_attr("needed_accuracy", needed if math.isfinite(needed) else None)
    return _train(ctx, trial, arch, front, needed, set_attr)


def _train(
    ctx: TrialContext, trial: optuna.Trial, arch: Any, front: HardwareFront, needed: float, set_attr: Callable
) -> Outcome:
    part, clock, f = ctx.space.primary, ctx.space.clock_ns, ctx.formulation
    rule, curves = ctx.rule, ctx.archive.curves

    def report(epoch: int, val_accuracy: float) -> bool:
        return bool(rule and rule.should_stop(epoch, float(val_accuracy), needed, curves))

    trial_dir = ctx.run_dir / "trials" / str(trial.number) if ctx.run_dir is not None else None
    set_attr("trained", True)  # spent even if the evaluation raises: it counts against the budget
    ev = safe_call("evaluate(arch)", lambda: ctx.problem.evaluate(arch, report, trial_dir))
    if ctx.artifacts is not None and trial_dir is not None:
        from codesign.search.artifacts import upload_folder

        upload_folder(ctx.artifacts, trial, trial_dir)
    attrs: dict[str, Any] = {
        "train_seconds": round(ev.seconds, 4),
        "val_history": [round(v, 6) for v in ev.val_history],
        "trained": True,
        **{k: v for k, v in ev.extra.items()},
    }
    if ev.accuracy is None or ev.status in ("diverged", "failed") or not math.isfinite(ev.accuracy):
        attrs.update(status="failed", reason=ev.reason or f"evaluation ended with status {ev.status}")
        return Outcome("fail", attrs=attrs, trained=True)
    if ev.graph is not None and ctx.mode == "nested":
        # Training changed the graph (batchnorm folded): cost what will actually be built.
        front = search_hardware(ev.graph, ctx.space, ctx.model, f.cost_metrics, f.budgets, f.fit_probability)
        ctx.hw_seconds += front.seconds
        attrs.update(_record_front(front, ctx.model, ev.graph), graph=ev.graph.to_json())
    if ev.figures:
        front = _measured(front, ev.figures, clock)
        attrs.update(_record_front(front), measured=dict(ev.figures))  # measured: no model intervals
    primary = front.points.get(part.name, ())
    if not primary:
        attrs.update(status="failed", reason="the trained graph fits no hardware configuration")
        return Outcome("fail", attrs=attrs, trained=True)
    status = "stopped" if ev.status == "stopped" else "trained"
    attrs.update(status=status, accuracy=float(ev.accuracy))
    values = f.trial_values(float(ev.accuracy), [p.totals for p in primary], part, clock)
    return Outcome("complete", values, 0.0, attrs, trained=True)


def _measured(front: HardwareFront, figures: dict[str, float], clock: float) -> HardwareFront:
    """The front with measured figures in place of the estimates (every design of the architecture)."""
    given = dict(figures)
    for ns, cycles in (("latency_ns", "latency_cycles"), ("ii_ns", "ii_cycles")):
        if ns in given:
            given[cycles] = given.pop(ns) / clock
    points = {part: tuple(replace(p, totals={**p.totals, **given}) for p in pts) for part, pts in front.points.items()}
    return replace(front, points=points)


def _cost_bounds(bounds: Any, f: Formulation, part: Any, clock: float) -> dict[str, float | None]:
    """The cost metrics and budgeted metrics no configuration of a rejected architecture can beat (None:
    no bound known)."""
    from codesign.search.metrics import value

    out: dict[str, float | None] = {}
    for m in dict.fromkeys((*f.cost_metrics, *(b.metric for b in f.budgets))):
        try:
            v = float(value(m, bounds, part, clock))
        except (KeyError, TypeError, SpecError):  # a user figure without a bound
            v = math.inf
        out[m] = round(v, 6) if math.isfinite(v) else None
    return out


def _finite(values: list[float], f: Formulation) -> list[float]:
    """Replace infinite bounds (user figures without a metric) by a large finite value."""
    out = []
    for value, direction in zip(values, f.directions):
        if not math.isfinite(value):
            value = -1e30 if direction == "maximize" else 1e30
        out.append(value)
    return out
