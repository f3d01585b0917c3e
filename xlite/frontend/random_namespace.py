"""`tf.random`: TF2's spellings of the random ops."""
from __future__ import annotations

from xlite.frontend.random_ops import (get_seed, random_normal, random_uniform, set_random_seed,  # noqa: F401
                                       truncated_normal)
from xlite.frontend.random_sampling import categorical, random_shuffle as shuffle  # noqa: F401

normal, uniform, set_seed = random_normal, random_uniform, set_random_seed


def __getattr__(name: str):
    """A TF name this namespace lacks: UnimplementedError naming it (frontend/missing_api.py)."""
    from xlite.frontend.missing_api import missing_api
    raise missing_api("random", name, __name__)
