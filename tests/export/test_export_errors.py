"""Bad input gives one clear line: missing designs, folders, tools, untranslatable layers, compile errors."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from brevitas import nn as qnn
from export_cases import MLP, hardware
from torch import nn

from codesign.export import ExportRequest, export_designs, request_from_design, verify_exports, verify_project
from codesign.export._qonnx import clean_qonnx, export_qonnx
from codesign.export.translate import translate
from codesign.models.arch import ArchLayer, ArchSpec
from codesign.models.builder import build_model
from hw_templates.config import Backend
from hw_templates.errors import ExportError, SpecError, ToolNotFoundError, UnsupportedLayerError


def _request(design_id: str = "d", model: nn.Module | None = None) -> ExportRequest:
    graph = MLP.to_graph((64,))
    torch.manual_seed(0)
    inputs = np.random.default_rng(0).normal(size=(8, 64)).astype(np.float32)
    return ExportRequest(design_id, graph, hardware(), model or build_model(graph).eval(), inputs)


def _clean(model: nn.Module, shape: tuple[int, ...], folder: Path) -> Path:
    export_qonnx(model, shape, folder / "raw.onnx")
    clean_qonnx(folder / "raw.onnx", folder / "clean.onnx")
    return folder / "clean.onnx"


def test_a_folder_that_is_not_a_design_is_named(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"not a design folder \(no design.json\)"):
        request_from_design(tmp_path / "missing")


def test_output_folder_under_a_file_is_refused_before_any_work_in_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(SpecError, match=r"expected a folder, but .*file\.txt is a file") as err:
        export_designs([_request()], blocker / "out", progress=False)
    assert "\n" not in str(err.value)
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"] and blocker.read_text() == "x"


def test_a_folder_that_is_not_an_export_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "keep.txt").write_text("user data")
    with pytest.raises(ExportError, match="is not an export"):
        export_designs([_request()], tmp_path, progress=False)
    with pytest.raises(ExportError, match="is not an export"):
        export_designs([_request()], tmp_path, force=True, progress=False)
    assert (tmp_path / "d" / "keep.txt").read_text() == "user data"


def test_a_users_own_exports_json_is_refused_before_any_work(tmp_path: Path) -> None:
    index = tmp_path / "exports.json"
    for text in ('{"mine": [1, 2]}', '{"designs": [{"design_id": "d", "folder": "d"}]}', "notes"):
        index.write_text(text)
        with pytest.raises(SpecError, match=r"would overwrite exports.json there; choose a new folder") as err:
            export_designs([_request()], tmp_path, progress=False)
        assert "\n" not in str(err.value)
        assert [p.name for p in tmp_path.iterdir()] == ["exports.json"] and index.read_text() == text


def test_an_exports_own_index_marks_the_folder_as_its_own(tmp_path: Path) -> None:
    from codesign.export._folders import is_export_folder

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "manifest.json").write_text("{}")
    (tmp_path / "exports.json").write_text(json.dumps({"designs": [{"design_id": "d", "folder": "d"}]}))
    assert is_export_folder(tmp_path)
    (tmp_path / "exports.json").write_text(json.dumps({"designs": [{"design_id": "e", "folder": "e"}]}))
    assert not is_export_folder(tmp_path)


def test_design_ids_must_be_unique(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="unique"):
        export_designs([_request("a"), _request("a")], tmp_path, progress=False)


@pytest.mark.parametrize("design_id", ["..", "../evil", "/etc/x", "a/../../b"])
def test_a_design_id_never_leads_outside_the_output_folder(tmp_path: Path, design_id: str) -> None:
    from codesign.export._folders import fresh_project_folder

    out = (tmp_path / "out").resolve()
    out.mkdir()
    folder = fresh_project_folder(out, design_id)
    assert folder.parent == out and folder.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_missing_gxx_fails_before_anything_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ToolNotFoundError, match="g\\+\\+: not found on PATH"):
        export_designs([_request()], tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_a_layer_hls4ml_cannot_translate_is_named(tmp_path: Path) -> None:
    class WithSine(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.input = qnn.QuantIdentity()
            self.fc1 = nn.Linear(4, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.sin(self.fc1(self.input(x)))

    onnx_path = _clean(WithSine().eval(), (4,), tmp_path)
    with pytest.raises(UnsupportedLayerError, match=r"op Sin\): hls4ml has no translation"):
        translate(onnx_path, MLP.to_graph((64,)), hardware(), tmp_path / "prj")


def test_float_scale_quantizers_are_refused_as_not_bit_exact(tmp_path: Path) -> None:
    model = nn.Sequential(qnn.QuantIdentity(), qnn.QuantLinear(64, 10, bias=False)).eval()
    model(torch.randn(4, 64))  # Brevitas defaults: float scales
    onnx_path = _clean(model, (64,), tmp_path)
    graph = ArchSpec("one", (ArchLayer("dense", name="fc", units=10),)).to_graph((64,))
    with pytest.raises(ExportError, match=r"^layer 'fc' weight quantizer: scale .* is not a power of two"):
        translate(onnx_path, graph, hardware(), tmp_path / "prj")


def test_a_model_that_does_not_implement_the_graph_is_refused(tmp_path: Path) -> None:
    other = replace(MLP, layers=(replace(MLP.layers[0], units=8), *MLP.layers[1:]))
    onnx_path = _clean(build_model(other.to_graph((64,))).eval(), (64,), tmp_path)
    with pytest.raises(ExportError, match=r"layer 'fc1': expected a 64x16 weight matrix"):
        translate(onnx_path, MLP.to_graph((64,)), hardware(), tmp_path / "prj")


def test_an_illegal_reuse_factor_is_an_error_naming_the_layer_not_a_silent_snap(tmp_path: Path) -> None:
    graph = MLP.to_graph((64,))
    onnx_path = _clean(build_model(graph).eval(), (64,), tmp_path)
    hw = hardware("io_parallel", "resource", 1).with_layer("fc1", reuse_factor=7)
    with pytest.raises(ExportError, match=r"layer 'fc1' \(hls4ml Dense_MatMul_0\): hls4ml applied reuse_factor 8"):
        translate(onnx_path, graph, hw, tmp_path / "prj")


def test_a_failed_design_keeps_its_folder_marked_failed(tmp_path: Path, csim_cache: Path) -> None:
    plain = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10)).eval()
    with pytest.raises(ExportError, match="input quantizer"):
        export_designs([_request("plain", plain)], tmp_path, progress=False, cache_dir=csim_cache)
    manifest = json.loads((tmp_path / "plain" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "input quantizer" in manifest["error"]


def test_a_failed_export_is_replaced_by_the_rerun_that_fixes_it_without_force(tmp_path: Path) -> None:
    """Same design id, other hardware after a refusal: the failed folder holds nothing to keep, so the
    rerun replaces it; another design's unfinished (possibly running) export is still refused."""

    def export(reuse_factor: int) -> None:
        hw = hardware("io_parallel", "resource", 1).with_layer("fc1", reuse_factor=reuse_factor)
        export_designs([replace(_request(), hardware=hw)], tmp_path, progress=False)

    with pytest.raises(ExportError, match=r"hls4ml applied reuse_factor 8 \(design: 7"):
        export(7)
    with pytest.raises(ExportError, match=r"hls4ml applied reuse_factor 4 \(design: 5"):  # not "another design"
        export(5)
    manifest = tmp_path / "d" / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "status": "incomplete"}))
    with pytest.raises(ExportError, match="holds the export of another design; use --force"):
        export(7)


