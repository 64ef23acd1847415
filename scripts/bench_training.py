"""Benchmark QAT on digits: reference specs, the accuracy shortcuts, and proxy-vs-full rank correlation.

Prints (or writes as JSON with ``--json FILE``):

1. test accuracy and training time of reference specs (4-bit MLP 64-32-10, a small 4-bit CNN);
2. for each shortcut (proxy data fractions, early stopping), the speed-up and the accuracy change against
   full training, averaged over the reference specs and a few random specs;
3. the Spearman rank correlation between short-proxy accuracy and full-training accuracy over
   ``--specs`` random architectures of a space (default: the ``mlp`` space).

Usage:
    .venv/bin/python scripts/bench_training.py --threads 2 --specs 20
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from dataclasses import dataclass, replace
from typing import Any

import optuna
from scipy.stats import spearmanr

from codesign.data import load_dataset
from codesign.models.arch import ArchLayer, ArchSpec
from codesign.models.spaces import get_space
from codesign.models.train import TrainConfig, train

MLP = ArchSpec(
    "mlp_64_32_10_4bit",
    (
        ArchLayer("dense", name="fc1", units=32, weight_bits=4),
        ArchLayer("activation", name="relu1", act_bits=4),
        ArchLayer("dense", name="fc2", units=10, weight_bits=4),
    ),
)
CNN = ArchSpec(
    "cnn_4bit",
    (
        ArchLayer("conv2d", name="conv1", filters=8, kernel=(3,), padding="same", weight_bits=4),
        ArchLayer("activation", name="relu1", act_bits=4),
        ArchLayer("maxpool2d", name="pool1", pool=(2,)),
        ArchLayer("conv2d", name="conv2", filters=16, kernel=(3,), padding="same", weight_bits=4),
        ArchLayer("activation", name="relu2", act_bits=4),
        ArchLayer("maxpool2d", name="pool2", pool=(2,)),
        ArchLayer("flatten", name="flatten"),
        ArchLayer("dense", name="fc", units=10, weight_bits=4),
    ),
)
REFERENCES = ((MLP, (64,)), (CNN, (8, 8, 1)))


@dataclass(frozen=True)
class Run:
    accuracy: float | None
    seconds: float
    epochs: int
    samples: int  # training samples processed: a load-independent measure of the work done


def _run(spec: ArchSpec, shape: tuple[int, ...], cfg: TrainConfig) -> Run:
    data = load_dataset("digits", shape, seed=cfg.seed)
    result = train(spec.to_graph(shape), data, cfg)
    n_train = len(data.subset(cfg.proxy_fraction, cfg.seed).y_train)
    return Run(result.accuracy, result.train_seconds, result.epochs, result.epochs * n_train)


def references(full: TrainConfig) -> list[dict[str, Any]]:
    rows = []
    for spec, shape in REFERENCES:
        r = _run(spec, shape, full)
        rows.append({"spec": spec.name, "accuracy": r.accuracy, "seconds": r.seconds, "epochs": r.epochs})
        print(f"{spec.name:<22} accuracy {r.accuracy:.4f}  {r.seconds:6.1f} s  {r.epochs} epochs", flush=True)
    return rows


def _random_specs(space_name: str, n: int, seed: int) -> list[ArchSpec]:
    space = get_space(space_name)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    specs = []
    for _ in range(n):
        trial = study.ask()
        specs.append(space.sample(trial))
        study.tell(trial, 0.0)
    return specs


def shortcuts(full: TrainConfig, extra: list[tuple[ArchSpec, tuple[int, ...]]]) -> list[dict[str, Any]]:
    variants = {
        "proxy 50% data": replace(full, proxy_fraction=0.5),
        "proxy 25% data": replace(full, proxy_fraction=0.25),
        "early stop (patience 3)": replace(full, patience=3),
        "early stop (patience 5)": replace(full, patience=5),
        "25% data, 1/6 epochs": replace(full, proxy_fraction=0.25, epochs=max(1, full.epochs // 6)),
    }
    cases = [*REFERENCES, *extra]
    base = [_run(spec, shape, full) for spec, shape in cases]
    rows = []
    for label, cfg in variants.items():
        runs = [_run(spec, shape, cfg) for spec, shape in cases]
        wall = sum(b.seconds for b in base) / sum(r.seconds for r in runs)
        work = sum(b.samples for b in base) / sum(r.samples for r in runs)
        delta = statistics.mean((r.accuracy or 0) - (b.accuracy or 0) for b, r in zip(base, runs))
        epochs = statistics.mean(r.epochs for r in runs)
        rows.append(
            {
                "shortcut": label,
                "work_speedup": work,
                "wall_speedup": wall,
                "accuracy_change": delta,
                "mean_epochs": epochs,
                "cases": len(cases),
            }
        )
        print(
            f"{label:<26} work x{work:5.2f}  wall x{wall:5.2f}  accuracy change {delta:+.4f}  "
            f"mean epochs {epochs:4.1f}  ({len(cases)} specs)",
            flush=True,
        )
    return rows


def correlation(full: TrainConfig, proxy: TrainConfig, space_name: str, n: int, seed: int) -> dict[str, Any]:
    shape = get_space(space_name).input_shape
    pairs = []
    for i, spec in enumerate(_random_specs(space_name, n, seed)):
        short, long = _run(spec, shape, proxy), _run(spec, shape, full)
        pairs.append((short.accuracy or 0.0, long.accuracy or 0.0, short.seconds, long.seconds))
        print(
            f"  spec {i:2d}: proxy {pairs[-1][0]:.4f} ({short.seconds:4.1f} s)  full {pairs[-1][1]:.4f} "
            f"({long.seconds:5.1f} s)",
            flush=True,
        )
    rho, p_value = spearmanr([p[0] for p in pairs], [p[1] for p in pairs])
    seconds = (sum(p[2] for p in pairs), sum(p[3] for p in pairs))
    print(
        f"Spearman rho {rho:.3f} (p={p_value:.2g}) over {n} {space_name} specs; "
        f"proxy {seconds[0]:.0f} s vs full {seconds[1]:.0f} s",
        flush=True,
    )
    return {
        "space": space_name,
        "specs": n,
        "spearman_rho": rho,
        "p_value": p_value,
        "proxy_seconds": seconds[0],
        "full_seconds": seconds[1],
        "pairs": pairs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--specs", type=int, default=20, help="random specs for the rank correlation")
    parser.add_argument("--space", default="mlp")
    parser.add_argument("--proxy-fraction", type=float, default=0.25)
    parser.add_argument("--proxy-epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sections", default="references,shortcuts,correlation", help="comma-separated parts to run")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    full = TrainConfig(epochs=args.epochs, seed=args.seed, threads=args.threads)
    proxy = replace(full, epochs=args.proxy_epochs, proxy_fraction=args.proxy_fraction)
    sections = set(args.sections.split(","))
    start = time.perf_counter()
    out: dict[str, Any] = {}
    if "references" in sections:
        print(f"== reference specs ({args.epochs} epochs, full data, {args.threads} threads)")
        out["references"] = references(full)
    if "shortcuts" in sections:
        print("== shortcuts against full training (work = training samples processed; wall = seconds)")
        extra = [(s, get_space("mlp").input_shape) for s in _random_specs("mlp", 3, args.seed + 100)]
        out["shortcuts"] = shortcuts(full, extra)
    if "correlation" in sections:
        print(f"== proxy ({args.proxy_fraction:.0%} data, {args.proxy_epochs} epochs) vs full rank correlation")
        out["correlation"] = correlation(full, proxy, args.space, args.specs, args.seed)
    out["wall_seconds"] = time.perf_counter() - start
    print(f"total wall time {out['wall_seconds']:.0f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(out, handle, indent=2)


if __name__ == "__main__":
    main()
