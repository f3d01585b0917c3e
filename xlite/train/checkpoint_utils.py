"""tf.train.load_checkpoint, list_variables, load_variable and init_from_checkpoint (TF's checkpoint_utils).

`init_from_checkpoint` makes chosen Variables start from a checkpoint's values: each one's
initializer becomes an assignment of the saved value, so running the usual initializers loads
them (TF's does the same with a RestoreV2 op; xlite reads the value now and holds it as a constant).
"""
from __future__ import annotations

import os

from xlite.frontend.graph import GraphKeys, get_default_graph
from xlite.train.checkpoint_reader import CheckpointReader
from xlite.train.saver import latest_checkpoint


def _prefix(ckpt_dir_or_file: str) -> str:
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        found = latest_checkpoint(path)
        if found is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given directory {path}")
        return found
    return path


def load_checkpoint(ckpt_dir_or_file: str) -> CheckpointReader:
    """A reader of the checkpoint at a prefix, or of the latest one in a directory."""
    return CheckpointReader(_prefix(ckpt_dir_or_file))


def load_variable(ckpt_dir_or_file: str, name: str):
    if name.endswith(":0"):
        name = name[:-2]
    return load_checkpoint(ckpt_dir_or_file).get_tensor(name)


def list_variables(ckpt_dir_or_file: str) -> list[tuple[str, list[int]]]:
    """(name, shape) of every tensor in the checkpoint, sorted by name."""
    shapes = load_checkpoint(ckpt_dir_or_file).get_variable_to_shape_map()
    return [(name, shapes[name]) for name in sorted(shapes)]


def _variables_by_name() -> dict:
    graph = get_default_graph()
    found = {}
    for key in (GraphKeys.GLOBAL_VARIABLES, GraphKeys.LOCAL_VARIABLES):
        for v in graph.get_collection(key):
            found.setdefault(v.op.name, v)
    return found


def _pairs(assignment_map, reader: CheckpointReader):
    """(checkpoint tensor name, Variable) for each entry of an assignment map, by TF's rules."""
    variables = _variables_by_name()
    saved = reader.get_variable_to_shape_map()
    items = assignment_map.items() if isinstance(assignment_map, dict) else assignment_map
    for ckpt_name, current in items:
        if not isinstance(current, str):                      # a Variable (or a list of partitions)
            for var in (current if isinstance(current, (list, tuple)) else [current]):
                yield ckpt_name, var
            continue
        if current in variables and not ckpt_name.endswith("/"):   # one variable by name
            yield ckpt_name, variables[current]
            continue
        if not ckpt_name.endswith("/") and ckpt_name != "/" or not (current.endswith("/") or current == ""):
            raise ValueError(f"Tensor {current} is not found in the current graph (assignment map entry "
                             f"{ckpt_name!r}: {current!r})")
        ckpt_scope = "" if ckpt_name == "/" else ckpt_name
        matched = False
        for name, var in variables.items():
            if not name.startswith(current):
                continue
            full = ckpt_scope + name[len(current):]
            if full in saved:
                matched = True
                yield full, var
        if not matched:
            raise ValueError(f"Assignment map with scope only name {current} should map to scope only "
                             f"{ckpt_name}. Found no variables in scope {current!r} that are in the checkpoint")


def init_from_checkpoint(ckpt_dir_or_file: str, assignment_map) -> None:
    """Replaces the initializers of the mapped Variables by the checkpoint's values (TF's rules for
    `assignment_map`: 'ckpt_name': 'var_name' or Variable, 'ckpt_scope/': 'scope/', '/': 'scope/')."""
    from xlite.frontend.convert import constant
    from xlite.frontend.variables import assign
    reader = load_checkpoint(ckpt_dir_or_file)
    for ckpt_name, var in _pairs(assignment_map, reader):
        if not reader.has_tensor(ckpt_name):
            raise ValueError(f"Tensor {ckpt_name} is not found in {ckpt_dir_or_file} checkpoint")
        value = reader.get_tensor(ckpt_name)
        if not var.shape.is_compatible_with(list(value.shape)):
            raise ValueError(f"Shape of variable {var.op.name} ({var.shape}) doesn't match with shape of tensor "
                             f"{ckpt_name} ({list(value.shape)}) from checkpoint reader.")
        if value.dtype != var.dtype.np:
            raise ValueError(f"Variable {var.op.name} is {var.dtype.name} but checkpoint tensor {ckpt_name} "
                             f"is {value.dtype}")
        graph = var.graph
        with graph.as_default(), graph.control_dependencies(None), graph.name_scope(var.op.name + "/"):
            initial = constant(value, dtype=var.dtype, name="checkpoint_initializer")
            var._initializer_op = assign(var, initial, name="checkpoint_initializer_assign").op
            var._initial_value = initial
