"""LLVM's optimizer in a child process once this process has optimized many Modules, so memory comes back.

llvmlite's new pass manager never frees the PassInstrumentationCallbacks it makes for each PassBuilder,
nor the callbacks each run registers there (llvmlite's ffi/newpassmanagers.cpp): about 55 KB per
optimized Module that no Python object owns, so no close() can return it. A program's first
IN_PROCESS compiles stay in this process (a cold start pays no child start-up); later ones go to a
child process, replaced after RECYCLE_AFTER compiles, which takes the leaked memory with it.
XLITE_LLVM_WORKER=0 keeps every compile in this process.
"""
from __future__ import annotations

import atexit
import os
import struct
import subprocess
import sys
import threading
from pathlib import Path

IN_PROCESS = 32
RECYCLE_AFTER = 256
_REQUEST = struct.Struct("<iQ")          # speed level, IR length
_REPLY = struct.Struct("<?Q")            # ok, length of the object (or of the error text)

_lock = threading.Lock()
_in_process = 0
_worker: "_Worker | None" = None
_broken = False


class _Worker:
    """A child process that optimizes and emits one Module per request."""

    def __init__(self):
        env = dict(os.environ, XLITE_LLVM_WORKER="0")
        root = str(Path(__file__).resolve().parents[3])             # the directory holding xlite/
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen([sys.executable, "-m", "xlite.codegen.cpu.llvm_worker"], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True,
                                     start_new_session=True)      # a terminal's Ctrl-C is the parent's
        self.compiles = 0
        self.owner = os.getpid()             # a forked child must not share this one's pipes

    def compile(self, ir_text: str, speed_level: int) -> tuple[bool, bytes]:
        """(True, the object code) or (False, LLVM's error message)."""
        data = ir_text.encode()
        self.proc.stdin.write(_REQUEST.pack(speed_level, len(data)) + data)
        self.proc.stdin.flush()
        ok, length = _REPLY.unpack(_read_exactly(self.proc.stdout, _REPLY.size))
        body = _read_exactly(self.proc.stdout, length)
        self.compiles += 1
        return ok, body

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def _read_exactly(stream, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("the LLVM worker process ended")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def compile_elsewhere(ir_text: str, speed_level: int) -> bytes | None:
    """The object code of `ir_text` from the worker, or None when this process should compile it (one of
    its first IN_PROCESS compiles, the worker switched off, or a worker that could not run)."""
    global _in_process, _worker, _broken
    with _lock:
        if _in_process < IN_PROCESS or _broken or os.environ.get("XLITE_LLVM_WORKER") == "0":
            _in_process += 1
            return None
        try:
            if _worker is not None and _worker.owner != os.getpid():
                _worker = None
            if _worker is None:
                _worker = _Worker()
            ok, obj = _worker.compile(ir_text, speed_level)
        except (OSError, EOFError, struct.error):
            _broken = True                   # compile here from now on: correct, only heavier
            _close_worker(kill=True)
            return None
        except BaseException:                # KeyboardInterrupt mid-exchange: its reply must not be
            _close_worker(kill=True)         # read as the next request's
            raise
        if _worker.compiles >= RECYCLE_AFTER:
            _close_worker()
        if not ok:
            raise RuntimeError(obj.decode(errors="replace"))
        return obj


def _close_worker(kill: bool = False) -> None:
    global _worker
    if _worker is not None:
        if kill:
            _worker.proc.kill()
        _worker.close()
        _worker = None


atexit.register(_close_worker)


def _serve() -> None:
    from xlite.codegen.cpu.compiler import compile_to_object
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            speed_level, length = _REQUEST.unpack(_read_exactly(requests, _REQUEST.size))
            text = _read_exactly(requests, length).decode()
        except EOFError:
            return
        try:
            reply, ok = compile_to_object(text, speed_level=speed_level), True
        except Exception as e:               # sent back and raised in the parent, as in-process
            reply, ok = f"{type(e).__name__}: {e}".encode(), False
        replies.write(_REPLY.pack(ok, len(reply)) + reply)
        replies.flush()


if __name__ == "__main__":
    _serve()
