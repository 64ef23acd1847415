"""The HLS tool versions the cost models know, and what differs between them.

hls4ml drives Vivado HLS (its ``Vivado`` backend; AMD UG902) or Vitis HLS (``Vitis`` backend; AMD
UG1399, which replaced Vivado HLS from release 2020.2). What the cost models read from the version:

* ``tool``/``backend``: which of the two it is.
* ``uncertainty_fraction``: the tool's default clock uncertainty, 12.5 % of the period in Vivado HLS
  (UG902 "Specifying the Clock Frequency") and 27 % in Vitis HLS (UG1399 "Specifying the Clock
  Frequency"). hls4ml v0.5-v0.6 set none (the tool default applied); v0.8+ write ``ClockUncertainty``
  into ``build_prj.tcl`` (12.5 % Vivado backend, 27 % Vitis backend from v1.0).
* ``partition_limit``: hls4ml's ``build_prj.tcl`` runs ``config_array_partition -maximum_size 4096``
  (``MaximumSize``, v0.8-v1.3): Vivado HLS refuses to partition an array of more elements completely
  (XFORM 203-103), which every fully unrolled Latency-strategy layer asks for (``mult``, ``acc`` and the
  io_parallel input arrays: ``#pragma HLS ARRAY_PARTITION complete``; XFORM 203-504 on the unroll,
  hls4ml issue #1013), so the analytical model prices such a layer as the Resource design that builds
  (``cost_models.analytical.limits``). Vitis HLS dropped the option (hls4ml wraps it in ``catch``) and
  builds such arrays, slowly; ``None`` there (priced as written, with a warning).

Patch releases (``2019.2.1``, ``2020.1.1``) behave as their release. Add a version by appending a row
to :data:`TOOL_VERSIONS` with its tool; an unknown version is an error that lists the known ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from hw_templates.errors import SpecError

__all__ = ["TOOL_VERSIONS", "HlsTool", "resolve_tool_version"]

_VIVADO, _VITIS = "Vivado HLS", "Vitis HLS"


@dataclass(frozen=True)
class HlsTool:
    """One HLS tool release.

    Attributes:
        version: release, ``"YYYY.N"``.
        tool: ``"Vivado HLS"`` or ``"Vitis HLS"``.
        backend: the hls4ml backend that drives it (``"vivado"`` / ``"vitis"``).
        uncertainty_fraction: default clock uncertainty as a fraction of the period.
        partition_limit: most elements hls4ml's build script lets the tool partition completely
            (``None``: no limit).
    """

    version: str
    tool: str
    backend: str
    uncertainty_fraction: float
    partition_limit: int | None


def _release(version: str, tool: str) -> HlsTool:
    if tool == _VIVADO:
        return HlsTool(version, tool, "vivado", 0.125, 4096)
    return HlsTool(version, tool, "vitis", 0.27, None)


_VIVADO_RELEASES = ("2017.1", "2017.2", "2017.3", "2017.4", "2018.1", "2018.2", "2018.3", "2019.1", "2019.2", "2020.1")
_VITIS_RELEASES = ("2020.2", "2021.1", "2021.2", "2022.1", "2022.2", "2023.1", "2023.2", "2024.1", "2024.2", "2025.1")

#: Every known release by version (read-only).
TOOL_VERSIONS: Mapping[str, HlsTool] = MappingProxyType(
    {v: _release(v, _VIVADO) for v in _VIVADO_RELEASES} | {v: _release(v, _VITIS) for v in _VITIS_RELEASES}
)


def resolve_tool_version(version: str) -> HlsTool:
    """The release ``version`` names (``"2019.2"``, ``"2019.2.1"``, ``"v2023.2"``).

    Raises:
        SpecError: an unknown version; the message lists the known ones.

    Example:
        >>> resolve_tool_version("2019.2.1").tool, resolve_tool_version("2023.2").partition_limit
        ('Vivado HLS', None)
    """
    text = str(version).strip().lower().removeprefix("v")
    release = ".".join(text.split(".")[:2])
    tool = TOOL_VERSIONS.get(release)
    if tool is None:
        raise SpecError(
            f"tool_version: expected a known HLS tool release (Vivado HLS {', '.join(_VIVADO_RELEASES)}; "
            f"Vitis HLS {', '.join(_VITIS_RELEASES)}), got {version!r}"
        )
    return tool
