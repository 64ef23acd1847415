"""Corpus cases on folders and flags: run and design folders, ONNX files, export/verify targets, output
paths, CLI flags and calibration inputs. Importing this module appends its refusal cases to
``hostile_corpus.CASES`` (helpers and rules: hostile_cases.py; the accepted edge inputs:
hostile_corpus_accepted.py)."""

from __future__ import annotations

from hostile_cases import (
    DIR,
    design_json,
    evil_pickle,
    evil_torch_zip,
    onnx_file,
    optuna_db,
    project,
    search,
    sparse,
    spec,
    torch_file,
    wrong_weights,
)
from hostile_corpus import add


# --- run folders (export / report RUN) ---------------------------------------------------------------------
def run(id: str, files: dict, expect: str, cmd: str = "report", extra: list[str] | None = None) -> None:
    add(id, "run", files, [cmd, "{d}/run", *(extra or [])], expect)


run("run-no-run-json", {"run/x": ""}, r"expected a run folder with run.json")
run("run-json-garbage", {"run/run.json": "{not json"}, r"run run.json: expected JSON, got a syntax error at line 1")
run("run-json-list", {"run/run.json": "[1, 2]"}, r"expected a JSON object at the top level, got list")
run("run-json-no-name", {"run/run.json": "{}"}, r"run.json study_name: expected the study's name, got None")
run("run-json-name-int", {"run/run.json": '{"study_name": 5}'}, r"study_name: expected the study's name, got 5")
run(
    "run-json-storage-int",
    {"run/run.json": '{"study_name": "s", "storage": 5}'},
    r"storage: expected a URL or null, got 5",
)
run("run-json-dup", {"run/run.json": '{"study_name": "a", "study_name": "b"}'}, r"key 'study_name' is given twice")
run("run-json-nul", {"run/run.json": b'{"study_name": "a\x00"}'}, r"control character U\+0000")
run("run-json-deep", {"run/run.json": '{"a": ' + "[" * 100 + "]" * 100 + "}"}, r"nesting deeper than 64 levels")
run("run-json-huge", {"run/run.json": sparse((1 << 20) + 10, b"{")}, r"expected at most 1 MiB")
run("run-db-missing", {"run/run.json": '{"study_name": "s", "storage": null}'}, r"does not exist \(deleted\?")
run(
    "run-db-missing-export",
    {"run/run.json": '{"study_name": "s", "storage": null}'},
    r"does not exist",
    "export",
    ["--pareto"],
)
run(
    "run-db-garbage",
    {"run/run.json": '{"study_name": "s"}', "run/study.db": b"garbage" * 10},
    r"expected an SQLite database made by codesign search, got another file",
)
run("run-db-empty", {"run/run.json": '{"study_name": "s"}', "run/study.db": b""}, r"study database .* is empty")
run(
    "run-db-other-study",
    {"run/run.json": '{"study_name": "s"}', "run/study.db": optuna_db("other")},
    r"study 's' not found in its storage",
)
run(
    "run-storage-elsewhere",
    {"run/run.json": '{"study_name": "s", "storage": "sqlite:///nowhere/x.db"}'},
    r"does not exist",
)
run("run-storage-bogus", {"run/run.json": '{"study_name": "s", "storage": "bogus://x"}'}, r"storage")


# --- design folders (export DESIGN) -------------------------------------------------------------------------
def design(id: str, files: dict, expect: str) -> None:
    add(id, "design", files, ["export", "{d}/des", "--no-progress"], expect)


def with_json(mutate) -> dict:
    return {"des/design.json": design_json(mutate)}


