"""Make the tabular co-design benchmark: every architecture of a small quantized MLP space, trained.

The space (500 architectures, a product of four choices, so every sampler's draw is in the table):

* ``units0`` in 8, 16, 32, 64 (first hidden layer), ``units1`` in 0 (none), 8, 16, 32, 64 (second);
* ``weight_bits`` and ``act_bits`` in 2, 3, 4, 6, 8 (shared by every layer; input 8 bits).

Each architecture is trained with Brevitas QAT on digits for ``--epochs`` epochs (batch 256, one
thread) with ``--seeds`` training seeds on the same split; the table records the validation accuracy
after every epoch, the final test accuracy, the zero-cost proxies of the untrained model
(:mod:`codesign.search.proxies`) and the analytical cost model's hardware figures from the exact inner
hardware search (:func:`codesign.search.inner.search_hardware`, default hardware ranges, 5 ns clock) on
two parts: the fastest feasible design (its latency and LUT+DSP share) and the smallest (its LUT+DSP
share and latency). ``NaN`` marks an architecture with no feasible design on a part.

Rows are appended as they are made, so an interrupted run resumes where it stopped. A second worker
(``--reverse --skip FIRST.csv --out SECOND.csv``) works from the other end; concatenate the two files
(one header) and drop repeated ``arch_id`` rows when they meet.

Usage:
    nice -n 10 python scripts/make_search_table.py --out scripts/data/search_table_digits_mlp.csv
    python scripts/make_search_table.py --limit 4 --out /some/scratch.csv   # measure the speed first
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import time
from pathlib import Path

import numpy as np
import torch

from codesign.data import load_dataset
from codesign.models.arch import ArchLayer, ArchSpec
from codesign.models.builder import build_model, to_torch_layout
from codesign.models.train import TrainConfig, train
from codesign.search.hardware_space import HardwareSpace
from codesign.search.inner import search_hardware
from codesign.search.proxies import compute_proxies
from cost_models import get_cost_model
from cost_models.counters import count_network
from hw_templates.parts import resolve_part

UNITS0 = (8, 16, 32, 64)
UNITS1 = (0, 8, 16, 32, 64)
BITS = (2, 3, 4, 6, 8)
PARTS = ("xc7z020", "xcu250")
CLOCK_NS = 5.0
SPACE = {"units0": list(UNITS0), "units1": list(UNITS1), "weight_bits": list(BITS), "act_bits": list(BITS)}


def spec_of(units0: int, units1: int, weight_bits: int, act_bits: int) -> ArchSpec:
    """The ArchSpec of one table row."""
    layers = []
    for i, units in enumerate(u for u in (units0, units1) if u):
        layers += [
            ArchLayer("dense", name=f"fc{i}", units=units, weight_bits=weight_bits),
            ArchLayer("activation", name=f"relu{i}", act_bits=act_bits),
        ]
    layers.append(ArchLayer("dense", name="out", units=10, weight_bits=weight_bits))
    return ArchSpec(f"mlp_{units0}_{units1}_w{weight_bits}a{act_bits}", tuple(layers))


def hardware_columns(spec: ArchSpec, model) -> dict[str, float]:
    graph = spec.to_graph((64,))
    out: dict[str, float] = {}
    for name in PARTS:
        space = HardwareSpace.build([resolve_part(name)], clock_ns=CLOCK_NS)
        points = search_hardware(graph, space, model, ("latency_ns", "lut_dsp")).points.get(name, ())
        part = space.primary
        figures = [
            (p.totals["latency_cycles"] * CLOCK_NS, p.totals["lut"] / part.lut + p.totals["dsp"] / part.dsp)
            for p in points
        ]
        fast = min(figures, default=(math.nan, math.nan))
        small = min(figures, key=lambda f: (f[1], f[0]), default=(math.nan, math.nan))
        out[f"latency_ns_fast_{name}"] = round(fast[0], 3)
        out[f"lut_dsp_fast_{name}"] = round(fast[1], 6)
        out[f"latency_ns_small_{name}"] = round(small[0], 3)
        out[f"lut_dsp_small_{name}"] = round(small[1], 6)
    return out


def row_of(arch_id: int, choice: tuple[int, ...], data, model, args) -> dict[str, object]:
    units0, units1, wb, ab = choice
    spec = spec_of(units0, units1, wb, ab)
    graph = spec.to_graph((64,))
    row: dict[str, object] = {"arch_id": arch_id, "units0": units0, "units1": units1, "weight_bits": wb, "act_bits": ab}
    counters = count_network(graph)
    row["params"], row["bops"] = counters.params, counters.bops
    row.update(hardware_columns(spec, model))
    torch.manual_seed(0)
    x = to_torch_layout(torch.as_tensor(data.x_train[:128])).numpy()
    proxies = compute_proxies(build_model(graph), x, data.y_train[:128])
    row.update({f"proxy_{k}": round(v, 5) for k, v in proxies.items()})
    for seed in range(args.seeds):
        cfg = TrainConfig(epochs=args.epochs, batch_size=256, learning_rate=args.lr, seed=seed, threads=1)
        result = train(graph, data, cfg)
        row[f"accuracy_s{seed}"] = round(result.accuracy, 5) if result.accuracy is not None else math.nan
        row[f"val_s{seed}"] = ";".join(f"{v:.4f}" for v in result.val_history)
        row[f"train_seconds_s{seed}"] = round(result.train_seconds, 3)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--lr", type=float, default=2e-2)
    parser.add_argument("--limit", type=int, default=None, help="only the first N architectures (timing)")
    parser.add_argument("--reverse", action="store_true", help="work from the end of the order (a 2nd worker)")
    parser.add_argument("--skip", type=Path, nargs="*", default=[], help="tables whose rows are done already")
    parser.add_argument("--positions", type=int, nargs=2, help="only this slice [a, b) of the order (a worker)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_dataset("digits", (64,), seed=0)
    model = get_cost_model("analytical")
    choices = list(itertools.product(UNITS0, UNITS1, BITS, BITS))
    rng = np.random.default_rng(0)
    order = rng.permutation(len(choices))  # a random order: a partial table is still a fair sample
    if args.positions:
        order = order[args.positions[0] : args.positions[1]]
    if args.reverse:
        order = order[::-1]
    done: set[int] = set()
    for path in (args.out, *args.skip):
        if path.exists():
            with path.open() as fh:
                done |= {int(r["arch_id"]) for r in csv.DictReader(fh)}
    own_rows = args.out.exists() and args.out.stat().st_size > 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    writer, fh = None, args.out.open("a", newline="")
    start, made = time.perf_counter(), 0
    for arch_id in order[: args.limit] if args.limit else order:
        if int(arch_id) in done:
            continue
        row = row_of(int(arch_id), choices[arch_id], data, model, args)
        if writer is None:
            writer = csv.DictWriter(fh, fieldnames=list(row))
            if not own_rows:
                writer.writeheader()
        writer.writerow(row)
        fh.flush()
        made += 1
        elapsed = time.perf_counter() - start
        print(
            f"{made} rows, {elapsed:.0f} s ({elapsed / made:.2f} s/row): {row['arch_id']} {row['accuracy_s0']}",
            flush=True,
        )
    fh.close()


if __name__ == "__main__":
    main()