@pytest.mark.slow
def test_a_compile_error_points_to_the_kept_log(exported: tuple, tmp_path: Path, csim_cache: Path) -> None:
    _, results = exported
    project = tmp_path / "broken"
    shutil.copytree(results[0].project_dir, project, ignore=shutil.ignore_patterns("*.so"))
    source = project / "firmware" / "myproject.cpp"
    source.write_text(source.read_text() + "\nthis is not C++;\n")
    with pytest.raises(ExportError, match=r"g\+\+ failed to compile .* compiler output: .*compile.log") as err:
        verify_project(project, cache_dir=csim_cache)
    log = Path(str(err.value).rsplit(": ", 1)[1])
    assert "error" in log.read_text()


def test_verify_names_a_folder_without_exports(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no exported designs found"):
        verify_exports(tmp_path, progress=False)
    with pytest.raises(ExportError, match="no such folder"):
        verify_exports(tmp_path / "nope", progress=False)


@pytest.mark.parametrize(
    ("hw", "message"),
    [
        (replace(hardware(), multiplier_impl="dsp", backend=Backend.VIVADO), r"backend vivado has no equivalent"),
        (hardware().with_layer("fc1", multiplier_impl="fabric"), r"layer 'fc1': multiplier_impl fabric differs"),
    ],
)
def test_a_multiplier_mapping_that_cannot_be_written_is_refused(hw, message: str) -> None:
    from codesign.export.translate import check_exportable

    with pytest.raises(ExportError, match=message):
        check_exportable(MLP.to_graph((64,)), hw)
    # the same mapping, model-wide on Vitis, is written
    writable = replace(hw, backend=Backend.VITIS, multiplier_impl=hw.resolve("fc1").multiplier_impl, layers={})
    check_exportable(MLP.to_graph((64,)), writable)


def test_the_build_script_check_finds_a_missing_directive(tmp_path: Path) -> None:
    from codesign.export._directives import check_build_script, write_directives

    script = tmp_path / "build_prj.tcl"
    script.write_text("config_schedule -enable_dsp_full_reg=false\ncsynth_design\n")
    fabric = replace(hardware(), multiplier_impl="fabric")
    with pytest.raises(ExportError, match=r"multiplier directives none \(design: config_op mul -impl fabric\)"):
        check_build_script(tmp_path, fabric)
    assert write_directives(tmp_path, fabric) == "config_op mul -impl fabric"
    check_build_script(tmp_path, fabric)
    with pytest.raises(ExportError, match=r"design: none, multiplier_impl auto"):
        check_build_script(tmp_path, hardware())


def test_a_final_softmax_passes_the_export_checks_and_a_hidden_one_is_refused_at_build() -> None:
    """A final softmax is built (the trained model's eval outputs are its probabilities) and exported; its
    C simulation is checked in test_export_activations.py. Anywhere else the builder refuses it."""
    from codesign.export.translate import check_exportable
    from codesign.models.builder import build_model
    from cost_models.ir import GraphBuilder
    from hw_templates.precision import FixedType

    b = GraphBuilder("soft", (8,), FixedType(8, 3, rounding="RND_CONV", saturation="SAT"))
    b.add("dense", units=4)
    b.add("activation", name="probs", function="softmax")
    check_exportable(b.build(), hardware())
    b = GraphBuilder("soft", (8,), FixedType(8, 3, rounding="RND_CONV", saturation="SAT"))
    b.add("activation", name="probs", function="softmax")
    b.add("activation", name="after", function="relu")
    with pytest.raises(UnsupportedLayerError, match=r"layer 'probs'.*softmax only as the last layer"):
        build_model(b.build())


def test_a_softmax_hls4ml_built_with_other_types_than_the_toolkit_wrote_is_refused(tmp_path: Path) -> None:
    """The toolkit writes every softmax type (its trained model computes with them); should hls4ml pick
    another one (as it derives inp_norm_t from the input type when none is given), the design fails with
    the type named instead of reporting mismatches."""
    from codesign.export._softmax_table import check_written_softmax, softmax_tables

    tables = softmax_tables(10, 1024)
    (tmp_path / "firmware").mkdir()
    sizes = "".join(f"    static const unsigned {k} = {v};\n" for k, v in
                    (("n_slice", 10), ("exp_table_size", 1024), ("inv_table_size", 1024)))  # fmt: skip
    fields = ("inp_norm", "exp_table", "accum", "inv_inp", "inv_table")
    types = "".join(f"    typedef sm_{k}_t {k}_t;\n" for k in fields)
    (tmp_path / "firmware" / "parameters.h").write_text(
        "struct softmax_config3 : nnet::activ_config {\n" + sizes
        + "    static const nnet::softmax_implementation implementation = nnet::softmax_implementation::stable;\n"
        + types + "};\n"
    )  # fmt: skip
    defines = tmp_path / "firmware" / "defines.h"
    written = {k: getattr(tables, k).to_hls().replace(">", ",0>") for k in fields}
    defines.write_text("".join(f"typedef {t} sm_{k}_t;\n" for k, t in written.items()))
    check_written_softmax(tmp_path)
    defines.write_text(defines.read_text().replace(written["inp_norm"], "ap_ufixed<18, 6>"))
    with pytest.raises(ExportError, match=r"softmax: hls4ml built inp_norm_t as ap_ufixed<18, 6>"):
        check_written_softmax(tmp_path)
