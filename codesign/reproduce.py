"""Re-create a trained design from its record and check that it comes out the same (``codesign reproduce``).

A design folder (``codesign train --out`` or a search run's ``trials/<n>``) holds ``design.json``, whose
training record lists every setting (``train.config``), the torch threads used, the graph training
started from when folding or accumulator tightening changed it, how the run ended (an early-stopped
search trial is stopped after the same epoch), tool versions, the weights' sha256 and the dataset's
fingerprint. :func:`reproduce` loads the same dataset split, trains again with the same settings and
compares: dataset fingerprint, weights sha256, test accuracy, the resulting graph and its cost. Training
is seeded and runs on the CPU with the recorded thread count, so with the same tool versions the weights
are bit-identical; the notes name any tool whose version differs.

Design files are also specs: :func:`spec_from_design` turns one into the
:class:`~codesign.spec.DesignSpec` ``codesign estimate`` and ``codesign train`` read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codesign.design import DESIGN_FILE, TrainedDesign
from codesign.spec import DesignSpec, TrainingSpec
from cost_models.ir import LayerGraph
from hw_templates.errors import SpecError

__all__ = ["Check", "Reproduction", "design_folder", "is_design_file", "reproduce", "spec_from_design"]


@dataclass(frozen=True)
class Check:
    """One compared figure: what the record says, what the re-run gave, and whether they are equal."""

    name: str
    recorded: Any
    reproduced: Any
    match: bool


@dataclass(frozen=True)
class Reproduction:
    """The outcome of :func:`reproduce`."""

    folder: Path
    checks: tuple[Check, ...]
    notes: tuple[str, ...]
    seconds: float
    out: Path | None = None

    @property
    def matches(self) -> bool:
        return all(c.match for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "design": str(self.folder),
            "matches": self.matches,
            "checks": [{"name": c.name, "recorded": c.recorded, "reproduced": c.reproduced, "match": c.match}
                       for c in self.checks],
            "notes": list(self.notes),
            "seconds": round(self.seconds, 2),
            "out": None if self.out is None else str(self.out),
        }  # fmt: skip


def is_design_file(path: str | Path) -> bool:
    """True for a design folder (holding ``design.json``) or a ``design.json``-style file."""
    path = Path(path)
    if path.is_dir():
        return (path / DESIGN_FILE).is_file()
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "design_version" in data


def design_folder(source: str | Path) -> Path:
    """The design folder of ``source`` (a folder with ``design.json``, or that file); SpecError otherwise."""
    path = Path(source)
    if path.is_file() and path.name == DESIGN_FILE:
        return path.parent
    if (path / DESIGN_FILE).is_file():
        return path
    raise SpecError(
        f"design: expected a design folder holding {DESIGN_FILE} (RUN/trials/N or codesign train --out DIR), "
        f"got {str(path)!r}"
    )


def _load(path: str | Path) -> TrainedDesign:
    path = Path(path)
    if path.is_dir():
        return TrainedDesign.load(path)
    try:
        return TrainedDesign.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (KeyError, TypeError, ValueError) as err:
        raise SpecError(f"design {str(path)!r}: malformed ({type(err).__name__}: {err})") from None


def spec_from_design(path: str | Path, for_training: bool = False) -> DesignSpec:
    """A design file as a spec: its graph (the trained one; ``for_training``: the one training started
    from), its hardware, and its training settings as the ``training:`` block."""
    design = _load(path)
    record, info = design.train, design.dataset
    config = record.get("config") or {}
    training = TrainingSpec(
        dataset=info.source,
        epochs=config.get("epochs", record.get("epochs", 30)),
        batch_size=config.get("batch_size", 64),
        learning_rate=config.get("learning_rate", 1e-2),
        seed=config.get("seed", record.get("seed", 0)),
        patience=config.get("patience"),
        proxy_fraction=config.get("proxy_fraction", 1.0),
        label_column=info.label_column,
    )
    graph = _start_graph(design) if for_training else design.graph
    return DesignSpec(graph.name, graph, design.hardware, training=training, source=Path(path).name)


def _start_graph(design: TrainedDesign) -> LayerGraph:
    start = design.train.get("input_graph")
    return LayerGraph.from_dict(start) if start else design.graph


def reproduce(source: str | Path, out: str | Path | None = None, cost_model: str = "analytical") -> Reproduction:
    """Train the design recorded in ``source`` again and compare (see the module docstring); with ``out``
    save the re-created design there (a folder that must not hold a design yet).

    Raises:
        SpecError: not a design folder, a record without training settings (written by an older version),
            or an ``out`` folder that already holds a design.
    """
    from codesign.data import load_dataset
    from codesign.models.train import TrainConfig, train

    folder = design_folder(source)
    design = TrainedDesign.load(folder)
    record = design.train
    if (design.arch or {}).get("kind") == "module":
        raise SpecError(
            f"design {str(folder)!r}: a user module's trial (a fixed factory returning an nn.Module) cannot be "
            "reproduced yet; export it with 'codesign export RUN --design ID'"
        )
    if record.get("hot_start_tensors"):
        raise SpecError(
            f"design {str(folder)!r}: it started from inherited weights (training.hot_start_epochs or "
            "weight_sharing), which are not saved with it, so it cannot be trained again alone"
        )
    if not record.get("config") or not record.get("weights_sha256"):
        raise SpecError(
            f"design {str(folder)!r}: its {DESIGN_FILE} has no training settings or weights hash (written by an "
            "older version); train it again with this version to make it reproducible"
        )
    if out is not None and (Path(out) / DESIGN_FILE).exists():
        raise SpecError(f"--out {str(out)!r}: already holds a design; choose an empty folder")
    start = time.perf_counter()
    info = design.dataset
    data = load_dataset(info.source, tuple(info.input_shape), seed=info.seed, label_column=info.label_column)
    config = TrainConfig(**record["config"], threads=record.get("threads") or None)
    stop_after = int(record["epochs"]) if record.get("status") == "stopped" else None
    report = (lambda epoch, _val: epoch + 1 >= stop_after) if stop_after else None
    result = train(_start_graph(design), data, config, report=report)
    if record.get("tight_accumulators"):
        from codesign.models.tighten import tighten_result

        result = tighten_result(result)
    fresh = TrainedDesign.from_training(result, design.hardware, data.info, arch=design.arch, data=data)
    checks = _checks(folder, design, fresh, cost_model)
    if out is not None:
        fresh.save(out, result.model)
    notes = _tool_notes(record.get("tools") or {}, fresh.train["tools"])
    return Reproduction(folder, checks, notes, time.perf_counter() - start, None if out is None else Path(out))


def _checks(folder: Path, design: TrainedDesign, fresh: TrainedDesign, cost_model: str) -> tuple[Check, ...]:
    from codesign.models.train import WEIGHTS_FILE, load_weights
    from codesign.provenance import state_sha256
    from cost_models import get_cost_model

    old, new = design.train, fresh.train
    checks = []
    if (folder / WEIGHTS_FILE).is_file():
        stored = state_sha256(load_weights(folder / WEIGHTS_FILE))
        checks.append(Check("weights file", old["weights_sha256"], stored, stored == old["weights_sha256"]))
    if old.get("dataset_sha256"):
        checks.append(Check("dataset", old["dataset_sha256"], new["dataset_sha256"],
                            old["dataset_sha256"] == new["dataset_sha256"]))  # fmt: skip
    checks.append(Check("weights", old["weights_sha256"], new["weights_sha256"],
                        old["weights_sha256"] == new["weights_sha256"]))  # fmt: skip
    checks.append(Check("accuracy", design.accuracy, fresh.accuracy, design.accuracy == fresh.accuracy))
    checks.append(Check("epochs", old.get("epochs"), new.get("epochs"), old.get("epochs") == new.get("epochs")))
    same_graph = design.graph == fresh.graph
    checks.append(Check("graph", design.graph.name, "same" if same_graph else "differs", same_graph))
    model = get_cost_model(cost_model)
    before = model.estimate(design.graph, design.hardware).totals()
    after = model.estimate(fresh.graph, design.hardware).totals()
    checks.append(Check("cost", _compact(before), _compact(after), before == after))
    return tuple(checks)


def _compact(totals: Mapping[str, float]) -> str:
    keys = ("lut", "ff", "dsp", "bram18", "latency_cycles")
    return " ".join(f"{k}={totals[k]:.6g}" for k in keys)


def _tool_notes(recorded: Mapping[str, str], now: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(
        f"{name} {recorded[name]} when recorded, {now.get(name, 'absent')} now"
        for name in sorted(recorded)
        if recorded[name] != now.get(name, "absent")
    )
