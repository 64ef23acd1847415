"""The tabular benchmark's replay (scripts/bench_samplers.py) records a stopped run as train() would."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np


def _bench() -> object:
    path = Path(__file__).resolve().parents[2] / "scripts" / "bench_samplers.py"
    spec = importlib.util.spec_from_file_location("bench_samplers", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_samplers", module)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_a_replayed_stop_records_the_final_accuracy_once_the_best_epoch_is_behind() -> None:
    bs = _bench()
    table = bs.load_table()
    replay = bs.Replay(table, "fpga2", seed=0)
    # an architecture whose best validation epoch (the first maximum) comes before the last one
    curves = {k: [float(v) for v in r["val_s0"].split(";")] for k, r in table.items()}
    key, history = next((k, h) for k, h in curves.items() if 2 < int(np.argmax(h)) < len(h) - 2)
    row = table[key]
    best, arch = int(np.argmax(history)), dict(zip(bs.KEYS, key))
    final = float(row["accuracy_s0"])
    assert replay.evaluate(arch, lambda epoch, val: epoch == best) == final
    assert replay.evaluate(arch, lambda epoch, val: epoch == best + 1) == final
    assert replay.evaluate(arch, lambda epoch, val: epoch == best - 1) == max(history[:best])
    assert replay.evaluate(arch, lambda epoch, val: False) == final
    assert [exact for _, _, exact in replay.stops] == [True, True, False]
    assert replay.epochs_full - replay.epochs_run == 3 * len(history) - (best + 1) - (best + 2) - best
