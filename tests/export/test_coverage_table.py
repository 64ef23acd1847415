"""docs/export.md's coverage table is what tests/export/coverage_table.py generates from the export tests'
case tables and the code's refusal reasons (fast: no training, no export)."""

from __future__ import annotations

import coverage_table


def test_docs_coverage_table_is_generated_from_the_tests() -> None:
    assert coverage_table.current() == coverage_table.table(), (
        "docs/export.md's coverage table is stale: run python tests/export/coverage_table.py --write"
    )


def test_every_cell_is_stated_and_refusals_come_from_the_code() -> None:
    cells = coverage_table.cells()
    assert len(cells) == len(coverage_table.rows()) * len(coverage_table.COLUMNS)
    assert cells["dense", "io_stream", "resource"] == "bit-exact"  # the session export's MLP
    assert cells["activation: sigmoid", "io_parallel", "latency"].startswith("table (max diff <= ")
    assert cells["activation: leaky_relu", "io_stream", "resource"] == "bit-exact"
    assert cells["depthwise_conv2d", "io_parallel", "resource"].startswith("refused: hls4ml 1.3 builds it wrongly")
    assert cells["avgpool2d", "io_parallel", "latency"] == "bit-exact"
    assert cells["activation: softmax", "io_stream", "resource"].startswith("table, as trained (vs float softmax")
    assert cells["activation: elu", "io_parallel", "latency"] == "refused: the Brevitas model builder does not build it"
    kinds = ("bit-exact", "table", "refused", "not tested")
    assert all(v.split(":")[0].split(" (")[0].split(",")[0] in kinds for v in cells.values())
