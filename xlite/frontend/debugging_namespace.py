"""`tf.debugging`: the checks xlite makes (when the graph is built, or in the run: case_ops, host_ops)."""
from __future__ import annotations

from xlite.frontend.case_ops import Print, assert_equal  # noqa: F401
from xlite.frontend.host_ops import Assert, check_numerics  # noqa: F401
from xlite.frontend.assert_ops import *  # noqa: F401,F403
