"""The report's plots (matplotlib, inline SVG; see :mod:`codesign.search.report` for why).

Axis labels carry the units of the metric table (:func:`codesign.search.metrics.metric_label`). Each
scatter draws the 2-D Pareto front of its own two axes as a step line (the designs no other plotted
design beats on both), circles the run's Pareto designs (all objectives) in red, and draws designs of
early-stopped trainings apart (grey crosses) so that their low accuracies do not hide the others. Where
the cost model gives 90 % prediction intervals (``<metric>_low``/``_high`` columns of designs.csv), the
run's Pareto designs carry them as error bars on the cost axes.

The hypervolume curve is over the run's own objectives (accuracy and the cost metrics), each
normalised by a reference point fixed the first time the report is written and stored in the study
(``hv_reference``), so the curves of later reports of the same run stay comparable.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from codesign.search.metrics import METRIC_TABLE, metric_label
from codesign.search.pareto import hypervolume, nondominated

__all__ = ["hv_axes", "hv_plot", "hypervolume_curve", "scatter"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display: render to SVG only
    import matplotlib.pyplot as plt

    return plt


def svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    _pyplot().close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _sign(metric: str) -> float:
    entry = METRIC_TABLE.get(metric)
    return -1.0 if entry is not None and entry.maximize else 1.0


def scatter(rows: list[dict], x: str, y: str, color: str, title: str, logx: bool = False) -> str:
    """Designs on ``x`` vs ``y`` coloured by ``color``, with this panel's own 2-D front."""
    fig, ax = _pyplot().subplots(figsize=(6.4, 4.4), dpi=100)
    xs, ys = (np.array([r[k] for r in rows], dtype=float) for k in (x, y))
    cs = np.array([r[color] for r in rows], dtype=float)
    stopped = np.array([r.get("status") == "stopped" for r in rows])
    pareto = np.array([bool(r["pareto"]) for r in rows])
    kept = ~stopped
    points = ax.scatter(xs[kept], ys[kept], c=cs[kept], cmap="viridis", s=18, alpha=0.55, label="designs")
    if stopped.any():
        ax.scatter(xs[stopped], ys[stopped], marker="x", color="0.6", s=14, alpha=0.6, label="stopped early")
    ax.scatter(xs[pareto], ys[pareto], facecolors="none", edgecolors="red", s=60, linewidths=1.4, label="Pareto")
    _error_bars(ax, rows, pareto, x, y, clip_x=not logx)
    front = nondominated(np.stack([_sign(x) * xs, _sign(y) * ys], axis=1)) if len(rows) else []
    if len(front):
        order = front[np.argsort(xs[front])]
        ax.step(xs[order], ys[order], where="post", color="red", alpha=0.5, linewidth=1, label="front of this panel")
    fig.colorbar(points, ax=ax, label=metric_label(color))
    if logx and np.all(xs > 0):
        ax.set_xscale("log")
    kept_ys = ys[kept & np.isfinite(ys)]
    if y == "accuracy" and stopped.any() and len(kept_ys):  # early-stopped accuracies do not set the scale
        low, high = float(kept_ys.min()), float(kept_ys.max())
        ax.set_ylim(low - 0.05 * (high - low + 1e-3), high + 0.05 * (high - low + 1e-3))
    ax.set_xlabel(metric_label(x))
    ax.set_ylabel(metric_label(y))
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return svg(fig)


def _spread(rows: list[dict], mask: np.ndarray, key: str) -> np.ndarray | None:
    """``(2, n)`` distances from each masked row's ``key`` to its interval ends (``key_low``/``key_high``)."""
    if not any(f"{key}_low" in r for r, m in zip(rows, mask) if m):
        return None
    picked = [r for r, m in zip(rows, mask) if m]
    value = np.array([float(r[key]) for r in picked])
    low = np.array([float(r.get(f"{key}_low", r[key])) for r in picked])
    high = np.array([float(r.get(f"{key}_high", r[key])) for r in picked])
    return np.nan_to_num(np.stack([np.maximum(value - low, 0), np.maximum(high - value, 0)]))


