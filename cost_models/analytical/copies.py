"""Copy registers of streamed weight layers: the arrays a layer module hands between its regions (FF feature
``copy``).

Mechanisms (hls4ml v0.6-v1.3 ``templates/vivado/nnet_utils/nnet_dense_stream.h``, ``nnet_conv_stream.h``,
against ``templates/vitis/nnet_utils/nnet_dense_stream.h``):

* Dense, Vivado HLS: an io_stream Dense layer is a ``dense()`` function that copies the input stream into a
  completely partitioned array ``data[n_in]`` (``DataPrepare``, pipelined), runs the matrix-vector unit on
  it (``dense_wrapper``) and copies the result array ``res[n_out]`` into a packed ``res_pack`` for the
  output stream (``ResWrite``). In the Vivado template ``dense()`` itself carries no ``INLINE`` pragma: it
  stays a module of its own, the three regions run one after the other, and the arrays they hand over are
  register copies of their own (``n_in * data bits`` for ``data``, ``n_out * result bits`` for ``res``)
  beside the unit's input and accumulator registers (:mod:`.matvec`'s ``state``). The Vitis template puts
  ``#pragma HLS INLINE recursive`` on ``dense()`` and inlines ``data_prepare`` / ``res_write``, so the
  scheduler sees one region in which the copies are the datapath's own registers: no extra feature.
  Vivado HLS vs Vitis HLS by the tool that builds the design (``limits.vivado_hls``).
* Recurrent layers (``nnet_recurrent.h`` ``lstm_stack`` / ``gru_stack``, both io types; Vitis builds the Vivado
  template): each step copies its input vector into ``data_in[n_in]`` (from the sequence array in
  io_parallel, from the stream's pack in io_stream) and, in io_stream, the new state ``h_newstate`` into the
  output ``res_pack``: ``n_in * data bits`` (+ ``n_state * result bits``). The state arrays themselves are
  :mod:`.recurrent`'s ``state``.
* Convolution (line buffer, both tools): ``compute_output_buffer_1d`` / ``_2d`` (``INLINE`` into the
  layer's module) has the unit write a partitioned ``res_out[n_filt]`` that ``CastLoop`` copies into the
  output ``res_pack``: ``n_filt * result bits`` per unit copy (times the parallelization factor). The
  input side is the kernel window, already counted (:func:`~.stream.line_buffer_terms`).

Seen in the csynth rows: the N-TORC Resource Dense layers (Vivado HLS 2019.1) cost ~67 FF per input and
~57 per output beyond ~84 per multiplier (a least-squares fit over their 113 rows), about three 16-bit
copies of each input more than a Resource unit's single input register; the Gabriele-bot io_stream CNNs
(Vivado HLS 2020.1, Dense 400->10) are short by the same ~60 FF per Dense input without the copies. The
Vitis io_stream designs (ftsipis, Dense 2,880-8,640 inputs, Vitis HLS 2023.2) are over-estimated already.
The N-TORC Conv1D rows are short by ~40 FF per filter at 16 bits without ``res_out``.

The HLS estimate prices a copy bit like a ``state`` bit (the fit ties the two coefficients,
``scripts/fit_analytical.py``): both are plain registers of a partitioned array. Post-synthesis the
coefficient is 0: the copies hold the same values as the unit's input and result registers one transfer
apart, and Vivado synthesis merges or trims them (equivalent-register removal is on by default,
UG901 "-keep_equivalent_registers"); the post-synthesis rows with these layers (nicologhielmetti,
CestMerNeil, uw-acme: Vivado IP/OOC synthesis) show no such excess.
"""

from __future__ import annotations

from cost_models.ir import Layer, LayerKind
from cost_models.kinds import RECURRENT_KINDS

__all__ = ["stream_copies"]


def stream_copies(layer: Layer, a_bits: int, res_bits: int, stream: bool, vivado_hls: bool, pf: int = 1) -> int:
    """Register bits of the array copies of a weight layer (module docstring): streamed Dense built by
    Vivado HLS ``n_in * a_bits + n_out * res_bits``; a streamed convolution ``n_filt * res_bits * pf``; a
    recurrent layer ``n_in * a_bits`` (+ ``n_state * res_bits`` streamed); 0 otherwise (io_parallel Dense and
    convolutions, layers without weights, Dense built by Vitis HLS).

    Example:
        >>> from cost_models.ir import GraphBuilder
        >>> from hw_templates.precision import FixedType
        >>> b = GraphBuilder("m", (16,), FixedType(16, 6))
        >>> fc = b.add("dense", units=8)
        >>> stream_copies(fc, 16, 16, True, True)  # 16 inputs + 8 outputs, 16 bits each
        384
        >>> stream_copies(fc, 16, 16, True, False), stream_copies(fc, 16, 16, False, True)
        (0, 0)
        >>> c = GraphBuilder("c", (32, 4), FixedType(16, 6))
        >>> conv = c.add("conv1d", filters=8, kernel=[3])
        >>> stream_copies(conv, 16, 16, True, False)  # res_out[8] of 16 bits, either tool
        128
        >>> r = GraphBuilder("r", (10, 4), FixedType(16, 6))
        >>> lstm = r.add("lstm", units=8, return_sequences=True)
        >>> stream_copies(lstm, 16, 16, True, False), stream_copies(lstm, 16, 16, False, False)  # 4 in, 8 states
        (192, 64)
    """
    if layer.kind in RECURRENT_KINDS:  # data_in of every step; res_pack in io_stream
        return layer.input_shape[-1] * a_bits + (int(layer.units or 0) * res_bits if stream else 0)
    if not stream or not layer.kind.has_weights:
        return 0
    if layer.kind is LayerKind.DENSE:
        return layer.n_inputs * a_bits + layer.n_outputs * res_bits if vivado_hls else 0
    return layer.output_shape[-1] * res_bits * pf
