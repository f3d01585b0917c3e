"""Saver on awkward paths raises what TensorFlow raises, and cleans up temporary files of killed saves."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import xlite as tf
DATA, INDEX = ".data-00000-of-00001", ".index"


def _saver():
    tf.reset_default_graph()
    v = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="v")
    return v, tf.train.Saver()


def _save(tmp_path, name="m"):
    v, saver = _saver()
    with tf.Session() as sess:
        sess.run(v.initializer)
        return saver.save(sess, str(tmp_path / name))


def test_save_under_a_file_or_a_missing_directory_is_a_value_error(tmp_path):
    (tmp_path / "afile").write_text("x")
    v, saver = _saver()
    with tf.Session() as sess:
        sess.run(v.initializer)
        for prefix in (tmp_path / "afile" / "model", tmp_path / "missing" / "deep" / "model"):
            with pytest.raises(ValueError, match=f"Parent directory of {prefix} doesn't exist, can't save."):
                saver.save(sess, str(prefix))
    assert not (tmp_path / "missing").exists()


def test_restore_of_a_missing_checkpoint_is_a_value_error(tmp_path):
    (tmp_path / "afile").write_text("x")
    v, saver = _saver()
    with tf.Session() as sess:
        for prefix in (tmp_path / "nothing", tmp_path / "afile" / "model"):
            with pytest.raises(ValueError, match=f"The passed save_path is not a valid checkpoint: {prefix}"):
                saver.restore(sess, str(prefix))


def test_a_directory_where_the_checkpoint_file_belongs_is_a_failed_precondition(tmp_path):
    (tmp_path / ("m" + INDEX)).mkdir()
    v, saver = _saver()
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.FailedPreconditionError, match="Is a directory"):
            saver.save(sess, str(tmp_path / "m"))
        with pytest.raises(tf.errors.FailedPreconditionError, match="Is a directory"):
            saver.restore(sess, str(tmp_path / "m"))
    assert sorted(os.listdir(tmp_path)) == ["m" + DATA, "m" + INDEX]   # the index's temporary file is gone too


def test_a_directory_where_the_state_file_belongs_is_a_failed_precondition(tmp_path):
    (tmp_path / "checkpoint").mkdir()
    with pytest.raises(tf.errors.FailedPreconditionError, match="checkpoint; Is a directory"):
        _save(tmp_path)
    assert tf.train.latest_checkpoint(str(tmp_path)) is None


def test_latest_checkpoint_of_an_unreadable_state_file_is_none(tmp_path):
    (tmp_path / "checkpoint").write_bytes(b"model_checkpoint_path: \xff\xfe garbage\n")
    assert tf.train.latest_checkpoint(str(tmp_path)) is None


_READ_ONLY_SAVE = """
import os, sys
import numpy as np
import xlite as tf
v = tf.Variable(np.ones(3, np.float32), name="v")
saver = tf.train.Saver()
with tf.Session() as sess:
    sess.run(v.initializer)
    for action in (lambda: saver.save(sess, os.path.join(sys.argv[1], "m")),
                   lambda: saver.restore(sess, sys.argv[2])):
        try:
            action()
            print("no error")
        except tf.errors.PermissionDeniedError as e:
            print("PermissionDeniedError:", e)
"""


def _without_root_privileges() -> list:
    """A command prefix under which permission bits bind (root ignores them unless it drops the capability)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: permission bits do not bind")
    caps = "-dac_override,-dac_read_search"
    prefix = [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}"]
    if subprocess.run(prefix + ["true"], capture_output=True).returncode != 0:
        pytest.skip("cannot drop root's file-permission capabilities here")
    return prefix


@pytest.mark.slow
def test_read_only_directory_and_unreadable_checkpoint_are_permission_denied(tmp_path):
    prefix = _without_root_privileges()
    readable = _save(tmp_path / "", "readable")
    os.chmod(readable + INDEX, 0)
    read_only = tmp_path / "ro"
    read_only.mkdir()
    os.chmod(read_only, 0o500)
    try:
        out = subprocess.run(prefix + [sys.executable, "-c", _READ_ONLY_SAVE, str(read_only), readable],
                             capture_output=True, text=True, timeout=300)
    finally:
        os.chmod(read_only, 0o700)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith(f"PermissionDeniedError: {read_only / 'm'}{DATA}; Permission denied")
    assert lines[1].startswith(f"PermissionDeniedError: {readable}{INDEX}; Permission denied")
    assert os.listdir(read_only) == []


def _temp_name(final: str, pid: int, token: str = "0123abcd") -> str:
    return f"{final}.tempstate-{pid}-{token}-k3x_9q2z"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_next_save_removes_temporary_files_of_dead_writers_only(tmp_path):
    dead = _temp_name("m" + INDEX, _dead_pid())
    earlier_self = _temp_name("checkpoint", os.getpid())   # our pid, another process's token
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = _temp_name("other" + DATA, alive.pid)
        for name in (dead, earlier_self, live, "notes.tempstate.txt"):
            (tmp_path / name).write_bytes(b"partial")
        _save(tmp_path, "m2")
    finally:
        alive.kill()
        alive.wait()
    assert sorted(os.listdir(tmp_path)) == sorted(["checkpoint", "m2" + DATA, "m2" + INDEX, "m2.meta", live,
                                                   "notes.tempstate.txt"])


_KILLED_MID_SAVE = """
import os, signal, sys
import numpy as np
import xlite as tf
v = tf.Variable(np.ones((64, 64), np.float32), name="v")
saver = tf.train.Saver()
with tf.Session() as sess:
    sess.run(v.initializer)
    rename = os.replace
    def die_before_renaming_the_checkpoint(src, dst):   # the data file is in place, the index not yet
        if str(dst).endswith(".index"):
            os.kill(os.getpid(), signal.SIGKILL)
        rename(src, dst)
    os.replace = die_before_renaming_the_checkpoint
    saver.save(sess, os.path.join(sys.argv[1], "m"))
"""


@pytest.mark.slow
def test_checkpoint_of_a_process_killed_mid_save_is_cleaned_up_by_the_next_save(tmp_path):
    out = subprocess.run([sys.executable, "-c", _KILLED_MID_SAVE, str(tmp_path)], capture_output=True, timeout=300)
    assert out.returncode == -9, out.stderr
    leftovers = sorted(os.listdir(tmp_path))
    assert len(leftovers) == 2 and leftovers[0] == "m" + DATA and leftovers[1].startswith("m.index.tempstate-")
    assert not tf.train.checkpoint_exists(str(tmp_path / "m"))    # no index: not a checkpoint yet
    _save(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "m" + DATA, "m" + INDEX, "m.meta"]
