"""The surrogate sampler's parts: architecture encoding, accuracy models with uncertainty, and expected
hypervolume improvement with exact costs (see :mod:`codesign.search.surrogate`).

Models (``model=``), all fitted on the evaluated architectures' encodings and accuracies:

* ``gp``: a Gaussian process, Matern 5/2 kernel with one length scale per feature plus a white-noise
  term (scikit-learn; Rasmussen & Williams, "Gaussian Processes for Machine Learning", 2006, ch. 4-5);
* ``forest``: a random forest; mean and spread of the trees' predictions (Hutter et al., SMAC,
  LION 2011);
* ``ensemble``: five small MLPs on bootstrap resamples; mean and spread of the members
  (Lakshminarayanan et al., "Deep Ensembles", NeurIPS 2017, without their likelihood heads).

``scripts/bench_search.py --models`` measures them out of sample on the shipped table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["MODELS", "Encoder", "expected_hv_improvement", "fit_predict"]

MODELS = ("gp", "forest", "ensemble")
#: Smallest predictive spread (accuracy units): evaluation noise between seeds is about this large.
MIN_SD = 0.005


class Encoder:
    """Parameters -> a vector in [0, 1] per feature, from the distributions seen so far.

    Integers and floats are scaled to [0, 1] (log scale when the distribution is); categoricals with
    numeric choices by their rank (8 < 16 < 32 stays ordered); other categoricals one-hot. A parameter
    a conditional space did not sample is -1 (one-hot: all zero).
    """

    def __init__(self, distributions: Mapping[str, Any]) -> None:
        self.names = sorted(distributions)
        self.dists = dict(distributions)

    @property
    def width(self) -> int:
        return sum(self._width(self.dists[n]) for n in self.names)

    @staticmethod
    def _width(dist: Any) -> int:
        choices = getattr(dist, "choices", None)
        if choices is None or _numeric(choices):
            return 1
        return len(choices)

    def encode(self, params: Mapping[str, Any]) -> np.ndarray:
        out: list[float] = []
        for name in self.names:
            dist, value = self.dists[name], params.get(name)
            choices = getattr(dist, "choices", None)
            if choices is not None and not _numeric(choices):
                out += [1.0 if value == c else 0.0 for c in choices]
            elif value is None:
                out.append(-1.0)
            elif choices is not None:
                ranks = sorted(choices)
                out.append(ranks.index(value) / max(len(ranks) - 1, 1) if value in ranks else -1.0)
            else:
                out.append(_scaled(float(value), dist))
        return np.array(out)


def _numeric(choices: Sequence[Any]) -> bool:
    return all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in choices)


def _scaled(value: float, dist: Any) -> float:
    low, high = float(dist.low), float(dist.high)
    if getattr(dist, "log", False) and low > 0:
        value, low, high = math.log(value), math.log(low), math.log(high)
    return (value - low) / (high - low) if high > low else 0.0


def fit_predict(
    kind: str, x: np.ndarray, y: np.ndarray, xq: np.ndarray, seed: int, cache: dict | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Fit model ``kind`` on ``(x, y)`` and return the predictive mean and spread at ``xq``.

    ``cache`` (a dict the caller keeps): the GP re-optimizes its kernel only when the data grew by a
    quarter since the last optimization, and reuses the fitted kernel otherwise (a fit is then one
    Cholesky factorization).
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        if kind == "gp":
            mu, sd = _gp(x, y, xq, seed, {} if cache is None else cache)
        elif kind == "forest":
            mu, sd = _forest(x, y, xq, seed)
        elif kind == "ensemble":
            mu, sd = _ensemble(x, y, xq, seed)
        else:
            raise ValueError(f"model: expected one of {', '.join(MODELS)}, got {kind!r}")
    return mu, np.maximum(sd, MIN_SD)


def _gp(x: np.ndarray, y: np.ndarray, xq: np.ndarray, seed: int, cache: dict) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    fresh = cache.get("width") != x.shape[1] or len(x) >= 1.25 * cache.get("n", 0)
    if fresh:
        kernel = ConstantKernel(1.0, (1e-2, 1e2)) * Matern(np.ones(x.shape[1]), (5e-2, 2e1), nu=2.5) + WhiteKernel(
            1e-2, (1e-5, 1.0)
        )
    else:
        kernel = cache["kernel"]
    gp = GaussianProcessRegressor(
        kernel,
        normalize_y=True,
        random_state=seed,
        n_restarts_optimizer=0,
        optimizer="fmin_l_bfgs_b" if fresh else None,
    )
    gp.fit(x, y)
    if fresh:
        cache.update(kernel=gp.kernel_, n=len(x), width=x.shape[1])
    mu, sd = gp.predict(xq, return_std=True)
    return mu, sd


def _forest(x: np.ndarray, y: np.ndarray, xq: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.ensemble import RandomForestRegressor

    forest = RandomForestRegressor(n_estimators=100, min_samples_leaf=2, random_state=seed).fit(x, y)
    per_tree = np.stack([tree.predict(xq) for tree in forest.estimators_])
    return per_tree.mean(axis=0), per_tree.std(axis=0)


def _ensemble(x: np.ndarray, y: np.ndarray, xq: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.neural_network import MLPRegressor

    rng = np.random.default_rng(seed)
    preds = []
    for member in range(5):
        idx = rng.integers(0, len(x), len(x))
        net = MLPRegressor(hidden_layer_sizes=(32, 32), alpha=1e-3, max_iter=500, random_state=seed + member)
        preds.append(net.fit(x[idx], y[idx]).predict(xq))
    stack = np.stack(preds)
    return stack.mean(axis=0), stack.std(axis=0)


def expected_hv_improvement(
    front: np.ndarray,
    candidates: Sequence[np.ndarray],
    mu: np.ndarray,
    sd: np.ndarray,
    box: tuple[np.ndarray, np.ndarray],
    rng: np.random.Generator,
    points: int = 2048,
) -> np.ndarray:
    """Expected hypervolume improvement of each candidate over ``front`` (Emmerich et al., "Single- and
    multiobjective evolutionary optimization assisted by Gaussian random field metamodels", IEEE TEVC
    10(4), 2006), by Monte Carlo over ``points`` uniform points of ``box``.

    The objective space is minimized, column 0 is ``-accuracy``, the rest are cost metrics. Costs are
    exact, so a point ``p`` of the box that the front does not dominate is gained by a candidate exactly
    when one of its designs costs at most ``p``'s costs and its accuracy reaches ``-p[0]``; with the
    accuracy ~ N(mu, sd) that has probability ``Phi((mu + p[0]) / sd)``, and the expectation is exact
    given the points.

    Args:
        front: ``(n, m)`` non-dominated objective vectors of the evaluated designs.
        candidates: per candidate, its designs' cost vectors ``(k, m - 1)``.
        mu, sd: predicted accuracy mean and spread per candidate.
        box: lower and upper corners (the upper one is the reference point).
    """
    from scipy.special import ndtr

    low, high = box
    sample = low + rng.random((points, len(low))) * (high - low)
    volume = float(np.prod(high - low)) / points
    if len(front):
        dominated = np.zeros(points, dtype=bool)
        for f in front:
            dominated |= np.all(f[None, :] <= sample, axis=1)
        sample = sample[~dominated]
    out = np.zeros(len(candidates))
    sizes = np.array([len(d) for d in candidates])
    if not len(sample) or not sizes.sum():
        return out
    threshold, cost_part = -sample[:, 0], sample[:, 1:]
    designs = np.vstack([d for d in candidates if len(d)])
    # covered[j, s]: design j costs at most sample s's costs (one comparison per cost column)
    covered = np.ones((len(designs), len(sample)), dtype=bool)
    for col in range(designs.shape[1]):
        covered &= designs[:, col, None] <= cost_part[None, :, col]
    by_candidate = np.zeros((len(candidates), len(sample)), dtype=bool)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])[sizes > 0]
    by_candidate[sizes > 0] = np.logical_or.reduceat(covered, starts, axis=0)
    gain = ndtr((mu[:, None] - threshold[None, :]) / sd[:, None])
    return volume * np.where(by_candidate, gain, 0.0).sum(axis=1)
