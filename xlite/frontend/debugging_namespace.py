"""`tf.debugging`: the checks xlite can make (when the graph is built; see case_ops)."""
from __future__ import annotations

from xlite.frontend.case_ops import Print, assert_equal  # noqa: F401
