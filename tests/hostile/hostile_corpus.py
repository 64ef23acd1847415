"""The cases of the hostile-input corpus (see hostile_cases.py for the helpers and the rules)."""

from __future__ import annotations

import numpy as np
from hostile_cases import (
    DIR,
    DROP,
    Case,
    alias_bomb,
    csv_digits,
    layers,
    npz,
    optuna_db,
    search,
    search_block,
    sparse,
    spec,
    zip_bytes,
)

CASES: list[Case] = []


def add(id: str, category: str, files: dict, argv: list[str], expect: str, **kw) -> None:
    CASES.append(Case(id, category, files, tuple(argv), expect, **kw))


def estimate(text: str | bytes | object, expect: str, id: str, category: str = "spec", name: str = "s.yaml") -> None:
    add(id, category, {name: text}, ["estimate", "{d}/" + name], expect)


# --- yaml: syntax, encoding, limits -------------------------------------------------------------------
estimate("", r"expected a mapping of keys at the top level, got NoneType", "yaml-empty", "yaml")
estimate("- 1\n- 2\n", r"expected a mapping .* got list", "yaml-top-list", "yaml")
estimate("just text\n", r"expected a mapping .* got str", "yaml-top-scalar", "yaml")
estimate("name: [1, 2\n", r"syntax error at line \d+, column \d+", "yaml-unclosed", "yaml")
estimate("name: x\n\tpart: y\n", r"syntax error at line 2", "yaml-tab", "yaml")
estimate(b"name: x\nfoo: a\x00b\n", r"control character U\+0000 at line 2, column 7", "yaml-nul", "yaml")
estimate(b"name: x\x07\n", r"control character U\+0007 at line 1, column 8", "yaml-bell", "yaml")
estimate(b"name: caf\xe9\n", r"expected UTF-8 text, got byte 0xe9 at line 1, column 10", "yaml-latin1", "yaml")
estimate(b"\xff\xfe\x00n\x00a\x00m\x00e", r"expected UTF-8 text, got byte 0xff", "yaml-utf16", "yaml")
estimate("name: a\nname: b\n", r"line 2, column 1: key 'name' is given twice", "yaml-dup-top", "yaml")
estimate(spec() + "part: xcvu9p\n", r"key 'part' is given twice", "yaml-dup-part", "yaml")
estimate(
    "input_shape: [64]\nlayers:\n  - {type: dense, units: 10, units: 20}\n",
    r"key 'units' is given twice",
    "yaml-dup-nested",
    "yaml",
)
estimate(alias_bomb(), r"more than 100,000 values once aliases .* \(the limit\)", "yaml-alias-bomb", "yaml")
estimate(alias_bomb(7), r"more than 100,000 values once aliases", "yaml-alias-bomb-small", "yaml")
estimate(
    "a: " + "[" * 5000 + "]" * 5000 + "\n", r"nesting deeper than 64 levels \(the limit\)", "yaml-deep-5000", "yaml"
)
estimate("a: " + "[" * 65 + "]" * 65 + "\n", r"nesting deeper than 64 levels", "yaml-deep-65", "yaml")
estimate(
    "a:\n" + "".join("  " * i + "- \n" for i in range(1, 80)), r"nesting deeper than 64", "yaml-deep-block", "yaml"
)
estimate(
    sparse((1 << 20) + 1, b"name: x\n"),
    r"expected at most 1 MiB \(the limit of this file kind\), got 1 MiB",
    "yaml-too-large",
    "yaml",
)
estimate(
    "!!python/object/apply:os.system ['touch pwned']\n",
    r"syntax error at line 1.*could not determine a constructor",
    "yaml-python-tag",
    "yaml",
)
estimate(spec() + "name: again\n", r"key 'name' is given twice", "yaml-dup-name-last", "yaml")
estimate(
    spec(clock_ns=DROP) + "clock_ns: 2024-01-01\n", r"clock_ns: input should be a valid number", "yaml-date", "yaml"
)
estimate('{"name": "x",, "input_shape": [64]}', r"syntax error at line 1", "yaml-json-double-comma", "yaml", "s.json")
estimate("name: x\nyes: 1\n", r"line 2, column 1: key True is a bool, expected text", "yaml-bool-key", "yaml")
estimate("name: x\n12: 1\n", r"key 12 is a int, expected text", "yaml-int-key", "yaml")
add(
    "yaml-missing",
    "yaml",
    {},
    ["estimate", "{d}/nope.yaml"],
    r"expected a readable YAML/JSON file, got .* \(no such file\)",
)
estimate(DIR, r"not a regular file", "yaml-directory", "yaml")
add("yaml-devzero", "yaml", {}, ["estimate", "/dev/zero"], r"not a regular file")
estimate(
    spec(name="x" * 10_000),
    r"name: string should have at most 128 characters, got 'xxxx.*\.\.\.$",
    "yaml-long-name",
    "yaml",
)
estimate(
    spec(layers=[{"type": "dense", "units": 10}] * 5000),
    r"layers: list should have at most 4096 items",
    "yaml-5000-layers",
    "yaml",
)

