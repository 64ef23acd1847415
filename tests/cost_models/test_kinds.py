"""The layer-kind table and its consumers: every consumer handles every kind or says why not."""

from __future__ import annotations

import importlib

import pytest

from cost_models.kinds import CONSUMERS, KINDS, KindCoverage, LayerKind
from hw_templates.config import LATENCY_ONLY_KINDS


def test_every_kind_has_one_row_in_the_table():
    assert set(KINDS) == set(LayerKind)


@pytest.mark.parametrize("module", CONSUMERS)
def test_consumer_covers_every_kind_or_says_why_not(module):
    coverage = importlib.import_module(module).KIND_COVERAGE
    assert isinstance(coverage, KindCoverage)
    assert coverage.problems() == []
    assert all(reason.strip() for reason in coverage.unsupported.values())


def test_coverage_names_a_kind_that_is_missing_or_doubled():
    partial = KindCoverage("partial", frozenset({LayerKind.DENSE}), {LayerKind.DENSE: "both", LayerKind.ADD: "no"})
    problems = partial.problems()
    assert "partial: dense is handled and declared unsupported" in problems
    assert any("no handler and no reason for conv2d" in p for p in problems)
    assert not any("for add" in p for p in problems)


def test_table_properties_agree_with_the_ir_and_the_hardware_rules():
    assert {k for k in LayerKind if k.has_weights} == {k for k, v in KINDS.items() if v.weights}
    assert LayerKind.CONV2D.spatial_dims == 2 and LayerKind.GLOBAL_AVGPOOL1D.spatial_dims == 1
    assert LayerKind.DENSE.spatial_dims == 0
    # the latency-only rule (hw_templates is the leaf and names kinds by value) names weighted kinds only
    assert {LayerKind(k) for k in LATENCY_ONLY_KINDS} <= {k for k in LayerKind if k.has_weights}
    # a data-only kind never computes, so it keeps its input's number format unless it merges tensors
    assert all(v.pass_through for k, v in KINDS.items() if v.data_only and k not in (LayerKind.INPUT, LayerKind.CONCAT))
