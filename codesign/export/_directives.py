"""HLS directives the design prices but hls4ml 1.3 does not write: the multiplier mapping.

The cost model prices ``multiplier_impl: dsp | fabric`` (``cost_models.analytical.matvec``): every
product on DSP slices, or every product in LUT fabric. hls4ml 1.3 has no setting for it and its build
script (``build_prj.tcl``) leaves the choice to the tool. Vitis HLS (2020.2 and later) takes it as one
model-wide directive, ``config_op mul -impl dsp|fabric`` (UG1399, "config_op"); the exporter writes that
line into the project's ``build_prj.tcl`` right after hls4ml's own ``config_schedule`` line and reads
the file back. What cannot be written is refused before export, naming the fix:

* another backend (Vivado HLS has no ``config_op``; Quartus and Catapult have no such switch);
* a layer whose own ``multiplier_impl`` differs from the model-wide one (``config_op`` is model-wide; a
  per-variable ``BIND_OP`` would need edits inside hls4ml's ``nnet_utils`` templates).

``auto`` writes nothing (the tool's default, which is what the cost model prices for ``auto``).
"""

from __future__ import annotations

from pathlib import Path

from cost_models.ir import LayerGraph
from hw_templates.config import Backend, HardwareConfig, MultiplierImpl
from hw_templates.errors import ExportError

__all__ = ["BUILD_SCRIPT", "check_build_script", "multiplier_directive", "multiplier_problem", "write_directives"]

BUILD_SCRIPT = "build_prj.tcl"
#: The hls4ml 1.3 build-script line the directive follows (templates/vivado/build_prj.tcl).
_ANCHOR = "config_schedule -enable_dsp_full_reg=false"


def multiplier_directive(hw: HardwareConfig) -> str | None:
    """The build-script line for the design's multiplier mapping, or None for ``auto``."""
    if hw.multiplier_impl is MultiplierImpl.AUTO:
        return None
    return f"config_op mul -impl {hw.multiplier_impl.value}"


def multiplier_problem(graph: LayerGraph, hw: HardwareConfig, backend: Backend) -> str | None:
    """Why the design's multiplier mapping cannot be written into the project, or None when it can."""
    for layer in graph.weight_layers():
        own = hw.resolve(layer.name).multiplier_impl
        if own is not hw.multiplier_impl:
            return (
                f"layer {layer.name!r}: multiplier_impl {own.value} differs from the model-wide "
                f"{hw.multiplier_impl.value}; the HLS directive (config_op mul -impl) is model-wide: set "
                "multiplier_impl once for the whole design"
            )
    if hw.multiplier_impl is not MultiplierImpl.AUTO and backend is not Backend.VITIS:
        return (
            f"multiplier_impl {hw.multiplier_impl.value} is written as Vitis HLS's 'config_op mul -impl', which "
            f"backend {backend.value} has no equivalent of; use backend vitis or multiplier_impl auto"
        )
    return None


def write_directives(project: Path, hw: HardwareConfig) -> str | None:
    """Write the multiplier directive into the written project's build script; returns the line.

    Raises:
        ExportError: the build script has no line to anchor the directive to.
    """
    line = multiplier_directive(hw)
    if line is None:
        return None
    script = project / BUILD_SCRIPT
    text = script.read_text(encoding="utf-8")
    if _ANCHOR not in text:
        raise ExportError(f"{script}: no '{_ANCHOR}' line to place '{line}' after (not an hls4ml 1.3 script?)")
    script.write_text(text.replace(_ANCHOR, f"{_ANCHOR}\n{line}", 1), encoding="utf-8")
    return line


def check_build_script(project: Path, hw: HardwareConfig) -> None:
    """Read the build script back: it holds exactly the design's multiplier directive (none for ``auto``).

    Raises:
        ExportError: the directive is missing, or another ``config_op mul`` line is there.
    """
    script = project / BUILD_SCRIPT
    if not script.is_file():
        return  # backends without a Tcl build script; multiplier_problem refused non-auto mappings there
    lines = [x.strip() for x in script.read_text(encoding="utf-8").splitlines()]
    found = [x for x in lines if x.startswith("config_op mul")]
    wanted = multiplier_directive(hw)
    if found != ([wanted] if wanted else []):
        raise ExportError(
            f"{script}: multiplier directives {found or 'none'} (design: {wanted or 'none, multiplier_impl auto'})"
        )
