"""Layer kinds: the one table of what each kind is, and the coverage record every consumer keeps.

:class:`LayerKind` names every layer the IR can describe; :data:`KINDS` says, once, what each kind is
(weights, spatial dimensions, whether its output keeps the input's number format, whether it only moves
data, the spec keys it takes, and the rule that gives its output shape). Everything that treats kinds
differently (the consumers) keeps one handler per kind in a dict keyed by :class:`LayerKind` and
publishes a :class:`KindCoverage`: the kinds it handles and, for the rest, why not. A test
(``tests/cost_models/test_kinds.py``) checks that every consumer covers every kind or says why it does
not.

How to add a layer kind:

1. Add the member to :class:`LayerKind` and its row to :data:`KINDS` (properties, spec keys, shape rule;
   a new shape rule goes into ``cost_models/_shapes.py``'s ``_RULES``).
2. Give it a handler (or an entry in the consumer's ``UNSUPPORTED`` with the reason) in each consumer
   listed in :data:`CONSUMERS`: the analytical model's ``_HANDLERS`` (``cost_models/analytical/layers.py``),
   the counters (``cost_models/counters.py``), the spec (``codesign/spec.py``, via ``spec_keys``), the
   search spaces' ``ArchLayer`` (``codesign/models/arch.py``), the Brevitas builder's ``_BUILDERS``
   (``codesign/models/builder.py``), the torch and ONNX frontends (``codesign/models/frontends.py``,
   ``codesign/models/_onnx_frontend.py``), the hardware space (``codesign/search/hardware_space.py``) and
   the QONNX -> hls4ml exporter (``codesign/export/_qonnx.py``). A kind the toolkit only estimates
   (as :data:`RECURRENT_KINDS`) is declared unsupported by the builder, the frontends, the search spaces
   and the exporter with one shared reason (:data:`RECURRENT_NOT_BUILT`), so their refusals read alike.
3. Run ``pytest tests/cost_models/test_kinds.py``: it names every consumer still missing the kind.
4. If the exporter handles it, add a small design with it to ``tests/export/test_export_layer_kinds.py``
   (exported and verified bit-exact by C simulation) and regenerate the coverage table of
   ``docs/export.md`` with ``python tests/export/coverage_table.py --write`` (a test checks it is current).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

__all__ = [
    "CONSUMERS",
    "KINDS",
    "RECURRENT_GATES",
    "RECURRENT_KINDS",
    "RECURRENT_NOT_BUILT",
    "KindCoverage",
    "KindInfo",
    "LayerKind",
]


class LayerKind(str, Enum):
    """Every layer kind the IR can describe."""

    INPUT = "input"
    DENSE = "dense"
    CONV1D = "conv1d"
    CONV2D = "conv2d"
    DEPTHWISE_CONV1D = "depthwise_conv1d"
    DEPTHWISE_CONV2D = "depthwise_conv2d"
    SEPARABLE_CONV1D = "separable_conv1d"
    SEPARABLE_CONV2D = "separable_conv2d"
    MAXPOOL1D = "maxpool1d"
    MAXPOOL2D = "maxpool2d"
    AVGPOOL1D = "avgpool1d"
    AVGPOOL2D = "avgpool2d"
    GLOBAL_MAXPOOL1D = "global_maxpool1d"
    GLOBAL_MAXPOOL2D = "global_maxpool2d"
    GLOBAL_AVGPOOL1D = "global_avgpool1d"
    GLOBAL_AVGPOOL2D = "global_avgpool2d"
    UPSAMPLING1D = "upsampling1d"
    UPSAMPLING2D = "upsampling2d"
    ZEROPADDING1D = "zeropadding1d"
    ZEROPADDING2D = "zeropadding2d"
    BATCHNORM = "batchnorm"
    ACTIVATION = "activation"
    FLATTEN = "flatten"
    RESHAPE = "reshape"
    ADD = "add"
    CONCAT = "concat"
    LSTM = "lstm"
    GRU = "gru"

    @property
    def has_weights(self) -> bool:
        """True for layers with a weight matrix (multipliers in hardware)."""
        return self in _WEIGHTED

    @property
    def spatial_dims(self) -> int:
        """0 for dense/elementwise, 1 or 2 for convolution and pooling layers."""
        return _SPATIAL[self]

    @property
    def info(self) -> KindInfo:
        return KINDS[self]


@dataclass(frozen=True)
class KindInfo:
    """What a layer kind is, independent of any consumer.

    Attributes:
        weights: has a weight matrix (multipliers; reuse factor and strategy apply).
        spatial_dims: 0, 1 or 2.
        pass_through: the output keeps the input's number format (no arithmetic: hls4ml gives it the
            input's type).
        data_only: only moves data (a wire under io_parallel, a copy loop under io_stream).
        spec_keys: the keys a design spec layer of this kind takes besides type/name/inputs/precision.
        shape_rule: the output-shape rule in ``cost_models._shapes`` (``dense``, ``window``, ``pool``,
            ``global``, ``upsample``, ``pad``, ``same``, ``flatten``, ``reshape``, ``merge``, ``recurrent``,
            ``input``).
    """

    weights: bool
    spatial_dims: int
    pass_through: bool
    data_only: bool
    spec_keys: frozenset[str]
    shape_rule: str


_HW_KEYS = frozenset(
    {"reuse_factor", "strategy", "parallelization_factor", "fifo_depth", "conv_implementation", "multiplier_impl"}
)
_DENSE_KEYS = frozenset({"units", "use_bias", "sparsity", "activation", "reuse_factor", "strategy", "multiplier_impl"})
_CONV_KEYS = frozenset({"kernel", "stride", "padding", "use_bias", "sparsity", "activation"}) | _HW_KEYS
_POOL_KEYS = frozenset({"pool", "stride", "padding"})
_RECURRENT_KEYS = frozenset({"units", "return_sequences", "use_bias", "sparsity", "reuse_factor", "strategy",
                             "multiplier_impl"})  # fmt: skip
_NONE: frozenset[str] = frozenset()


def _row(
    rule: str, dims: int = 0, keys: frozenset[str] = _NONE, *, weights: bool = False, passes: bool = False,
    moves: bool = False,
) -> KindInfo:  # fmt: skip
    return KindInfo(weights, dims, passes, moves, frozenset(keys), rule)


_K = LayerKind
#: The properties of every kind (the one table).
KINDS: Mapping[LayerKind, KindInfo] = MappingProxyType(
    {
        _K.INPUT: _row("input", moves=True),
        _K.DENSE: _row("dense", 0, _DENSE_KEYS, weights=True),
        _K.CONV1D: _row("window", 1, _CONV_KEYS | {"filters"}, weights=True),
        _K.CONV2D: _row("window", 2, _CONV_KEYS | {"filters"}, weights=True),
        _K.DEPTHWISE_CONV1D: _row("window", 1, _CONV_KEYS | {"depth_multiplier"}, weights=True),
        _K.DEPTHWISE_CONV2D: _row("window", 2, _CONV_KEYS | {"depth_multiplier"}, weights=True),
        _K.SEPARABLE_CONV1D: _row("window", 1, _CONV_KEYS | {"filters", "depth_multiplier"}, weights=True),
        _K.SEPARABLE_CONV2D: _row("window", 2, _CONV_KEYS | {"filters", "depth_multiplier"}, weights=True),
        _K.MAXPOOL1D: _row("pool", 1, _POOL_KEYS, passes=True),
        _K.MAXPOOL2D: _row("pool", 2, _POOL_KEYS, passes=True),
        _K.AVGPOOL1D: _row("pool", 1, _POOL_KEYS),
        _K.AVGPOOL2D: _row("pool", 2, _POOL_KEYS),
        _K.GLOBAL_MAXPOOL1D: _row("global", 1, passes=True),
        _K.GLOBAL_MAXPOOL2D: _row("global", 2, passes=True),
        _K.GLOBAL_AVGPOOL1D: _row("global", 1),
        _K.GLOBAL_AVGPOOL2D: _row("global", 2),
        _K.UPSAMPLING1D: _row("upsample", 1, frozenset({"scale"}), passes=True, moves=True),
        _K.UPSAMPLING2D: _row("upsample", 2, frozenset({"scale"}), passes=True, moves=True),
        _K.ZEROPADDING1D: _row("pad", 1, frozenset({"pad"}), passes=True, moves=True),
        _K.ZEROPADDING2D: _row("pad", 2, frozenset({"pad"}), passes=True, moves=True),
        _K.BATCHNORM: _row("same"),
        _K.ACTIVATION: _row("same", 0, frozenset({"alpha", "table_size"})),
        _K.FLATTEN: _row("flatten", passes=True, moves=True),
        _K.RESHAPE: _row("reshape", 0, frozenset({"target_shape"}), passes=True, moves=True),
        _K.ADD: _row("merge"),
        _K.CONCAT: _row("merge", 0, frozenset({"axis"}), moves=True),
        _K.LSTM: _row("recurrent", 0, _RECURRENT_KEYS, weights=True),
        _K.GRU: _row("recurrent", 0, _RECURRENT_KEYS, weights=True),
    }
)
_WEIGHTED = frozenset(k for k, v in KINDS.items() if v.weights)
#: Recurrent kinds: a kernel and a recurrent matrix-vector product per time step (``Layer.mult_units``).
RECURRENT_KINDS = frozenset({LayerKind.LSTM, LayerKind.GRU})
#: Gates of a recurrent kind (the rows of its weight matrices are ``gates * units``): LSTM i, f, c, o;
#: GRU z, r, h (hls4ml ``nnet_recurrent.h``, ``n_state * 4`` / ``n_state * 3``).
RECURRENT_GATES = MappingProxyType({LayerKind.LSTM: 4, LayerKind.GRU: 3})
#: Why the model builder, the frontends and the exporter refuse recurrent kinds (the one wording).
RECURRENT_NOT_BUILT = (
    "recurrent layers (lstm, gru) are estimated only, from design specs and synthesis data: the toolkit does "
    "not train, read or export them"
)
_SPATIAL = {k: v.spatial_dims for k, v in KINDS.items()}


@dataclass(frozen=True)
class KindCoverage:
    """Which kinds one consumer handles, and why it does not handle the others.

    Attributes:
        consumer: what the consumer is (for messages).
        handled: the kinds it has a handler for.
        unsupported: kind -> the one-line reason it has none.
    """

    consumer: str
    handled: frozenset[LayerKind]
    unsupported: Mapping[LayerKind, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "handled", frozenset(self.handled))
        object.__setattr__(self, "unsupported", MappingProxyType(dict(self.unsupported)))

    def problems(self) -> list[str]:
        """Kinds neither handled nor declared unsupported, or both (empty when complete)."""
        out = [f"{self.consumer}: no handler and no reason for {k.value}" for k in LayerKind
               if k not in self.handled and k not in self.unsupported]  # fmt: skip
        out += [f"{self.consumer}: {k.value} is handled and declared unsupported" for k in self.handled
                if k in self.unsupported]  # fmt: skip
        return out


#: Modules that keep a ``KIND_COVERAGE`` (the consumers of the kind table), checked by the kinds test.
CONSUMERS = (
    "cost_models._shapes",
    "cost_models.analytical.layers",
    "cost_models.counters",
    "codesign.spec",
    "codesign.models.arch",
    "codesign.models.builder",
    "codesign.models.frontends",
    "codesign.models._onnx_frontend",
    "codesign.search.hardware_space",
    "codesign.export._qonnx",
)
