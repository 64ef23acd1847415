"""The HLS tool-version table (hw_templates/tools.py)."""

from __future__ import annotations

import pytest

from hw_templates import resolve_part
from hw_templates.config import HardwareConfig
from hw_templates.errors import SpecError
from hw_templates.tools import TOOL_VERSIONS, resolve_tool_version


@pytest.mark.parametrize("version", sorted(TOOL_VERSIONS))
def test_every_release_is_vivado_hls_up_to_2020_1_and_vitis_hls_after(version):
    tool = resolve_tool_version(version)
    vivado = version <= "2020.1"
    assert tool.tool == ("Vivado HLS" if vivado else "Vitis HLS")
    assert tool.backend == ("vivado" if vivado else "vitis")
    assert tool.uncertainty_fraction == (0.125 if vivado else 0.27)
    assert (tool.partition_limit is not None) == vivado


@pytest.mark.parametrize(
    ("given", "release"), [("2019.2.1", "2019.2"), ("2020.1.1", "2020.1"), (" v2023.2 ", "2023.2")]
)
def test_patch_releases_count_as_their_release(given, release):
    assert resolve_tool_version(given) == TOOL_VERSIONS[release]


@pytest.mark.parametrize("bad", ["2026.1", "2019", "latest", "19.2"])
def test_unknown_release_is_one_line_listing_the_known_ones(bad):
    with pytest.raises(SpecError) as info:
        resolve_tool_version(bad)
    message = str(info.value)
    assert "\n" not in message and repr(bad) in message
    assert "2019.2" in message and "2025.1" in message


def test_hardware_config_refuses_an_unknown_tool_version():
    with pytest.raises(SpecError, match="tool_version"):
        HardwareConfig(resolve_part("xcu250"), tool_version="2030.1")
    assert HardwareConfig(resolve_part("xcu250"), tool_version="2019.2.1").tool_version == "2019.2.1"
