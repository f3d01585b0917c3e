"""TensorFlow's exception classes, raised with the op's name and the user's line that created it."""
from __future__ import annotations

import contextlib

OK, CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND, ALREADY_EXISTS = range(7)
PERMISSION_DENIED, RESOURCE_EXHAUSTED, FAILED_PRECONDITION, ABORTED, OUT_OF_RANGE = 7, 8, 9, 10, 11
UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS, UNAUTHENTICATED = 12, 13, 14, 15, 16


class OpError(Exception):
    """An error while running a graph; `op` is the Operation at fault (or None)."""

    error_code = UNKNOWN

    def __init__(self, node_def, op, message: str, *args):
        self.node_def = node_def
        self.op = op
        self.message = message
        metadata = getattr(op, "metadata", None)
        where = ""
        if op is not None and hasattr(op, "name"):
            defined = f" (defined at {metadata.where()})" if metadata is not None else ""
            where = f"\n\t [[node {op.name}{defined} ]]"
        super().__init__(message + where)

    def __str__(self) -> str:
        return self.args[0]

    def __reduce__(self):
        return type(self), (self.node_def, None, self.message)


def _error_class(name: str, code: int):
    cls = type(name, (OpError,), {"error_code": code, "__doc__": f"TensorFlow's {name}."})
    return cls


CancelledError = _error_class("CancelledError", CANCELLED)
UnknownError = _error_class("UnknownError", UNKNOWN)
InvalidArgumentError = _error_class("InvalidArgumentError", INVALID_ARGUMENT)
DeadlineExceededError = _error_class("DeadlineExceededError", DEADLINE_EXCEEDED)
NotFoundError = _error_class("NotFoundError", NOT_FOUND)
AlreadyExistsError = _error_class("AlreadyExistsError", ALREADY_EXISTS)
PermissionDeniedError = _error_class("PermissionDeniedError", PERMISSION_DENIED)
ResourceExhaustedError = _error_class("ResourceExhaustedError", RESOURCE_EXHAUSTED)
FailedPreconditionError = _error_class("FailedPreconditionError", FAILED_PRECONDITION)
AbortedError = _error_class("AbortedError", ABORTED)
OutOfRangeError = _error_class("OutOfRangeError", OUT_OF_RANGE)
UnimplementedError = _error_class("UnimplementedError", UNIMPLEMENTED)
InternalError = _error_class("InternalError", INTERNAL)
UnavailableError = _error_class("UnavailableError", UNAVAILABLE)
DataLossError = _error_class("DataLossError", DATA_LOSS)
UnauthenticatedError = _error_class("UnauthenticatedError", UNAUTHENTICATED)


def unimplemented(message: str) -> OpError:
    """What xlite cannot do: TF's UnimplementedError, not Python's NotImplementedError (which TF's is not)."""
    return UnimplementedError(None, None, message)


_CLASS_BY_CODE = {cls.error_code: cls for cls in (
    CancelledError, UnknownError, InvalidArgumentError, DeadlineExceededError, NotFoundError,
    AlreadyExistsError, PermissionDeniedError, ResourceExhaustedError, FailedPreconditionError,
    AbortedError, OutOfRangeError, UnimplementedError, InternalError, UnavailableError, DataLossError,
    UnauthenticatedError)}


def exception_type_from_error_code(error_code: int) -> type:
    return _CLASS_BY_CODE[error_code]


def error_code_from_exception_type(cls: type) -> int:
    """The code of an OpError class, or of the TF class it subclasses."""
    return cls.error_code


def _errno_codes() -> dict[int, int]:
    """errno → TF code, as TensorFlow's ErrnoToCode maps them (tensorflow/core/platform/errors.cc)."""
    import errno
    groups = {
        INVALID_ARGUMENT: "EINVAL ENAMETOOLONG E2BIG EDESTADDRREQ EDOM EFAULT EILSEQ ENOPROTOOPT ENOSTR ENOTSOCK "
                          "ENOTTY EPROTOTYPE ESPIPE",
        DEADLINE_EXCEEDED: "ETIMEDOUT ETIME",
        NOT_FOUND: "ENODEV ENOENT ENXIO ESRCH",
        ALREADY_EXISTS: "EEXIST EADDRNOTAVAIL EALREADY",
        PERMISSION_DENIED: "EPERM EACCES EROFS",
        FAILED_PRECONDITION: "ENOTEMPTY EISDIR ENOTDIR EADDRINUSE EBADF EBUSY ECHILD EISCONN ENOTBLK ENOTCONN "
                             "EPIPE ESHUTDOWN ETXTBSY",
        RESOURCE_EXHAUSTED: "ENOSPC EDQUOT EMFILE EMLINK ENFILE ENOBUFS ENODATA ENOMEM ENOSR EUSERS",
        OUT_OF_RANGE: "EFBIG EOVERFLOW ERANGE",
        UNIMPLEMENTED: "ENOSYS ENOTSUP EAFNOSUPPORT EPFNOSUPPORT EPROTONOSUPPORT ESOCKTNOSUPPORT EXDEV",
        UNAVAILABLE: "EAGAIN ECONNREFUSED ECONNABORTED ECONNRESET EINTR EHOSTDOWN EHOSTUNREACH ENETDOWN "
                     "ENETRESET ENETUNREACH ENOLCK ENOLINK ENONET",
        ABORTED: "EDEADLK ESTALE",
        CANCELLED: "ECANCELED",
    }
    return {getattr(errno, name): code for code, names in groups.items() for name in names.split()
            if hasattr(errno, name)}


_CODE_BY_ERRNO = _errno_codes()


def from_os_error(error: OSError, path=None) -> OpError:
    """The TF error a file operation's OSError is in TensorFlow, with TF's "PATH; reason" message."""
    code = _CODE_BY_ERRNO.get(error.errno, UNKNOWN)
    where = path if path is not None else (error.filename or "")
    return _CLASS_BY_CODE[code](None, None, f"{where}; {error.strerror or error}")


@contextlib.contextmanager
def os_errors_as_tf(path):
    """Turns an OSError raised inside the block into the TF error class for its errno, naming `path`."""
    try:
        yield
    except OSError as e:
        raise from_os_error(e, path) from None
