"""tf.cond and tf.while_loop as IR conditional and while ops with sub-computations."""
from __future__ import annotations

__all__: list[str] = []
