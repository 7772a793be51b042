"""The ONNX surrogate of a YAHPO scenario: int32 categorical codes and float32 features in, float32 out.

Reproducibility: onnxruntime's CPU matrix products treat the rows of a batch in blocks (of 4 rows on
x86-64 with MLAS); the leftover rows of a batch whose size is not a multiple of the block go through
another kernel and can differ in the last float32 bits (up to ~4e-6 of a column's scale). ``run`` pads
every batch with copies of its last row to a multiple of ``ROW_BLOCK`` (16), so a row's output does not
depend on the batch it is in: ``curve`` and ``evaluate`` agree bit for bit, and so do they with the
reference outputs of yahpo-gym 1.0.2 (computed as one batch of 100 rows).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from blackbox_repository.errors import BlackboxError

logger = logging.getLogger(__name__)

#: batches are padded to a multiple of this many rows (see the module docstring)
ROW_BLOCK = 16
#: rows per ONNX call for big batches (bounds the memory of intermediate activations)
CHUNK_ROWS = 4096


class SurrogateModel:
    """An ONNX session with the YAHPO signature: ``(x_cat int32 (n, C), x_cont float32 (n, K)) -> (n, Y)``.

    Args:
        path: the ``model.onnx`` file.
        num_cat, num_cont, num_out: expected widths of the inputs and the output (checked).
        threads: onnxruntime intra-op threads (None: onnxruntime's default, one per core).
    """

    def __init__(self, path: Path | str, num_cat: int, num_cont: int, num_out: int, threads: int | None = None) -> None:
        try:
            import onnxruntime
        except ImportError:
            raise BlackboxError(
                "YAHPO surrogates need onnxruntime; install it with: pip install 'hpo-workbench[yahpo]'"
            ) from None
        options = onnxruntime.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        try:
            self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own exception types
            message = " ".join(str(error).split())
            raise BlackboxError(
                f"cannot load the ONNX surrogate {path}: {message}; delete it to download it again"
            ) from None
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        widths = [node.shape[-1] for node in inputs] + [outputs[0].shape[-1]] if len(inputs) == 2 else []
        if widths != [num_cat, num_cont, num_out]:
            raise BlackboxError(
                f"the ONNX surrogate {path} has input/output widths {widths}, expected {[num_cat, num_cont, num_out]} "
                "(categorical, continuous, objectives); is it from yahpo_data v1.0.2?"
            )
        self.input_names = [node.name for node in inputs]
        self.output_name = outputs[0].name
        self.num_out = num_out

    def run(self, x_cat: np.ndarray, x_cont: np.ndarray) -> np.ndarray:
        """Predictions for ``n`` rows, shape (n, objectives), float32; padded and chunked (module docstring)."""
        x_cat = np.ascontiguousarray(x_cat, dtype=np.int32)
        x_cont = np.ascontiguousarray(x_cont, dtype=np.float32)
        n = len(x_cat)
        if n == 0:
            return np.empty((0, self.num_out), dtype=np.float32)
        starts = range(0, n, CHUNK_ROWS)
        pieces = [self._run_padded(x_cat[i : i + CHUNK_ROWS], x_cont[i : i + CHUNK_ROWS]) for i in starts]
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)

    def _run_padded(self, x_cat: np.ndarray, x_cont: np.ndarray) -> np.ndarray:
        n = len(x_cat)
        pad = -n % ROW_BLOCK
        if pad:
            x_cat = np.concatenate([x_cat, np.repeat(x_cat[-1:], pad, axis=0)])
            x_cont = np.concatenate([x_cont, np.repeat(x_cont[-1:], pad, axis=0)])
        feeds = {self.input_names[0]: x_cat, self.input_names[1]: x_cont}
        return self.session.run([self.output_name], feeds)[0][:n]
