"""Hardware templates: the leaf package (standard library and numpy only).

FPGA parts and their resources, hls4ml's reuse-factor rule, fixed-point types and hardware settings.
Nothing here imports torch, brevitas, hls4ml or the sibling packages ``cost_models`` and ``codesign``.
"""

from hw_templates.parts import FpgaPart, declare_part, list_parts, resolve_part
from hw_templates.reuse import (
    check_reuse_factor,
    closest_valid_reuse_factor,
    is_valid_reuse_factor,
    valid_reuse_factors,
)

__all__ = [
    "FpgaPart",
    "check_reuse_factor",
    "closest_valid_reuse_factor",
    "declare_part",
    "is_valid_reuse_factor",
    "list_parts",
    "resolve_part",
    "valid_reuse_factors",
]
