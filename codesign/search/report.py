"""``report.html``: one self-contained page per run (Pareto plots, per-layer costs, config, statistics).

Plotting library: matplotlib, rendered to inline SVG. The page then needs no JavaScript and no network,
opens in any browser, headless ones included (CI screenshots), and stays small (tens of kB per plot);
plotly, the other candidate (optuna's own plots use it), embeds ~3.5 MB of JavaScript in every
self-contained file and draws nothing without a script engine. Interactive exploration of the study is
still there: the study opens in optuna-dashboard.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from codesign.search._report_plots import hv_axes, hv_plot, hypervolume_curve, reference_point, scatter
from codesign.search.metrics import RESOURCE_FIELDS, metric_label
from codesign.search.records import trial_status
from codesign.search.results import RunView, hardware_on_part
from hw_templates.atomic import atomic_write_text

__all__ = ["hypervolume_curve", "write_report"]

_MAX_BREAKDOWNS = 24
_MAX_PARETO_ROWS = 60
_INTERVAL_NOTE = (
    '<p class="note">Error bars: the cost model\'s 90 % prediction intervals of the Pareto designs, from its '
    "out-of-source residuals on real synthesis results (cost_models/data/intervals.json). fit_probability: "
    "the probability that every resource fits the part under those intervals. On a linear axis, bars wider "
    "than half the designs' span beyond them are clipped at the frame (designs.csv has every interval).</p>"
)
_MAX_TRIAL_ROWS = 300
_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1300px;color:#222;
font-size:14px}
h1{font-size:24px}h2{font-size:19px;margin-top:30px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#f1f1f1}td.l,th.l{text-align:left}.plots{display:flex;flex-wrap:wrap;gap:8px}
.plots svg{width:620px;height:auto}pre{background:#f7f7f7;padding:10px;overflow:auto}
details{margin:4px 0}summary{cursor:pointer}.note{color:#555}
"""


def _trainings_of(view: RunView) -> dict[int, int]:
    count, out = 0, {}
    for t in sorted(view.study.get_trials(deepcopy=False), key=lambda t: t.number):
        count += 1 if t.user_attrs.get("trained") else 0
        out[t.number] = count
    return out


def _hv_section(rows: list[dict], view: RunView, part: str) -> str:
    """The search-progress plot over the run's objectives, against the reference point stored in the study
    (fixed, per part, the first time a report is written)."""
    axes = hv_axes(["accuracy", *view.cost_metrics])
    stored = dict(view.study.user_attrs.get("hv_reference") or {})
    entry = stored.get(part)
    if not entry or entry.get("axes") != axes:
        entry = {"axes": axes, "reference": reference_point(rows, axes)}
        stored[part] = entry
        view.study.set_user_attr("hv_reference", stored)
    return hv_plot(rows, axes, entry["reference"], _trainings_of(view))


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], left: Sequence[str] = ()) -> str:
    head = "".join(f'<th class="{"l" if c in left else ""}">{html.escape(metric_label(c))}</th>' for c in columns)
    body = []
    for row in rows:
        cells = "".join(f'<td class="{"l" if c in left else ""}">{_fmt(row.get(c, ""))}</td>' for c in columns)
        body.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return html.escape(str(value))


def _breakdowns(view: RunView, rows: list[dict]) -> str:
    from cost_models import get_cost_model
    from cost_models.ir import LayerGraph

    model = get_cost_model(view.attrs.get("config", {}).get("cost_model", "analytical"))
    out = []
    for row in [r for r in rows if r["pareto"]][:_MAX_BREAKDOWNS]:
        trial = view.trial(row["trial"])
        entry = trial.user_attrs["designs"][int(row["design_id"].split("-")[1])]
        if entry.get("hardware") is None or "graph" not in trial.user_attrs:
            continue
        graph = LayerGraph.from_json(trial.user_attrs["graph"])
        cost = model.estimate(graph, hardware_on_part(entry["hardware"], view.parts[row["part"]]))
        cols = ["name", "kind", "strategy", "reuse_factor", "lut", "ff", "dsp", "bram18", "latency_cycles", "ii_cycles"]
        part = view.parts[row["part"]]
        layers = [
            {k: getattr(c, k) or ("" if k in ("strategy", "reuse_factor") else 0) for k in cols} for c in cost.layers
        ]
        shares = [r for r in RESOURCE_FIELDS if getattr(part, r)]
        for layer, c in zip(layers, cost.layers):  # each layer's share of the part
            layer.update({f"{r} %": 100 * getattr(c, r) / getattr(part, r) for r in shares})
        cols = cols + [f"{r} %" for r in shares]
        title = (
            f"design {row['design_id']} on {row['part']}: accuracy {row['accuracy']:.4f}, "
            f"latency {row['latency_ns']:.4g} ns, LUT {row['lut']:,.0f}, DSP {row['dsp']:,.0f}"
        )
        out.append(
            f"<details><summary>{html.escape(title)}</summary>{_table(layers, cols, ('name', 'kind'))}</details>"
        )
    return "".join(out) or '<p class="note">No Pareto design with a layer graph (user cost figures).</p>'