# --- spec values -----------------------------------------------------------------------------------------
estimate(spec(input_shape=DROP), r"input_shape: required key is missing", "spec-no-input")
estimate(spec(layers=[]), r"layers: list should have at least 1 item", "spec-no-layers")
estimate(spec(layers="dense"), r"layers: input should be a valid list", "spec-layers-str")
estimate(
    spec(layers=layers({"type": "dense", "unitz": 4})),
    r"unknown key 'layers\[0\].unitz' \(did you mean 'units'\?\)",
    "spec-typo",
)
estimate(
    spec(layers=layers({"type": "dens", "units": 4})),
    r"layers\[0\].type: expected a known layer type \(did you mean 'dense'\?\)",
    "spec-type-typo",
)
estimate(
    spec(layers=layers({"type": "dense", "units": 0})),
    r"layers\[0\].units: input should be greater than or equal to 1, got 0",
    "spec-units-0",
)
estimate(spec(layers=layers({"type": "dense", "units": -3})), r"layers\[0\].units: .* got -3", "spec-units-neg")
estimate(
    spec(layers=layers({"type": "dense", "units": "64"})),
    r"layers\[0\].units: input should be a valid integer, got '64'",
    "spec-units-str",
)
estimate(spec(layers=layers({"type": "dense", "units": 3.5})), r"layers\[0\].units: .* got 3.5", "spec-units-float")
estimate(
    spec(layers=layers({"type": "dense", "units": 10**9})),
    r"layers\[0\].units: input should be less than or equal to 65536",
    "spec-units-huge",
)
estimate(spec(layers=layers({"type": "dense", "units": 10**30})), r"layers\[0\].units: .*65536", "spec-units-bignum")
estimate(spec(input_shape=[]), r"input_shape: list should have at least 1 item", "spec-shape-empty")
estimate(spec(input_shape=[0]), r"input_shape\[0\]: input should be greater than or equal to 1", "spec-shape-zero")
estimate(
    spec(input_shape=[4096, 4096, 3]),
    r"input_shape: expected at most 16,777,216 values per sample \(the limit\)",
    "spec-shape-huge",
)
estimate(spec(input_shape=[2, 2, 2, 2]), r"input_shape: list should have at most 3 items", "spec-shape-4d")
estimate(spec(precision="ap_fixed<16"), r"precision", "spec-precision-malformed")
estimate(spec(precision="ap_fixed<0,0>"), r"precision", "spec-precision-zero")
estimate(spec(precision="ap_fixed<5000,6>"), r"precision", "spec-precision-wide")
estimate(spec(precision={"weight": "ap_fixed<8,1>", "wieght": "x"}), r"precision", "spec-precision-key")
estimate(spec(part="xc7z02"), r"part: expected a known FPGA part .* got 'xc7z02' \(did you mean", "spec-part-typo")
estimate(spec(part=""), r"part: expected a known FPGA part .* got ''", "spec-part-empty")
estimate(spec(clock_ns=0), r"clock_ns: input should be greater than 0", "spec-clock-0")
estimate(spec(clock_ns=-5), r"clock_ns: input should be greater than 0", "spec-clock-neg")
estimate(spec(clock_ns="fast"), r"clock_ns: input should be a valid number", "spec-clock-str")
estimate(spec() + "clock_ns: .nan\n", r"clock_ns", "spec-clock-nan")
estimate(spec(strategy="fastest"), r"strategy", "spec-strategy")
estimate(spec(io_type="io_serial"), r"io_type", "spec-io-type")
estimate(spec(reuse_factor=0), r"reuse_factor: input should be greater than or equal to 1", "spec-rf-0")
estimate(
    spec(strategy="resource", reuse_factor=7),
    r"layer 'dense1': reuse_factor 7 is not legal for a 64x16 layer",
    "spec-rf-illegal",
)
estimate(
    spec(layers=layers({"type": "dense", "units": 16, "reuse_factor": 5, "strategy": "resource"})),
    r"layer 'dense1'.*reuse",
    "spec-rf-layer",
)
estimate(spec(backend="verilog"), r"backend", "spec-backend")
estimate(spec(fifo_depths="tiny"), r"fifo_depths", "spec-fifo")
estimate(
    spec(layers=layers({"type": "dense", "units": 4, "name": "a"}, {"type": "dense", "units": 4, "name": "a"})),
    r"'a' is used twice",
    "spec-dup-layer-name",
)
estimate(spec(layers=layers({"type": "add", "inputs": ["nope", "input"]})), r"nope", "spec-bad-input")
estimate(spec(layers=layers({"type": "conv2d", "filters": 4, "kernel": 3})), r"conv2d|shape", "spec-conv-on-flat")
estimate(
    spec(training={"seed": -1}), r"training.seed: input should be greater than or equal to 0, got -1", "spec-train-seed"
)
estimate(spec(training={"epochs": 0}), r"training.epochs", "spec-train-epochs")
estimate(
    spec(parts={"mine": {"lut": -1, "ff": 1, "dsp": 0, "bram18": 0}}, part="mine"),
    r"parts.mine.lut",
    "spec-custom-part",
)
estimate(
    spec(parts={"mine": {"lut": 20000, "ff": 40000, "dsp": 0, "bram18": 20}}, part="mine"),
    r"parts.mine.dsp: expected at least 1 \(parts without DSP slices are not supported.*got 0",
    "spec-custom-part-no-dsp",
)
estimate(
    spec(parts={"mine": {"lut": 20000, "ff": 40000, "dsp": 8, "bram18": 0}}, part="mine"),
    r"parts.mine.bram18: expected at least 1 \(parts without block RAM are not supported.*got 0",
    "spec-custom-part-no-bram",
)


