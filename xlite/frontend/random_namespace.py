"""`tf.random`: TF2's spellings of the random ops."""
from __future__ import annotations

from xlite.frontend.missing_api import namespace_getattr
from xlite.frontend.random_ops import (get_seed, random_normal, random_uniform, set_random_seed,  # noqa: F401
                                       truncated_normal)
from xlite.frontend.random_sampling import categorical, random_shuffle as shuffle  # noqa: F401

normal, uniform, set_seed = random_normal, random_uniform, set_random_seed

__getattr__ = namespace_getattr("random", __name__)      # a TF name it lacks: UnimplementedError naming it
