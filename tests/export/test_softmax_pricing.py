"""Build what was priced, for a softmax: the design's graph carries the table type the export writes
(ap_ufixed<13,1,AP_RND,AP_SAT>, codesign/export/_softmax_table.py), so the cost model prices 13-bit exp
and inverse tables instead of hls4ml's default 18-bit ones; a softmax asking for other tables is refused
at export. No C compile."""

from __future__ import annotations

from dataclasses import replace

import pytest

from codesign.export._softmax_table import softmax_tables
from codesign.export.translate import check_exportable
from codesign.spec import design_spec_from_dict
from cost_models.analytical import AnalyticalModel
from cost_models.ir import SOFTMAX_TABLE_TYPE
from hw_templates.config import HardwareConfig
from hw_templates.errors import ExportError
from hw_templates.parts import resolve_part
from hw_templates.precision import FixedType


def _spec(softmax: dict) -> dict:
    return {
        "input_shape": [64],
        "layers": [{"type": "dense", "name": "fc1", "units": 12}, {"type": "relu", "name": "r1"},
                   {"type": "dense", "name": "out", "units": 10}, {"type": "softmax", "name": "probs", **softmax}],
    }  # fmt: skip


def test_a_spec_softmax_carries_the_table_type_the_export_writes() -> None:
    graph = design_spec_from_dict(_spec({})).graph
    tables = softmax_tables(graph.layers[-1].output_shape[-1], graph.layers[-1].table_size)
    assert graph.layers[-1].precision.table == SOFTMAX_TABLE_TYPE == tables.exp_table == tables.inv_table
    assert SOFTMAX_TABLE_TYPE.to_hls() == "ap_ufixed<13,1,AP_RND,AP_SAT>"
    check_exportable(graph)  # no refusal


def test_the_softmax_is_priced_with_13_bit_tables_not_hls4ml_18_bit_defaults() -> None:
    graph = design_spec_from_dict(_spec({})).graph
    softmax = graph.layers[-1]
    default = replace(softmax, precision=replace(softmax.precision, table=None))  # hls4ml's ap_fixed<18,8>
    hw = HardwareConfig(resolve_part("xcu250"), reuse_factor=1)
    built = AnalyticalModel().estimate(graph, hw)
    priced_before = AnalyticalModel().estimate(replace(graph, layers=(*graph.layers[:-1], default)), hw)
    lut = {c.name: c.lut for c in built.layers}["probs"]
    lut_18 = {c.name: c.lut for c in priced_before.layers}["probs"]
    assert lut < lut_18  # the inverse-table ROM and the adder tree are 13 bits wide, not 18


def test_a_softmax_asking_for_other_tables_is_refused_at_export() -> None:
    graph = design_spec_from_dict(_spec({"precision": {"table": "ap_fixed<18,8>"}})).graph
    assert graph.layers[-1].precision.table == FixedType.parse("ap_fixed<18,8>")
    with pytest.raises(ExportError, match=r"layer 'probs' \(softmax\): table type .* is not what the export builds"):
        check_exportable(graph)
