"""`tf.linalg`: TF2's spellings of the matrix functions (diag is the batched MatrixDiag here, not TF1's Diag)."""
from __future__ import annotations

from xlite.frontend.einsum_ops import einsum, tensordot  # noqa: F401
from xlite.frontend.linalg_ops import eye, matrix_band_part as band_part, matrix_transpose, norm, trace  # noqa: F401
from xlite.frontend.linalg_ops import matrix_diag as diag, matrix_diag_part as diag_part  # noqa: F401
from xlite.frontend.matmul_ops import matmul  # noqa: F401
from xlite.frontend.missing_api import namespace_getattr

__getattr__ = namespace_getattr("linalg", __name__)      # a TF name it lacks: UnimplementedError naming it
