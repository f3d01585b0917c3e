"""`tf.math`: every name of math_ops (the elementwise ops), the reductions, matmul, the clip ops, norm and the
segment and scan ops."""
from __future__ import annotations

from xlite.frontend import math_ops as _math_ops
from xlite.frontend.clip_ops import *  # noqa: F401,F403
from xlite.frontend.linalg_ops import norm  # noqa: F401
from xlite.frontend.matmul_ops import *  # noqa: F401,F403
from xlite.frontend.reduction_ops import *  # noqa: F401,F403
from xlite.frontend.reduction_ops import reduce_euclidean_norm, reduce_std, reduce_variance  # noqa: F401
from xlite.frontend.scan_ops import cumprod  # noqa: F401
from xlite.frontend.sort_ops import top_k  # noqa: F401
from xlite.frontend.bounded_ops import bincount  # noqa: F401
from xlite.frontend.array_ops import invert_permutation  # noqa: F401
from xlite.frontend.nn_activations import softplus  # noqa: F401
from xlite.frontend.nn_ops import in_top_k, l2_normalize, softsign, zero_fraction  # noqa: F401
from xlite.frontend.nn_softmax import log_softmax, softmax  # noqa: F401
from xlite.frontend.segment_ops import (segment_mean, segment_sum, unsorted_segment_mean,  # noqa: F401
                                        unsorted_segment_sum)


def __getattr__(name: str):
    """The names math_ops defines (tf.math.xlogy and the rest), looked up there so this list never goes stale."""
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return getattr(_math_ops, name)
    except AttributeError:
        from xlite.frontend.missing_api import missing_api
        raise missing_api("math", name, "xlite.math") from None


def __dir__() -> list:
    return sorted(set(globals()) | {n for n in dir(_math_ops) if not n.startswith("_")})
