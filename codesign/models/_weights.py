"""Saved weights: the state-dict file a trained design keeps, read safely, checked against an
architecture, or used to hot-start another model.

Re-exported by :mod:`codesign.models.train`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from hw_templates.errors import SpecError, TrainingError, clip

__all__ = ["MAX_WEIGHTS_BYTES", "WEIGHTS_FILE", "check_weights", "hot_start_from", "load_weights"]

logger = logging.getLogger("codesign.models.train")  # the hot-start line keeps its logger name

#: File name of a saved state dict.
WEIGHTS_FILE = "weights.pt"

#: Largest ``weights.pt`` read (the search's largest networks save a few MB).
MAX_WEIGHTS_BYTES = 1 << 30


def load_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a state dict saved by :meth:`TrainResult.save` (``weights_only=True``: no pickled code).

    Raises:
        TrainingError: missing, larger than :data:`MAX_WEIGHTS_BYTES`, damaged, or not a state dict of
            tensors (a pickle with code in it is refused, never run).
    """
    from codesign.config_io import check_input_file

    path = check_input_file(path, "weights", MAX_WEIGHTS_BYTES, "weights.pt file")
    try:
        with warnings.catch_warnings():  # torch warns about the pickle protocol of files it then refuses
            warnings.simplefilter("ignore", UserWarning)
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types on damaged or crafted files
        reason = "it holds objects other than tensors" if "weights_only" in str(err) else type(err).__name__
        raise TrainingError(
            f"weights {clip(str(path))}: expected a tensor state dict saved by codesign ({reason}); "
            "weights are never unpickled beyond tensors"
        ) from None
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise TrainingError(f"weights {clip(str(path))}: expected a mapping of tensor names to tensors")
    return state


def check_weights(model: nn.Module, state: Mapping[str, torch.Tensor], where: str) -> None:
    """Refuse weights that do not belong to ``model``'s architecture, naming the first difference.

    Raises:
        SpecError: a missing, unexpected or differently shaped tensor.
    """
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    shapes = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
    if missing or extra or shapes:
        if shapes:
            k = shapes[0]
            detail = f"tensor {clip(k)} has shape {list(state[k].shape)}, expected {list(own[k].shape)}"
        else:
            detail = f"tensor {clip((missing or extra)[0])} is {'missing' if missing else 'not in the architecture'}"
        raise SpecError(f"{where}: expected the weights of the architecture in design.json, but {detail}")


def hot_start_from(model: nn.Module, source: Mapping[str, torch.Tensor] | nn.Module | str | Path) -> int:
    """Copy into ``model`` every tensor of ``source`` whose name and shape match; return how many.

    Raises:
        TrainingError: ``source`` is a path whose weights cannot be read (see :func:`load_weights`).
    """
    if isinstance(source, nn.Module):
        source = source.state_dict()
    elif isinstance(source, (str, Path)):
        source = load_weights(source)
    own = model.state_dict()
    taken = {k: v for k, v in source.items() if k in own and tuple(own[k].shape) == tuple(v.shape)}
    model.load_state_dict({**own, **taken})
    logger.info("hot start: took %d of %d tensors", len(taken), len(own))
    return len(taken)
