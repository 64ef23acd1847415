"""``codesign train SPEC``: train one design (quantization-aware) and show its accuracy beside its cost.

SPEC is the same design spec ``codesign estimate`` reads; its optional ``training:`` block sets the
dataset, epochs, batch size, learning rate, seed, patience and proxy fraction, and the options below
override it. A trained design (a folder holding ``design.json``, e.g. ``RUN/trials/N``, or that file)
is a spec too: its starting graph, hardware and recorded training settings. With ``--out DIR`` the
trained design (``design.json`` + ``weights.pt``) is saved for export.

Example:
    $ codesign train examples/digits_mlp_4bit.yaml --epochs 20 --out out/mlp4
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from codesign.cli._common import add_json, emit

__all__ = ["register", "run"]

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("train", help="train a design (QAT) and report accuracy beside estimated cost")
    p.add_argument("spec", help="design spec (.yaml/.json) or trained design (folder or design.json)")
    p.add_argument(
        "--dataset", help="built-in dataset (digits, breast_cancer, wine; mnist1d with its extra) or a .npz/.csv file"
    )
    p.add_argument("--label-column", help="label column of a CSV dataset (default 'label')")
    p.add_argument("--epochs", type=int, help="maximum training epochs")
    p.add_argument("--seed", type=int, help="seed of initialisation, shuffling and the data split")
    p.add_argument("--threads", type=int, help="torch threads while training (default: unchanged)")
    p.add_argument("--cost-model", default="analytical", help="cost model for the estimate (default analytical)")
    p.add_argument("--out", help="save the trained design (design.json, weights.pt) into this directory")
    p.add_argument(
        "--tight-accumulators",
        action="store_true",
        help="narrow exact accumulators to what the trained weights can reach (same numbers, smaller adders)",
    )
    add_json(p)
    p.set_defaults(func=run)


def _config(spec: Any, args: argparse.Namespace) -> tuple[Any, str, str | None]:
    from codesign.models.train import TrainConfig

    block = spec.training
    settings = {
        "epochs": block.epochs if block else 30,
        "batch_size": block.batch_size if block else 64,
        "learning_rate": block.learning_rate if block else 1e-2,
        "seed": block.seed if block else 0,
        "patience": block.patience if block else None,
        "proxy_fraction": block.proxy_fraction if block else 1.0,
    }
    if args.epochs is not None:
        settings["epochs"] = args.epochs
    if args.seed is not None:
        settings["seed"] = args.seed
    dataset = args.dataset or (block.dataset if block else "digits")
    label_column = args.label_column or (block.label_column if block else None)
    return TrainConfig(threads=args.threads, **settings), dataset, label_column


def run(args: argparse.Namespace) -> int:
    from codesign.data import load_dataset
    from codesign.design import DESIGN_FILE, TrainedDesign
    from codesign.models.train import WEIGHTS_FILE, train
    from codesign.outputs import check_output_dir
    from codesign.reproduce import is_design_file, spec_from_design
    from codesign.spec import load_design_spec
    from cost_models import get_cost_model
    from hw_templates.errors import DatasetError

    if args.out is not None:  # before any work: training is not lost to an output folder it cannot use
        check_output_dir(args.out, "--out", (DESIGN_FILE, WEIGHTS_FILE))
    spec = spec_from_design(args.spec, for_training=True) if is_design_file(args.spec) else load_design_spec(args.spec)
    config, dataset, label_column = _config(spec, args)
    data = load_dataset(dataset, spec.graph.input_shape, seed=config.seed, label_column=label_column)
    outputs = spec.graph.output.output_shape[-1]
    if outputs != data.info.n_classes:
        raise DatasetError(
            f"dataset {data.info.name}: has {data.info.n_classes} classes, but {spec.name}'s last layer "
            f"{spec.graph.output.name!r} has {outputs} outputs (make them equal)"
        )
    result = train(spec.graph, data, config)
    if args.tight_accumulators:
        from codesign.models.tighten import tighten_result

        result = tighten_result(result)
    cost = get_cost_model(args.cost_model).estimate(result.graph, spec.hardware)
    if args.out is not None:
        TrainedDesign.from_training(result, spec.hardware, data.info, data=data).save(args.out, result.model)
    report = {
        "design": spec.name,
        "dataset": data.info.name,
        "accuracy": result.accuracy,
        "status": result.status,
        "epochs": result.epochs,
        "train_seconds": round(result.train_seconds, 3),
        "seed": config.seed,
        "total": cost.totals(),
        "utilization": cost.utilization(),
        "out": args.out,
    }
    emit(args, report, lambda: _text(report, spec.hardware.part.name))
    return 0


def _text(r: dict[str, Any], part: str) -> str:
    acc = "diverged (no accuracy)" if r["accuracy"] is None else f"{r['accuracy']:.4f}"
    t, u = r["total"], r["utilization"]
    lines = [
        f"{r['design']}: test accuracy {acc} on {r['dataset']} "
        f"({r['epochs']} epochs, {r['train_seconds']:.1f} s, status {r['status']}, seed {r['seed']})",
        f"estimated cost on {part}: LUT {t['lut']:,.0f} ({u['lut']:.1%}), FF {t['ff']:,.0f} ({u['ff']:.1%}), "
        f"DSP {t['dsp']:,.0f} ({u['dsp']:.1%}), BRAM18 {t['bram18']:,.0f} ({u['bram18']:.1%}), "
        f"latency {t['latency_cycles']:,.0f} cycles ({t['latency_ns']:,.0f} ns), II {t['ii_cycles']:,.0f} cycles",
    ]
    if r["out"]:
        lines.append(f"saved to {r['out']} (design.json, weights.pt)")
    return "\n".join(lines)
