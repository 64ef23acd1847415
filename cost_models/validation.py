"""Out-of-source validation: every source of synthesis results predicted by models fitted without it.

A user's design comes from none of the sources the models were fitted on, so the honest accuracy figure
holds whole sources out (never random rows of one design, never one architecture of a source whose
siblings stay in). :func:`hold_out_sources` splits the records into folds of whole sources
(:func:`source_folds`), and for each fold fits the analytical constants (with the ``fit`` callable the
caller passes, e.g. ``scripts/fit_analytical.fit_constants``) and builds the lookup table on the other
folds only, then predicts the fold's rows with both models. :func:`in_sample` gives the shipped models'
predictions of every row beside it. :func:`summarize` turns predictions into the figures reported:
median absolute % error and the share within +-10 % / +-25 %, per model, kind of row and target.

Kinds of row: ``hls`` (csynth, the HLS estimate) and ``synth`` (vsynth and impl: after synthesis).

Example:
    >>> records, _ = load_synth_dir()  # doctest: +SKIP
    >>> result = hold_out_sources(records, source_folds(records), fit=None)  # doctest: +SKIP
    >>> summarize(result.predictions, "analytical", "hls", "lut").median_ape  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import multiprocessing
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from cost_models.analytical import AnalyticalConstants, AnalyticalModel
from cost_models.cost import Cost, Target
from cost_models.intervals import INTERVAL_TARGETS, TAIL, choose_tails, fit_intervals, layer_mix, row_kind
from cost_models.lut import (
    SHIPPED_TABLE_SETTINGS,
    LutModel,
    LutTable,
    analytical_fingerprint,
    build_table,
    design_point,
    make_samples,
)
from cost_models.synth_data import SynthRecord
from hw_templates.errors import CalibrationError, CodesignError

__all__ = [
    "MODELS",
    "TARGETS",
    "Coverage",
    "Prediction",
    "Summary",
    "ValidationResult",
    "hold_out_sources",
    "in_sample",
    "interval_coverage",
    "residuals",
    "scored",
    "source_folds",
    "summarize",
]

logger = logging.getLogger(__name__)

#: What is predicted and scored, in report order (``Cost`` attribute names).
TARGETS = ("lut", "ff", "dsp", "bram18", "latency_cycles", "ii_cycles")
MODELS = ("analytical", "lut")
#: Refits the analytical constants on training records (e.g. ``fit_analytical.fit_constants``).
Fitter = Callable[[Sequence[SynthRecord]], AnalyticalConstants]


@dataclass(frozen=True)
class Prediction:
    """Both models' figures for one record, and what was measured.

    Attributes:
        source: the record's source (the unit held out).
        kind: ``"hls"`` (csynth rows) or ``"synth"`` (vsynth / impl rows).
        mix: the network's layer mix (:func:`layer_mix`).
        fold: the fold that held this source out (-1 for in-sample predictions).
        measured: ``{target: value}`` for the targets the row knows.
        predicted: ``{model: {target: value}}``.
        supported: per metric, True where the lookup table had support (it applied a correction).
        weight_kinds: the kinds of the network's weight layers, sorted (e.g. ``("lstm",)``), so a
            benchmark can report a layer kind's rows apart.
    """

    source: str
    kind: str
    mix: str
    fold: int
    measured: Mapping[str, float]
    predicted: Mapping[str, Mapping[str, float]]
    supported: Mapping[str, bool] = field(default_factory=dict)
    weight_kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValidationResult:
    """Predictions, and the records no model could estimate (reason -> count)."""

    predictions: list[Prediction]
    refused: Counter[str]
    folds: Mapping[str, int]


@dataclass(frozen=True)
class Summary:
    """Figures of one model on one kind of row and target (absolute errors relative to measured)."""

    rows: int
    median_ape: float
    within10: float
    within25: float


def source_folds(records: Sequence[SynthRecord], min_rows: int = 1) -> dict[str, int]:
    """Fold index of each source: sources with at least ``min_rows`` records are a fold each; smaller ones
    are held out together (in name order) until their fold holds ``min_rows`` records. ``min_rows=1``
    is leave-one-source-out; a larger value saves refits and still never trains on a held-out source."""
    counts = Counter(r.source for r in records)
    folds: dict[str, int] = {}
    pending: list[str] = []
    for source in sorted(counts, key=lambda s: (-counts[s], s)):
        if counts[source] >= min_rows:
            folds[source] = len(set(folds.values()))
        else:
            pending.append(source)
    fold, held = len(set(folds.values())), 0
    for source in sorted(pending):
        folds[source] = fold
        held += counts[source]
        if held >= min_rows:
            fold, held = fold + 1, 0
    return folds


def _cost_value(cost: Cost, target: str) -> float:
    return float(getattr(cost, target))


def _predict(
    records: Sequence[SynthRecord], constants: AnalyticalConstants | None, table: LutTable, fold: int
) -> tuple[list[Prediction], Counter[str]]:
    models = {t: (AnalyticalModel(t, constants), LutModel(t, table, constants=constants)) for t in Target}
    out: list[Prediction] = []
    refused: Counter[str] = Counter()
    for record in records:
        analytical, lut = models[record.target]
        try:
            base, corrected = analytical.estimate(record.graph, record.hw), lut.estimate(record.graph, record.hw)
            hits = table.lookup_all(design_point(record.graph, record.hw, base, record.target))
        except CodesignError as exc:
            refused[f"{type(exc).__name__}: {str(exc).split(':', 1)[-1].strip()[:80]}"] += 1
            continue
        measured = {t: float(record.measured[k]) for t, k in _MEASURED.items() if k in record.measured}
        out.append(
            Prediction(
                source=record.source,
                kind=row_kind(record.target),
                mix=layer_mix(record.graph),
                fold=fold,
                measured=measured,
                predicted={
                    "analytical": {t: _cost_value(base, t) for t in TARGETS},
                    "lut": {t: _cost_value(corrected, t) for t in TARGETS},
                },
                supported={m: hits.get(m) is not None for m in TARGETS},
                weight_kinds=tuple(sorted({x.kind.value for x in record.graph.weight_layers()})),
            )
        )
    return out, refused


#: Prediction target -> key of ``SynthRecord.measured``.
_MEASURED = {t: t for t in TARGETS}


def hold_out_sources(
    records: Sequence[SynthRecord],
    folds: Mapping[str, int],
    fit: Fitter | None,
    log: Callable[[str], None] | None = None,
    jobs: int = 1,
) -> ValidationResult:
    """Predict each fold of sources with models fitted on the other folds only.

    Args:
        records: every record.
        folds: fold index per source (:func:`source_folds`).
        fit: refits the analytical constants on the training records; None keeps the shipped constants
            (then only the lookup table is out of sample: a quick check, not the honest figure).
        log: called with one line per fold (timing).
        jobs: worker processes (forked, where the platform allows; the folds are independent).
    """
    order = sorted(set(folds.values()))
    global _JOB  # read by forked workers, which inherit it instead of pickling the records
    _JOB = (records, folds, fit)
    try:
        if jobs > 1 and "fork" in multiprocessing.get_all_start_methods():
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                results = pool.imap(_run_fold, order)
                outcomes = [_logged(r, log) for r in results]
        else:
            outcomes = [_logged(_run_fold(fold), log) for fold in order]
    finally:
        _JOB = None
    predictions = [p for fold_predictions, _, _ in outcomes for p in fold_predictions]
    refused = sum((c for _, c, _ in outcomes), Counter())
    return ValidationResult(predictions, refused, dict(folds))


_JOB: tuple | None = None


def _logged(outcome: tuple, log: Callable[[str], None] | None) -> tuple:
    if log is not None and outcome[2]:
        log(outcome[2])
    return outcome


def _run_fold(fold: int) -> tuple[list[Prediction], Counter[str], str]:
    assert _JOB is not None
    records, folds, fit = _JOB
    train = [r for r in records if folds[r.source] != fold]
    test = [r for r in records if folds[r.source] == fold]
    if not test:
        return [], Counter(), ""
    constants = fit(train) if fit is not None else None
    samples, _ = make_samples(train, constants)
    try:
        provenance = {"analytical_fingerprint": analytical_fingerprint(constants)}
        table = build_table(samples, SHIPPED_TABLE_SETTINGS, provenance)
    except CalibrationError:  # nothing usable to fit on: the fold cannot be predicted
        return [], Counter(), f"fold {fold}: no usable training row"
    predictions, refused = _predict(test, constants, table, fold)
    held = ", ".join(sorted({r.source for r in test}))
    return predictions, refused, f"fold {fold}: {len(train)} training rows, {len(test)} held out ({held})"


def in_sample(records: Sequence[SynthRecord], table: LutTable | None = None) -> ValidationResult:
    """The shipped models (constants and table fitted on all the data) on every record."""
    from cost_models.lut import load_table

    predictions, refused = _predict(records, None, table or load_table(), -1)
    return ValidationResult(predictions, refused, {})


def scored(predictions: Sequence[Prediction], kind: str | None, target: str) -> list[Prediction]:
    """The predictions of ``kind`` (None: every kind) whose row measured ``target`` above zero."""
    return [p for p in predictions if (kind is None or p.kind == kind) and p.measured.get(target, 0) > 0]


def errors(predictions: Sequence[Prediction], model: str, kind: str | None, target: str) -> np.ndarray:
    """Signed relative errors ``(predicted - measured) / measured`` of the :func:`scored` rows."""
    rows = scored(predictions, kind, target)
    return np.array([(p.predicted[model][target] - p.measured[target]) / p.measured[target] for p in rows], float)


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])])


def summarize(
    predictions: Sequence[Prediction], model: str, kind: str | None, target: str, by_source: bool = False
) -> Summary:
    """Median absolute % error and the % of rows within +-10 % / +-25 % (NaN without rows).

    With ``by_source`` every source weighs the same (each row weighs 1 / its source's rows), so the
    figure is not the error of the one or two sources with hundreds of rows.
    """
    err = np.abs(errors(predictions, model, kind, target))
    if not err.size:
        return Summary(0, math.nan, math.nan, math.nan)
    weights = np.ones(err.size)
    if by_source:
        sources = [p.source for p in scored(predictions, kind, target)]
        counts = Counter(sources)
        weights = np.array([1.0 / counts[s] for s in sources])
    share = weights / weights.sum()
    return Summary(
        int(err.size),
        100 * _weighted_median(err, weights),
        100 * float(share[err <= 0.10].sum()),
        100 * float(share[err <= 0.25].sum()),
    )


@dataclass(frozen=True)
class AbsoluteSummary:
    """Absolute errors (in the target's units) over *every* row that measured the target, 0 included.

    The % figures of :func:`summarize` skip rows that measured 0 (a relative error has no denominator
    there), so a design predicted at 30 DSPs that uses none is not in them; these figures are.
    """

    rows: int
    zero_rows: int
    zero_missed: int
    median_abs: float


def summarize_absolute(
    predictions: Sequence[Prediction], model: str, kind: str | None, target: str, by_source: bool = False
) -> AbsoluteSummary:
    """Median ``|predicted - measured|`` over every row that measured ``target`` (0 included), the rows
    that measured 0 and those of them predicted above 0.5; ``by_source`` weighs every source the same."""
    rows = [p for p in predictions if (kind is None or p.kind == kind) and target in p.measured]
    if not rows:
        return AbsoluteSummary(0, 0, 0, math.nan)
    err = np.array([abs(p.predicted[model][target] - p.measured[target]) for p in rows], float)
    weights = np.ones(err.size)
    if by_source:
        counts = Counter(p.source for p in rows)
        weights = np.array([1.0 / counts[p.source] for p in rows])
    zero = [p for p in rows if p.measured[target] == 0]
    missed = sum(1 for p in zero if p.predicted[model][target] > 0.5)
    return AbsoluteSummary(len(rows), len(zero), missed, _weighted_median(err, weights))


def residuals(predictions: Sequence[Prediction], models: Sequence[str] = MODELS) -> list[tuple]:
    """``(model, kind, mix, target, source, measured, predicted)`` of every prediction with a measured
    target (the input of :func:`cost_models.intervals.fit_intervals`)."""
    return [
        (model, p.kind, p.mix, t, p.source, p.measured[t], p.predicted[model][t])
        for p in predictions
        for model in models
        for t in INTERVAL_TARGETS
        if t in p.measured
    ]


@dataclass(frozen=True)
class Coverage:
    """How often held-out rows fall inside intervals built without their fold, and how wide those are."""

    rows: int
    inside: float
    inside_by_source: float
    median_width: float
    median_width_by_source: float = math.nan
    #: % of each source's rows inside (which sources the intervals miss, and so what sets the coverage).
    inside_per_source: Mapping[str, float] = field(default_factory=dict)


def interval_coverage(
    predictions: Sequence[Prediction], model: str, by_mix: bool = False, nested: bool = True
) -> dict[tuple[str, ...], Coverage]:
    """Per (kind, target), or per (kind, layer mix, target) with ``by_mix``: each fold's rows against
    intervals fitted on the other folds' residuals only, their tails chosen (``nested``, as for the
    shipped table) by :func:`cost_models.intervals.choose_tails` on those folds' residuals too; without
    ``nested`` at :data:`cost_models.intervals.TAIL` throughout.

    ``inside`` pools rows, ``inside_by_source`` weighs every source the same; ``median_width`` is the
    median of ``(high - low) / predicted`` in % (rows predicted above zero), pooled over rows (so the
    width the source with most rows gets), ``median_width_by_source`` with every source weighing the same.
    """
    hits: dict[tuple[str, ...], list[tuple[str, bool, float]]] = defaultdict(list)
    for fold in sorted({p.fold for p in predictions}):
        train = residuals([p for p in predictions if p.fold != fold], (model,))
        units = {p.source: p.fold for p in predictions}
        table = fit_intervals(train, tail=choose_tails(train, units) if nested else TAIL)
        for p in (p for p in predictions if p.fold == fold):
            for t in (t for t in INTERVAL_TARGETS if t in p.measured):
                value = p.predicted[model][t]
                interval = table.interval(model, p.kind, p.mix, t, value)
                if interval is None:
                    continue
                width = (interval[1] - interval[0]) / value if value > 0 else math.nan
                key = (p.kind, p.mix, t) if by_mix else (p.kind, t)
                hits[key].append((p.source, interval[0] <= p.measured[t] <= interval[1], width))
    return {key: _coverage(rows) for key, rows in hits.items()}


def _coverage(rows: Sequence[tuple[str, bool, float]]) -> Coverage:
    counts = Counter(s for s, _, _ in rows)
    weights = np.array([1.0 / counts[s] for s, _, _ in rows])
    inside = np.array([ok for _, ok, _ in rows], dtype=float)
    finite = np.array([not math.isnan(w) for _, _, w in rows])
    widths = np.array([w for _, _, w in rows])[finite]
    return Coverage(
        len(rows),
        100 * float(inside.mean()),
        100 * float((weights * inside).sum() / weights.sum()),
        100 * float(np.median(widths)) if widths.size else math.nan,
        100 * _weighted_median(widths, weights[finite]) if widths.size else math.nan,
        {s: 100 * float(inside[[x == s for x, _, _ in rows]].mean()) for s in sorted(counts)},
    )
