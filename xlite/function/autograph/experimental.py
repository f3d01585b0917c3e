"""tf.autograph.experimental: what TF keeps there (do_not_convert, set_loop_options)."""
from __future__ import annotations

from xlite.function.autograph.conversion import do_not_convert

__all__ = ["do_not_convert", "set_loop_options"]

UNSPECIFIED = object()


def set_loop_options(parallel_iterations=UNSPECIFIED, swap_memory=UNSPECIFIED, maximum_iterations=UNSPECIFIED,
                     shape_invariants=UNSPECIFIED) -> None:
    """Options of the tf.while_loop a converted loop over tensors becomes. As in TF, the converter reads the
    call (a statement in the loop body, calls.py) and the loop operator applies it; the call does nothing."""
