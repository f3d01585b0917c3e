"""tf.gfile: TF1's file API on local files, raising TF's error classes (NotFoundError, ...).

Only local paths are supported; a URL scheme such as gs:// or hdfs:// raises UnimplementedError.
"""
from __future__ import annotations

import collections
import glob as _glob
import os
import shutil

from xlite import errors

FileStatistics = collections.namedtuple("FileStatistics", ["length", "mtime_nsec", "is_directory"])


def _local(path) -> str:
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = path.decode()
    scheme = path.split("://", 1)[0] if "://" in path else ""
    if scheme and scheme != "file":
        raise errors.UnimplementedError(None, None, f"File system scheme '{scheme}' not implemented "
                                        f"(file: '{path}'); xlite's gfile reads local files only")
    return path[len("file://"):] if scheme else path


_tf_errors = errors.os_errors_as_tf   # OSErrors as the TF error classes a TF1 program catches


def Exists(filename) -> bool:  # noqa: N802
    return os.path.exists(_local(filename))


def IsDirectory(dirname) -> bool:  # noqa: N802
    return os.path.isdir(_local(dirname))


def MakeDirs(dirname) -> None:  # noqa: N802
    """Creates the directory and its missing parents; an existing directory is fine."""
    path = _local(dirname)
    with _tf_errors(path):
        os.makedirs(path, exist_ok=True)


def MkDir(dirname) -> None:  # noqa: N802
    """Creates one directory; AlreadyExistsError if it exists, NotFoundError without its parent."""
    path = _local(dirname)
    with _tf_errors(path):
        os.mkdir(path)


def DeleteRecursively(dirname) -> None:  # noqa: N802
    """Deletes a directory tree (or a file); NotFoundError if nothing is there."""
    path = _local(dirname)
    if not os.path.lexists(path):
        raise errors.NotFoundError(None, None, f"{path}; No such file or directory")
    with _tf_errors(path):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)


def Remove(filename) -> None:  # noqa: N802
    path = _local(filename)
    with _tf_errors(path):
        os.remove(path)


def ListDirectory(dirname) -> list[str]:  # noqa: N802
    path = _local(dirname)
    if not os.path.isdir(path):
        raise errors.NotFoundError(None, None, f"Could not find directory {path}")
    with _tf_errors(path):
        return sorted(os.listdir(path))


def Glob(filename) -> list[str]:  # noqa: N802
    return sorted(_glob.glob(_local(filename)))


def _transfer(move, source, target, overwrite: bool) -> None:
    """move(src, dst) between local paths; AlreadyExistsError for an existing target unless overwrite."""
    src, dst = _local(source), _local(target)
    if not overwrite and os.path.exists(dst):
        raise errors.AlreadyExistsError(None, None, f"file already exists: {dst}")
    with _tf_errors(src):
        move(src, dst)


def Copy(oldpath, newpath, overwrite: bool = False) -> None:  # noqa: N802
    _transfer(shutil.copyfile, oldpath, newpath, overwrite)


def Rename(oldname, newname, overwrite: bool = False) -> None:  # noqa: N802
    _transfer(os.replace, oldname, newname, overwrite)


def Stat(filename) -> FileStatistics:  # noqa: N802
    path = _local(filename)
    with _tf_errors(path):
        st = os.stat(path)
    return FileStatistics(st.st_size, st.st_mtime_ns, os.path.isdir(path))


def Walk(top, in_order: bool = True):  # noqa: N802
    """(dirname, subdirectories, files) for every directory under `top`, top-down when in_order."""
    path = _local(top)
    if not os.path.isdir(path):
        return
    for entry in os.walk(path, topdown=in_order):
        yield entry[0], sorted(entry[1]), sorted(entry[2])


class GFile:
    """A file opened on first use: 'r'/'w'/'a' modes give and take str, their 'b' forms bytes.

    Writes accept either str or bytes in every mode, as TF's GFile does."""

    def __init__(self, name, mode: str = "r"):
        self.name = _local(name)
        self._mode = mode
        self._binary = "b" in mode
        self._file = None

    @property
    def mode(self) -> str:
        return self._mode

    def _open(self):
        if self._file is None:
            mode = self._mode.replace("b", "").replace("t", "") + "b"
            with _tf_errors(self.name):
                self._file = open(self.name, mode)
        return self._file

    def _out(self, data):
        return data if self._binary else data.decode("utf-8")

    def read(self, n: int = -1):
        with _tf_errors(self.name):
            return self._out(self._open().read(n))

    def readline(self):
        with _tf_errors(self.name):
            return self._out(self._open().readline())

    def readlines(self) -> list:
        return list(self)

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    next = __next__

    def write(self, file_content) -> None:
        if isinstance(file_content, str):
            file_content = file_content.encode("utf-8")
        with _tf_errors(self.name):
            self._open().write(file_content)

    def seek(self, offset=None, whence: int = 0, position=None) -> None:
        if position is not None:
            offset = position
        self._open().seek(offset, whence)

    def tell(self) -> int:
        return self._open().tell()

    def size(self) -> int:
        return Stat(self.name).length

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def seekable(self) -> bool:
        return True

    def __enter__(self) -> "GFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


Open = GFile
FastGFile = GFile
