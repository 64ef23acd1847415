"""What a trained design records so that it can be re-created and checked: tool versions and a hash of
its weights (the dataset's hash is :meth:`codesign.data.Dataset.fingerprint`).

torch is imported inside the functions (the CLI stays light).
"""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

__all__ = ["TOOLS", "state_sha256", "tool_versions"]

#: Distributions whose versions decide a training's numbers (and the export's).
TOOLS = ("fpga-codesign", "torch", "brevitas", "numpy", "scikit-learn", "hls4ml", "qonnx", "onnx")


def tool_versions() -> dict[str, str]:
    """Python and the installed :data:`TOOLS` versions (``"absent"`` for one not installed)."""
    out = {"python": platform.python_version()}
    for name in TOOLS:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out


def state_sha256(state: Mapping[str, Any]) -> str:
    """sha256 of a torch state dict: every tensor's name, dtype, shape and bytes, in name order (independent
    of how the file was written)."""
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()
