"""Parse an hls4ml project's firmware into the network and its per-layer settings.

The layer structure comes from ``firmware/parameters.h``: hls4ml writes one ``struct`` per layer in
graph order (``struct config2 : nnet::dense_config {...}``, ``struct relu_config3 : nnet::activ_config``,
``conv1d_config`` / ``conv2d_config`` / ``pooling1d_config`` / ``pooling2d_config`` / ``batchnorm_config``
/ ``padding1d_config`` / ``padding2d_config``) with ``static const unsigned`` sizes (``n_in``, ``n_out``,
``n_chan``, ``n_filt``, ``filt_width``, ``in_width``, ``stride_width``, ``pad_left``...),
``reuse_factor``, ``strategy = nnet::latency|resource`` and ``io_type = nnet::io_parallel|io_stream``;
see hls4ml 1.3 ``backends/vivado/passes/*_templates.py``. Types come from ``firmware/defines.h``
(``typedef ap_fixed<16,6> layer2_t;``, ``input_t``, the weight type named by the config's ``typedef
<name> weight_t;``); a layer's output type is the one its call in the top function writes
(``nnet::dense<input_t, Dense_MatMul_0_result_t, config39>``: the QONNX path names types after ONNX
nodes), else hls4ml's ``layer<N>_t`` / ``result_t``. The zero padding hls4ml inserts before a 'same'
convolution (io_stream) becomes that convolution's ``padding="same"``, as the IR writes it; the
transpose it adds for channels-first inputs is a layout change, not a layer. A structure the IR cannot
express (skip connections, recurrent layers...) is a CalibrationError naming the file and the config.

Projects written by ``codesign export`` are not parsed here: their ``manifest.json`` records the exact
design (:mod:`cost_models.exported`). This parser is the fallback for hls4ml projects made by others.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cost_models._synth_rows import activation_from_name
from cost_models.ir import GraphBuilder, LayerGraph, LayerPrecision
from hw_templates.config import IoType, LayerHardware, Strategy
from hw_templates.errors import CalibrationError, CodesignError
from hw_templates.precision import FixedType

__all__ = ["FirmwareDesign", "config_indices", "read_firmware"]

_STRUCT_RE = re.compile(
    r"(?://[ \t]*(?P<comment>[^\n]*)\n\s*)?"  # "// fc1": the layer's name, above its config
    r"struct\s+(?P<name>\w+)\s*(?::\s*(?P<base>[\w:]+)\s*)?\{(?P<body>.*?)\n\s*\};",
    re.S,
)
_UNSIGNED_RE = re.compile(r"static const unsigned (\w+) = (\d+);")
_ENUM_RE = re.compile(r"static const [\w:]+ (\w+) = nnet::(?:\w+::)?(\w+);")
_TYPEDEF_RE = re.compile(r"typedef\s+([^;]+?)\s+(\w+)\s*;")
_AP_TYPE_RE = re.compile(r"ap_u?(?:fixed|int)<[^<>]*>")
_CALL_RE = re.compile(r"nnet::\w+<\s*[\w:]+\s*,\s*([\w:]+)\s*,\s*(\w+)\s*>\s*\(")
_SUPPORTED = "dense, conv1d, conv2d, pooling, batchnorm and activation configs"


@dataclass(frozen=True)
class _Config:
    name: str
    base: str
    comment: str
    ints: Mapping[str, int]
    enums: Mapping[str, str]
    types: Mapping[str, str]

    @property
    def index(self) -> int | None:
        found = re.search(r"config(\d+)$", self.name)
        return int(found[1]) if found else None


@dataclass(frozen=True)
class FirmwareDesign:
    """What an hls4ml project's firmware says: the network and its per-layer settings."""

    graph: LayerGraph
    io_type: IoType
    strategy: Strategy
    reuse_factor: int
    layers: Mapping[str, LayerHardware]


