"""HardwareConfig / LayerHardware built from Python take the same strings a spec file does."""

from __future__ import annotations

import pytest

from hw_templates.config import Backend, HardwareConfig, IoType, LayerHardware, Strategy
from hw_templates.errors import SpecError
from hw_templates.parts import resolve_part


def test_strings_become_the_enum_members_a_spec_would_give() -> None:
    """``strategy="resource"`` from Python used to stay a str and fail deep inside the export."""
    hw = HardwareConfig(
        resolve_part("xc7z020"), io_type="io_stream", strategy="Resource", backend="vivado",
        layers={"fc1": LayerHardware(strategy="latency", reuse_factor=1)},
    )  # fmt: skip
    assert (hw.io_type, hw.strategy, hw.backend) == (IoType.STREAM, Strategy.RESOURCE, Backend.VIVADO)
    assert hw.resolve("fc1").strategy is Strategy.LATENCY and hw.resolve("fc2").strategy is Strategy.RESOURCE
    assert hw.to_dict()["strategy"] == "resource"
    same = HardwareConfig(
        resolve_part("xc7z020"), io_type=IoType.STREAM, strategy=Strategy.RESOURCE, backend=Backend.VIVADO,
        layers={"fc1": LayerHardware(strategy=Strategy.LATENCY, reuse_factor=1)},
    )  # fmt: skip
    assert hw == same


def test_an_unknown_strategy_string_is_refused_with_the_allowed_values() -> None:
    with pytest.raises(SpecError, match=r"strategy.*latency, resource"):
        HardwareConfig(resolve_part("xc7z020"), strategy="fast")
