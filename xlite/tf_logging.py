"""tf.logging: TF1's logging functions on Python's `logging`, under the logger named "xlite".

Like TF1, the logger gets its own stderr handler (format `LEVEL:xlite:message`) unless the
root logger is already configured, and shows WARN and above until `set_verbosity` says
otherwise. This module also issues the once-per-spelling warnings for TF's deprecated
spellings that xlite still accepts (`keep_dims=`, `tf.initialize_all_variables`, ...).
"""
from __future__ import annotations

import functools
import logging as _logging
import os
import sys
import threading
import warnings

DEBUG = _logging.DEBUG
INFO = _logging.INFO
WARN = _logging.WARN
WARNING = _logging.WARNING
ERROR = _logging.ERROR
FATAL = _logging.FATAL

_logger: _logging.Logger | None = None
_lock = threading.Lock()


def get_logger() -> _logging.Logger:
    global _logger
    with _lock:
        if _logger is None:
            logger = _logging.getLogger("xlite")
            if not _logging.getLogger().handlers and not logger.handlers:
                handler = _logging.StreamHandler(sys.stderr)
                handler.setFormatter(_logging.Formatter(_logging.BASIC_FORMAT))
                logger.addHandler(handler)
            _logger = logger
        return _logger


def log(level: int, msg, *args, **kwargs) -> None:
    get_logger().log(level, msg, *args, **kwargs)


def debug(msg, *args, **kwargs) -> None:
    get_logger().debug(msg, *args, **kwargs)


def info(msg, *args, **kwargs) -> None:
    get_logger().info(msg, *args, **kwargs)


def warning(msg, *args, **kwargs) -> None:
    get_logger().warning(msg, *args, **kwargs)


warn = warning


def error(msg, *args, **kwargs) -> None:
    get_logger().error(msg, *args, **kwargs)


def fatal(msg, *args, **kwargs) -> None:
    """Logs at FATAL; like TF's, it does not exit."""
    get_logger().fatal(msg, *args, **kwargs)


def vlog(level: int, msg, *args, **kwargs) -> None:
    get_logger().log(level, msg, *args, **kwargs)


_counts: dict = {}


def _count_call(key) -> int:
    with _lock:
        _counts[key] = _counts.get(key, 0) + 1
        return _counts[key]


def _caller_key():
    frame = sys._getframe(2)
    return frame.f_code.co_filename, frame.f_lineno


def log_every_n(level: int, msg, n: int, *args) -> None:
    """Logs on the 1st, (n+1)th, (2n+1)th ... call from the same line."""
    if (_count_call(_caller_key()) - 1) % max(int(n), 1) == 0:
        get_logger().log(level, msg, *args)


def log_first_n(level: int, msg, n: int, *args) -> None:
    """Logs only the first n calls from the same line."""
    if _count_call(_caller_key()) <= n:
        get_logger().log(level, msg, *args)


def log_if(level: int, msg, condition, *args) -> None:
    if condition:
        get_logger().log(level, msg, *args)


def set_verbosity(v: int) -> None:
    get_logger().setLevel(v)


def get_verbosity() -> int:
    return get_logger().getEffectiveLevel()


def flush() -> None:
    for handler in get_logger().handlers:
        handler.flush()


# deprecated spellings -------------------------------------------------------------------------
class XliteDeprecationWarning(FutureWarning):
    """A TensorFlow spelling that still works but has a newer name; shown once per spelling.

    A FutureWarning, so Python shows it by default: TF1 tutorial users are its audience."""


_XLITE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_warned: set[str] = set()


def warn_deprecated(spelling: str, instead: str) -> None:
    """Warns, the first time only, that `spelling` is deprecated; points at the user's line."""
    with _lock:
        if spelling in _warned:
            return
        _warned.add(spelling)
    frame, level = sys._getframe(1), 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_XLITE_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(f"{spelling} is deprecated; use {instead} instead.", XliteDeprecationWarning,
                  stacklevel=level)


def deprecated_alias(spelling: str, instead: str, fn):
    """`fn` under an old name that warns once, e.g. tf.initialize_all_variables."""
    @functools.wraps(fn)
    def alias(*args, **kwargs):
        warn_deprecated(spelling, instead)
        return fn(*args, **kwargs)
    alias.__doc__ = f"Deprecated spelling of {instead}. " + (fn.__doc__ or "")
    return alias