design("design-json-garbage", {"des/design.json": "{oops"}, r"design design.json: expected JSON, got a syntax error")
design("design-json-list", {"des/design.json": "[]"}, r"expected a JSON object at the top level, got list")
design("design-json-version", {"des/design.json": '{"design_version": 99}'}, r"design_version: expected 1, got 99")
design(
    "design-json-empty-obj", {"des/design.json": '{"design_version": 1}'}, r"malformed one \(KeyError: key 'graph'\)"
)
design("design-json-graph-str", with_json(lambda d: d.update(graph="x")), r"malformed")
design(
    "design-json-layers-bad", with_json(lambda d: d["graph"].update(layers=[{"kind": "warp"}])), r"design .*design.json"
)
design("design-json-hw-bad", with_json(lambda d: d["hardware"].update(part=None)), r"design .*design.json")
design(
    "design-json-many-layers",
    with_json(lambda d: d["graph"].update(layers=d["graph"]["layers"][:1] + d["graph"]["layers"][1:2] * 5000)),
    r"expected at most 4096 layers \(the limit\), got 5,001",
)
design(
    "design-json-dup",
    {"des/design.json": '{"design_version": 1, "design_version": 1}'},
    r"key 'design_version' is given twice",
)
design("design-json-huge", {"des/design.json": sparse((64 << 20) + 1, b"{")}, r"expected at most 64 MiB")
design(
    "design-weights-missing", with_json(None), r"weights: expected a readable weights.pt file, got .* \(no such file\)"
)


def weights(id: str, content, expect: str) -> None:
    """A sound design.json beside a bad weights.pt."""
    design(id, {**with_json(None), "des/weights.pt": content}, expect)


weights("design-weights-garbage", b"\x00garbage" * 20, r"expected a tensor state dict saved by codesign")
weights("design-weights-empty", b"", r"expected a tensor state dict")
weights(
    "design-weights-evil-pickle",
    evil_pickle,
    r"expected a tensor state dict saved by codesign \(it holds objects other than tensors\)",
)
weights(
    "design-weights-evil-zip", evil_torch_zip, r"it holds objects other than tensors\); weights are never unpickled"
)
weights(
    "design-weights-other-arch",
    torch_file(wrong_weights),
    r"expected the weights of the architecture in design.json, but tensor",
)
weights(
    "design-weights-tensor",
    torch_file(lambda: __import__("torch").zeros(3)),
    r"expected a mapping of tensor names to tensors",
)
weights("design-weights-huge", sparse((1 << 30) + 1), r"expected at most 1 GiB")
design("design-not-a-design", {"des/readme.txt": "hi"}, r"run.json|design")


# --- onnx ---------------------------------------------------------------------------------------------------
def onnx(id: str, content, expect: str) -> None:
    add(id, "onnx", {"m.onnx": content}, ["estimate", "{d}/m.onnx"], expect)


onnx("onnx-empty", b"", r"onnx m.onnx: expected a valid ONNX model")
onnx("onnx-truncated", onnx_file("truncated"), r"onnx m.onnx: expected")
onnx("onnx-random", bytes(range(256)) * 4, r"onnx m.onnx: expected")
onnx("onnx-text", "this is not onnx\n", r"onnx m.onnx: expected")
onnx("onnx-no-nodes", onnx_file("no_nodes"), r"expected a valid ONNX model|empty graph")
onnx("onnx-unsupported-op", onnx_file("unsupported"), r"Sin")
onnx("onnx-many-nodes", onnx_file("many_nodes"), r"expected at most 32,768 nodes \(the limit\), got 33,001")
onnx("onnx-huge", sparse((512 << 20) + 1), r"expected at most 512 MiB")
onnx("onnx-directory", DIR, r"not a regular file")
add("onnx-missing", "onnx", {}, ["estimate", "{d}/m.onnx"], r"no such file")


# --- export / verify targets and exported projects ------------------------------------------------------------
def verify(id: str, files: dict, expect: str, extra: list[str] | None = None, env: dict | None = None) -> None:
    add(id, "export", files, ["verify", "{d}/p", "--no-progress", *(extra or [])], expect, env=env or {})