# --- search configs ----------------------------------------------------------------------------------------
def srch(text: str, expect: str, id: str, files: dict | None = None) -> None:
    add(id, "search", {"c.yaml": text, **(files or {})}, ["search", "{d}/c.yaml", "--no-progress"], expect)


srch(search(name="../../x"), r"name: expected a plain folder name .* got '../../x'", "search-name-dotdot")
srch(search(name=""), r"name: expected a plain folder name .* got ''", "search-name-empty")
srch(search(name="a/b"), r"name: expected a plain folder name", "search-name-slash")
srch(search(name=".hidden"), r"name: expected a plain folder name", "search-name-dot")
srch(search(name="/abs"), r"name: expected a plain folder name", "search-name-abs")
srch(search(name="x" * 200), r"name: expected a plain folder name of 1-100", "search-name-long")
srch(search(name="a\\b"), r"name: expected a plain folder name", "search-name-backslash")
srch(search(search=search_block(objectives=["accuracy", "lutz"])), r"lutz", "search-objective")
srch(
    search(parts=["mine"], custom_parts={"mine": {"lut": 20000, "ff": 40000, "dsp": 0, "bram18": 20}}),
    r"custom_parts.mine.dsp: expected at least 1 \(parts without DSP slices",
    "search-custom-part-no-dsp",
)
srch(search(search=search_block(sampler="nsga-2")), r"did you mean 'nsga2'", "search-sampler")
srch(search(search=search_block(trials=0)), r"search.trials", "search-trials-0")
srch(search(search=search_block(formulation="paretto")), r"did you mean 'pareto'", "search-formulation")
srch(search(budgets={"lut": "lots"}), r"budget", "search-budget-str")
srch(
    search(budgets={"lut": 1, "dsp": 0}, search=search_block(formulation="constrained")),
    r"budgets: expected budgets some design can meet",
    "search-budget-impossible",
)
srch(search(parts=[]), r"parts", "search-parts-empty")
srch(search(parts=["xcu205"]), r"did you mean 'xcu250'", "search-part-typo")
srch(search(parts=["xc7z020", "xc7z020"]), r"parts", "search-parts-dup")
srch(search(space="mlpp"), r"space", "search-space")
srch(search(dataset="mnist2"), r"dataset", "search-dataset")
srch(search(templates=["low_latency_dataflo"]), r"did you mean 'low_latency_dataflow'", "search-template")
srch(search(cost_model="magic"), r"cost model: expected one of analytical, lut, got 'magic'", "search-cost-model")
srch(search(fit_probability=2), r"fit_probability", "search-fit-probability")
srch(search(clock_ns=".nan"), r"clock_ns", "search-clock-str")
srch(search(search=search_block(timeout_s=float("nan"))), r"search.timeout_s", "search-config-timeout-nan")
srch(search(seed=-1), r"seed: input should be greater than or equal to 0", "search-seed")
srch(search(budgetz={}), r"unknown key 'budgetz' \(did you mean 'budgets'\?\)", "search-unknown-key")
srch(search() + "name: again\n", r"key 'name' is given twice", "search-dup-key")
srch(search(dataset="{d}/missing.csv".replace("{d}", "missing-folder")), r"no such file", "search-dataset-file")


