"""tf.train.Saver: Variables to one checkpoint file and back, bit-exact and written atomically.

File format (`PREFIX.xckpt`): the magic line `XLITE-CHECKPOINT 1\n`, an 8-byte
little-endian length, that many bytes of JSON (each tensor's name, dtype, shape,
offset and byte size into the data), the raw little-endian C-order data, and a
32-byte SHA-256 of everything before it. A file is written to a temporary name
and renamed into place, so a crash never leaves a partial checkpoint under the
real name; a truncated or altered file fails its checksum and raises DataLossError.
Beside the checkpoints a `checkpoint` text file names the latest ones, as TF's does.

A temporary file is named `NAME.tempstate-PID-TOKEN-RANDOM` (TOKEN is random per
process). A process killed mid-save leaves one behind; the next save into that
directory deletes every such file whose PID is not a live process, or is this
process's PID with another TOKEN (an earlier process that had the same PID). A
live writer's file is left alone, so two processes may save into one directory (a
writer in another PID namespace, such as another container sharing the directory,
looks dead: give each its own directory).
File-system failures raise TF's classes (PermissionDeniedError, FailedPreconditionError, ...).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import struct
import tempfile

import numpy as np

from xlite import errors, tf_logging
from xlite.frontend.graph import GraphKeys, get_default_graph

MAGIC = b"XLITE-CHECKPOINT 1\n"
SUFFIX = ".xckpt"
_PROCESS_TOKEN = secrets.token_hex(4)
_TEMP_NAME = re.compile(r"\.tempstate-(\d+)-([0-9a-f]+)-[a-z0-9_]+$")


def _write_atomic(path: str, payload: bytes) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    with errors.os_errors_as_tf(path):
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f"{os.path.basename(path)}.tempstate-{os.getpid()}-"
                                                         f"{_PROCESS_TOKEN}-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # another user's live process
        return True
    return True


def _is_stale_temp(name: str) -> bool:
    match = _TEMP_NAME.search(name)
    if match is None:
        return False
    pid, token = int(match[1]), match[2]
    if pid == os.getpid():
        return token != _PROCESS_TOKEN
    return not _process_alive(pid)


def remove_stale_temp_files(directory: str) -> None:
    """Deletes the temporary files that killed saves left in `directory` (see the module docstring)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if _is_stale_temp(name):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:   # another save removed it first, or it is not ours to remove
                pass


def write_checkpoint(path: str, tensors: dict[str, np.ndarray]) -> None:
    index, chunks, offset = [], [], 0
    for name, value in tensors.items():
        data = np.ascontiguousarray(value).astype(value.dtype.newbyteorder("<")).tobytes()
        index.append({"name": name, "dtype": value.dtype.name, "shape": list(value.shape),
                      "offset": offset, "nbytes": len(data)})
        chunks.append(data)
        offset += len(data)
    header = json.dumps(index).encode()
    body = MAGIC + struct.pack("<Q", len(header)) + header + b"".join(chunks)
    _write_atomic(path, body + hashlib.sha256(body).digest())


def read_checkpoint(path: str) -> dict[str, np.ndarray]:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"Unsuccessful TensorSliceReader constructor: Failed to find "
                                   f"any matching files for {path}") from None
    except OSError as e:
        raise errors.from_os_error(e, path) from None
    if not raw.startswith(MAGIC) or len(raw) < len(MAGIC) + 8 + 32:
        raise errors.DataLossError(None, None, f"{path} is not an xlite checkpoint (or is truncated)")
    body, digest = raw[:-32], raw[-32:]
    if hashlib.sha256(body).digest() != digest:
        raise errors.DataLossError(None, None, f"checkpoint {path} is corrupt or truncated (checksum mismatch)")
    (length,) = struct.unpack("<Q", body[len(MAGIC):len(MAGIC) + 8])
    start = len(MAGIC) + 8
    index = json.loads(body[start:start + length])
    data = body[start + length:]
    result = {}
    for entry in index:
        dtype = np.dtype(entry["dtype"]).newbyteorder("<")
        chunk = data[entry["offset"]:entry["offset"] + entry["nbytes"]]
        result[entry["name"]] = np.frombuffer(chunk, dtype=dtype).astype(dtype.newbyteorder("=")).reshape(entry["shape"])
    return result


def _checkpoint_state_path(save_path: str) -> str:
    return os.path.join(os.path.dirname(os.path.abspath(save_path)), "checkpoint")