verify("verify-missing", {}, r"no such folder")
verify("verify-empty-folder", {"p": DIR}, r"no exported designs found")
verify("verify-manifest-garbage", {"p/manifest.json": "{x"}, r"manifest manifest.json: expected JSON")
verify(
    "verify-manifest-incomplete",
    project({"design_id": "p", "project_name": "myproject", "status": "incomplete"}),
    r"the export did not finish \(status 'incomplete'\)",
)
verify(
    "verify-project-name-path",
    project({"design_id": "p", "project_name": "../../evil", "io": {"n_inputs": 2, "n_outputs": 2}}),
    r"project_name: expected a C identifier, got '../../evil'",
)
verify(
    "verify-io-str",
    project({"design_id": "p", "project_name": "myproject", "io": {"n_inputs": "2", "n_outputs": 2}}),
    r"io.n_inputs: expected an integer in 1..16777216, got '2'",
)
verify(
    "verify-io-huge",
    project({"design_id": "p", "project_name": "myproject", "io": {"n_inputs": 10**12, "n_outputs": 2}}),
    r"io.n_inputs: expected an integer",
)
verify("verify-sources-missing", project(sources=False), r"expected the C model source firmware/myproject.cpp")
verify("verify-vectors-missing", project(vectors=None), r"test vectors: expected a readable file")
verify("verify-vectors-rows", project(vectors=("1 2\n3 4\n", "2 4\n")), r"hold different numbers of samples")
verify("verify-vectors-cols", project(vectors=("1 2 3\n", "2 4\n")), r"expected 2 values per line, found 3")
verify("verify-vectors-text", project(vectors=("a b\n", "2 4\n")), r"cannot read the test vectors")
verify("verify-jobs-negative", project(), r"jobs: expected a non-negative integer", ["--jobs", "-1"])
verify(
    "verify-timeout-env", project(), r"CODESIGN_TASK_TIMEOUT: expected seconds", env={"CODESIGN_TASK_TIMEOUT": "soon"}
)
verify("verify-cache-file", {**project(), "c": "x"}, r"--cache-dir .*c: expected a folder", ["--cache-dir", "{d}/c"])
verify("verify-manifest-dup", project('{"design_id": "p", "design_id": "q"}'), r"key 'design_id' is given twice")


def export(id: str, files: dict, argv: list[str], expect: str, env: dict | None = None) -> None:
    add(id, "export", files, ["export", *argv], expect, env=env or {})


X = {"x": DIR}  # an empty folder, neither a run nor a design
export(
    "export-jobs-negative",
    {"des": DIR},
    ["{d}/des", "--jobs", "-1"],
    r"jobs: expected a non-negative integer \(0: one per CPU\), got -1",
)
export("export-missing-source", {}, ["{d}/nope"], r"RUN_OR_DESIGN .*: no such folder")
export("export-not-run-or-design", X, ["{d}/x"], r"expected a run folder with run.json")
export("export-top-zero", X, ["{d}/x", "--top", "0"], r"--top: expected a positive number")
export("export-backend", X, ["{d}/x", "--backend", "verilog"], r"argument --backend: invalid choice")
export("export-timeout-env", X, ["{d}/x"], r"CODESIGN_TASK_TIMEOUT", env={"CODESIGN_TASK_TIMEOUT": "-1"})
export("export-design-flags", {"des/design.json": "{}"}, ["{d}/des", "--top", "2"], r"is a single design folder")


# --- output paths ---------------------------------------------------------------------------------------------
def train_out(id: str, files: dict, out: str, expect: str) -> None:
    add(id, "paths", {"s.yaml": spec(), **files}, ["train", "{d}/s.yaml", "--epochs", "1", "--out", out], expect)


train_out("train-out-file", {"o": "mine"}, "{d}/o", r"--out .*: expected a folder, got an existing file")
train_out("train-out-users-design", {"o/design.json": "{}"}, "{d}/o", r"would overwrite design.json there")
train_out("train-out-users-weights", {"o/weights.pt": "x"}, "{d}/o", r"would overwrite weights.pt there")
train_out("train-out-under-file", {"f": "x"}, "{d}/f/o", r"expected a folder, but .*f is a file")
train_out("train-out-proc", {}, "/proc/codesign-test/o", r"expected a writable location")


def search_out(id: str, files: dict, out: str, expect: str) -> None:
    add(id, "paths", {"c.yaml": search(), **files}, ["search", "{d}/c.yaml", "--out", out], expect)


