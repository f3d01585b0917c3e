"""tf.io as far as input pipelines need it: read_file and decode_csv inside dataset functions
(host steps: xlite/data/text.py)."""
from __future__ import annotations

from xlite.data.text import decode_csv, read_file

__all__ = ["decode_csv", "read_file"]