def _error_bars(ax: Any, rows: list[dict], mask: np.ndarray, x: str, y: str, clip_x: bool) -> None:
    """The cost model's 90 % intervals of the ``mask`` designs on whichever axes have them. On a linear
    axis the panel stays within half the designs' own span beyond them (wider bars are clipped at the
    frame), so wide intervals do not squash the designs; a log axis (``clip_x`` False) shows them whole."""
    if not mask.any():
        return
    xerr, yerr = _spread(rows, mask, x), _spread(rows, mask, y)
    if xerr is None and yerr is None:
        return
    xs = np.array([float(r[x]) for r, m in zip(rows, mask) if m])
    ys = np.array([float(r[y]) for r, m in zip(rows, mask) if m])
    before = {"x": ax.get_xlim(), "y": ax.get_ylim()}  # the designs' own scale
    ax.errorbar(xs, ys, xerr=xerr, yerr=yerr, fmt="none", ecolor="red", alpha=0.35, elinewidth=0.9, capsize=2,
                label="90 % interval (Pareto)")  # fmt: skip
    for axis, values, err in (("x", xs, xerr), ("y", ys, yerr)):
        if err is None or (axis == "x" and not clip_x):
            continue
        (low, high), put = before[axis], ax.set_xlim if axis == "x" else ax.set_ylim
        margin, pad = (high - low) / 2, (high - low) / 50
        ends = float((values - err[0]).min()) - pad, float((values + err[1]).max()) + pad
        put(max(min(low, ends[0]), low - margin), min(max(high, ends[1]), high + margin))


def hv_axes(objectives: Sequence[str]) -> list[str]:
    """The hypervolume's metrics: the run's objectives (accuracy first when present)."""
    return list(dict.fromkeys(objectives))


def _points(rows: Sequence[Mapping[str, Any]], axes: Sequence[str]) -> np.ndarray:
    """Minimised coordinates: ``1 - accuracy`` (or ``-value`` of another maximised metric), costs as they are."""
    cols = []
    for m in axes:
        values = np.array([float(r[m]) for r in rows], dtype=float)
        cols.append(1.0 - values if m == "accuracy" else _sign(m) * values)
    return np.stack(cols, axis=1) if cols else np.zeros((len(rows), 0))


def reference_point(rows: Sequence[Mapping[str, Any]], axes: Sequence[str]) -> list[float]:
    """1.1 x the worst value of each axis over ``rows`` (1 for 1 - accuracy)."""
    pts = _points(rows, axes)
    worst = pts.max(axis=0) if len(pts) else np.ones(len(axes))
    return [1.0 if m == "accuracy" else float(w * 1.1 if w > 0 else w * 0.9 + 1e-9) for m, w in zip(axes, worst)]


def hypervolume_curve(
    rows: Sequence[Mapping[str, Any]], trainings_of: Mapping[int, int], reference: Sequence[float], axes: Sequence[str]
) -> tuple[list[int], list[float]]:
    """Hypervolume of the designs ``rows`` over ``axes`` (as fractions of the reference box) after each
    number of trainings (``trainings_of``: per trial number, trainings spent when it finished)."""
    ref = np.asarray(reference, dtype=float)
    scale = np.where(ref != 0, np.abs(ref), 1.0)
    pts = _points(rows, axes) / scale
    trained = np.array([trainings_of[r["trial"]] for r in rows])
    xs, ys = [], []
    for n in sorted(set(trained.tolist())):
        xs.append(n)
        ys.append(hypervolume(pts[trained <= n], ref / scale))
    return xs, ys


def hv_plot(rows: list[dict], axes: Sequence[str], reference: Sequence[float], trainings_of: Mapping[int, int]) -> str:
    if not rows or len(axes) < 2:
        return ""
    xs, ys = hypervolume_curve(rows, trainings_of, reference, axes)
    fig, ax = _pyplot().subplots(figsize=(6.4, 4.4), dpi=100)
    ax.step(xs, ys, where="post")
    ax.set_xlabel("trainings")
    names = " x ".join("(1 - accuracy)" if m == "accuracy" else metric_label(m) for m in axes)
    ax.set_ylabel("hypervolume (fraction of the reference box)")
    ax.set_title(f"search progress: {names}", fontsize=9)
    ax.grid(alpha=0.3)
    return svg(fig)
