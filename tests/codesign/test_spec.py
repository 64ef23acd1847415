"""Design specs: the shipped examples load, and every kind of bad input gets one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from codesign.spec import design_spec_from_dict, load_design_spec
from hw_templates.config import IoType, Strategy
from hw_templates.errors import ReuseFactorError, SpecError, UnknownPartError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DESIGN_SPECS = sorted(p for p in EXAMPLES.glob("*.yaml") if "layers:" in p.read_text())


def _spec(**changes: object) -> dict:
    base = {
        "name": "t",
        "part": "xc7z020",
        "input_shape": [16],
        "precision": "ap_fixed<16,6>",
        "layers": [{"type": "dense", "units": 8, "name": "fc1"}, {"type": "relu"}],
    }
    base.update(changes)
    return base


@pytest.mark.parametrize("path", DESIGN_SPECS, ids=lambda p: p.name)
def test_every_example_spec_loads(path: Path) -> None:
    spec = load_design_spec(path)
    assert spec.graph.weight_layers()
    assert spec.hardware.part.lut > 0


def test_jet_tagger_example() -> None:
    spec = load_design_spec(EXAMPLES / "jet_tagger.yaml")
    assert [x.units for x in spec.graph.weight_layers()] == [64, 32, 32, 5]
    assert spec.hardware.part.full_name == "xcu250-figd2104-2L-e"
    assert spec.hardware.io_type is IoType.PARALLEL


def test_mixed_precision_and_per_layer_overrides() -> None:
    spec = design_spec_from_dict(
        _spec(
            precision={"input": "ap_fixed<8,1>", "weight": 6, "result": "ap_fixed<16,6>"},
            strategy="Resource",
            layers=[
                {
                    "type": "dense",
                    "units": 8,
                    "name": "fc1",
                    "reuse_factor": 4,
                    "sparsity": 0.5,
                    "precision": {"weight": "ap_fixed<4,1>"},
                },
                {"type": "relu", "precision": "ap_ufixed<8,3>"},
                {"type": "dense", "units": 4, "strategy": "latency", "activation": "softmax"},
            ],
        )
    )
    g, hw = spec.graph, spec.hardware
    assert g.layers[0].precision.result.width == 8
    assert g.layer("fc1").precision.weight.width == 4
    assert g.layer("dense1").precision.weight.width == 6
    assert g.layer("dense1_softmax").function.value == "softmax"
    assert hw.resolve("fc1").reuse_factor == 4
    assert hw.resolve("fc1").strategy is Strategy.RESOURCE
    assert hw.resolve("dense1").strategy is Strategy.LATENCY
    assert g.layer("fc1").sparsity == 0.5


def test_fifo_depths_round_trip_through_the_hardware_config() -> None:
    from hw_templates.config import FifoDepths, HardwareConfig

    spec = design_spec_from_dict(_spec(io_type="io_stream", fifo_depths="sized"))
    assert spec.hardware.fifo_depths is FifoDepths.SIZED
    assert HardwareConfig.from_dict(spec.hardware.to_dict()) == spec.hardware
    assert design_spec_from_dict(_spec()).hardware.fifo_depths is FifoDepths.FULL


def test_tool_version_reaches_the_hardware_config_and_round_trips() -> None:
    from hw_templates.config import HardwareConfig

    spec = design_spec_from_dict(_spec(tool_version="2019.2", clock_uncertainty_ns=0.5))
    assert (spec.hardware.tool_version, spec.hardware.clock_uncertainty_ns) == ("2019.2", 0.5)
    assert HardwareConfig.from_dict(spec.hardware.to_dict()) == spec.hardware
    assert design_spec_from_dict(_spec()).hardware.tool_version is None


def test_user_declared_part() -> None:
    spec = design_spec_from_dict(
        _spec(part="myboard", parts={"myboard": {"lut": 50000, "ff": 100000, "dsp": 120, "bram18": 200}})
    )
    assert spec.hardware.part.dsp == 120


@pytest.mark.parametrize(
    ("changes", "error", "text"),
    [
        ({"part": "xcu205"}, UnknownPartError, "did you mean 'xcu250'"),
        ({"clok_ns": 5}, SpecError, "unknown key 'clok_ns' (did you mean 'clock_ns'?)"),
        ({"layers": [{"type": "dense", "unitz": 8}]}, SpecError, "did you mean 'units'"),
        ({"layers": [{"kind": "dense", "units": 8}]}, SpecError, "'layers[0].kind' (expected one of: type, "),
        ({"layers": [{"type": "dens", "units": 8}]}, SpecError, "did you mean 'dense'"),
        ({"layers": [{"type": "dense", "units": "8"}]}, SpecError, "layers[0].units"),
        ({"layers": [{"type": "dense", "units": 8, "filters": 3}]}, SpecError, "'filters' does not apply"),
        ({"layers": [{"type": "conv2d", "filters": 2, "kernel": 3}]}, SpecError, "height, width, channels"),
        ({"precision": "ap_fixd<16,6>"}, SpecError, "precision"),
        ({"precision": {"wieght": 8}}, SpecError, "did you mean 'weight'"),
        ({"io_type": "streaming"}, SpecError, "io_parallel, io_stream"),
        ({"fifo_depths": "small"}, SpecError, "fifo_depths: expected one of full, sized"),
        ({"input_shape": []}, SpecError, "input_shape"),
        ({"layers": []}, SpecError, "layers"),
        ({"strategy": "resource", "reuse_factor": 3}, ReuseFactorError, "hls4ml would silently use"),
        (
            {
                "input_shape": [8, 8, 4],
                "strategy": "resource",
                "layers": [{"type": "depthwise_conv2d", "name": "dw", "kernel": 3}, {"type": "relu"}],
            },
            SpecError,
            "layer 'dw' (depthwise_conv2d): strategy resource is not built correctly by hls4ml 1.3",
        ),
    ],
)
def test_bad_specs_fail_with_one_line(changes: dict, error: type[Exception], text: str) -> None:
    with pytest.raises(error) as err:
        design_spec_from_dict(_spec(**changes), "t.yaml")
    message = str(err.value)
    assert text in message
    assert "\n" not in message


def test_depthwise_layer_with_a_latency_override_is_accepted_in_a_resource_design() -> None:
    layers = [{"type": "depthwise_conv2d", "name": "dw", "kernel": 3, "strategy": "latency"}, {"type": "relu"}]
    spec = design_spec_from_dict(_spec(input_shape=[8, 8, 4], strategy="resource", reuse_factor=1, layers=layers))
    assert spec.hardware.resolve("dw").strategy.value == "latency"


def test_latency_strategy_accepts_any_reuse_factor() -> None:
    # hls4ml 1.3 checks reuse factors only for the Resource strategy (hw_templates.reuse docstring).
    spec = design_spec_from_dict(_spec(reuse_factor=3))
    assert spec.hardware.reuse_factor == 3


def test_unquoted_comma_in_flow_mapping_gets_a_hint(tmp_path: Path) -> None:
    text = yaml.safe_dump(_spec())[:-1] + "\n"
    text = text.replace("- name: fc1", "- precision: {result: ap_fixed<8,3>}\n  name: fc1")
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(SpecError, match="quote types that contain a comma"):
        load_design_spec(path)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nlayers: [\n")
    with pytest.raises(SpecError, match="line"):
        load_design_spec(path)


def test_a_recurrent_layer_takes_its_keys_and_its_reuse_factor_is_checked_on_the_kernel_product() -> None:
    layers = [{"type": "lstm", "units": 8, "return_sequences": True}, {"type": "gru", "units": 4}]
    # 512 is legal for the 16x32 kernel product, not for the 8x32 recurrent one (hls4ml derives 256 for it)
    spec = design_spec_from_dict(_spec(input_shape=[6, 16], strategy="resource", reuse_factor=512, layers=layers[:1]))
    assert spec.graph.output.output_shape == (6, 8) and spec.graph.output.return_sequences
    spec = design_spec_from_dict(_spec(input_shape=[6, 16], strategy="resource", reuse_factor=4, layers=layers))
    assert spec.graph.output.output_shape == (4,)
    with pytest.raises(SpecError, match="'filters' does not apply to a lstm layer"):
        design_spec_from_dict(_spec(input_shape=[6, 16], layers=[{"type": "lstm", "units": 8, "filters": 2}]))
    with pytest.raises(ReuseFactorError, match="16x32"):
        design_spec_from_dict(_spec(input_shape=[6, 16], strategy="resource", reuse_factor=24, layers=layers[:1]))
