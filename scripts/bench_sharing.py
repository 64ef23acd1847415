"""Weight sharing against standalone training on the project's tabular benchmark (real Brevitas training).

``codesign.models.supernet`` trains one supernet per quantisation setting and scores each network by its
sliced weights (optionally fine-tuned). This benchmark draws ``--settings`` quantisation settings of the
table's space (weight and activation bit widths; all 20 width/depth choices of each, so every supernet
covers its whole slice of the table), trains their supernets with the table's own training settings
(batch 256, Adam 0.02 cosine, ``--epochs`` epochs), and compares the shared-weight accuracies with the
table's standalone-trained test accuracy (training seed 0, 20 epochs):

* Spearman rank correlation over all drawn networks and within each setting (the ranking a search
  needs among networks of the same bit widths);
* the accuracy it costs the chosen designs: the accuracy-vs-latency front (xc7z020, fastest design)
  chosen by shared-weight accuracy, scored at the standalone accuracy of the networks it picked: its
  hypervolume fraction of the true front of the drawn networks, and the accuracy lost at each true
  front point (the best chosen network at most that latency);
* trainings and CPU time: supernets + fine-tunes against one standalone training per network (the
  standalone CPU time measured on ``--standalone`` networks trained here, same settings, scaled up).

Usage (``nice`` it): ``python scripts/bench_search.py sharing --settings 4 --finetune 0 2``
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import bench_samplers as bs
import numpy as np

FULL_EPOCHS = 20


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--table", default=str(bs.TABLE))
    parser.add_argument("--settings", type=int, default=4, help="quantisation settings drawn (20 networks each)")
    parser.add_argument("--epochs", type=int, default=FULL_EPOCHS, help="supernet training epochs")
    parser.add_argument("--finetune", type=int, nargs="+", default=[0, 2], help="fine-tune epochs to compare")
    parser.add_argument("--standalone", type=int, default=4, help="networks trained standalone for CPU time")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write every figure to this file")
    args = parser.parse_args(argv)
    out = run(bs.load_table(Path(args.table)), args)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, default=str) + "\n", encoding="utf-8")
    return 0


def run(table: dict, args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from codesign.data import load_dataset
    from codesign.models.spaces import MLPSpace
    from codesign.models.supernet import SharingConfig, WeightSharing, quant_key

    bs.sys_path_insert()
    from make_search_table import spec_of

    torch.set_num_threads(1)
    data = load_dataset("digits", (64,), seed=0)
    space = MLPSpace(hidden=(1, 2), units=(8, 16, 32, 64), weight_bits=(2, 8), act_bits=(2, 8))
    rng = np.random.default_rng(args.seed)
    bits = sorted({k[2:] for k in table})
    drawn = [bits[i] for i in rng.permutation(len(bits))[: args.settings]]
    keys = [k for k in table if k[2:] in drawn]
    result: dict[str, Any] = {"args": vars(args), "settings": [list(b) for b in drawn], "networks": len(keys)}
    base = SharingConfig(epochs=args.epochs, finetune_epochs=0, batch_size=256, learning_rate=2e-2, seed=0)
    sharing = WeightSharing(space, data, base)
    cpu = time.process_time()
    for key in keys:  # supernets first, so their CPU time is counted apart from the scoring
        sharing.weights(quant_key(space, spec_of(*key)))
    result["supernet_cpu_s"] = time.process_time() - cpu
    result["supernets"] = sharing.stats["supernets"]
    truth = np.array([float(table[k]["accuracy_s0"]) for k in keys])
    for ft in args.finetune:
        sharing.config = SharingConfig(**{**base.__dict__, "finetune_epochs": ft})
        cpu = time.process_time()
        shared = np.array([sharing.evaluate(spec_of(*k)).accuracy or 0.0 for k in keys])
        figures = {"scoring_cpu_s": time.process_time() - cpu, **compare(table, keys, shared, truth)}
        result[f"finetune_{ft}"] = figures
        print(f"fine-tune {ft} epochs:", json.dumps({k: v for k, v in figures.items() if k != "shared_accuracy"}))
    result["standalone"] = standalone_cpu(table, keys, data, args, spec_of)
    print("standalone:", json.dumps(result["standalone"]), flush=True)
    print_summary(result, args)
    return result


def compare(table: dict, keys: list, shared: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    from scipy.stats import spearmanr

    groups = {}
    for i, k in enumerate(keys):
        groups.setdefault(k[2:], []).append(i)
    # a setting whose shared accuracies are all equal (e.g. collapsed at 2-bit activations) ranks nothing: 0
    within = [
        0.0 if np.ptp(shared[g]) == 0 else float(spearmanr(shared[g], truth[g]).statistic) for g in groups.values()
    ]
    latency = np.array([float(table[k]["latency_ns_fast_xc7z020"]) for k in keys])
    return {
        "spearman_all": float(spearmanr(shared, truth).statistic),
        "spearman_within_setting": within,
        "spearman_within_median": statistics.median(within),
        "mean_abs_error": float(np.mean(np.abs(shared - truth))),
        "shared_accuracy": {"-".join(map(str, k)): round(float(a), 4) for k, a in zip(keys, shared)},
        **front_cost(latency, shared, truth),
    }


def front_cost(latency: np.ndarray, shared: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """The front chosen by the shared accuracy, scored at the standalone accuracy."""
    true_pts = np.column_stack([-truth, latency])
    norm = bs.Normalizer(true_pts)
    chosen = bs.nondominated(np.column_stack([-shared, latency]))
    lost = []
    for i in bs.nondominated(true_pts):
        reach = [truth[j] for j in chosen if latency[j] <= latency[i]]
        lost.append(truth[i] - max(reach, default=0.0))
    return {
        "front_hv_fraction": norm.fraction(true_pts[chosen].tolist()),
        "front_accuracy_lost_median": float(np.median(lost)),
        "front_accuracy_lost_max": float(np.max(lost)),
        "chosen": len(chosen),
    }


def standalone_cpu(table: dict, keys: list, data: Any, args: argparse.Namespace, spec_of: Any) -> dict[str, float]:
    """CPU seconds of standalone trainings (the table's settings) of a few drawn networks."""
    from codesign.models.train import TrainConfig, train

    rng = np.random.default_rng(args.seed + 1)
    picks = [keys[i] for i in rng.permutation(len(keys))[: args.standalone]]
    cfg = TrainConfig(epochs=FULL_EPOCHS, batch_size=256, learning_rate=2e-2, seed=0, threads=1)
    seconds = []
    for key in picks:
        cpu = time.process_time()
        train(spec_of(*key).to_graph((64,)), data, cfg)
        seconds.append(time.process_time() - cpu)
    return {"trained": len(picks), "cpu_s_per_training": statistics.mean(seconds)}


def print_summary(result: dict[str, Any], args: argparse.Namespace) -> None:
    n, per = result["networks"], result["standalone"]["cpu_s_per_training"]
    print(f"{n} networks of {len(result['settings'])} quantisation settings; standalone: {n} trainings of "
          f"{FULL_EPOCHS} epochs, ~{n * per:.0f} s CPU ({per:.1f} s each, measured on {args.standalone})")  # fmt: skip
    for ft in args.finetune:
        f = result[f"finetune_{ft}"]
        total = result["supernet_cpu_s"] + f["scoring_cpu_s"]
        print(
            f"shared, fine-tune {ft}: {result['supernets']} supernets ({args.epochs} epochs) + {n} scorings, "
            f"{total:.0f} s CPU ({total / max(n * per, 1e-9):.0%} of standalone); Spearman all "
            f"{f['spearman_all']:.3f}, within a setting median {f['spearman_within_median']:.3f} "
            f"({', '.join(f'{v:.2f}' for v in f['spearman_within_setting'])}); MAE {f['mean_abs_error']:.3f}; "
            f"chosen front HV fraction {f['front_hv_fraction']:.3f}, accuracy lost at true-front points "
            f"median {f['front_accuracy_lost_median']:.3f} max {f['front_accuracy_lost_max']:.3f}",
            flush=True,
        )
