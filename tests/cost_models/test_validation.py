"""Out-of-source validation: folds hold whole sources out, nothing is fitted on a held-out source, and the
figures are what the errors say (small real graphs and the real analytical model; no calibration data)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cost_models import GraphBuilder, Target
from cost_models.analytical import DEFAULT_CONSTANTS, AnalyticalConstants, AnalyticalModel
from cost_models.synth_data import SynthRecord
from cost_models.validation import Prediction, hold_out_sources, source_folds, summarize
from hw_templates.config import HardwareConfig
from hw_templates.parts import resolve_part
from hw_templates.precision import FixedType

PART = resolve_part("xcu250")
#: Every "measured" figure is the analytical HLS estimate times this (a known law the table can learn).
FACTOR = 1.5


def _records(source: str, widths: Sequence[int]) -> list[SynthRecord]:
    out = []
    for width in widths:
        for rf in (1, 2, 4):
            b = GraphBuilder(f"mlp{width}", (16,), FixedType(16, 6))
            b.add("dense", units=width)
            b.add("activation", function="relu")
            b.add("dense", units=8)
            graph, hw = b.build(), HardwareConfig(PART, reuse_factor=rf)
            cost = AnalyticalModel(Target.HLS).estimate(graph, hw)
            measured = {m: FACTOR * getattr(cost, m) for m in ("lut", "ff", "dsp", "bram18", "latency_cycles")}
            out.append(
                SynthRecord(source, f"mlp{width}_rf{rf}", f"{source}.csv:{len(out) + 2}", "csynth", Target.HLS,
                            graph, hw, measured, per_layer=False, tool="Vitis HLS", tool_version="2023.2")
            )  # fmt: skip
    return out


def test_each_fold_is_fitted_without_its_sources() -> None:
    records = _records("a/one", (16, 24, 32, 48)) + _records("b/two", (20, 28, 40)) + _records("c/three", (36,))
    seen: list[set[str]] = []

    def fit(train: Sequence[SynthRecord]) -> AnalyticalConstants:
        seen.append({r.source for r in train})
        return DEFAULT_CONSTANTS

    folds = source_folds(records, min_rows=1)
    result = hold_out_sources(records, folds, fit)
    assert sorted(map(sorted, seen)) == [["a/one", "b/two"], ["a/one", "c/three"], ["b/two", "c/three"]]
    assert len(result.predictions) == len(records) and not result.refused
    for p in result.predictions:
        assert p.fold == folds[p.source] and p.source not in seen[p.fold]


def test_a_table_fitted_on_other_sources_corrects_a_held_out_source() -> None:
    # Seven sources follow the same law: the last one's rows are predicted by a table built from the other
    # six, where the correction is seen to transfer between sources. It is shrunk by the sources behind it
    # (6 / (6 + 2)): 1.5 ** 0.75 of the analytical figure, about 10 % short of the measured one.
    records = [r for i in range(7) for r in _records(f"s{i}/repo", (16 + 2 * i, 24 + 2 * i, 36 + i, 48))]
    result = hold_out_sources(records, source_folds(records), fit=None)
    held = [p for p in result.predictions if p.source == "s6/repo"]
    assert held and all(p.supported["lut"] for p in held)
    analytical, lut = (summarize(held, m, "hls", "lut") for m in ("analytical", "lut"))
    assert analytical.median_ape == pytest.approx(100 * (1 - 1 / FACTOR), abs=0.5)
    assert lut.median_ape == pytest.approx(100 * (1 - FACTOR**-0.25), abs=1.5)


def test_a_correction_seen_in_one_source_only_is_not_applied_to_another() -> None:
    records = _records("a/one", (16, 20, 24, 28, 32, 40, 48)) + _records("b/two", (22, 30, 36))
    result = hold_out_sources(records, source_folds(records), fit=None)
    for p in result.predictions:  # each source is predicted from a table of the other one alone
        assert not any(p.supported.values())
        assert p.predicted["lut"] == p.predicted["analytical"]


@given(st.dictionaries(st.sampled_from("abcdefgh"), st.integers(1, 30), min_size=1), st.integers(1, 40))
def test_source_folds_partition_the_sources(sizes: dict[str, int], min_rows: int) -> None:
    records = [_FakeRecord(source) for source, n in sizes.items() for _ in range(n)]
    folds = source_folds(records, min_rows)  # type: ignore[arg-type]
    assert set(folds) == set(sizes)
    members: dict[int, list[str]] = {}
    for source, fold in folds.items():
        members.setdefault(fold, []).append(source)
    assert sorted(members) == list(range(len(members)))
    for group in members.values():  # several sources share a fold only when each is small
        assert len(group) == 1 or all(sizes[s] < min_rows for s in group)
    if min_rows == 1:
        assert len(members) == len(sizes)


class _FakeRecord:
    def __init__(self, source: str) -> None:
        self.source = source


def _prediction(source: str, measured: float, predicted: float) -> Prediction:
    return Prediction(source, "hls", "dense", 0, {"lut": measured}, {"analytical": {"lut": predicted}})


def test_summary_figures_by_hand() -> None:
    # errors: 5 %, 20 %, 40 % (source a) and 100 % (source b)
    preds = [_prediction("a", 100, 105), _prediction("a", 100, 80), _prediction("a", 100, 140)]
    preds.append(_prediction("b", 10, 20))
    pooled = summarize(preds, "analytical", "hls", "lut")
    assert (pooled.rows, pooled.within10, pooled.within25) == (4, 25, 50)
    assert pooled.median_ape in (20, 40)
    balanced = summarize(preds, "analytical", "hls", "lut", by_source=True)
    assert balanced.within25 == pytest.approx(100 * (2 / 3) / 2)  # a's share is 1/2, of which 2/3 within
    assert balanced.median_ape == 40  # half the weight is source b's 100 %
    assert summarize(preds, "analytical", "synth", "lut").rows == 0


def test_two_worker_processes_give_the_same_predictions() -> None:
    records = _records("a/one", (16, 24)) + _records("b/two", (20,)) + _records("c/three", (36,))
    folds = source_folds(records)
    one, two = (hold_out_sources(records, folds, None, jobs=j) for j in (1, 2))
    assert one.predictions == two.predictions and one.refused == two.refused
