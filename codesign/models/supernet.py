"""Weight sharing: one supernet per quantisation setting, its subnets evaluated by slicing its weights.

Where every architecture of a space is a *slice* of one network, training that network once gives
every architecture's weights (slimmable / once-for-all networks: Yu et al., "Universally Slimmable
Networks", ICCV 2019; Cai et al., "Once-for-All", ICLR 2020). In the ``mlp`` space a hidden layer ``i``
of ``units`` outputs is the leading ``units`` rows of the supernet's layer ``i`` (of the space's largest
width), its input columns the leading ones of the layer before, and a network of depth ``d`` keeps the
first ``d`` hidden layers and the shared classifier (the columns its last hidden layer feeds).

Bit widths change what a weight means, so weights are shared only within one *quantisation setting*
(the input, per-position weight and activation, and classifier bit widths; positions deeper than a
network repeat its last hidden layer's widths, so a shallow network shares the supernet of the deeper
ones that start like it). Each setting's supernet is trained when a network of that setting is first
evaluated, by the sandwich rule (Yu et al.): every step sums the losses of the largest network, the
smallest and ``random_subnets`` random ones, all forward passes through slices of the same tensors.
A network is then scored by its sliced weights, fine-tuned ``finetune_epochs`` epochs when asked.

Sound only in spaces whose networks are all slices of one: :func:`check_shareable` refuses the others
in one line (``cnn``: kernels, batchnorm and pooling change layer kinds and tensor shapes; ``cell`` and
``hierarchical``: positions hold different operations; ``fixed``: a user's factory need not share any
tensor layout). How much accuracy it costs: ``python scripts/bench_search.py sharing`` (docs/search.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from codesign.data import Dataset
from codesign.models.arch import ArchLayer, ArchSpec
from codesign.models.builder import build_model
from codesign.models.spaces import MLPSpace
from codesign.models.train import TrainConfig, TrainResult, _accuracy, _Tensors, _threads, train
from hw_templates.errors import SpecError

__all__ = ["SharingConfig", "WeightSharing", "check_shareable", "quant_key"]

Key = tuple[Any, ...]

_NOT_SOUND = {
    "cnn": "kernels, batchnorm and pooling change layer kinds and tensor shapes between its networks",
    "cell": "its positions hold different operations",
    "hierarchical": "its blocks hold different cells",
    "fixed": "a user's factory need not share any tensor layout between its networks",
}


def check_shareable(space: Any) -> MLPSpace:
    """``space`` when all its networks are slices of one supernet, else SpecError (one line)."""
    kind = getattr(space, "kind", type(space).__name__)
    if not isinstance(space, MLPSpace):
        why = _NOT_SOUND.get(kind, "its networks are not known to be slices of one network")
        raise SpecError(
            f"training.weight_sharing: expected an mlp space (every network a slice of one supernet), "
            f"got a {kind} space: {why}; remove training.weight_sharing"
        )
    if space.hidden[0] < 1:
        raise SpecError(
            f"training.weight_sharing: expected mlp.hidden to start at 1 or more, got {list(space.hidden)} "
            "(a network without hidden layers shares no tensor shape with the others)"
        )
    return space


@dataclass(frozen=True)
class SharingConfig:
    """How supernets are trained and their slices scored.

    Attributes:
        epochs: supernet training epochs (each step trains ``2 + random_subnets`` networks).
        finetune_epochs: epochs each network trains from its sliced weights (0: scored as sliced).
        random_subnets: random networks per step besides the largest and the smallest.
        batch_size, learning_rate, seed, proxy_fraction: as :class:`~codesign.models.train.TrainConfig`.
    """

    epochs: int = 8
    finetune_epochs: int = 0
    random_subnets: int = 2
    batch_size: int = 64
    learning_rate: float = 1e-2
    seed: int = 0
    proxy_fraction: float = 1.0


def quant_key(space: MLPSpace, arch: ArchSpec) -> Key:
    """The quantisation setting of ``arch``: input bits, (weight, activation) bits of every hidden position
    up to the space's deepest (a shallower network repeats its last), classifier weight bits."""
    dense = [layer for layer in arch.layers if layer.kind == "dense"]
    acts = [layer for layer in arch.layers if layer.kind == "activation"]
    hidden = [(d.weight_bits, a.act_bits) for d, a in zip(dense[:-1], acts)]
    hidden += [hidden[-1]] * (space.hidden[1] - len(hidden))
    return (arch.input_bits, tuple(hidden), dense[-1].weight_bits)


def units_of(arch: ArchSpec) -> tuple[int, ...]:
    """The hidden widths of an mlp ArchSpec."""
    return tuple(int(layer.units) for layer in arch.layers if layer.kind == "dense")[:-1]


def subnet_spec(space: MLPSpace, units: tuple[int, ...], key: Key) -> ArchSpec:
    """The ArchSpec :meth:`MLPSpace.sample` would give for these widths and quantisation setting."""
    input_bits, hidden, out_bits = key
    layers = []
    for i, width in enumerate(units):
        layers += [
            ArchLayer("dense", name=f"fc{i}", units=width, weight_bits=hidden[i][0]),
            ArchLayer("activation", name=f"relu{i}", act_bits=hidden[i][1]),
        ]
    layers.append(ArchLayer("dense", name="out", units=space.n_classes, weight_bits=out_bits))
    return ArchSpec("mlp", tuple(layers), input_bits=input_bits)


