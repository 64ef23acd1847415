"""The hostile-input corpus: bad, damaged or malicious inputs a user can hand the ``codesign`` CLI.

Every case is made by the test in its own folder (small files; "large" files are sparse, so they cost no
disk), then run through the CLI. A refusal case must end with exit code 2, exactly one stderr line that
matches ``expect`` (the field or value and what is allowed), no traceback, and no file created, changed
or removed. Accepted cases are legitimate edge inputs that must keep working.

A case is ``Case(id, category, files, argv, expect)``: ``files`` maps a relative path to its content
(str, bytes, a callable ``(folder) -> None`` that writes it, or :data:`DIR` for an empty folder); ``{d}``
in ``argv`` is the case folder. ``argv`` runs with the case's scratch folder as working directory, so
default outputs (``runs/<name>``) land where the test watches.
"""

from __future__ import annotations

import itertools
import json
import os
import pickle
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

DIR = object()  # marker: create an empty folder
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: Categories of the issue (the test reports the count per category).
CATEGORIES = (
    "yaml",  # YAML/JSON oddities and resource bombs in specs
    "spec",  # design-spec values
    "search",  # search configs
    "dataset",  # .npz / .csv / names
    "run",  # run folders: run.json, study.db
    "design",  # design folders: design.json, weights.pt
    "onnx",  # ONNX files
    "export",  # export and verify targets and exported projects
    "paths",  # output paths
    "flags",  # CLI flags
    "calibrate",  # calibration inputs
    "accepted",  # legitimate edge inputs that must keep working
)


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    files: dict[str, Any]
    argv: tuple[str, ...]
    expect: str  # regex the stderr line must match (refusals) or stdout must match (accepted)
    env: dict[str, str] = field(default_factory=dict)
    check: Callable[[Path], None] | None = None  # extra check on the case folder (accepted cases)
    subprocess: bool = False


BASE_SPEC: dict[str, Any] = {
    "name": "tiny",
    "part": "xc7z020",
    "input_shape": [64],
    "precision": {"input": "ap_fixed<8,3,AP_RND_CONV,AP_SAT>", "weight": "ap_fixed<4,1,AP_RND_CONV,AP_SAT>"},
    "layers": [{"type": "dense", "units": 16}, {"type": "relu"}, {"type": "dense", "units": 10}],
}
BASE_SEARCH: dict[str, Any] = {
    "name": "s",
    "dataset": "digits",
    "space": {"kind": "mlp", "hidden": [1, 1], "units": [8, 16], "weight_bits": [4, 4], "act_bits": [4, 4]},
    "parts": ["xc7z020"],
    "training": {"epochs": 1, "proxy_fraction": 0.3},
    "search": {"trials": 1, "objectives": ["accuracy", "latency_ns", "lut_dsp"]},
}


def spec(**over: Any) -> str:
    data = {**BASE_SPEC, **over}
    return yaml.safe_dump({k: v for k, v in data.items() if v is not DROP}, sort_keys=False)


