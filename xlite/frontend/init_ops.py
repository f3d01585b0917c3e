"""Initializers for Variables: zeros, ones, constant, random normal/uniform, truncated normal, Glorot."""
from __future__ import annotations

__all__: list[str] = []