srch(search(space={"kind": "mlp", "units": [1 << 17]}), r"mlp.units", "search-space-units-huge")
srch(search(space={"kind": "mlp", "hidden": [1, 1000]}), r"mlp.hidden", "search-space-hidden-huge")
srch(  # a fixed factory must return an ArchSpec or a Brevitas nn.Module
    search(space={"kind": "fixed", "factory": "os:getcwd"}),
    r"fixed.factory: 'os:getcwd' returned str, expected an ArchSpec .* or a Brevitas nn.Module",
    "search-fixed-factory-str",
)
srch(
    search(space={"kind": "fixed", "factory": "torch.nn:Identity"}),
    r"'torch.nn:Identity' returned module Identity, which the frontend cannot read \(.*\); expected an ArchSpec",
    "search-fixed-factory-module-unreadable",
)
add(
    "search-resume-changed-config",
    "search",
    {
        "c.yaml": search(),
        "run/run.json": '{"study_name": "s", "storage": null}',
        "run/study.db": optuna_db("s", config_fingerprint="another config"),
    },
    ["search", "{d}/c.yaml", "--out", "{d}/run", "--no-progress"],
    r"study 's': expected the config it was started with, got a different one",
)


# --- datasets (codesign train SPEC --dataset FILE) -----------------------------------------------------------
def data(id: str, name: str, content, expect: str, extra: list[str] | None = None) -> None:
    argv = ["train", "{d}/s.yaml", "--dataset", "{d}/" + name, "--epochs", "1", *(extra or [])]
    add(id, "dataset", {"s.yaml": spec(), name: content}, argv, expect)


