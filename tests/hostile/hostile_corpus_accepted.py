"""The accepted cases of the hostile-input corpus: legitimate edge inputs that must keep working
(helpers and rules: hostile_cases.py)."""

from __future__ import annotations

import json

from hostile_cases import BASE_SPEC, CSV_SPEC, DROP, Case, csv_digits, project, search, spec


# --- accepted: legitimate edge inputs that must keep working -------------------------------------------------
def _has(*names: str):
    def check(folder) -> None:
        for name in names:
            assert (folder / name).exists(), f"{name} was not written"
        assert not (folder / "pwned").exists(), "a file from the input folder ran"

    return check


def _nothing_ran(folder) -> None:
    assert not (folder / "pwned").exists() and not (folder.parent / "pwned").exists(), "build_lib.sh ran"


ONE_LAYER = spec(name="one", input_shape=[8], layers=[{"type": "dense", "units": 2}])
UNICODE = spec(
    name="Netz_Ω_ü",
    layers=[
        {"type": "dense", "units": 16, "name": "schicht_ü"},
        {"type": "relu"},
        {"type": "dense", "units": 10, "name": "ausgabe_出力"},
    ],
)
ALIASES = spec(precision=DROP, layers=DROP) + (
    "precision: &p ap_fixed<8,3>\nlayers:\n  - {type: dense, units: 16, precision: {weight: *p}}\n"
    "  - {type: relu}\n  - {type: dense, units: 10, precision: {weight: *p}}\n"
)
ACCEPTED = [
    Case("ok-one-layer", "accepted", {"s.yaml": ONE_LAYER}, ("estimate", "{d}/s.yaml"), r"one: .*LUT"),
    Case(
        "ok-unicode-names",
        "accepted",
        {"s.yaml": UNICODE},
        ("estimate", "{d}/s.yaml", "--per-layer"),
        r"Netz_Ω_ü.*schicht_ü",
    ),
    Case("ok-small-aliases", "accepted", {"s.yaml": ALIASES}, ("estimate", "{d}/s.yaml"), r"tiny: "),
    Case(
        "ok-search-unicode-name",
        "accepted",
        {"c.yaml": search(name="suche_ü")},
        ("search", "{d}/c.yaml", "--no-progress"),
        r"1 trials",
        check=lambda d: _has("designs.csv", "run.json")(d.parent / "cwd" / "runs" / "suche_ü"),
    ),
    Case(
        "ok-json-spec",
        "accepted",
        {"s.json": json.dumps({k: v for k, v in BASE_SPEC.items()})},
        ("estimate", "{d}/s.json", "--json"),
        r'"design": "tiny"',
    ),
    Case(
        "ok-csv-string-labels",
        "accepted",
        {"s.yaml": CSV_SPEC, "d.csv": csv_digits()},
        ("train", "{d}/s.yaml", "--dataset", "{d}/d.csv", "--epochs", "1", "--out", "{d}/entwurf_ü"),
        r"csv_net: test accuracy .* on d.csv",
        check=_has("entwurf_ü/design.json", "entwurf_ü/weights.pt"),
    ),
    Case(
        "ok-verify-own-compiler",
        "accepted",
        project(),
        ("verify", "{d}/p", "--no-progress", "--jobs", "1"),
        r"p\s+verified\s+0/2",
        check=_nothing_ran,
    ),
    Case(
        "ok-json-head-pipe",
        "accepted",
        {"s.yaml": spec()},
        ("estimate", "{d}/s.yaml", "--json", "--per-layer"),
        r"^\{",
        subprocess=True,
    ),
]