def sliced(shared: dict[str, torch.Tensor], model: nn.Module) -> dict[str, torch.Tensor]:
    """``model``'s tensors as leading-corner slices of the supernet's (same names)."""
    return {k: shared[k][tuple(slice(0, n) for n in v.shape)] for k, v in model.state_dict().items()}


class WeightSharing:
    """The supernets of one space and dataset, trained on demand, one per quantisation setting.

    Args:
        space: an mlp space (checked by :func:`check_shareable`).
        data: the dataset every network is trained and scored on.
        config: supernet and fine-tuning settings.
    """

    def __init__(self, space: Any, data: Dataset, config: SharingConfig) -> None:
        self.space, self.data, self.config = check_shareable(space), data, config
        self.supernets: dict[Key, dict[str, torch.Tensor]] = {}
        self.stats = {"supernets": 0, "supernet_seconds": 0.0, "scored": 0}
        self._scoring: _Tensors | None = None  # the dataset as tensors, made once for every scoring

    def evaluate(self, arch: ArchSpec, report: Any = None) -> TrainResult:
        """Score ``arch`` from its supernet's weights (training that supernet first if needed)."""
        shared = self.weights(quant_key(self.space, arch))
        graph = arch.to_graph(tuple(self.space.input_shape))
        self.stats["scored"] += 1
        c = self.config
        if c.finetune_epochs:
            cfg = TrainConfig(epochs=c.finetune_epochs, batch_size=c.batch_size, learning_rate=c.learning_rate * 0.1,
                              seed=c.seed, proxy_fraction=c.proxy_fraction)  # fmt: skip
            model = build_model(graph)
            return train(graph, self.data, cfg, report=report, hot_start=_detached(sliced(shared, model)))
        return self._as_sliced(graph, shared)

    def weights(self, key: Key) -> dict[str, torch.Tensor]:
        """The supernet of quantisation setting ``key``, trained now when it is not yet."""
        if key not in self.supernets:
            start = time.perf_counter()
            self.supernets[key] = self._train_supernet(key)
            self.stats["supernets"] += 1
            self.stats["supernet_seconds"] += time.perf_counter() - start
        return self.supernets[key]

    def _as_sliced(self, graph: Any, shared: dict[str, torch.Tensor]) -> TrainResult:
        start = time.perf_counter()
        model = build_model(graph)
        model.load_state_dict(_detached(sliced(shared, model)))
        if self._scoring is None:
            self._scoring = _Tensors.of(self.data, torch.device("cpu"))
        t = self._scoring
        val = _accuracy(model, t.x_val, t.y_val)
        accuracy = _accuracy(model, t.x_test, t.y_test)
        cfg = TrainConfig(epochs=1, seed=self.config.seed)
        return TrainResult(
            accuracy=accuracy, val_history=(val,), epochs=0, train_seconds=time.perf_counter() - start,
            status="ok", early_stopped=False, hot_start_tensors=len(model.state_dict()), seed=self.config.seed,
            model=model.eval(), graph=model.graph, config=cfg, input_graph=graph, threads=torch.get_num_threads(),
        )  # fmt: skip

    def _train_supernet(self, key: Key) -> dict[str, torch.Tensor]:
        c, space = self.config, self.space
        with _threads(1):
            torch.manual_seed(c.seed)
            largest = self._net((max(space.units),) * space.hidden[1], key, {})
            shared = {k: nn.Parameter(v.detach().clone()) for k, v in largest.state_dict().items()}
            opt = torch.optim.Adam(shared.values(), lr=c.learning_rate)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=c.epochs)
            t = _Tensors.of(self.data.subset(c.proxy_fraction, c.seed), torch.device("cpu"))
            nets: dict[tuple[int, ...], nn.Module] = {}
            rng = np.random.default_rng(c.seed)
            gen = torch.Generator().manual_seed(c.seed)
            for _ in range(c.epochs):
                self._epoch(shared, opt, t, nets, key, rng, gen)
                sched.step()
        return {k: v.detach() for k, v in shared.items()}

    def _epoch(self, shared: dict, opt: Any, t: _Tensors, nets: dict, key: Key, rng: Any, gen: Any) -> None:
        """One pass over the training split; each batch trains the sandwich of networks."""
        loss_fn = nn.CrossEntropyLoss()
        order = torch.randperm(len(t.x_train), generator=gen)
        for start in range(0, len(order), self.config.batch_size):
            idx = order[start : start + self.config.batch_size]
            opt.zero_grad()
            for units in self._sandwich(rng):
                net = self._net(units, key, nets).train()
                loss = loss_fn(torch.func.functional_call(net, sliced(shared, net), (t.x_train[idx],)), t.y_train[idx])
                if torch.isfinite(loss):
                    loss.backward()
            opt.step()

    def _sandwich(self, rng: Any) -> list[tuple[int, ...]]:
        s = self.space
        widest, narrowest = max(s.units), min(s.units)
        out = [(widest,) * s.hidden[1], (narrowest,) * s.hidden[0]]
        for _ in range(self.config.random_subnets):
            depth = int(rng.integers(s.hidden[0], s.hidden[1] + 1))
            out.append(tuple(int(s.units[int(rng.integers(len(s.units)))]) for _ in range(depth)))
        return out

    def _net(self, units: tuple[int, ...], key: Key, nets: dict) -> nn.Module:
        if units not in nets:
            nets[units] = build_model(subnet_spec(self.space, units, key).to_graph(tuple(self.space.input_shape)))
        return nets[units]


def _detached(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in state.items()}