search_out("search-out-file", {"o": "x"}, "{d}/o", r"run folder .*: expected a folder, got an existing file")
search_out("search-out-users-csv", {"o/designs.csv": "a,b\n"}, "{d}/o", r"would overwrite designs.csv there")
search_out("search-out-users-report", {"o/report.html": "<p>"}, "{d}/o", r"would overwrite report.html")
search_out("search-out-users-db", {"o/study.db": b"x"}, "{d}/o", r"would overwrite study.db")
search_out(
    "search-out-other-run",
    {"o/run.json": '{"study_name": "other"}'},
    "{d}/o",
    r"expected the run of study 's', but it holds study 'other'",
)
search_out("search-out-proc", {}, "/proc/codesign-test", r"expected a writable location")
add("demo-out-file", "paths", {"o": "x"}, ["demo", "--out", "{d}/o"], r"expected a folder, got an existing file")


def export_out(id: str, files: dict, flags: list[str], expect: str) -> None:
    add(id, "paths", {"des": DIR, **files}, ["export", "{d}/des", *flags], expect)


export_out("export-out-file", {"o": "x"}, ["--out", "{d}/o"], r"--out .*: expected a folder, got an existing file")
export_out("export-out-proc", {}, ["--out", "/proc/codesign-test"], r"--out .*: expected a writable location")
for id, index in (
    ("export-out-users-index", '{"mine": 1}'),
    ("export-out-users-index-text", "my notes about the exports\n"),
    ("export-out-index-no-projects", '{"designs": [{"design_id": "a", "folder": "a"}]}'),
    ("export-out-index-outside", '{"designs": [{"design_id": "a", "folder": "../a"}]}'),
):
    export_out(
        id,
        {"o/exports.json": index, "a/manifest.json": "{}"},
        ["--out", "{d}/o"],
        r"--out .*o: would overwrite exports.json there; choose a new folder",
    )
add(
    "export-default-out-users-index",
    "paths",
    {"des/exports/exports.json": "[]"},
    ["export", "{d}/des"],
    r"--out .*: would overwrite exports.json there; choose a new folder",
)
export_out("export-cache-file", {"c": "x"}, ["--cache-dir", "{d}/c"], r"--cache-dir .*: expected a folder")
add(
    "calibrate-out-dir-missing",
    "paths",
    {"a.csv": "x\n"},
    ["calibrate", "{d}/a.csv", "--out", "{d}/no/t.json"],
    r"does not exist",
)
add(
    "calibrate-out-exists",
    "paths",
    {"a.csv": "x\n", "t.json": "{}"},
    ["calibrate", "{d}/a.csv", "--out", "{d}/t.json"],
    r"the file exists; pass --force",
)


# --- CLI flags ------------------------------------------------------------------------------------------------
def flag(id: str, argv: list[str], expect: str) -> None:
    add(id, "flags", {"s.yaml": spec(), "c.yaml": search()}, argv, expect)


