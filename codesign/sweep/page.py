"""``sweep.html``: one self-contained page (inline SVG plots, no scripts) summarising a sweep."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from codesign.search._report_plots import _pyplot
from codesign.search._report_plots import svg as _svg
from codesign.search.report import _STYLE
from codesign.sweep.spec import Sweep

__all__ = ["sweep_page"]

_COLUMNS = (
    "cell", "trials", "budget", "completed", "trainings", "rejected", "failed", "lost", "best_accuracy",
    "hypervolume", "pareto_size", "wall_seconds", "cpu_seconds", "peak_memory_mb", "exports", "energy_wh", "co2_g",
)  # fmt: skip
_AXES = (("latency_ns", "latency (ns)", True), ("lut_dsp", "LUT + DSP share of the part", False))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape("" if value is None else str(value))


def _table(rows: Sequence[Mapping[str, Any]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ("report", *_COLUMNS))
    body = []
    for r in rows:
        link = f'<a href="{html.escape(str(r["folder"]))}/report.html">report</a>'
        body.append("<tr><td>" + link + "</td>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c in _COLUMNS) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _overlay(fronts: Sequence[Mapping[str, Any]], title: str, x: str, xlabel: str, logx: bool) -> str:
    """Accuracy against one cost of every cell's Pareto designs, one series per cell."""
    fig, ax = _pyplot().subplots(figsize=(6.4, 4.4), dpi=100)
    cells = sorted({str(r["cell"]) for r in fronts})
    for label in cells:
        pts = sorted((float(r[x]), float(r["accuracy"])) for r in fronts if r["cell"] == label)
        ax.step([p[0] for p in pts], [p[1] for p in pts], where="post", marker="o", ms=3, lw=1, label=label)
    if logx and all(float(r[x]) > 0 for r in fronts):
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy (test split)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if len(cells) <= 12:
        ax.legend(loc="lower right", fontsize=7)
    return _svg(fig)


def _groups(fronts: Sequence[Mapping[str, Any]], key: str) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = {}
    for r in fronts:
        out.setdefault(str(r.get(key, "")), []).append(r)
    return out


def sweep_page(
    sweep: Sweep,
    table: Sequence[Mapping[str, Any]],
    fronts: Sequence[Mapping[str, Any]],
    reference: Any,
    footprint: Mapping[str, Any] | None = None,
) -> str:
    """The page: cells table (links to each cell's report), the sweep's footprint, Pareto fronts per part
    and per dataset."""
    from codesign.footprint import format_footprint

    plots = []
    for part, rows in sorted(_groups(fronts, "part").items()):
        plots += [_overlay(rows, f"Pareto fronts on {part}", x, label, log) for x, label, log in _AXES]
    datasets = {str(c.config.get("dataset", "digits")) for c in sweep.cells}
    if len(datasets) > 1:
        by_cell = {c.label: str(c.config.get("dataset", "digits")) for c in sweep.cells}
        tagged = [{**r, "dataset_name": by_cell.get(str(r["cell"]), "")} for r in fronts]
        for name, rows in sorted(_groups(tagged, "dataset_name").items()):
            plots.append(_overlay(rows, f"Pareto fronts on {name} (every part)", "latency_ns", "latency (ns)", True))
    ref = ", ".join(f"{v:.4g}" for v in reference)
    total = ""
    if footprint:
        line = format_footprint(dict(footprint)).replace("footprint: ", "", 1)
        total = f"<p class='note'><b>Whole sweep</b> (trials of every cell, every worker): {html.escape(line)}</p>"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>sweep {html.escape(sweep.name)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>Sweep {html.escape(sweep.name)}</h1>"
        f"<p class='note'>{len(sweep.cells)} cells over {', '.join(map(html.escape, sweep.keys))}. Hypervolume of "
        f"each cell's Pareto designs on its first part in (1 - accuracy, latency ns, LUT+DSP share), as a "
        f"fraction of the box up to one reference point ({ref}) for every cell. Designs of each cell: its report.</p>"
        f"<h2>Cells</h2>{_table(table)}{total}<h2>Pareto fronts</h2><div class='plots'>{''.join(plots)}</div>"
        "</body></html>\n"
    )
