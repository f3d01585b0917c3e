"""Ctrl-C during native code: a SIGINT handler that sets cancellation.INTERRUPTED before Python's own.

Python runs its signal handlers on the main thread between bytecodes, so while that thread is inside
a compiled run nothing would happen until the run ends. `install()` therefore puts a few bytes of
machine code in front of Python's C-level SIGINT handler: they set the INTERRUPTED word, which the
running code checks at kernel boundaries and while back-edges, and jump to Python's handler, which
marks the signal as usual. When the run has returned early, Python's handler runs: ours clears the
word and calls the default one (KeyboardInterrupt). Installed only over the default handler, on the
main thread, on x86-64 Linux; a program that sets its own SIGINT handler replaces both halves (Python
reinstalls its C handler), and Ctrl-C then waits for the run as before.
"""
from __future__ import annotations

import ctypes
import mmap
import platform
import signal
import struct
import sys
import threading

from xlite.cancellation import INTERRUPTED

_installed = None           # our struct sigaction, once installed


class _SigAction(ctypes.Structure):
    """glibc's struct sigaction on x86-64 Linux."""
    _fields_ = [("handler", ctypes.c_void_p), ("mask", ctypes.c_ulong * 16), ("flags", ctypes.c_int),
                ("restorer", ctypes.c_void_p)]


def _on_interrupt(signum, frame):
    """Python's half: the run (if any) has stopped; forget the request and raise KeyboardInterrupt."""
    INTERRUPTED[0] = 0
    signal.default_int_handler(signum, frame)


def _trampoline(flag_address: int, then: int) -> bytes:
    """x86-64: movabs rax, flag; mov dword [rax], 1; movabs rax, then; jmp rax."""
    return (b"\x48\xb8" + struct.pack("<Q", flag_address) + b"\xc7\x00\x01\x00\x00\x00"
            + b"\x48\xb8" + struct.pack("<Q", then) + b"\xff\xe0")


def install() -> bool:
    """Installs the handler when it can (see the module docstring); whether it is in place."""
    global _installed
    if _installed is not None and signal.getsignal(signal.SIGINT) is _on_interrupt:
        return True
    if (not sys.platform.startswith("linux") or platform.machine() != "x86_64"
            or threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    libc.sigaction.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    signal.signal(signal.SIGINT, _on_interrupt)         # Python's C handler, with our Python half
    python_c = _SigAction()
    if libc.sigaction(signal.SIGINT, None, ctypes.byref(python_c)) != 0 or python_c.handler in (None, 0, 1):
        signal.signal(signal.SIGINT, signal.default_int_handler)
        return False
    code = _trampoline(INTERRUPTED.ctypes.data, python_c.handler)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    address = libc.mmap(None, mmap.PAGESIZE, mmap.PROT_READ | mmap.PROT_WRITE,
                        mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)     # never unmapped: the handler lives on
    if address in (None, ctypes.c_void_p(-1).value):
        signal.signal(signal.SIGINT, signal.default_int_handler)
        return False
    ctypes.memmove(address, code, len(code))
    ours = _SigAction.from_buffer_copy(python_c)
    ours.handler = address
    if (libc.mprotect(address, mmap.PAGESIZE, mmap.PROT_READ | mmap.PROT_EXEC) != 0
            or libc.sigaction(signal.SIGINT, ctypes.byref(ours), None) != 0):
        signal.signal(signal.SIGINT, signal.default_int_handler)
        return False
    _installed = ours
    return True


__all__ = ["install"]
