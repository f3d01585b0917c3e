"""tf.autograph.experimental: what TF keeps there (do_not_convert)."""
from __future__ import annotations

from xlite.function.autograph.conversion import do_not_convert

__all__ = ["do_not_convert"]
