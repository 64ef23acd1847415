"""Designs HLS does not build as written: the unroll / array-partition limit of fully unrolled layers.

Mechanism: under the Latency strategy every dense/convolution unit is fully unrolled (the ``Product1`` /
``Product2`` loops of ``nnet_dense_latency.h``, at any reuse factor: the reuse factor only sets the
interval and the ``ALLOCATION`` of multipliers) and its ``mult``/``acc`` arrays (``n_in * n_out`` and
``n_out`` elements) are completely partitioned (``#pragma HLS ARRAY_PARTITION ... complete``), as are
io_parallel layer inputs. hls4ml's ``build_prj.tcl`` caps complete partitioning with
``config_array_partition -maximum_size 4096`` (``MaximumSize``, hls4ml v0.8-v1.3).

* **Vivado HLS refuses** such a layer: ``ERROR: [XFORM 203-504] Stop unrolling loop 'Product1' ...
  [HLS 200-70] Pre-synthesis failed`` (hls4ml issue #1013, Vivado HLS 2019.2; also XFORM 203-103 on the
  partition). The maintainers' answer there is the design that builds: the Resource strategy with a
  reuse factor of at least ``n_in * n_out / 4096``. So that is what the estimate prices
  (:func:`serial_reuse_factor`: the smallest legal reuse factor that keeps at most 4,096 products per
  cycle), with a warning naming the layer, the limit and the design priced. Kinds hls4ml builds under
  the Latency strategy only (depthwise / separable, ``LATENCY_ONLY_KINDS``) have no such fallback: they
  are priced as written and the warning says the tool refuses them.
* **Vitis HLS** ignores the option (:mod:`hw_templates.tools`; its log says ``ERROR: [HLS 200-642] The
  'config_array_partition -maximum_size' command is not supported``, which hls4ml's ``catch`` swallows)
  and builds such layers, but it does not balance their accumulation into an adder tree: the layer's
  latency grows with the fan-in, one adder after the other (:func:`adder_depth`). Seen in the instance
  tables of the ArgyKokk csynth reports (Vitis HLS 2021.1, 5 ns, xc7z007s-2): the 196x56 first layer of
  the MNIST MLP (5,876 non-zero weights, 105 per output) takes 48 cycles and the 561x20 one of the HAR
  MLP (342 non-zero per output) 192 cycles, at interval 1 in both, ~2 additions per cycle, where the
  balanced trees of the same designs' smaller layers (274x8 = 2,192 products, 159 per output: 9
  cycles) follow ``log2(fan_in)``. The mechanism is priced for latency; its resources (these layers
  use 33-413 DSPs where a full unroll would give thousands) are priced as written, and the warning
  says so.

The tool is the row's ``tool_version`` (:func:`hw_templates.tools.resolve_tool_version`) or, without one,
the ``backend`` (``vivado``: Vivado HLS; every other backend: no limit applied).
"""

from __future__ import annotations

from dataclasses import replace

from cost_models.analytical._num import Num, log2_ceil, maximum, where
from cost_models.ir import Layer
from hw_templates.config import LATENCY_ONLY_KINDS, Backend, HardwareConfig, ResolvedLayerHardware, Strategy
from hw_templates.reuse import valid_reuse_factors
from hw_templates.tools import resolve_tool_version

__all__ = [
    "PARTITION_LIMIT",
    "adder_depth",
    "buildable_settings",
    "partition_limit",
    "serial_reuse_factor",
    "unroll_warnings",
    "vivado_hls",
]

#: hls4ml's default ``MaximumSize`` (``config_array_partition -maximum_size``), v0.8-v1.3 writers.
PARTITION_LIMIT = 4096


def adder_depth(n_products: Num, fan_in: Num) -> Num:
    """Adders on the path of one output of a Latency-strategy unit: a balanced tree, ``ceil(log2(fan_in))``
    levels, up to :data:`PARTITION_LIMIT` products; above it the chain of ``fan_in - 1`` additions Vitis
    HLS builds (module docstring; Vivado HLS refuses such units, :func:`buildable_settings`).

    Example:
        >>> adder_depth(21 * 3, 22), adder_depth(196 * 56, 106)
        (5, 105)
    """
    return where(n_products > PARTITION_LIMIT, maximum(fan_in - 1, 0), log2_ceil(fan_in))