def _statistics(view: RunView) -> dict[str, Any]:
    trials = view.study.get_trials(deepcopy=False)
    statuses: dict[str, int] = {}
    hw_configs = hw_seconds = train_seconds = 0.0
    for t in trials:
        status = trial_status(t)
        statuses[status] = statuses.get(status, 0) + 1
        hw = t.user_attrs.get("hw_search") or {}
        hw_configs += float(hw.get("configurations", 0))
        hw_seconds += float(hw.get("seconds", 0.0))
        train_seconds += float(t.user_attrs.get("train_seconds", 0.0))
    trained = sum(1 for t in trials if t.user_attrs.get("trained"))
    return {
        "trials": len(trials),
        **{f"trials {k}": v for k, v in sorted(statuses.items())},
        "trainings (expensive evaluations)": trained,
        "training seconds (total)": round(train_seconds, 1),
        "hardware configurations searched": int(hw_configs),
        "hardware search seconds (total)": round(hw_seconds, 2),
        "hardware configurations / s": round(hw_configs / hw_seconds) if hw_seconds > 0 else "",
        "mode / formulation": f"{view.attrs.get('mode')} / {view.attrs.get('formulation')}",
        "objectives": ", ".join(view.attrs.get("value_names", [])),
        "cost metrics": ", ".join(view.cost_metrics),
        "budgets": ", ".join(b.describe() for b in view.budgets) or "none",
        "versions": ", ".join(f"{k} {v}" for k, v in view.attrs.get("versions", {}).items()),
        **_footprint(view),
        **_retargeted(view),
    }


def _retargeted(view: RunView) -> dict[str, Any]:
    moved = view.attrs.get("retarget")
    if not moved:
        return {}
    source = f"{', '.join(moved.get('from_parts', []))} at {moved.get('from_clock_ns', '?')} ns"
    return {"retargeted from": f"{source} (codesign retarget: same trainings, hardware searched again)"}


def _footprint(view: RunView) -> dict[str, Any]:
    """The run's footprint (all sessions added up, codesign.footprint), as statistics rows."""
    from codesign.footprint import total

    f = total(view.study.user_attrs.get("footprints", []))
    if not f:
        return {}
    return {
        "footprint: wall / CPU seconds (children)": f"{f['wall_s']:.0f} / {f['cpu_s'] + f['cpu_children_s']:.0f} "
        f"({f['cpu_children_s']:.0f}) in {f['sessions']} session(s)",
        "footprint: peak memory (MB)": f"{max(f['peak_rss_mb'], f['peak_rss_children_mb']):.0f}",
        "footprint: trainings / exports": f"{f['trainings']} / {f['exports']}",
        "footprint: energy (Wh)": f"{f['energy_j'] / 3600:.2f}, {f['energy_source']}",
        "footprint: CO2 (g)": f"{f['co2_g']:.1f} at {f['grid_g_per_kwh']:g} g/kWh",
    }


def _trials_table(view: RunView) -> str:
    rows = []
    for t in view.study.get_trials(deepcopy=False)[:_MAX_TRIAL_ROWS]:
        a = t.user_attrs
        row = {"trial": t.number, "status": trial_status(t), "accuracy": a.get("accuracy", "")}
        row.update({"train s": a.get("train_seconds", ""), "designs": len(a.get("designs", []))})
        rows.append({**row, "reason": a.get("reason", "")})
    return _table(rows, ["trial", "status", "accuracy", "train s", "designs", "reason"], ("status", "reason"))


def _exports(index: Path) -> str:
    """The run's exported designs (``codesign export`` / ``codesign demo``) and their C-simulation check."""
    if not index.is_file():
        return ""
    try:
        designs = json.loads(index.read_text(encoding="utf-8")).get("designs", [])
    except (OSError, ValueError):
        return '<h2>Exported designs</h2><p class="note">exports/exports.json is unreadable</p>'
    rows = [
        {
            "design_id": d.get("design_id"),
            "status": d.get("status"),
            "mismatches": d.get("bit_exact_mismatches"),
            "model accuracy": d.get("model_accuracy"),
            "C-sim accuracy": d.get("csim_accuracy"),
            "folder": f"exports/{d.get('folder', '')}",
        }
        for d in designs
    ]
    columns = ["design_id", "status", "mismatches", "model accuracy", "C-sim accuracy", "folder"]
    note = '<p class="note">hls4ml projects, C model compiled with g++ and run on the test split</p>'
    return f"<h2>Exported designs ({len(rows)})</h2>{note}" + _table(rows, columns, ("design_id", "status", "folder"))


