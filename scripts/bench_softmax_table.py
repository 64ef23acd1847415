"""How far hls4ml's table softmax is from a float softmax, with hls4ml's default types and the toolkit's.

Usage::

    python scripts/bench_softmax_table.py [--seeds 0 1 2 3] [--epochs 2]

Trains the 64-12-10 digits MLP ending in a softmax of ``tests/export/test_export_activations.py`` once per
seed (its own data split and initialisation) and compares, on that seed's held-out test split, the
softmax computed by :func:`codesign.export._softmax_table.softmax_stable` (the C model's arithmetic; the
export checks it bit for bit against hls4ml's C simulation) with torch's float softmax, both followed by
the layer's result quantizer: largest output difference and argmax agreement. "hls4ml defaults" are the
types hls4ml 1.3.0 picks without the toolkit's config (every table type ``ap_fixed<18,8,AP_RND,AP_SAT>``,
``inp_norm_t`` ``ap_ufixed<18,8>``); "toolkit" are :func:`softmax_tables`'. The trained model itself
computes the toolkit's tables, so its agreement with the exported design is 100 % by construction.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "export")]


def _hls4ml_defaults(n: int):
    from codesign.export._softmax_table import SoftmaxTables
    from hw_templates.precision import FixedType

    wide = FixedType(18, 8, True, "RND", "SAT")
    return SoftmaxTables(1024, FixedType(18, 8, False), wide, wide, wide, wide)


def measure(seed: int, epochs: int) -> dict[str, tuple[float, float]]:
    import torch
    from test_export_activations import ACTIVATION_CASES

    from codesign.data import load_dataset
    from codesign.export._softmax_table import softmax_stable, softmax_tables
    from codesign.models.train import TrainConfig, train

    case = next(c for c in ACTIVATION_CASES if c.name == "softmax")
    data = load_dataset("digits", case.shape, seed=seed)
    model = train(case.graph(), data, TrainConfig(epochs=epochs, seed=seed, batch_size=64)).model.eval()
    head = model.probs
    with torch.no_grad():
        head.train()
        logits = model(torch.from_numpy(data.x_test).float())
        head.eval()
        quantize = head.quant
        reference = quantize(torch.softmax(logits, dim=-1)).double().numpy()
        out = {}
        n = logits.shape[-1]
        for name, tables in (("hls4ml defaults", _hls4ml_defaults(n)), ("toolkit", softmax_tables(n))):
            table = torch.from_numpy(softmax_stable(logits.double().numpy(), tables)).float()
            probs = quantize(table).double().numpy()
            agree = float(np.mean(np.argmax(probs, 1) == np.argmax(reference, 1)))
            out[name] = (float(np.max(np.abs(probs - reference))), agree)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    for seed in args.seeds:
        figures = measure(seed, args.epochs)
        cells = [f"{k}: max diff {d:.4f}, argmax agreement {a:.2%}" for k, (d, a) in figures.items()]
        print(f"seed {seed}: " + "; ".join(cells), flush=True)


if __name__ == "__main__":
    main()
