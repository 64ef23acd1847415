"""Lookup-table cost model calibrated on real synthesis results, with prediction intervals.

Registered as ``"lut"``: ``get_cost_model("lut")`` uses the shipped default table
(``cost_models/data/lut_default.json``, built by ``scripts/build_lut_table.py`` from the shared
calibration data), ``get_cost_model("lut:path/to/table.json")`` a user's table (``codesign calibrate``
builds one from CSVs or hls4ml projects holding synthesis reports).

How it works, in one screen:

* The table stores *corrections* to the analytical model, ``log((measured + 1) / (analytical + 1))``,
  per discrete key (target, dominant layer kind, io type, strategy, DSP slice, HLS tool) on a grid over
  ``log2`` multiplications per cycle and ``log2`` operand bit product (:mod:`._features`), smoothed
  from the calibration rows and interpolated linearly in log space (:mod:`._table`).
* Where the full key has no data the lookup backs off to pooled keys (HLS tools, then part families
  pooled) and says so; where nothing supports the query the analytical estimate stands and
  ``Cost.notes`` says ``"lut: no support for <kind>/<io>/<strategy> (...), analytical used"``.
* Every estimate carries 90 % intervals in ``Cost.intervals`` (lut, ff, dsp, bram18, latency_cycles)
  from cross-fitted residual quantiles, widened where the support is thin (:mod:`._build`).
* :func:`fit_probability` turns those intervals into the probability that the design fits its part.

Example:
    >>> from cost_models import get_cost_model
    >>> get_cost_model("lut", "synth").name
    'lut'
"""

from __future__ import annotations

from cost_models.base import register_cost_model
from cost_models.cost import Target
from cost_models.lut._build import Sample, analytical_fingerprint, build_table, make_samples
from cost_models.lut._features import METRICS, DesignPoint, architecture_group, design_point
from cost_models.lut._firmware import FirmwareDesign, read_firmware
from cost_models.lut._model import DEFAULT_TABLE, LutModel, load_table
from cost_models.lut._probability import FIT_RESOURCES, INTERVAL_LEVEL, fit_probability, resource_fit_probability
from cost_models.lut._project import read_project
from cost_models.lut._sources import read_sources
from cost_models.lut._table import LEVELS, SHIPPED_TABLE_SETTINGS, Bucket, Hit, LutTable, Quantiles, TableSettings

__all__ = [
    "DEFAULT_TABLE",
    "FIT_RESOURCES",
    "INTERVAL_LEVEL",
    "LEVELS",
    "METRICS",
    "SHIPPED_TABLE_SETTINGS",
    "Bucket",
    "DesignPoint",
    "FirmwareDesign",
    "Hit",
    "LutModel",
    "LutTable",
    "Quantiles",
    "Sample",
    "TableSettings",
    "analytical_fingerprint",
    "architecture_group",
    "build_table",
    "design_point",
    "fit_probability",
    "load_table",
    "make_samples",
    "read_firmware",
    "read_project",
    "read_sources",
    "resource_fit_probability",
]


def _factory(target: Target, arg: str | None) -> LutModel:
    return LutModel(target, load_table(arg) if arg else None)


register_cost_model("lut", _factory)