def read_firmware(folder: str | Path, name: str = "design") -> FirmwareDesign:
    """Parse ``firmware/parameters.h`` and ``firmware/defines.h`` of an hls4ml project.

    Raises:
        CalibrationError: the files are missing or describe a structure the IR cannot hold.
    """
    firmware = Path(folder) / "firmware"
    params, defines = firmware / "parameters.h", firmware / "defines.h"
    for path in (params, defines):
        if not path.is_file():
            raise CalibrationError(f"hls4ml project {Path(folder).name!r}: expected {path.relative_to(folder)}")
    types = {n: t for t, n in _TYPEDEF_RE.findall(defines.read_text(encoding="utf-8", errors="replace"))}
    configs = _configs(params.read_text(encoding="utf-8", errors="replace"))
    if not configs:
        raise CalibrationError(f"{params.name}: no layer config structs found (truncated file?)")
    return _Builder(name, types, params.name, _output_types(firmware)).run(configs)


def _output_types(firmware: Path) -> dict[str, str]:
    """Config name -> the output type its layer call writes, from the top function's calls
    (``nnet::dense<input_t, Dense_MatMul_0_result_t, config39>(...)``). hls4ml's QONNX path names
    types after the ONNX nodes, so only the call ties a config to its output type."""
    calls: dict[str, str] = {}
    for path in sorted(firmware.glob("*.cpp")):
        text = path.read_text(encoding="utf-8", errors="replace")
        calls.update({config: out for out, config in _CALL_RE.findall(text)})
    return calls


def config_indices(folder: str | Path) -> frozenset[int] | None:
    """The indices ``N`` of the layer config structs (``config2``, ``relu_config3``, ``config4_mult``) in
    ``firmware/parameters.h``; None without the file. hls4ml's templates take these structs as
    parameters, so HLS reports name the layer functions after them (``dense_..._config2_s``)."""
    path = Path(folder) / "firmware" / "parameters.h"
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8", errors="replace")
    return frozenset(int(n) for n in re.findall(r"struct\s+\w*?config(\d+)(?:_\w+)?\s*(?::|\{)", text))


def _configs(text: str) -> list[_Config]:
    out = []
    comment = ""
    for match in _STRUCT_RE.finditer(text):
        name, body = match["name"], match["body"]
        comment = (match["comment"] or "").strip() or comment
        if name.endswith(("_mult", "_tr")):
            continue  # helper structs of a conv layer (its matrix product) or a transpose; the comment
            # naming the layer sits above the helper, so it is kept for the layer's own config
        ints = {k: int(v) for k, v in _UNSIGNED_RE.findall(body)}
        enums = dict(_ENUM_RE.findall(body))
        typedefs = {alias: target.strip() for target, alias in _TYPEDEF_RE.findall(body)}
        out.append(_Config(name, match["base"] or "", comment, ints, enums, typedefs))
        comment = ""
    return out


