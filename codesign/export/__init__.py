"""hls4ml export of chosen designs, bit-exact C-simulation verification, and vendor synthesis.

* :func:`export_designs` - designs -> hls4ml projects (one folder each, with manifest, QONNX model and
  test vectors), compiled and checked bit-exact against the trained model; several in parallel.
* :func:`verify_exports` - re-check exported designs (``codesign verify``).
* :mod:`codesign.export.translate` - the hls4ml configuration, conversion and read-back.
* :mod:`codesign.export.synth` - vendor synthesis where installed, and the report parsers.

Importing this package loads neither torch nor hls4ml; the functions import them when they run. See
``docs/export.md``.
"""

from codesign.export.project import (
    ExportRequest,
    ExportResult,
    export_designs,
    request_from_design,
    request_from_run,
    requests_from_run,
)
from codesign.export.verify import VerificationResult, verify_exports, verify_project

__all__ = [
    "ExportRequest",
    "ExportResult",
    "VerificationResult",
    "export_designs",
    "request_from_design",
    "request_from_run",
    "requests_from_run",
    "verify_exports",
    "verify_project",
]