data("data-npz-not-zip", "d.npz", b"not a zip at all", r"dataset d.npz: expected a .npz archive")
data("data-npz-pickle-file", "d.npz", b"\x80\x04K\x01.", r"expected a .npz archive")
data("data-npz-empty-zip", "d.npz", zip_bytes({}), r"expected arrays 'X' and 'y'")
data("data-npz-no-y", "d.npz", npz(X=np.ones((10, 64))), r"expected arrays 'X' and 'y', got \['X'\]")
data(
    "data-npz-object",
    "d.npz",
    npz(X=np.array([{"a": 1}] * 10, dtype=object), y=np.arange(10)),
    r"cannot read it as .npz .*pickle",
)
data(
    "data-npz-truncated",
    "d.npz",
    lambda p: (npz(X=np.ones((50, 64)), y=np.arange(50) % 10)(p), p.write_bytes(p.read_bytes()[:300])),
    r"d.npz",
)
data("data-npz-bomb", "d.npz", zip_bytes({"X.npy": b"\0" * 100}), r"expected arrays|cannot read")
data("data-npz-1d", "d.npz", npz(X=np.ones(10), y=np.arange(10)), r"expected at least one sample with features")
data(
    "data-npz-nan",
    "d.npz",
    npz(X=np.full((20, 64), np.nan), y=np.arange(20) % 10),
    r"expected finite features, got NaN/inf",
)
data(
    "data-npz-huge-values",
    "d.npz",
    npz(X=np.full((20, 64), 1e307), y=np.arange(20) % 10),
    r"expected features of magnitude at most 1e\+15 \(the limit; rescale the data\), got 1e\+307 in sample 0",
)
data("data-npz-one-class", "d.npz", npz(X=np.ones((20, 64)), y=np.zeros(20)), r"expected at least 2 classes, got 1")
data("data-npz-strings", "d.npz", npz(X=np.array([["a"] * 64] * 10), y=np.arange(10)), r"expected numeric features")
data("data-npz-label-count", "d.npz", npz(X=np.ones((20, 64)), y=np.arange(5)), r"expected one label per sample")
data("data-npz-too-large", "d.npz", sparse((2 << 30) + 1, b"PK"), r"expected at most 2 GiB \(the limit")
data("data-csv-latin1", "d.csv", "f0,label\n1.0,caf\xe9\n".encode("latin-1"), r"expected UTF-8 text, got byte 0xe9")
data("data-csv-nul", "d.csv", b"f0,label\n1.0\x00,a\n2,b\n", r"line 2: expected numbers in feature columns")
data("data-csv-empty", "d.csv", "", r"expected a header row and samples, got an empty file")
data("data-csv-header-only", "d.csv", "f0,label\n", r"expected at least one sample")
data("data-csv-no-label", "d.csv", "f0,f1\n1,2\n", r"label_column: expected a header column, got 'label'")
data("data-csv-ragged", "d.csv", "f0,f1,label\n1,2,a\n1,b\n", r"line 3: expected 3 columns, got 2")
data("data-csv-text-feature", "d.csv", "f0,label\noops,a\n1,b\n", r"line 2: expected numbers in feature columns")
data("data-csv-inf", "d.csv", "f0,label\ninf,a\n1,b\n", r"expected finite features")
data("data-csv-huge", "d.csv", "f0,label\n1e307,a\n1,b\n", r"magnitude at most 1e\+15")
data(
    "data-unknown-name",
    "x.yaml",
    "",
    r"dataset: expected a built-in name .* or a .npz/.csv file",
    ["--dataset", "digitz"],
)
data("data-directory", "d.csv", DIR, r"dataset: expected a readable file, got .* \(not a regular file\)")
add(
    "data-classes-mismatch",
    "dataset",
    {"s.yaml": spec(input_shape=[4]), "d.csv": csv_digits()},
    ["train", "{d}/s.yaml", "--dataset", "{d}/d.csv"],
    r"has 3 classes, but tiny's last layer 'dense2' has 10 outputs",
)
data("data-shape-mismatch", "d.npz", npz(X=np.ones((40, 5)), y=np.arange(40) % 10), r"5 features|input_shape|shape")