def layers(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [*extra, {"type": "dense", "units": 10}]


def search(**over: Any) -> str:
    data = {**BASE_SEARCH, **over}
    return yaml.safe_dump({k: v for k, v in data.items() if v is not DROP}, sort_keys=False)


def search_block(**over: Any) -> dict[str, Any]:
    return {**BASE_SEARCH["search"], **over}


DROP = object()


def sparse(size: int, head: bytes = b"") -> Callable[[Path], None]:
    """A file of ``size`` bytes that takes no disk (a hole after ``head``)."""

    def make(path: Path) -> None:
        with path.open("wb") as out:
            out.write(head)
            out.truncate(size)

    return make


def npz(**arrays: Any) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        with path.open("wb") as out:
            np.savez(out, **arrays)

    return make


def alias_bomb(levels: int = 9) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


class _Evil:
    """Pickles to a call of os.system that would create ``pwned`` in the working folder."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("touch pwned",))


def evil_pickle(path: Path) -> None:
    path.write_bytes(pickle.dumps({"dense1.weight": _Evil()}))


def evil_torch_zip(path: Path) -> None:
    import torch

    torch.save({"dense1.weight": _Evil()}, path)


def torch_file(obj_factory: Callable[[], Any]) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        import torch

        torch.save(obj_factory(), path)

    return make


def design_json(mutate: Callable[[dict[str, Any]], None] | None = None) -> Callable[[Path], None]:
    """A real design.json (the digits example's graph and dataset record), optionally damaged by ``mutate``."""

    def make(path: Path) -> None:
        from codesign.data import load_dataset
        from codesign.design import TrainedDesign
        from codesign.spec import load_design_spec

        s = load_design_spec(EXAMPLES / "digits_mlp_4bit.yaml")  # a spec the builder accepts as it is
        info = load_dataset("digits", s.graph.input_shape, seed=0).info
        data = TrainedDesign(s.graph, s.hardware, info, 0.5, {"status": "ok"}).to_dict()
        if mutate is not None:
            mutate(data)
        path.write_text(json.dumps(data), encoding="utf-8")

    return make


def wrong_weights() -> Any:
    import torch

    return {"dense1.weight": torch.zeros(3, 3)}


def optuna_db(study_name: str, **attrs: Any) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(study_name=study_name, storage=f"sqlite:///{path}")
        for key, value in attrs.items():
            study.set_user_attr(key, value)

    return make


def onnx_file(kind: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        from onnx import TensorProto, helper

        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
        if kind == "no_nodes":
            graph = helper.make_graph([], "g", [x], [y])
        elif kind == "many_nodes":
            names = ["x", *(f"t{i}" for i in range(33_000)), "y"]
            nodes = [helper.make_node("Relu", [a], [b]) for a, b in itertools.pairwise(names)]
            graph = helper.make_graph(nodes, "g", [x], [y])
        elif kind == "unsupported":
            graph = helper.make_graph([helper.make_node("Sin", ["x"], ["y"])], "g", [x], [y])
        else:
            graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        data = model.SerializeToString()
        path.write_bytes(data[: len(data) // 2] if kind == "truncated" else data)

    return make


def project(
    manifest: dict[str, Any] | str | None = None,
    sources: bool = True,
    vectors: tuple[str, str] | None = ("1 2\n3 4\n", "2 4\n6 8\n"),
    cpp: str | None = None,
) -> dict[str, Any]:
    """An exported project folder ``p/`` (no ap_types: the old verify ran its build_lib.sh), whose
    build_lib.sh would create ``pwned`` in the case folder."""
    files: dict[str, Any] = {
        "p/build_lib.sh": "#!/bin/bash\ntouch ../pwned\n",
    }
    if manifest is None:
        manifest = {
            "design_id": "p",
            "project_name": "myproject",
            "status": "verified",
            "io": {"n_inputs": 2, "n_outputs": 2},
        }
    files["p/manifest.json"] = manifest if isinstance(manifest, str) else json.dumps(manifest)
    if sources:
        body = cpp or (
            'extern "C" void myproject_double(double* in, double* out) '
            "{ for (int i = 0; i < 2; ++i) out[i] = 2 * in[i]; }\n"
        )
        files["p/firmware/myproject.cpp"] = "// the model\n"
        files["p/myproject_bridge.cpp"] = body
    if vectors is not None:
        files["p/tb_data/tb_input_features.dat"] = vectors[0]
        files["p/tb_data/tb_output_predictions.dat"] = vectors[1]
    return files


def zip_bytes(members: dict[str, bytes]) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, data)

    return make


def csv_digits(label: str = "label", labels: tuple[str, ...] = ("cat", "dog", "bird")) -> str:
    rng = np.random.default_rng(0)
    rows = [",".join([*(f"f{i}" for i in range(4)), label])]
    for n in range(60):
        cls = n % len(labels)
        feats = rng.normal(cls, 0.3, size=4)
        rows.append(",".join([*(f"{v:.4f}" for v in feats), labels[cls]]))
    return "\n".join(rows) + "\n"


CSV_SPEC = spec(
    name="csv_net",
    input_shape=[4],
    layers=[
        {"type": "dense", "units": 8, "precision": {"accum": "ap_fixed<40,20>"}},
        {"type": "relu", "precision": {"result": "ap_ufixed<4,2,AP_RND_CONV,AP_SAT>"}},
        {"type": "dense", "units": 3, "precision": {"accum": "ap_fixed<40,20>"}},
    ],
)
