"""Files written atomically (temp + rename), and the clean-up of temporaries that killed writers left.

A temporary file is named `NAME.tempstate-PID-TOKEN-RANDOM` (TOKEN is random per process). A
process killed mid-save leaves one behind; the next save into that directory deletes every such
file whose PID is not a live process, or is this process's PID with another TOKEN (an earlier
process that had the same PID). A live writer's file is left alone, so two processes may save into
one directory (a writer in another PID namespace, such as another container sharing the directory,
looks dead: give each its own directory). File-system failures raise TF's classes.
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from typing import BinaryIO, Iterator

from xlite import errors

PROCESS_TOKEN = secrets.token_hex(4)
_TEMP_NAME = re.compile(r"\.tempstate-(\d+)-([0-9a-f]+)-[a-z0-9_]+$")


@contextlib.contextmanager
def atomic_writer(path: str) -> Iterator[BinaryIO]:
    """A binary file that appears under `path` only once the block has written all of it."""
    directory = os.path.dirname(os.path.abspath(path))
    with errors.os_errors_as_tf(path):
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f"{os.path.basename(path)}.tempstate-{os.getpid()}-"
                                                         f"{PROCESS_TOKEN}-")
        try:
            with os.fdopen(fd, "wb") as f:
                yield f
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


def write_atomic(path: str, payload: bytes) -> None:
    with atomic_writer(path) as f:
        f.write(payload)


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
        return token != PROCESS_TOKEN
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
