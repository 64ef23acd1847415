"""Named hardware templates: preconfigured, known-good hls4ml configurations and what each leaves open.

A template fixes some hardware knobs and opens the others to search. ``None`` in a knob means "open":
the search takes the values the user's parameter ranges allow (``hardware:`` in a search config); a
tuple restricts the knob to those values (one value: fixed). Templates never change what the network
computes, except :data:`dsp_free`'s weight-width rule, which the search checks on the architecture
before training (an architecture with wider weights is not a candidate for that template).

Templates and their sources (hls4ml 1.3.0 templates under ``templates/vivado/nnet_utils``):

* ``low_latency_dataflow``: ``io_parallel``, ``Strategy: Latency``, reuse factor 1: every product has
  its own multiplier and the whole network is one pipelined dataflow (``nnet_dense_latency.h``); the
  hls4ml default for the lowest latency (Duarte et al., JINST 13 P07027, 2018).
* ``latency_reuse``: ``io_parallel``, Latency strategy with the reuse factor open: HLS shares
  multipliers by ``ceil(n_in * n_out / rf)`` (``multiplier_limit``, ``nnet_dense_latency.h``).
* ``resource_reuse``: ``io_parallel``, ``Strategy: Resource``, reuse factor open (only hls4ml's legal
  values, :mod:`hw_templates.reuse`): weights in ROM/BRAM, one multiplier serves ``rf`` products
  (``nnet_dense_resource.h``).
* ``streaming_cnn``: ``io_stream`` with line-buffer convolutions (``nnet_conv2d_stream.h``,
  ``ConvImplementation: LineBuffer``); strategy, reuse factor and ``ParallelizationFactor`` open;
  FIFO depths as the user's ranges say (default: hls4ml's one tensor per FIFO, which never waits).
* ``streaming_cnn_small_fifos``: the same with FIFOs sized by the cost model's occupancy bound
  (``fifo_depths: sized``, :class:`~hw_templates.config.FifoDepths`): the analytical counterpart of
  hls4ml's co-simulation FIFO depth optimization (hls4ml docs, "FIFO Buffer Depth Optimization");
  FIFOs at forks and joins of branched graphs stay one tensor deep.
* ``dsp_free``: Latency strategy, io_parallel, reuse factor open, weights of at most 6 bits so every
  product is a LUT multiplier, and a DSP budget of 0. The 6-bit bound is where Vivado/Vitis HLS stops
  building products with one narrow operand in LUTs, bracketed by synthesis data (wa-hls4ml rows,
  Vitis HLS 2023.2: 2-6-bit weights x 16-bit data use 0 DSPs, 8-16-bit weights use DSPs); the same
  bound as ``cost_models.analytical`` ``lut_mult_max_bits``.

How to add a template: append a :class:`HardwareTemplate` to ``_TEMPLATES`` with a one-line summary
and a source for the choice; the registry tests check every entry automatically.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from hw_templates.config import ConvImplementation, FifoDepths, IoType, Strategy
from hw_templates.errors import SpecError, bad_value

__all__ = ["HardwareTemplate", "get_template", "list_templates", "template_names"]


@dataclass(frozen=True)
class HardwareTemplate:
    """A named hardware configuration family.

    Attributes:
        name: registry name (lower case, ``snake_case``).
        summary: one line for ``codesign list templates``.
        io_types: allowed io types (hls4ml ``IOType``, model-wide).
        strategies: allowed strategies of weight layers; ``None``: open.
        reuse_factors: allowed reuse factors (only values legal for a layer are used); ``None``: open.
        parallelization: whether convolutions' ``ParallelizationFactor`` is open (else 1).
        conv_implementation: streamed convolution implementation.
        max_weight_bits: widest weight type an architecture may have under this template, or ``None``.
        max_dsp: DSP budget every design of this template must meet, or ``None``.
        fifo_depths: io_stream FIFO depth modes (:class:`FifoDepths`); ``None``: open.
        source: where the configuration comes from.

    Example:
        >>> get_template("low_latency_dataflow").fixes()["reuse_factor"]
        '1'
    """

    name: str
    summary: str
    io_types: tuple[IoType, ...]
    strategies: tuple[Strategy, ...] | None
    reuse_factors: tuple[int, ...] | None
    parallelization: bool
    conv_implementation: ConvImplementation = ConvImplementation.LINE_BUFFER
    max_weight_bits: int | None = None
    max_dsp: int | None = None
    fifo_depths: tuple[FifoDepths, ...] | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if not self.io_types:
            raise SpecError(bad_value(f"template {self.name!r} io_types", self.io_types, "at least one io type"))
        if self.strategies is not None and not self.strategies:
            raise SpecError(bad_value(f"template {self.name!r} strategies", self.strategies, "None or values"))
        if self.reuse_factors is not None and (not self.reuse_factors or min(self.reuse_factors) < 1):
            raise SpecError(bad_value(f"template {self.name!r} reuse_factors", self.reuse_factors, "positive values"))

    def fixes(self) -> dict[str, str]:
        """Knobs this template sets, as ``{knob: value(s)}`` for display."""
        out = {"io_type": _join(self.io_types)}
        if self.strategies is not None:
            out["strategy"] = _join(self.strategies)
        if self.reuse_factors is not None:
            out["reuse_factor"] = _join(self.reuse_factors)
        if not self.parallelization:
            out["parallelization_factor"] = "1"
        if IoType.STREAM in self.io_types:
            out["conv_implementation"] = self.conv_implementation.value
            if self.fifo_depths is not None:
                out["fifo_depths"] = _join(self.fifo_depths)
        if self.max_weight_bits is not None:
            out["weight_bits"] = f"<= {self.max_weight_bits}"
        if self.max_dsp is not None:
            out["dsp"] = f"<= {self.max_dsp}"
        return out

    def opens(self) -> tuple[str, ...]:
        """Knobs left to the search (within the user's parameter ranges)."""
        out = []
        if len(self.io_types) > 1:
            out.append("io_type")
        if self.strategies is None or len(self.strategies) > 1:
            out.append("strategy")
        if self.reuse_factors is None or len(self.reuse_factors) > 1:
            out.append("reuse_factor")
        if self.parallelization:
            out.append("parallelization_factor")
        if IoType.STREAM in self.io_types and (self.fifo_depths is None or len(self.fifo_depths) > 1):
            out.append("fifo_depths")
        return tuple(out)


def _join(values: tuple[object, ...]) -> str:
    return ", ".join(str(getattr(v, "value", v)) for v in values)


_TEMPLATES = (
    HardwareTemplate(
        "low_latency_dataflow",
        "fully unrolled io_parallel dataflow: Latency strategy, reuse factor 1 (lowest latency, most area)",
        (IoType.PARALLEL,),
        (Strategy.LATENCY,),
        (1,),
        parallelization=False,
        source="hls4ml nnet_dense_latency.h; Duarte et al., JINST 13 P07027 (2018)",
    ),
    HardwareTemplate(
        "latency_reuse",
        "io_parallel, Latency strategy with multipliers shared by the reuse factor (open)",
        (IoType.PARALLEL,),
        (Strategy.LATENCY,),
        None,
        parallelization=True,
        source="hls4ml nnet_dense_latency.h (multiplier_limit = ceil(n_in*n_out/rf))",
    ),
    HardwareTemplate(
        "resource_reuse",
        "io_parallel, Resource strategy: weights in memory, reuse factor open (legal values only)",
        (IoType.PARALLEL,),
        (Strategy.RESOURCE,),
        None,
        parallelization=True,
        source="hls4ml nnet_dense_resource.h; reuse rule in hw_templates.reuse",
    ),
    HardwareTemplate(
        "streaming_cnn",
        "io_stream dataflow with line-buffer convolutions; strategy, reuse and parallelization open",
        (IoType.STREAM,),
        None,
        None,
        parallelization=True,
        conv_implementation=ConvImplementation.LINE_BUFFER,
        source="hls4ml nnet_conv2d_stream.h / nnet_conv_stream.h (conv_2d_buffer_cl)",
    ),
    HardwareTemplate(
        "streaming_cnn_small_fifos",
        "streaming_cnn with FIFOs sized by the cost model's occupancy bound instead of one tensor each",
        (IoType.STREAM,),
        None,
        None,
        parallelization=True,
        conv_implementation=ConvImplementation.LINE_BUFFER,
        fifo_depths=(FifoDepths.SIZED,),
        source="hls4ml FIFO Buffer Depth Optimization (co-simulation); bound in cost_models.analytical.stream",
    ),
    HardwareTemplate(
        "dsp_free",
        "LUT multipliers only: weights <= 6 bits, Latency strategy, io_parallel, no DSP slices",
        (IoType.PARALLEL,),
        (Strategy.LATENCY,),
        None,
        parallelization=True,
        max_weight_bits=6,
        max_dsp=0,
        source="wa-hls4ml synthesis rows (Vitis HLS 2023.2): <= 6-bit weights give 0 DSPs",
    ),
)

_BY_NAME = {t.name: t for t in _TEMPLATES}


def template_names() -> list[str]:
    """Every registered template name, sorted."""
    return sorted(_BY_NAME)


def list_templates(pattern: str = "*") -> list[HardwareTemplate]:
    """Templates whose name matches the shell-style ``pattern`` (case-insensitive), by name.

    Example:
        >>> [t.name for t in list_templates("*reuse")]
        ['latency_reuse', 'resource_reuse']
    """
    wanted = pattern.lower()
    return [_BY_NAME[name] for name in sorted(_BY_NAME) if fnmatch.fnmatchcase(name, wanted)]


def get_template(name: str) -> HardwareTemplate:
    """The template called ``name``.

    Raises:
        SpecError: unknown name (with the closest known name).

    Example:
        >>> get_template("dsp_free").max_dsp
        0
    """
    key = str(name).strip().lower()
    if key not in _BY_NAME:
        raise SpecError(bad_value("template", name, "one of " + ", ".join(template_names()), template_names()))
    return _BY_NAME[key]
