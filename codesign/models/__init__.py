"""Quantized network architectures: specs, search spaces, the Brevitas builder, frontends and training.

Submodules and what they need:

* :mod:`codesign.models.arch` - :class:`ArchSpec`, a pure-data network description (no torch).
* :mod:`codesign.models.spaces` (+ :mod:`~codesign.models.cell_spaces`) - search spaces that sample an
  ArchSpec from an Optuna trial; the registry of default spaces.
* :mod:`codesign.models.precision_rules` - the number formats hls4ml infers (no torch).
* :mod:`codesign.models.builder` - ``build_model(graph)``: a LayerGraph as a Brevitas ``nn.Module``.
* :mod:`codesign.models.fold` - batchnorm folding before export.
* :mod:`codesign.models.frontends` - torch/Brevitas modules and QONNX files back to a LayerGraph.
* :mod:`codesign.models.train` - seeded quantization-aware training with accuracy shortcuts.

This package imports none of torch, brevitas, qonnx or optuna itself; import the submodule you need.
"""
