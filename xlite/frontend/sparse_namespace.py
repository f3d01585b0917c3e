"""`tf.sparse`: the SparseTensor ops under their TF2 names."""
from __future__ import annotations

from xlite.frontend.missing_api import namespace_getattr
from xlite.frontend.sparse_ops import SparseTensor, SparseTensorValue  # noqa: F401
from xlite.frontend.sparse_ops import sparse_placeholder as placeholder  # noqa: F401
from xlite.frontend.sparse_ops import sparse_reduce_sum as reduce_sum  # noqa: F401
from xlite.frontend.sparse_ops import sparse_tensor_dense_matmul as sparse_dense_matmul  # noqa: F401
from xlite.frontend.sparse_ops import sparse_tensor_dense_matmul as matmul  # noqa: F401
from xlite.frontend.sparse_ops import sparse_to_dense_tensor as to_dense  # noqa: F401

__getattr__ = namespace_getattr("sparse", __name__)      # a TF name it lacks: UnimplementedError naming it
