"""`tf.sparse`: the SparseTensor ops under their TF2 names."""
from __future__ import annotations

from xlite.frontend.sparse_ops import SparseTensor, SparseTensorValue  # noqa: F401
from xlite.frontend.sparse_ops import sparse_placeholder as placeholder  # noqa: F401
from xlite.frontend.sparse_ops import sparse_reduce_sum as reduce_sum  # noqa: F401
from xlite.frontend.sparse_ops import sparse_tensor_dense_matmul as sparse_dense_matmul  # noqa: F401
from xlite.frontend.sparse_ops import sparse_tensor_dense_matmul as matmul  # noqa: F401
from xlite.frontend.sparse_ops import sparse_to_dense_tensor as to_dense  # noqa: F401


def __getattr__(name: str):
    """A TF name this namespace lacks: UnimplementedError naming it (frontend/missing_api.py)."""
    from xlite.frontend.missing_api import missing_api
    raise missing_api("sparse", name, __name__)
