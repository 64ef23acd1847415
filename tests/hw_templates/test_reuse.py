"""hls4ml's reuse-factor rule: an oracle test against hls4ml 1.3's own backend functions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hw_templates import (
    check_reuse_factor,
    closest_valid_reuse_factor,
    is_valid_reuse_factor,
    valid_reuse_factors,
)
from hw_templates.errors import ReuseFactorError, ShapeError

SIZES = (1, 2, 3, 5, 7, 8, 10, 12, 16, 27, 32, 49, 64, 100, 144)
GRID = [(n_in, n_out) for n_in in SIZES for n_out in SIZES]


@pytest.fixture(scope="module", params=["Vivado", "Vitis"])
def backend(request: pytest.FixtureRequest) -> object:
    hls4ml = pytest.importorskip("hls4ml")
    return hls4ml.backends.get_backend(request.param)


def _probe_values(n_in: int, n_out: int) -> list[int]:
    top = n_in * n_out
    return sorted({*range(1, min(top, 300) + 1), top - 1, top, top + 1, top + 97, 3 * top} - {0})


def test_valid_set_matches_hls4ml_on_a_grid(backend: object) -> None:
    for n_in, n_out in GRID:
        assert list(valid_reuse_factors(n_in, n_out)) == backend.get_valid_reuse_factors(n_in, n_out), (
            n_in,
            n_out,
        )


def test_snap_matches_hls4ml_on_a_grid(backend: object) -> None:
    for n_in, n_out in GRID:
        theirs = backend.get_valid_reuse_factors(n_in, n_out)
        for rf in _probe_values(n_in, n_out):
            expected = backend.get_closest_reuse_factor(theirs, rf)
            assert closest_valid_reuse_factor(n_in, n_out, rf) == expected, (n_in, n_out, rf)
            assert is_valid_reuse_factor(n_in, n_out, rf) == (rf in theirs), (n_in, n_out, rf)


def test_unrolled_strategy_drops_the_largest_value_like_hls4ml(backend: object) -> None:
    for n_in, n_out in GRID:
        theirs = backend.get_valid_reuse_factors(n_in, n_out)
        theirs.pop()  # what set_closest_reuse_factor(include_max_rf=False) does
        assert list(valid_reuse_factors(n_in, n_out, include_max_rf=False)) == theirs
        if not theirs:
            continue
        for rf in (1, n_in, n_in * n_out, n_in * n_out + 5):
            expected = backend.get_closest_reuse_factor(theirs, rf)
            assert closest_valid_reuse_factor(n_in, n_out, rf, include_max_rf=False) == expected


@settings(max_examples=60, deadline=None)
@given(n_in=st.integers(1, 150), n_out=st.integers(1, 150), rf=st.integers(1, 30_000))
def test_rule_matches_hls4ml_for_generated_sizes(n_in: int, n_out: int, rf: int) -> None:
    hls4ml = pytest.importorskip("hls4ml")
    oracle = hls4ml.backends.get_backend("Vitis")
    theirs = oracle.get_valid_reuse_factors(n_in, n_out)
    assert list(valid_reuse_factors(n_in, n_out)) == theirs
    assert closest_valid_reuse_factor(n_in, n_out, rf) == oracle.get_closest_reuse_factor(theirs, rf)


@settings(max_examples=200, deadline=None)
@given(n_in=st.integers(1, 2_000), n_out=st.integers(1, 2_000))
def test_extremes_are_always_legal_and_set_is_sorted(n_in: int, n_out: int) -> None:
    values = valid_reuse_factors(n_in, n_out)
    assert values[0] == 1 and values[-1] == n_in * n_out
    assert list(values) == sorted(set(values))
    assert all(is_valid_reuse_factor(n_in, n_out, v) for v in values)


def test_check_reuse_factor_message_names_layer_snap_and_neighbours() -> None:
    with pytest.raises(ReuseFactorError) as info:
        check_reuse_factor("layers[1] 'fc1'", 16, 64, 7)
    assert str(info.value) == (
        "layers[1] 'fc1': reuse_factor 7 is not legal for a 16x64 layer "
        "(hls4ml would silently use 8); valid values near it: 4, 8, 16"
    )


def test_check_reuse_factor_above_the_range_suggests_the_top_values() -> None:
    with pytest.raises(ReuseFactorError, match=r"would silently use 1024\); valid values near it: 256, 512, 1024$"):
        check_reuse_factor("fc1", 16, 64, 5000)


def test_check_reuse_factor_returns_a_legal_value_unchanged() -> None:
    assert check_reuse_factor("fc1", 16, 64, 32) == 32
    assert check_reuse_factor("fc1", 3, 5, 15) == 15


def test_unrolled_strategy_rejects_the_full_reuse_factor() -> None:
    assert is_valid_reuse_factor(4, 4, 16)
    assert not is_valid_reuse_factor(4, 4, 16, include_max_rf=False)
    with pytest.raises(ReuseFactorError, match="would silently use 8"):
        check_reuse_factor("fc1", 4, 4, 16, include_max_rf=False)
    with pytest.raises(ReuseFactorError, match="no legal value for a 1x1 layer under resource_unrolled"):
        closest_valid_reuse_factor(1, 1, 1, include_max_rf=False)


@pytest.mark.parametrize("bad", [0, -3, 2.0, True, "4"])
def test_reuse_factor_must_be_a_positive_integer(bad: object) -> None:
    with pytest.raises(ReuseFactorError, match="reuse_factor: expected a positive integer"):
        is_valid_reuse_factor(16, 64, bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("n_in", "n_out"), [(0, 4), (4, -1), (2.5, 4), (4, None)])
def test_sizes_must_be_positive_integers(n_in: object, n_out: object) -> None:
    with pytest.raises(ShapeError, match="expected a positive integer"):
        valid_reuse_factors(n_in, n_out)  # type: ignore[arg-type]


def test_numpy_integers_are_accepted() -> None:
    np = pytest.importorskip("numpy")
    assert check_reuse_factor("fc1", np.int64(16), np.int64(64), np.int32(8)) == 8


def test_rule_modules_import_neither_hls4ml_nor_torch() -> None:
    code = (
        "import sys, hw_templates.parts, hw_templates.reuse; "
        "bad = [m for m in ('hls4ml', 'torch', 'brevitas', 'cost_models', 'codesign') if m in sys.modules]; "
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=root, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
