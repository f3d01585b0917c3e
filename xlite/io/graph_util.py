"""tf.graph_util: freezing a graph (xlite/io/freeze.py)."""
from __future__ import annotations

from xlite.io.freeze import convert_variables_to_constants, extract_sub_graph

__all__ = ["convert_variables_to_constants", "extract_sub_graph"]