def vivado_hls(hw: HardwareConfig) -> bool:
    """True when Vivado HLS builds the design: its ``tool_version`` names a Vivado HLS release, else the
    ``vivado`` backend (the rule of :func:`partition_limit`; matvec.py's multiplier registers use it)."""
    if hw.tool_version:
        return resolve_tool_version(hw.tool_version).backend == "vivado"
    return hw.backend == Backend.VIVADO


def partition_limit(hw: HardwareConfig) -> int | None:
    """Most products a Latency-strategy unit may unroll with the tool ``hw`` names (None: no limit)."""
    if hw.tool_version:
        return resolve_tool_version(hw.tool_version).partition_limit
    return PARTITION_LIMIT if hw.backend == Backend.VIVADO else None


def _products(layer: Layer) -> int:
    units = layer.mult_units()  # cached on the layer; this runs for every Latency weight layer of an estimate
    if len(units) == 1:
        return units[0][0] * units[0][1]
    return max((n_in * n_out for n_in, n_out in units), default=0)


def serial_reuse_factor(layer: Layer, limit: int | None) -> int | None:
    """Reuse factor of the Resource-strategy design priced instead of a Latency layer the tool refuses.

    None when the layer builds as written (within ``limit``, no limit, or a Latency-only kind).

    Example:
        >>> from cost_models.ir import GraphBuilder
        >>> from hw_templates.precision import FixedType
        >>> b = GraphBuilder("c", (32, 32, 256), FixedType(16, 6))
        >>> serial_reuse_factor(b.add("conv2d", filters=256, kernel=(3, 3), padding="same"), 4096)
        144
    """
    if limit is None or layer.kind.value in LATENCY_ONLY_KINDS or len(layer.mult_units()) != 1:
        return None
    (n_in, n_out) = layer.mult_units()[0]
    if n_in * n_out <= limit:
        return None
    need = -(-n_in * n_out // limit)
    legal = valid_reuse_factors(n_in, n_out)
    return next((rf for rf in legal if rf >= need), legal[-1])


def buildable_settings(layer: Layer, settings: ResolvedLayerHardware, hw: HardwareConfig) -> ResolvedLayerHardware:
    """The settings of the design the tool builds: a Latency layer above the unroll limit of a tool that
    refuses it becomes the Resource design that builds (module docstring); otherwise ``settings``."""
    if settings.strategy is not Strategy.LATENCY or not layer.kind.has_weights or _products(layer) <= PARTITION_LIMIT:
        return settings
    serial = serial_reuse_factor(layer, partition_limit(hw))
    if serial is None:
        return settings
    return replace(settings, strategy=Strategy.RESOURCE, reuse_factor=max(serial, settings.reuse_factor))


def unroll_warnings(layer: Layer, hw: HardwareConfig) -> tuple[str, ...]:
    """Warnings for a Latency-strategy layer whose fully unrolled arrays exceed the partition limit
    (module docstring); the caller checks the strategy."""
    products = _products(layer)
    if not layer.kind.has_weights or products <= PARTITION_LIMIT:
        return ()
    head = (
        f"warning: layer {layer.name!r} unrolls {products:,} products under the Latency strategy, above "
        f"hls4ml's array-partition limit of {PARTITION_LIMIT:,} (config_array_partition -maximum_size)"
    )
    limit = partition_limit(hw)
    if limit is None:
        backend = getattr(hw.backend, "value", hw.backend)
        tool = "Vitis HLS" if hw.tool_version or backend == Backend.VITIS.value else f"the {backend} backend's tool"
        return (
            f"{head}: {tool} builds it without a balanced adder tree (latency priced as a chain of additions "
            "over the fan-in; resources priced as written, measured Vitis HLS 2021.1 designs used far fewer "
            "DSPs); prefer the Resource strategy",
        )
    tool = f"Vivado HLS {hw.tool_version}" if hw.tool_version else "Vivado HLS"
    serial = serial_reuse_factor(layer, limit)
    if serial is None:
        return (f"{head}: {tool} refuses to build it (XFORM 203-504); no Resource fallback for this kind",)
    return (
        f"{head}: {tool} refuses to build it (XFORM 203-504); priced as the design that builds, the Resource "
        f"strategy at reuse factor {serial}",
    )