def write_report(path: str | Path, view: RunView, rows: list[dict[str, Any]]) -> Path:
    """Render the report of ``view`` with its designs ``rows`` (from ``designs_table``) to ``path``."""
    import yaml

    sections = [f"<h1>Co-design run: {html.escape(view.study.study_name)}</h1>"]
    stats = _statistics(view)
    sections.append("<h2>Run statistics</h2>" + _table([{"what": k, "value": v} for k, v in stats.items()],
                                                      ["what", "value"], ("what", "value")))  # fmt: skip
    pareto_cols = ["design_id", "accuracy", "latency_ns", "ii_cycles", "lut", "ff", "dsp", "bram18", "util_max",
                   "family", "hardware"]  # fmt: skip
    if rows and "score" in rows[0]:
        pareto_cols.insert(1, "score")
    if any("fit_probability" in r for r in rows):
        pareto_cols.insert(-2, "fit_probability")
    extra = [m for m in view.cost_metrics if m not in pareto_cols]  # e.g. power_w, energy, a user's figure
    pareto_cols[3:3] = extra
    for part in view.part_order:
        prow = [r for r in rows if r["part"] == part and r["feasible"]]
        known = (*RESOURCE_FIELDS, "util_max", "lut_dsp", "power_w", "energy_nj_per_inference")
        resource = next((m for m in view.cost_metrics if m in known), "lut_dsp")
        plots = [
            scatter(prow, "latency_ns", "accuracy", resource, f"{part}: accuracy vs latency", logx=True),
            scatter(prow, resource, "accuracy", "latency_ns", f"{part}: accuracy vs {resource}"),
            scatter(prow, "latency_ns", resource, "accuracy", f"{part}: {resource} vs latency", logx=True),
            _hv_section(prow, view, part),
        ] if prow else []  # fmt: skip
        sections.append(f"<h2>Pareto designs on {html.escape(part)} ({sum(r['pareto'] for r in prow)} of "
                        f"{len(prow)} feasible designs)</h2>")  # fmt: skip
        sections.append(f'<div class="plots">{"".join(plots)}</div>')
        if any("lut_low" in r for r in prow):
            sections.append(_INTERVAL_NOTE)
        front = [r for r in prow if r["pareto"]]
        sections.append(_table(front[:_MAX_PARETO_ROWS], pareto_cols, ("design_id", "family", "hardware")))
        if len(front) > _MAX_PARETO_ROWS:
            sections.append(f'<p class="note">{len(front) - _MAX_PARETO_ROWS} more in pareto.csv</p>')
    if len(view.part_order) > 1:
        good = [r for r in rows if r.get("all_parts")]
        cols = ["design_id", "part", "accuracy"] + [f"util_max_{p}" for p in view.part_order] + ["hardware"]
        sections.append(f"<h2>Designs good on all parts ({len(good)})</h2>" + _table(good, cols, ("design_id", "part")))
    sections.append(_exports(Path(path).parent / "exports" / "exports.json"))
    sections.append("<h2>Per-layer cost of each Pareto design</h2>" + _breakdowns(view, rows))
    config = yaml.safe_dump(view.attrs.get("config", {}), sort_keys=False)
    sections.append(f"<h2>Config</h2><pre>{html.escape(config)}</pre>")
    sections.append("<h2>Trials</h2>" + _trials_table(view))
    sections.append(f"<h2>Problem</h2>{_problem(view.attrs.get('problem', {}))}")
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(view.study.study_name)}</title>"
        f"<style>{_STYLE}</style></head><body>{''.join(sections)}</body></html>"
    )
    out = Path(path)
    atomic_write_text(out, page)  # a kill mid-write never leaves half a page
    return out


def _problem(problem: Mapping[str, Any]) -> str:
    """The problem record, compact: long number lists (a dataset's per-feature means) summarised."""

    def short(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: short(v) for k, v in value.items()}
        if isinstance(value, list) and len(value) > 8 and all(isinstance(v, (int, float)) for v in value):
            arr = np.asarray(value, dtype=float)
            return f"{len(value)} values, {arr.min():.3g} .. {arr.max():.3g} (mean {arr.mean():.3g})"
        return value

    lines: list[str] = []

    def flat(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                flat(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            lines.append(f"{prefix}: {value if isinstance(value, str) else json.dumps(value)}")

    flat("", short(problem))
    return f"<pre>{html.escape(chr(10).join(lines)[:4000])}</pre>"