class _Builder:
    """Turns configs into a graph; one method per config family."""

    def __init__(self, name: str, types: Mapping[str, str], file: str, outputs: Mapping[str, str]) -> None:
        self.name, self.types, self.file, self.outputs = name, types, file, outputs
        self._graph: GraphBuilder | None = None
        self.padding: _Config | None = None  # a zero-padding config waiting for its convolution
        self.last: _Config | None = None
        self.reuse: dict[str, int] = {}
        self.strategy: dict[str, Strategy] = {}
        self.io_types: list[str] = []

    def _type(self, name: str, where: str) -> FixedType:
        text = self.types.get(name, name)
        found = _AP_TYPE_RE.search(text)
        if found is None:
            raise CalibrationError(f"{self.file}: {where}: type {name!r} is not an ap_fixed/ap_int type")
        return FixedType.parse(found[0])

    def _start(self, shape: tuple[int, ...]) -> None:
        """The first layer's input shape starts the graph (hls4ml's input layer has no config)."""
        if self._graph is None:
            self._graph = GraphBuilder(self.name, shape, self._type("input_t", "input"))

    @property
    def builder(self) -> GraphBuilder:
        if self._graph is None:
            raise CalibrationError(f"{self.file}: the first layer config must give the input shape")
        return self._graph

    def _precision(self, config: _Config, weighted: bool) -> LayerPrecision:
        # The call's output type; else hls4ml's names: layer<index>_t, the network's output result_t.
        last = "result_t" if config is self.last else ""
        candidates = (self.outputs.get(config.name, ""), f"layer{config.index}_t", last, "model_default_t")
        result = self._type(next((c for c in candidates if c in self.types), candidates[0]), config.name)
        if not weighted:
            return LayerPrecision(result=result)
        t = config.types
        weight = self._type(t["weight_t"], config.name) if "weight_t" in t else None
        bias = self._type(t["bias_t"], config.name) if "bias_t" in t else None
        accum = self._type(t["accum_t"], config.name) if "accum_t" in t else None
        return LayerPrecision(result=result, weight=weight, bias=bias, accum=accum)

    def _need(self, config: _Config, *keys: str) -> list[int]:
        missing = [k for k in keys if k not in config.ints]
        if missing:
            raise CalibrationError(f"{self.file}: {config.name}: missing {', '.join(missing)} (truncated file?)")
        return [config.ints[k] for k in keys]

    def run(self, configs: list[_Config]) -> FirmwareDesign:
        self.last = configs[-1]
        for config in configs:
            if "io_type" in config.enums:
                self.io_types.append(config.enums["io_type"])
            self._add(config)
        if self.padding is not None:
            raise CalibrationError(
                f"{self.file}: padding config {self.padding.name!r} is not followed by a convolution"
            )
        graph = self.builder.build()
        strategies = Counter(self.strategy.values())
        strategy = strategies.most_common(1)[0][0] if strategies else Strategy.LATENCY
        reuse = Counter(self.reuse.values()).most_common(1)[0][0] if self.reuse else 1
        layers = {
            n: LayerHardware(
                reuse_factor=rf if rf != reuse else None,
                strategy=self.strategy[n] if self.strategy[n] is not strategy else None,
            )
            for n, rf in self.reuse.items()
            if rf != reuse or self.strategy[n] is not strategy
        }
        io_type = IoType.parse(self.io_types[0] if self.io_types else "io_parallel", f"{self.file} io_type")
        return FirmwareDesign(graph, io_type, strategy, reuse, layers)

    def _add(self, config: _Config) -> None:
        base = config.base.removeprefix("nnet::")
        handlers = {
            "dense_config": self._dense,
            "conv1d_config": self._conv,
            "conv2d_config": self._conv,
            "pooling1d_config": self._pool,
            "pooling2d_config": self._pool,
            "batchnorm_config": self._batchnorm,
            "activ_config": self._activation,
            "padding1d_config": self._padding,
            "padding2d_config": self._padding,
        }
        if base == "" and {"dims", "N"} <= set(config.ints):
            return None  # a transpose hls4ml adds for channels-first inputs: a layout change, no layer
        if base == "" and re.match(r"hard_(sigmoid|tanh)_config\d+$", config.name):
            return self._activation(config)
        if base not in handlers:
            raise CalibrationError(
                f"{self.file}: config {config.name!r} ({config.base or 'no base'}) cannot be matched to a layer "
                f"structure the IR holds (supported: {_SUPPORTED})"
            )
        return handlers[base](config)

    def _layer_name(self, config: _Config, stem: str) -> str:
        """hls4ml writes the layer's name as a comment above its config; else a name from the index."""
        return config.comment if re.fullmatch(r"\w+", config.comment) else f"{stem}{config.index}"

    def _settings(self, config: _Config, name: str) -> None:
        self.reuse[name] = config.ints.get("reuse_factor", 1)
        self.strategy[name] = Strategy.parse(config.enums.get("strategy", "latency"), f"{config.name} strategy")

    def _dense(self, config: _Config) -> None:
        n_in, n_out = self._need(config, "n_in", "n_out")
        self._start((n_in,))
        if len(self.builder.last.output_shape) > 1:
            self.builder.add("flatten")
        self._check(config, "n_in", n_in, math.prod(self.builder.last.output_shape))
        name = self._layer_name(config, "dense")
        self.builder.add("dense", name=name, units=n_out, precision=self._precision(config, True))
        self._settings(config, name)

    def _conv(self, config: _Config) -> None:
        two_d = config.base.endswith("conv2d_config")
        dims = ("height", "width") if two_d else ("width",)
        n_chan, n_filt = self._need(config, "n_chan", "n_filt")
        size = self._need(config, *(f"in_{d}" for d in dims))
        kernel = self._need(config, *(f"filt_{d}" for d in dims))
        stride = [config.ints.get(f"stride_{d}", 1) for d in dims]
        pads = sum(config.ints.get(f"pad_{s}", 0) for s in ("top", "bottom", "left", "right"))
        padded, self.padding = self.padding, None
        if padded is not None:  # hls4ml pads before a 'same' convolution (io_stream): one 'same' conv in the IR
            size, pads = self._need(padded, *(f"in_{d}" for d in dims)), 1
        self._start((*size, n_chan))
        self._check(config, "input size", math.prod(size) * n_chan, math.prod(self.builder.last.output_shape))
        name = self._layer_name(config, "conv2d" if two_d else "conv1d")
        layer = self.builder.add(
            "conv2d" if two_d else "conv1d",
            name=name,
            filters=n_filt,
            kernel=kernel,
            stride=stride,
            padding="same" if pads else "valid",
            precision=self._precision(config, True),
        )
        expected = self._need(config, *(f"out_{d}" for d in dims))
        self._check(config, "output size", math.prod(expected), math.prod(layer.output_shape[:-1]))
        self._settings(config, name)

    def _padding(self, config: _Config) -> None:
        """Zero padding is kept for the convolution after it (checked there: its output must be 'same')."""
        dims = ("height", "width") if config.base.endswith("2d_config") else ("width",)
        size = self._need(config, *(f"in_{d}" for d in dims), "n_chan")
        self._start(tuple(size))
        self._check(config, "input size", math.prod(size), math.prod(self.builder.last.output_shape))
        self.padding = config

    def _pool(self, config: _Config) -> None:
        two_d = config.base.endswith("2d_config")
        dims = ("height", "width") if two_d else ("width",)
        op = "avg" if config.enums.get("pool_op", "Max").lower().startswith("av") else "max"
        window = [config.ints[f"pool_{d}"] for d in dims if f"pool_{d}" in config.ints]
        kind = f"{op}pool{2 if two_d else 1}d" if window else f"global_{op}pool{2 if two_d else 1}d"
        attrs = {"pool": window, "stride": [config.ints.get(f"stride_{d}", 1) for d in dims]} if window else {}
        self.builder.add(kind, name=self._layer_name(config, "pool"), precision=self._precision(config, False), **attrs)

    def _batchnorm(self, config: _Config) -> None:
        (n_in,) = self._need(config, "n_in")
        self._start((n_in,))
        self._check(config, "n_in", n_in, math.prod(self.builder.last.output_shape))
        self.builder.add("batchnorm", name=self._layer_name(config, "bn"), precision=self._precision(config, False))

    def _activation(self, config: _Config) -> None:
        stem = re.sub(r"_config\d+$", "", config.name)
        try:
            function = activation_from_name(stem, "")
        except CodesignError:
            raise CalibrationError(f"{self.file}: config {config.name!r}: unknown activation {stem!r}") from None
        if "n_in" in config.ints:
            self._start((config.ints["n_in"],))
            self._check(config, "n_in", config.ints["n_in"], math.prod(self.builder.last.output_shape))
        name = self._layer_name(config, stem)
        self.builder.add("activation", name=name, function=function, precision=self._precision(config, False))

    def _check(self, config: _Config, what: str, given: int, expected: int) -> None:
        if given != expected:
            raise CalibrationError(
                f"{self.file}: {config.name} {what} {given} does not follow from the previous layer ({expected}); "
                "cannot match the configs to a sequential layer structure"
            )