flag("est-part-empty", ["estimate", "{d}/s.yaml", "--part", ""], r"part: expected a known FPGA part .* got ''")
flag("est-part-typo", ["estimate", "{d}/s.yaml", "--part", "xcvu9"], r"did you mean")
flag("est-clock-0", ["estimate", "{d}/s.yaml", "--clock-ns", "0"], r"clock")
flag("est-clock-nan", ["estimate", "{d}/s.yaml", "--clock-ns", "nan"], r"clock")
flag("est-clock-inf", ["estimate", "{d}/s.yaml", "--clock-ns", "inf"], r"clock")
flag(
    "est-clock-text",
    ["estimate", "{d}/s.yaml", "--clock-ns", "fast"],
    r"argument --clock-ns: invalid float value: 'fast'",
)
flag("est-rf-0", ["estimate", "{d}/s.yaml", "--reuse-factor", "0"], r"reuse")
flag(
    "est-rf-illegal",
    ["estimate", "{d}/s.yaml", "--reuse-factor", "7", "--strategy", "resource"],
    r"reuse_factor 7 is not legal .* valid values near it: 4, 8, 16",
)
flag("est-strategy", ["estimate", "{d}/s.yaml", "--strategy", "fast"], r"argument --strategy: invalid choice")
flag("est-fifo-empty", ["estimate", "{d}/s.yaml", "--fifo-depths", ""], r"fifo")
flag("est-cost-model", ["estimate", "{d}/s.yaml", "--cost-model", "magic"], r"cost model|cost-model|magic")
flag("est-lut-table-missing", ["estimate", "{d}/s.yaml", "--cost-model", "lut:{d}/none.json"], r"none.json|table")
flag("train-seed-neg", ["train", "{d}/s.yaml", "--seed", "-1"], r"seed: expected an integer in 0..2\^32-1, got -1")
flag("train-seed-huge", ["train", "{d}/s.yaml", "--seed", str(2**40)], r"seed: expected an integer in 0..2\^32-1")
flag("train-epochs-0", ["train", "{d}/s.yaml", "--epochs", "0"], r"epochs: expected a positive integer, got 0")
flag("train-epochs-text", ["train", "{d}/s.yaml", "--epochs", "many"], r"argument --epochs: invalid int value")
flag("train-threads-0", ["train", "{d}/s.yaml", "--threads", "0"], r"threads: expected an integer in 1\.\.\d+")
flag(
    "train-threads-huge",
    ["train", "{d}/s.yaml", "--threads", "100000"],
    r"threads: expected an integer in 1\.\.\d+ \(4 per CPU",
)
flag(
    "search-timeout-nan",
    ["search", "{d}/c.yaml", "--timeout", "nan"],
    r"--timeout: expected a positive number of seconds, got nan",
)
flag("search-timeout-neg", ["search", "{d}/c.yaml", "--timeout", "-1"], r"--timeout: expected a positive number")
flag("search-timeout-0", ["search", "{d}/c.yaml", "--timeout", "0"], r"--timeout: expected a positive number")
flag("flag-trials-0", ["search", "{d}/c.yaml", "--trials", "0"], r"--trials: expected a positive integer, got 0")
flag("search-trials-neg", ["search", "{d}/c.yaml", "--trials", "-5"], r"--trials: expected a positive integer")
flag(
    "search-evaluations-0",
    ["search", "{d}/c.yaml", "--evaluations", "0"],
    r"--evaluations: expected a positive integer",
)
flag(
    "search-storage-bogus",
    ["search", "{d}/c.yaml", "--storage", "bogus://nowhere"],
    r"--storage: expected an Optuna storage URL that opens",
)
flag("unknown-command", ["frobnicate"], r"argument COMMAND: invalid choice: 'frobnicate'")
flag("unknown-option", ["estimate", "{d}/s.yaml", "--frob"], r"unrecognized arguments: --frob")
flag("missing-argument", ["estimate"], r"the following arguments are required: spec")
flag("list-unknown", ["list", "gizmos"], r"invalid choice")


# --- calibration inputs ---------------------------------------------------------------------------------------
def calib(id: str, files: dict, expect: str) -> None:
    add(id, "calibrate", files, ["calibrate", *(f"{{d}}/{n}" for n in files), "--out", "{d}/out.json"], expect)


calib("calib-csv-empty", {"a.csv": ""}, r"a.csv")
calib(
    "calib-csv-latin1", {"a.csv": "part,lut\nxc7z020,caf\xe9\n".encode("latin-1")}, r"'a.csv': expected UTF-8 CSV text"
)
calib("calib-csv-columns", {"a.csv": "x,y\n1,2\n"}, r"a.csv")
calib("calib-csv-nul", {"a.csv": b"part\x00,lut\n"}, r"a.csv")
calib("calib-project-empty", {"prj": DIR}, r"prj")
calib("calib-missing", {}, r"the following arguments are required|sources")
calib(
    "calib-report-garbage",
    {"prj/myproject_prj/solution1/syn/report/csynth.xml": "<not xml", "prj/hls4ml_config.yml": "x: ["},
    r"prj",
)
add("calib-not-found", "calibrate", {}, ["calibrate", "{d}/nope.csv", "--out", "{d}/o.json"], r"nope.csv")