def latest_checkpoint(checkpoint_dir: str, latest_filename: str | None = None) -> str | None:
    """The newest checkpoint the state file names, or None (as TF, also when that file is unreadable)."""
    path = os.path.join(checkpoint_dir, latest_filename or "checkpoint")
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("model_checkpoint_path:"):
                    prefix = json.loads(line.split(":", 1)[1].strip())
                    prefix = prefix if os.path.isabs(prefix) else os.path.join(checkpoint_dir, prefix)
                    return prefix if os.path.exists(prefix + SUFFIX) else None
    except (OSError, ValueError) as e:
        tf_logging.warning("%s: %s", path, e)
    return None


def checkpoint_exists(prefix: str) -> bool:
    return os.path.exists(prefix + SUFFIX)


class Saver:
    """Saves and restores Variables by their op names (or the names of a var_list dict)."""

    def __init__(self, var_list=None, reshape=False, sharded=False, max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially=False,
                 saver_def=None, builder=None, defer_build=False, allow_empty=False,
                 write_version=None, pad_step_number=False, save_relative_paths=False, filename=None):
        graph = get_default_graph()
        if var_list is None:
            var_list = graph.get_collection(GraphKeys.GLOBAL_VARIABLES)
        if isinstance(var_list, dict):
            self._vars = dict(var_list)
        else:
            self._vars = {}
            for v in var_list:
                name = v.op.name
                if name in self._vars:
                    raise ValueError(f"At least two variables have the same name: {name}")
                self._vars[name] = v
        if not self._vars and not allow_empty:
            raise ValueError("No variables to save")
        self._max_to_keep = max_to_keep
        self._kept: list[str] = []

    def save(self, sess, save_path: str, global_step=None, latest_filename=None, meta_graph_suffix="meta",
             write_meta_graph=True, write_state=True, strip_default_attrs=False) -> str:
        if global_step is not None:
            step = global_step if isinstance(global_step, (int, np.integer)) else int(sess.run(global_step))
            save_path = f"{save_path}-{int(step)}"
        directory = os.path.dirname(os.path.abspath(save_path))
        if not os.path.isdir(directory):
            raise ValueError(f"Parent directory of {save_path} doesn't exist, can't save.")
        remove_stale_temp_files(directory)
        values = sess.run({name: v for name, v in self._vars.items()})
        write_checkpoint(save_path + SUFFIX, {name: np.asarray(values[name]) for name in self._vars})
        if write_state:
            self._update_state(save_path, latest_filename)
        return save_path

    def _update_state(self, save_path: str, latest_filename) -> None:
        if save_path in self._kept:
            self._kept.remove(save_path)
        self._kept.append(save_path)
        if self._max_to_keep:
            while len(self._kept) > self._max_to_keep:
                old = self._kept.pop(0)
                if os.path.exists(old + SUFFIX):
                    with errors.os_errors_as_tf(old + SUFFIX):
                        os.unlink(old + SUFFIX)
        directory = os.path.dirname(os.path.abspath(save_path))
        rel = [os.path.relpath(p, directory) if not os.path.isabs(p) else os.path.basename(p) for p in self._kept]
        lines = [f"model_checkpoint_path: {json.dumps(rel[-1])}"]
        lines += [f"all_model_checkpoint_paths: {json.dumps(p)}" for p in rel]
        path = os.path.join(directory, latest_filename or "checkpoint")
        _write_atomic(path, ("\n".join(lines) + "\n").encode())

    def restore(self, sess, save_path: str) -> None:
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        if not checkpoint_exists(save_path):
            raise ValueError(f"The passed save_path is not a valid checkpoint: {save_path}")
        values = read_checkpoint(save_path + SUFFIX)
        for name, var in self._vars.items():
            if name not in values:
                raise errors.NotFoundError(None, var.op, f"Key {name} not found in checkpoint {save_path}")
            value = values[name]
            if value.dtype != var.dtype.np or list(value.shape) != var.shape.as_list():
                raise errors.InvalidArgumentError(
                    None, var.op, f"Checkpoint value for {name} has dtype {value.dtype} and shape "
                    f"{list(value.shape)}, but the variable is {var.dtype.name} {var.shape.as_list()}")
            sess._load_variable(var.op, value)

    @property
    def last_checkpoints(self) -> list[str]:
        return list(self._kept)
