"""Cell-based and hierarchical search spaces (registered in :mod:`codesign.models.spaces`).

A *cell* is a small directed graph of ``nodes`` operations, NASNet/DARTS style (Zoph et al., CVPR 2018;
Liu et al., ICLR 2019): node ``j`` applies one op from ``ops`` to the cell input or an earlier node, and
the cell output is the ReLU-quantized sum of the cell input (the skip) and every node nobody consumed.
Ops keep the shape (``'same'`` padding, equal channels), so any wiring is valid:

* ``conv3`` / ``conv1``: convolution with kernel 3 / 1, then ReLU;
* ``dwconv3``: depthwise convolution with kernel 3, then ReLU;
* ``identity``: no layer (the node is its input).

Sums are chains of two-input ``add`` layers, because hls4ml merges exactly two tensors per layer.

* :class:`CellSpace`: a stem convolution, then one sampled cell repeated ``cells`` times, 2x max-pool,
  flatten, dense classifier.
* :class:`HierarchicalSpace`: ``blocks`` stages, each with its own cell, width, repeats and bit widths,
  a stem convolution at the start of each stage and a 2x max-pool after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from codesign.models._space_base import (
    Space,
    check_bit_fields,
    check_choices,
    check_image,
    check_range,
    suggest_bits,
    suggest_choice,
    suggest_int,
)
from codesign.models.arch import ArchLayer, ArchSpec
from hw_templates.errors import SpecError, bad_value

if TYPE_CHECKING:
    import optuna

__all__ = ["OPS", "CellSpace", "HierarchicalSpace"]

#: Operations a cell node can apply.
OPS = ("conv3", "conv1", "dwconv3", "identity")

Genome = tuple[tuple[str, int], ...]  # (op, input node index) per node; node 0 is the cell input


@dataclass(frozen=True)
class _Bits:
    weight: int
    act: int


def sample_genome(trial: optuna.Trial, prefix: str, nodes: int, ops: tuple[str, ...]) -> Genome:
    """Draw one cell: an op and an input (the cell input or an earlier node) per node."""
    genome = []
    for j in range(1, nodes + 1):
        op = suggest_choice(trial, f"{prefix}node{j}_op", ops)
        src = trial.suggest_int(f"{prefix}node{j}_input", 0, j - 1) if j > 1 else 0
        genome.append((op, src))
    return tuple(genome)


def _op_layers(op: str, name: str, src: str, dims: int, channels: int, bits: _Bits) -> list[ArchLayer]:
    kind = f"depthwise_conv{dims}d" if op == "dwconv3" else f"conv{dims}d"
    kernel = (1,) if op == "conv1" else (3,)
    filters = None if op == "dwconv3" else channels
    conv = ArchLayer(
        kind, name=name, inputs=(src,), filters=filters, kernel=kernel, padding="same", weight_bits=bits.weight
    )
    return [conv, ArchLayer("activation", name=f"{name}_relu", act_bits=bits.act)]


def cell_layers(
    genome: Genome, x: str, prefix: str, dims: int, channels: int, bits: _Bits
) -> tuple[list[ArchLayer], str]:
    """The layers of one cell fed by layer ``x``; returns them and the name of the cell output."""
    layers: list[ArchLayer] = []
    names = {0: x}
    for j, (op, src) in enumerate(genome, start=1):
        if op == "identity":
            names[j] = names[src]
            continue
        layers += _op_layers(op, f"{prefix}n{j}", names[src], dims, channels, bits)
        names[j] = layers[-1].name or ""
    used = {src for _, src in genome}
    terms = [x] + [names[j] for j in range(1, len(genome) + 1) if j not in used]
    terms = list(dict.fromkeys(terms))  # identity nodes may alias the input
    if len(terms) == 1:
        return layers, x
    total = terms[0]
    for k, term in enumerate(terms[1:], start=1):
        layers.append(ArchLayer("add", name=f"{prefix}add{k}", inputs=(total, term)))
        total = f"{prefix}add{k}"
    layers.append(ArchLayer("activation", name=f"{prefix}out", act_bits=bits.act))
    return layers, f"{prefix}out"


def _stem(name: str, src: str, dims: int, channels: int, bits: _Bits) -> list[ArchLayer]:
    conv = ArchLayer(
        f"conv{dims}d", name=name, inputs=(src,), filters=channels, kernel=(3,), padding="same", weight_bits=bits.weight
    )
    return [conv, ArchLayer("activation", name=f"{name}_relu", act_bits=bits.act)]


def _check_common(space: CellSpace | HierarchicalSpace) -> None:
    kind = space.kind
    check_image(f"{kind}.image", space.image)
    check_choices(f"{kind}.filters", space.filters, 1, 1 << 12)
    check_range(f"{kind}.nodes", (space.nodes, space.nodes), 1, 8)
    if not space.ops or any(op not in OPS for op in space.ops) or len(set(space.ops)) != len(space.ops):
        raise SpecError(bad_value(f"{kind}.ops", list(space.ops), "distinct ops from " + ", ".join(OPS), OPS))
    check_bit_fields(space)


def _head(layers: list[ArchLayer], n_classes: int, bits: int) -> list[ArchLayer]:
    return [
        *layers,
        ArchLayer("flatten", name="flatten"),
        ArchLayer("dense", name="out", units=n_classes, weight_bits=bits),
    ]


@dataclass(frozen=True)
class CellSpace(Space):
    """One sampled cell repeated ``cells`` times (see the module docstring).

    Attributes:
        image: input shape, channels-last.
        cells: [min, max] repeats of the cell.
        nodes: operations per cell.
        ops: op choices for every node.
        filters: channel choices (stem and cells).
        weight_bits, act_bits, input_bits: [min, max] bit widths (cells share one setting).
    """

    kind: ClassVar[str] = "cell"
    image: tuple[int, ...] = (8, 8, 1)
    n_classes: int = 10
    cells: tuple[int, int] = (1, 3)
    nodes: int = 2
    ops: tuple[str, ...] = OPS
    filters: tuple[int, ...] = (4, 8)
    weight_bits: tuple[int, int] = (2, 8)
    act_bits: tuple[int, int] = (2, 8)
    input_bits: tuple[int, int] = (8, 8)

    def __post_init__(self) -> None:
        _check_common(self)
        check_range("cell.cells", self.cells, 1, 16)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.image)

    def sample(self, trial: optuna.Trial) -> ArchSpec:
        dims = len(self.image) - 1
        channels = suggest_choice(trial, "filters", self.filters)
        stem_bits = _Bits(
            suggest_bits(trial, "stem_weight_bits", self.weight_bits),
            suggest_bits(trial, "stem_act_bits", self.act_bits),
        )
        cell_bits = _Bits(
            suggest_bits(trial, "cell_weight_bits", self.weight_bits),
            suggest_bits(trial, "cell_act_bits", self.act_bits),
        )
        genome = sample_genome(trial, "cell_", self.nodes, self.ops)
        layers = _stem("stem", "input", dims, channels, stem_bits)
        x = "stem_relu"
        for r in range(suggest_int(trial, "n_cells", self.cells)):
            new, x = cell_layers(genome, x, f"c{r}_", dims, channels, cell_bits)
            layers += new
        # the cell output is always the last layer added (an all-identity cell adds none)
        if min(self.image[:-1]) >= 2:
            layers.append(ArchLayer(f"maxpool{dims}d", name="pool", pool=(2,)))
        out_bits = suggest_bits(trial, "out_weight_bits", self.weight_bits)
        spec_layers = _head(layers, self.n_classes, out_bits)
        return ArchSpec("cell", tuple(spec_layers), input_bits=suggest_bits(trial, "input_bits", self.input_bits))


@dataclass(frozen=True)
class HierarchicalSpace(Space):
    """Stages of different cells: each block samples its own cell, width, repeats and bit widths.

    Attributes:
        image: input shape, channels-last.
        blocks: [min, max] stages; a 2x max-pool follows each stage while the map is at least 2 wide.
        cells: [min, max] cell repeats per stage.
        nodes, ops, filters, weight_bits, act_bits, input_bits: as in :class:`CellSpace`, per stage.
    """

    kind: ClassVar[str] = "hierarchical"
    image: tuple[int, ...] = (8, 8, 1)
    n_classes: int = 10
    blocks: tuple[int, int] = (1, 3)
    cells: tuple[int, int] = (1, 2)
    nodes: int = 2
    ops: tuple[str, ...] = OPS
    filters: tuple[int, ...] = (4, 8, 16)
    weight_bits: tuple[int, int] = (2, 8)
    act_bits: tuple[int, int] = (2, 8)
    input_bits: tuple[int, int] = (8, 8)

    def __post_init__(self) -> None:
        _check_common(self)
        check_range("hierarchical.blocks", self.blocks, 1, 8)
        check_range("hierarchical.cells", self.cells, 1, 8)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.image)

    def sample(self, trial: optuna.Trial) -> ArchSpec:
        dims = len(self.image) - 1
        size = min(self.image[:-1])
        layers: list[ArchLayer] = []
        x = "input"
        for b in range(suggest_int(trial, "n_blocks", self.blocks)):
            p = f"block{b}_"
            channels = suggest_choice(trial, f"{p}filters", self.filters)
            bits = _Bits(
                suggest_bits(trial, f"{p}weight_bits", self.weight_bits),
                suggest_bits(trial, f"{p}act_bits", self.act_bits),
            )
            genome = sample_genome(trial, p, self.nodes, self.ops)
            layers += _stem(f"b{b}_stem", x, dims, channels, bits)
            x = f"b{b}_stem_relu"
            for r in range(suggest_int(trial, f"{p}cells", self.cells)):
                new, x = cell_layers(genome, x, f"b{b}c{r}_", dims, channels, bits)
                layers += new
            if size >= 2:
                layers.append(ArchLayer(f"maxpool{dims}d", name=f"b{b}_pool", pool=(2,)))
                x, size = f"b{b}_pool", size // 2
        out_bits = suggest_bits(trial, "out_weight_bits", self.weight_bits)
        return ArchSpec(
            "hierarchical",
            tuple(_head(layers, self.n_classes, out_bits)),
            input_bits=suggest_bits(trial, "input_bits", self.input_bits),
        )
