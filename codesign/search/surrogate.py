"""A cost-aware surrogate sampler: spend an expensive evaluation only where it can move the front.

Hardware costs are exact and cheap, accuracy is neither, so the sampler (``sampler: surrogate``):

1. keeps a *pool* of unevaluated candidates, each already costed: random draws from the space and
   mutations (one or two parameters changed) of the architectures on the current front. A candidate is
   costed exactly like a trial costs it (the problem's ``cost``, then the inner hardware search or the
   cost function's own figures), so it carries its whole feasible hardware front. Candidates with no
   feasible design and architectures already evaluated never leave the pool;
2. fits an accuracy model with uncertainty (:mod:`codesign.search._acquisition`: a Gaussian process by
   default) on an encoding of the evaluated architectures' parameters and their exact cost figures; an
   early-stopped evaluation counts with its projected final accuracy (its validation accuracy at the
   stop plus the median rise from that epoch among fully trained runs) or its recorded one (the test
   accuracy of its best epoch so far) when that is higher, not the truncated one;
3. drops every candidate whose *optimistic* accuracy (mean + ``beta`` x spread) could not make any of
   its designs non-dominated (:meth:`Formulation.needed_accuracy`, exact);
4. proposes the candidate with the largest expected hypervolume improvement of the front (accuracy and
   the formulation's cost metrics on the primary part), its costs exact and its accuracy the model's
   distribution, measured in a box whose reference point is the nadir of the front that looks reachable
   (evaluated front and candidates at their predicted accuracy), not of every design evaluated.

The first ``n_startup`` proposals are random feasible, unevaluated candidates, drawn and costed one at
a time (no pool, no model: a startup proposal costs about one costing); the pool rounds they skipped are
grown at the first model-based proposal, so the model chooses from a pool of the same size. The
sampler works on any space whose ``sample(trial)`` uses ``suggest_int``, ``suggest_float`` and ``suggest_categorical``
(the toolkit's spaces and mapping spaces); for anything else it falls back to random proposals.
The driver hands it the problem through ``bind`` (see :mod:`codesign.search.samplers`); unbound it is
a random sampler.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna

from codesign.search._acquisition import Encoder, expected_hv_improvement, fit_predict
from codesign.search._probe import Probe, contains, mutated
from codesign.search.pareto import nondominated

if TYPE_CHECKING:
    from codesign.search.trial import TrialContext

__all__ = ["SurrogateSampler"]

logger = logging.getLogger(__name__)


@dataclass
class Candidate:
    """An architecture costed but (maybe) not evaluated: its parameters, key and design costs."""

    key: str
    params: dict[str, Any]
    costs: np.ndarray  # (k, n_cost_metrics), minimized; k == 0: no feasible design
    extra: np.ndarray  # features beyond the parameters (user features)
    front: Any = None  # the toolkit's hardware front (nested mode), handed to the trial that evaluates it


class SurrogateSampler(optuna.samplers.BaseSampler):
    """See the module docstring.

    Args:
        seed: seeds the pool, the models and the random fall-back.
        model: accuracy model, ``gp``, ``forest`` or ``ensemble``.
        n_startup: random feasible proposals before the model is used.
        pool_random, pool_mutations: new random and mutated candidates drawn per proposal.
        pool_seconds: time limit for costing new candidates per proposal (the pool persists).
        beta: optimism of the pruning rule, in predicted spreads.
        features: optional ``arch -> [float, ...]`` (e.g. zero-cost proxies) appended to the encoding.
        stopped: the accuracy an early-stopped evaluation teaches the model: ``as_is`` (its validation
            accuracy when stopped) or ``projected`` (the default: that plus the median rise from the
            same epoch to the final accuracy among fully trained runs, an estimate of what it would
            have reached; on the tabular benchmark's tuning seeds it lifted fpga2 at 50 evaluations
            from 0.906 to 0.960, see docs/search.md).
        init: the startup proposals: ``random`` feasible candidates, or ``maximin`` (each one the
            candidate farthest from those already evaluated in the model's feature space: parameters,
            exact costs and ``features``; a space-filling design).
        box: where the expected improvement is measured: ``front`` (the default: up to the nadir of the
            evaluated front and the candidates at their predicted accuracy) or ``archive`` (up to the
            worst evaluated design or optimistic candidate; the rule before, measured worse on the
            tabular benchmark's tuning seeds, see docs/search.md).
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        model: str = "gp",
        n_startup: int = 8,
        pool_random: int = 128,
        pool_mutations: int = 64,
        pool_seconds: float = 3.0,
        beta: float = 2.0,
        features: Callable[[Any], Sequence[float]] | None = None,
        init: str = "random",
        stopped: str = "projected",
        box: str = "front",
    ) -> None:
        if init not in ("random", "maximin"):
            raise ValueError(f"init: expected random or maximin, got {init!r}")
        if stopped not in ("as_is", "projected"):
            raise ValueError(f"stopped: expected as_is or projected, got {stopped!r}")
        if box not in ("front", "archive"):
            raise ValueError(f"box: expected front or archive, got {box!r}")
        self.stopped, self.box = stopped, box
        self._histories: dict[str, tuple[list[float], bool]] = {}  # key -> (validation curve, stopped)
        self.seed, self.model, self.n_startup, self.beta, self.init = seed, model, n_startup, beta, init
        self.pool_random, self.pool_mutations, self.pool_seconds = pool_random, pool_mutations, pool_seconds
        self.features = features
        self._rng = np.random.default_rng(seed)
        self._random = optuna.samplers.RandomSampler(seed=seed)
        self._ctx: TrialContext | None = None
        self._pool: dict[str, Candidate] = {}
        self._seen_params: set[str] = set()
        self._dists: dict[str, Any] = {}
        self._done: dict[str, float] = {}  # evaluated arch key -> accuracy
        self._evaluated: dict[str, Candidate] = {}
        self._tried: set[str] = set()  # every key a trial has used (evaluated, repeated or rejected)
        self._read = 0
        self._deferred = 0  # pool rounds skipped by cheap startup proposals, grown at the first model proposal
        self._chosen: dict[int, dict[str, Any]] = {}
        self._model_cache: dict[str, Any] = {}
        self._enc_signature: tuple[str, ...] | None = None
        self._encoder: Encoder | None = None
        self._encoded: dict[str, np.ndarray] = {}
        self.stats = {"proposals": 0, "pruned": 0, "model_seconds": 0.0, "pool_seconds": 0.0}

    def bind(self, ctx: TrialContext) -> None:
        """Give the sampler the problem and the archive (called by the driver before the first trial)."""
        self._ctx = ctx

    def reseed_rng(self) -> None:
        self._rng = np.random.default_rng()
        self._random.reseed_rng()

    def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, Any]:
        return {}

    def sample_relative(self, study: Any, trial: Any, search_space: dict[str, Any]) -> dict[str, Any]:
        return {}

    def before_trial(self, study: Any, trial: Any) -> None:
        if self._ctx is None:
            return
        try:
            cand = self._propose(study)
            self._chosen[trial.number] = dict(cand.params) if cand is not None else {}
            self._ctx.fronts.clear()  # at most the one front of the trial about to run
            if cand is not None and cand.front is not None:  # the trial reuses it instead of costing again
                self._ctx.fronts[cand.key] = cand.front
        except (AttributeError, TypeError) as err:  # a space using more of the trial than suggest_*
            logger.warning("surrogate sampler: cannot probe the space (%s); proposing at random", err)
            self._ctx = None

    def sample_independent(self, study: Any, trial: Any, name: str, dist: Any) -> Any:
        params = self._chosen.get(trial.number, {})
        if name in params and contains(dist, params[name]):
            return params[name]
        return self._random.sample_independent(study, trial, name, dist)

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        self._chosen.pop(trial.number, None)

    # -- proposals -------------------------------------------------------------------------------
    def _propose(self, study: Any) -> Candidate | None:
        self._read_history(study)
        self.stats["proposals"] += 1
        start = time.perf_counter()
        startup = len(self._evaluated) < self.n_startup
        if startup and self.init == "random":
            cand = self._random_open(start)  # no pool: a random feasible candidate, costed one at a time
            self.stats["pool_seconds"] += time.perf_counter() - start
            if cand is not None:
                self._deferred += 1
                return cand
            start = time.perf_counter()  # the failed draw is counted above; what follows is pool growth
        # the pool rounds the cheap startup skipped are grown now, so the model sees the same pool size
        for _ in range(1 + (0 if startup else self._deferred)):
            self._grow_pool(time.perf_counter())
        if not startup:
            self._deferred = 0
        self.stats["pool_seconds"] += time.perf_counter() - start
        open_ = [c for c in self._pool.values() if c.key not in self._tried and len(c.costs)]
        if not open_:
            return None
        if startup:
            return self._startup(open_)
        start = time.perf_counter()
        best = self._best(open_)
        self.stats["model_seconds"] += time.perf_counter() - start
        return best

    def _random_open(self, start: float) -> Candidate | None:
        """A random feasible, untried candidate, drawn and costed one by one (at most ``pool_random``
        draws or ``pool_seconds``): a startup proposal costs one costing, not a pool."""
        for _ in range(self.pool_random):
            cand = self._cost({})
            if cand is not None and len(cand.costs) and cand.key not in self._tried:
                return cand
            if time.perf_counter() - start > self.pool_seconds:
                break
        return None

    def _startup(self, open_: list[Candidate]) -> Candidate:
        done = [c for c in self._evaluated.values() if len(c.costs)]
        if self.init == "random" or not done:
            return open_[int(self._rng.integers(len(open_)))]
        logs = np.log1p(np.abs(np.vstack([c.costs.min(axis=0) for c in (*done, *open_)])))
        x = self._features([*done, *open_], (logs.min(axis=0), logs.max(axis=0)))
        gaps = np.min(((x[len(done) :, None, :] - x[None, : len(done), :]) ** 2).sum(axis=2), axis=1)
        return open_[int(np.argmax(gaps))]

    def _read_history(self, study: Any) -> None:
        trials = study.get_trials(deepcopy=False)
        while self._read < len(trials) and trials[self._read].state.is_finished():
            t = trials[self._read]
            self._read += 1
            key = t.user_attrs.get("arch_key")
            if key is None:
                continue
            self._tried.add(key)
            if t.user_attrs.get("status") in ("trained", "stopped") and "accuracy" in t.user_attrs:
                self._done[key] = float(t.user_attrs["accuracy"])
                history = [float(v) for v in t.user_attrs.get("val_history") or ()]
                self._histories[key] = (history, t.user_attrs["status"] == "stopped")
                cand = self._pool.get(key) or self._cost(dict(t.params))
                if cand is not None:
                    self._evaluated[key] = cand

    def _grow_pool(self, start: float) -> None:
        front_params = [c.params for c in self._front_candidates()]
        plan = [None] * self.pool_random
        if front_params:
            plan += [front_params[int(self._rng.integers(len(front_params)))] for _ in range(self.pool_mutations)]
        for base in plan:
            if time.perf_counter() - start > self.pool_seconds and self._pool:
                break
            target = {} if base is None else mutated(base, self._dists, self._rng)
            self._cost(target)

    def _cost(self, target: dict[str, Any]) -> Candidate | None:
        """Cost the architecture ``target`` describes (missing parameters at random); cached by key."""
        from codesign.search.trial import _front

        ctx = self._ctx
        assert ctx is not None  # bound before any proposal
        probe = Probe(target, self._rng)
        arch = ctx.problem.sample(probe)
        self._dists.update(probe.distributions)
        key = json.dumps(ctx.problem.describe(arch), sort_keys=True, default=str)
        if key in self._pool:
            return self._pool[key]
        front, graph = _front(ctx, probe, ctx.problem.cost(arch))
        part, f = ctx.space.primary, ctx.formulation
        costs = [f.design_costs(p.totals, part, ctx.space.clock_ns) for p in front.points.get(part.name, ())]
        width = len(f.cost_metrics)
        extra = np.asarray(self.features(arch), dtype=float) if self.features else np.zeros(0)
        keep = front if graph is not None and ctx.mode == "nested" else None  # depends on the graph alone
        cand = Candidate(key, dict(probe.params), np.array(costs).reshape(-1, width), extra, keep)
        self._pool[key] = cand
        return cand

    def _front_candidates(self) -> list[Candidate]:
        cands = [c for c in self._evaluated.values() if len(c.costs)]
        if not cands:
            return []
        rows = np.array([np.concatenate([[-self._done[c.key]], c.costs.min(axis=0)]) for c in cands])
        return [cands[i] for i in nondominated(rows)]

    def _features(self, cands: list[Candidate], scale: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Per candidate: its encoded parameters, its best cost figures (log, scaled to [0, 1] over
        ``scale``) and its extra features; the parameter part is cached per key while the space's
        distributions stay the same."""
        signature = tuple(sorted(self._dists))
        if self._enc_signature != signature:
            self._enc_signature, self._encoder, self._encoded = signature, Encoder(self._dists), {}
        for c in cands:
            if c.key not in self._encoded:
                self._encoded[c.key] = np.concatenate([self._encoder.encode(c.params), c.extra])
        lo, hi = scale
        logs = np.log1p(np.abs(np.vstack([c.costs.min(axis=0) for c in cands])))
        cost = (logs - lo) / np.where(hi > lo, hi - lo, 1.0)
        return np.hstack([np.vstack([self._encoded[c.key] for c in cands]), cost])

    def _best(self, open_: list[Candidate]) -> Candidate:
        ctx = self._ctx
        assert ctx is not None
        done = list(self._evaluated.values())
        allc = [c for c in (*done, *open_) if len(c.costs)]
        logs = np.log1p(np.abs(np.vstack([c.costs.min(axis=0, keepdims=True) for c in allc])))
        scale = (logs.min(axis=0), logs.max(axis=0))
        y = self._labels(done)
        mu, sd = fit_predict(
            self.model, self._features(done, scale), y, self._features(open_, scale), self.seed, self._model_cache
        )
        archive = ctx.archive
        needed = np.array([ctx.formulation.needed_accuracy(c.costs, archive.accuracy, archive.costs) for c in open_])
        hopeful = mu + self.beta * sd > needed
        self.stats["pruned"] += int((~hopeful).sum())
        if not hopeful.any():
            hopeful = mu + 2 * self.beta * sd > needed  # nothing left at this optimism: widen once
        if not hopeful.any():
            return open_[int(np.argmax(mu + self.beta * sd - needed))]
        idx = np.flatnonzero(hopeful)
        front, box = self._objective_box(archive, [open_[i] for i in idx], mu[idx] + self.beta * sd[idx], mu[idx])
        score = expected_hv_improvement(front, [open_[i].costs for i in idx], mu[idx], sd[idx], box, self._rng)
        if not np.any(score > 0):  # improvements below the Monte Carlo resolution: most likely gain
            from scipy.stats import norm

            score = norm.cdf((mu[idx] - needed[idx]) / sd[idx])
        return open_[int(idx[int(np.argmax(score))])]

    def _labels(self, done: list[Candidate]) -> np.ndarray:
        """The model's targets: accuracies, early-stopped ones projected when ``stopped="projected"``."""
        y = np.array([self._done[c.key] for c in done])
        if self.stopped == "as_is":
            return y
        curves = [(h, self._done[k]) for k, (h, cut) in self._histories.items() if h and not cut]
        for i, c in enumerate(done):
            history, cut = self._histories.get(c.key, ([], False))
            rises = [final - h[len(history) - 1] for h, final in curves if history and len(h) >= len(history)]
            if cut and rises:  # never below what it recorded (train() tests its best epoch so far)
                y[i] = max(y[i], min(history[-1] + float(np.median(rises)), 1.0))
        return y

    def _objective_box(self, archive: Any, cands: list[Candidate], optimistic: np.ndarray, mean: np.ndarray):
        """The current front (minimized: -accuracy, costs) and the box the improvement is measured in.

        The low corner reaches every candidate's optimistic accuracy. The upper corner (the reference
        point) is, with ``box="front"``, the nadir of the front that looks reachable: the evaluated front
        together with the candidates at their *predicted* accuracy, plus 10 % of the span (Ishibuchi et al.,
        "How to specify a reference point in hypervolume calculation for fair performance comparison",
        Evol. Comput. 26(3), 2018). Dominated evaluations (a diverged network, a slow design) then neither
        stretch the box nor thin out the Monte Carlo points where the front can still move, and a region
        weighs what it weighs against the front. ``box="archive"`` spans every evaluated design and every
        candidate at its optimistic accuracy (the rule before; measured worse, see docs/search.md).
        """
        rows = np.column_stack([-archive.accuracy, archive.costs]) if len(archive.accuracy) else None
        front = rows[nondominated(rows)] if rows is not None else np.zeros((0, 1 + cands[0].costs.shape[1]))

        def at(accuracy: np.ndarray) -> np.ndarray:
            return np.vstack([np.column_stack([np.full(len(c.costs), -a), c.costs]) for c, a in zip(cands, accuracy)])

        hopeful = at(optimistic)
        every = hopeful if rows is None else np.vstack([rows, hopeful])
        low, high = every.min(axis=0), every.max(axis=0)
        if self.box == "front":
            reach = np.vstack([front, at(mean)])
            high = reach[nondominated(reach)].max(axis=0)
        high = high + 0.1 * np.maximum(high - low, 1e-9)
        return front, (low, high)
