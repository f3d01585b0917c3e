"""Nested structures of values (lists, tuples, namedtuples, dicts) flattened to leaves and rebuilt, like tf.nest."""
from __future__ import annotations

from typing import Any


def is_sequence(value) -> bool:
    return isinstance(value, (list, tuple, dict))


def _children(value) -> list:
    if isinstance(value, dict):
        return [value[k] for k in sorted(value)]   # TF's order: sorted keys
    return list(value)


def flatten(structure) -> list:
    """The leaves in order; None is a leaf."""
    if not is_sequence(structure):
        return [structure]
    return [leaf for child in _children(structure) for leaf in flatten(child)]


def pack_sequence_as(structure, flat: list) -> Any:
    """`structure` with its leaves replaced, in order, by `flat`."""
    flat = list(flat)
    result, used = _pack(structure, flat, 0)
    if used != len(flat):
        raise ValueError(f"structure has {used} leaves but {len(flat)} values were given")
    return result


def _pack(structure, flat, at):
    if not is_sequence(structure):
        return flat[at], at + 1
    if isinstance(structure, dict):
        values = {}
        for k in sorted(structure):
            values[k], at = _pack(structure[k], flat, at)
        return type(structure)((k, values[k]) for k in structure), at
    items = []
    for child in structure:
        item, at = _pack(child, flat, at)
        items.append(item)
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):
        return type(structure)(*items), at
    return type(structure)(items), at


def same_structure(a, b, check_types: bool = True) -> bool:
    """Whether `a` and `b` nest the same way (with `check_types`, list and tuple differ)."""
    if is_sequence(a) != is_sequence(b):
        return False
    if not is_sequence(a):
        return True
    if isinstance(a, dict) != isinstance(b, dict):
        return False
    if isinstance(a, dict):
        if sorted(a) != sorted(b):
            return False
    elif len(a) != len(b):
        return False
    if check_types and type(a) is not type(b):
        return False
    return all(same_structure(x, y, check_types) for x, y in zip(_children(a), _children(b)))
