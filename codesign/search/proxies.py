"""Zero-cost accuracy proxies: scores of an untrained quantized model from a few forward/backward passes.

Each proxy takes the model :func:`codesign.models.builder.build_model` makes (weights as initialised,
quantizers in place) and one batch of training data, and returns a float (higher should mean a more
accurate network once trained). They are cheap signals for the surrogate sampler
(:mod:`codesign.search.surrogate`), never a replacement for training: their rank correlation with
trained accuracy is measured by ``scripts/bench_search.py`` on the shipped table.

* ``grad_norm``: sum of the L2 norms of the loss gradients of every weight (Abdelfattah et al.,
  "Zero-Cost Proxies for Lightweight NAS", ICLR 2021).
* ``synflow``: sum of ``|w * dR/dw|`` where ``R`` is the output sum for an all-ones input with all
  weights made positive (Tanaka et al., "Pruning neural networks without any data by iteratively
  conserving synaptic flow", NeurIPS 2020; used as a NAS proxy by Abdelfattah et al. 2021). Reported
  as log10.
* ``naswot``: log-determinant of the Hamming-similarity kernel of the ReLU activation patterns over
  the batch (Mellor et al., "Neural Architecture Search without Training", ICML 2021), plus the
  identity so that networks with fewer units than samples stay comparable.
* ``jacob_cov``: negative spread of the eigenvalues of the correlation matrix of input Jacobians
  (Mellor et al., arXiv:2006.04647v1, the first version of the same paper).

How to add one: write ``def my_proxy(model, x, y) -> float`` and add it to :data:`PROXIES`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["PROXIES", "compute_proxies"]


def grad_norm(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    import torch

    model.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    total = sum(float(p.grad.norm()) for p in model.parameters() if p.grad is not None and p.dim() > 1)
    model.zero_grad()
    return total


def synflow(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    import torch

    net = copy.deepcopy(model)
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net.zero_grad()
    out = net(torch.ones_like(x[:1]))
    out.sum().backward()
    weights = [p for p in net.parameters() if p.grad is not None and p.dim() > 1]
    score = sum(float((p.detach() * p.grad).abs().sum()) for p in weights)
    return math.log10(score) if score > 0 else -30.0


def naswot(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    import torch
    from brevitas import nn as qnn

    codes: list[torch.Tensor] = []

    def hook(_module: Any, _inputs: Any, output: Any) -> None:
        value = output.value if hasattr(output, "value") else output
        codes.append((value.detach().reshape(len(value), -1) > 0).float())

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (qnn.QuantReLU, torch.nn.ReLU))]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    if not codes:
        return 0.0
    c = torch.cat(codes, dim=1).double()
    kernel = c @ c.T + (1 - c) @ (1 - c).T
    # + identity: a tiny network has fewer units than the batch has samples, so the plain kernel is
    # singular (logdet -inf) for all of them; the ridge keeps the ranking informative.
    _sign, logdet = torch.linalg.slogdet(kernel + torch.eye(len(kernel), dtype=kernel.dtype))
    return float(logdet)


def jacob_cov(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    inputs = x.clone().requires_grad_(True)
    model.zero_grad()
    model(inputs).sum().backward()
    jac = inputs.grad.reshape(len(inputs), -1).double().numpy()
    model.zero_grad()
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.nan_to_num(np.corrcoef(jac))
    eig = np.linalg.eigvalsh(corr)
    k = 1e-5
    return float(-np.sum(np.log(np.abs(eig) + k) + 1.0 / (np.abs(eig) + k)) / 1e5)


#: Proxy name -> function ``(model, x, y) -> score``.
PROXIES: dict[str, Callable[..., float]] = {
    "grad_norm": grad_norm,
    "synflow": synflow,
    "naswot": naswot,
    "jacob_cov": jacob_cov,
}


def compute_proxies(
    model: nn.Module, x: np.ndarray, y: np.ndarray, names: tuple[str, ...] = tuple(PROXIES), seed: int = 0
) -> dict[str, float]:
    """Every named proxy of ``model`` (untrained) on the batch ``x`` (torch layout), ``y`` (labels).

    Example:
        >>> from codesign.models.arch import ArchLayer, ArchSpec
        >>> from codesign.models.builder import build_model
        >>> spec = ArchSpec("m", (ArchLayer("dense", name="fc", units=10, weight_bits=4),))
        >>> x = np.random.default_rng(0).normal(size=(16, 64)).astype("float32")
        >>> sorted(compute_proxies(build_model(spec.to_graph((64,))), x, np.arange(16) % 10))
        ['grad_norm', 'jacob_cov', 'naswot', 'synflow']
    """
    import torch

    torch.manual_seed(seed)
    xt = torch.as_tensor(np.asarray(x, dtype=np.float32))
    yt = torch.as_tensor(np.asarray(y, dtype=np.int64))
    model.train()
    return {name: float(PROXIES[name](model, xt, yt)) for name in names}
