"""The hardware-template registry: every entry is checked automatically (timm-style)."""

from __future__ import annotations

import pytest

from hw_templates.config import IoType
from hw_templates.errors import SpecError
from hw_templates.templates import HardwareTemplate, get_template, list_templates, template_names


@pytest.mark.parametrize("name", template_names())
def test_every_template_declares_what_it_fixes_and_opens(name: str) -> None:
    t = get_template(name)
    assert t.summary and t.source, "a template needs a summary and a source"
    fixed, opened = set(t.fixes()), set(t.opens())
    assert "io_type" in fixed
    assert not (fixed & opened - {"io_type"}), f"{name} both fixes and opens {fixed & opened}"


def test_names_and_patterns() -> None:
    assert {"low_latency_dataflow", "resource_reuse", "streaming_cnn", "dsp_free"} <= set(template_names())
    assert [t.name for t in list_templates("*reuse")] == ["latency_reuse", "resource_reuse"]
    assert list_templates("nothing*") == []


def test_unknown_template_suggests_the_closest_name() -> None:
    with pytest.raises(SpecError, match="did you mean 'dsp_free'"):
        get_template("dsp_fre")


def test_low_latency_fixes_everything_and_dsp_free_caps_dsp() -> None:
    assert get_template("low_latency_dataflow").opens() == ()
    dsp_free = get_template("dsp_free")
    assert dsp_free.max_dsp == 0 and dsp_free.max_weight_bits == 6
    assert get_template("streaming_cnn").io_types == (IoType.STREAM,)


def test_a_template_without_io_types_is_refused() -> None:
    with pytest.raises(SpecError, match="io_types"):
        HardwareTemplate("x", "y", (), None, None, True)
