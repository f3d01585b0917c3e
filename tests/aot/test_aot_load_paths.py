"""xlite.aot.load on a path that is not an xlite AOT library raises TF's errors, never OSError."""
import _ctypes
import os
import shutil

import pytest

import xlite as tf
import xlite.aot


def test_missing_file_is_not_found(tmp_path):
    with pytest.raises(tf.errors.NotFoundError, match=f"{tmp_path / 'nothing.so'}; No such file"):
        xlite.aot.load(str(tmp_path / "nothing.so"))


def test_directory_is_a_failed_precondition(tmp_path):
    (tmp_path / "model.so").mkdir()
    with pytest.raises(tf.errors.FailedPreconditionError, match="Is a directory"):
        xlite.aot.load(str(tmp_path / "model.so"))


def test_garbage_is_an_invalid_argument_and_a_truncated_library_data_loss(tmp_path):
    (tmp_path / "garbage.so").write_bytes(b"not an ELF object at all\n" * 40)
    with pytest.raises(tf.errors.InvalidArgumentError, match="not a 64-bit ELF file"):
        xlite.aot.load(str(tmp_path / "garbage.so"))
    data = open(_ctypes.__file__, "rb").read()   # a real shared object, cut short (dlopen would die of SIGBUS)
    for size in (4096, len(data) // 2, len(data) - 1):
        (tmp_path / "truncated.so").write_bytes(data[:size])
        with pytest.raises(tf.errors.DataLossError, match=f"truncated: it needs {len(data)} bytes and has {size}"):
            xlite.aot.load(str(tmp_path / "truncated.so"))


def test_shared_library_without_an_xlite_signature_is_an_invalid_argument(tmp_path):
    copy = tmp_path / "model.so"
    shutil.copy(_ctypes.__file__, copy)
    with pytest.raises(tf.errors.InvalidArgumentError, match="not an xlite AOT library named 'model'"):
        xlite.aot.load(str(copy))
    assert os.path.exists(copy)
