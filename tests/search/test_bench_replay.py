"""The tabular benchmark's replay (scripts/bench_samplers.py) records a stopped run as train() would."""

from __future__ import annotations

import numpy as np


def test_a_replayed_stop_records_the_final_accuracy_once_the_best_epoch_is_behind(load_script) -> None:
    bs = load_script("bench_samplers")
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
