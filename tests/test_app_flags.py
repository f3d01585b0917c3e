"""Program scaffolding: tf.app.run, tf.app.flags / tf.flags, tf.logging and tf.gfile."""
import logging
import os
import subprocess
import sys
import textwrap

import pytest

import xlite as tf
from xlite import flags as xflags


@pytest.fixture
def fv():
    """A fresh FlagValues with one flag of every kind."""
    values = xflags.FlagValues()
    xflags.DEFINE_string("name", "default", "a string", flag_values=values)
    xflags.DEFINE_integer("steps", 100, "an int", flag_values=values)
    xflags.DEFINE_float("rate", 0.5, "a float", flag_values=values)
    xflags.DEFINE_boolean("fake", False, "a bool", flag_values=values)
    xflags.DEFINE_bool("verbose", True, "another bool", flag_values=values)
    xflags.DEFINE_list("layers", "a,b", "a list", flag_values=values)
    xflags.DEFINE_enum("mode", "train", ["train", "eval"], "an enum", flag_values=values)
    return values


def test_tf_app_flags_is_tf_flags():
    assert tf.app.flags is tf.flags
    assert tf.flags.FLAGS is tf.app.flags.FLAGS
    for kind in ("string", "integer", "float", "boolean", "bool", "list"):
        assert callable(getattr(tf.flags, "DEFINE_" + kind))


def test_defaults(fv):
    assert fv(["prog"]) == ["prog"]
    assert fv.flag_values_dict() == {"name": "default", "steps": 100, "rate": 0.5, "fake": False,
                                     "verbose": True, "layers": ["a", "b"], "mode": "train"}
    assert isinstance(fv.steps, int) and isinstance(fv.rate, float)


def test_every_kind_parses(fv):
    rest = fv(["prog", "--name=x y", "--steps", "7", "-rate=1e-3", "--fake", "--noverbose",
               "--layers=1, 2,3", "--mode=eval"])
    assert rest == ["prog"]
    assert (fv.name, fv.steps, fv.rate, fv.fake, fv.verbose, fv.layers, fv.mode) == \
        ("x y", 7, 1e-3, True, False, ["1", "2", "3"], "eval")


@pytest.mark.parametrize("arg, value", [("--fake=true", True), ("--fake=False", False), ("--fake=1", True),
                                        ("--fake=0", False), ("--fake=t", True), ("--nofake", False)])
def test_boolean_spellings(fv, arg, value):
    fv(["prog", "--fake", arg])
    assert fv.fake is value


def test_integer_forms_and_list_default_as_list():
    values = xflags.FlagValues()
    xflags.DEFINE_integer("n", 0, "", flag_values=values)
    xflags.DEFINE_list("xs", ["p"], "", flag_values=values)
    xflags.DEFINE_list("empty", "", "", flag_values=values)
    values(["prog", "--n=0x10"])
    assert values.n == 16 and values.xs == ["p"] and values.empty == []
    values(["prog", "--n=-3", "--xs="])
    assert values.n == -3 and values.xs == []


def test_unknown_flags_and_arguments_pass_through_in_order(fv):
    rest = fv(["prog", "pos1", "--unknown=3", "--steps=2", "--other", "val", "--", "--steps=9", "tail"],
              known_only=True)
    assert rest == ["prog", "pos1", "--unknown=3", "--other", "val", "--", "--steps=9", "tail"]
    assert fv.steps == 2


def test_unknown_flag_raises_without_known_only(fv):
    with pytest.raises(xflags.UnrecognizedFlagError, match="nope"):
        fv(["prog", "--nope=1"])


@pytest.mark.parametrize("argv, match", [(["--steps=abc"], "steps"), (["--rate=fast"], "rate"),
                                         (["--fake=maybe"], "boolean"), (["--mode=predict"], "train|eval"),
                                         (["--nofake=1"], "does not take"), (["--steps"], "Missing value")])
def test_bad_values_raise(fv, argv, match):
    with pytest.raises(xflags.IllegalFlagValueError, match=match):
        fv(["prog"] + argv)


def test_duplicate_definition_raises(fv):
    with pytest.raises(xflags.DuplicateFlagError):
        xflags.DEFINE_string("name", "", "", flag_values=fv)


def test_assignment_and_undefined_access(fv):
    fv(["prog"])
    fv.steps = "12"
    assert fv.steps == 12
    with pytest.raises(AttributeError):
        fv.undefined_flag
    with pytest.raises(AttributeError):
        fv.undefined_flag = 1


def test_bounds_and_required():
    values = xflags.FlagValues()
    xflags.DEFINE_integer("n", 1, "", lower_bound=0, upper_bound=5, flag_values=values)
    xflags.DEFINE_string("out", None, "", flag_values=values)
    xflags.mark_flag_as_required("out", flag_values=values)
    with pytest.raises(xflags.ValidationError, match="out"):
        values(["prog", "--n=2"])
    with pytest.raises(xflags.IllegalFlagValueError, match="out of range"):
        values(["prog", "--out=a", "--n=6"])


def test_lazy_parse_reads_sys_argv_on_first_access(fv, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["prog", "--steps=5", "--not_ours"])
    assert not fv.is_parsed()
    assert fv.steps == 5
    assert fv.is_parsed()
    assert getattr(fv, "__flags")["steps"] == 5      # the dict TF 1.4 programs print


def _run_script(tmp_path, body: str, *args):
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=120)


APP_SCRIPT = """
    import sys
    import xlite as tf
    flags = tf.app.flags
    FLAGS = flags.FLAGS
    flags.DEFINE_integer("steps", 3, "Number of steps.")
    flags.DEFINE_boolean("fake_data", True, "Use fake data.")
    flags.DEFINE_string("log_dir", "/tmp/x", "Where logs go.")

    def main(argv):
        print("argv", argv[1:])
        print("flags", FLAGS.steps, FLAGS.fake_data, FLAGS.log_dir)
        return int(FLAGS.steps == 42) * 3

    if __name__ == "__main__":
        tf.app.run()
"""


@pytest.mark.slow
def test_app_run_parses_flags_calls_main_and_exits_with_its_result(tmp_path):
    proc = _run_script(tmp_path, APP_SCRIPT, "--steps=42", "--nofake_data", "extra", "--unknown=1")
    assert proc.returncode == 3, proc.stderr
    assert "argv ['extra', '--unknown=1']" in proc.stdout
    assert "flags 42 False /tmp/x" in proc.stdout
    proc = _run_script(tmp_path, APP_SCRIPT)
    assert proc.returncode == 0 and "flags 3 True /tmp/x" in proc.stdout


@pytest.mark.slow
def test_app_run_with_explicit_main_and_argv(tmp_path):
    proc = _run_script(tmp_path, """
        import sys
        import xlite as tf
        tf.flags.DEFINE_float("lr", 0.1, "")
        def main(argv):
            print(argv, tf.flags.FLAGS.lr)
        tf.app.run(main=main, argv=[sys.argv[0], "--lr=0.5", "rest"])
    """, "--lr=9")
    assert proc.returncode == 0, proc.stderr
    assert "'rest'] 0.5" in proc.stdout


@pytest.mark.slow
def test_app_run_help_and_bad_flag(tmp_path):
    proc = _run_script(tmp_path, APP_SCRIPT, "--help")
    assert proc.returncode == 0 and "--steps: Number of steps." in proc.stdout and "--[no]fake_data" in proc.stdout
    proc = _run_script(tmp_path, APP_SCRIPT, "--steps=many")
    assert proc.returncode == 1 and "FATAL Flags parsing error" in proc.stderr and "steps" in proc.stderr


# tf.logging -------------------------------------------------------------------------------------------
def test_logging_levels_and_verbosity(caplog):
    assert (tf.logging.DEBUG, tf.logging.INFO, tf.logging.WARN, tf.logging.ERROR, tf.logging.FATAL) == \
        (10, 20, 30, 40, 50)
    old = tf.logging.get_verbosity()
    try:
        tf.logging.set_verbosity(tf.logging.INFO)
        assert tf.logging.get_verbosity() == tf.logging.INFO
        with caplog.at_level(logging.INFO, logger="xlite"):
            tf.logging.info("step %d", 3)
            tf.logging.warning("careful")
            tf.logging.error("bad")
            tf.logging.debug("hidden")
        messages = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "xlite"]
        assert messages == [("INFO", "step 3"), ("WARNING", "careful"), ("ERROR", "bad")]
    finally:
        tf.logging.set_verbosity(old)


def test_log_first_n_and_every_n(caplog):
    with caplog.at_level(logging.INFO, logger="xlite"):
        for i in range(5):
            tf.logging.log_first_n(tf.logging.INFO, "first %d", 2, i)
        for i in range(5):
            tf.logging.log_every_n(tf.logging.INFO, "every %d", 2, i)
    messages = [r.getMessage() for r in caplog.records if r.name == "xlite"]
    assert messages == ["first 0", "first 1", "every 0", "every 2", "every 4"]


# tf.gfile ---------------------------------------------------------------------------------------------
def test_gfile_directories(tmp_path):
    root = str(tmp_path / "a")
    deep = os.path.join(root, "b", "c")
    assert not tf.gfile.Exists(root)
    tf.gfile.MakeDirs(deep)
    tf.gfile.MakeDirs(deep)                           # existing is fine
    assert tf.gfile.Exists(deep) and tf.gfile.IsDirectory(deep)
    with pytest.raises(tf.errors.AlreadyExistsError):
        tf.gfile.MkDir(deep)
    with tf.gfile.GFile(os.path.join(root, "f.txt"), "w") as f:
        f.write("hello\n")
        f.write(b"bytes too\n")
    assert tf.gfile.ListDirectory(root) == ["b", "f.txt"]
    assert sorted(tf.gfile.Glob(os.path.join(root, "*"))) == [os.path.join(root, "b"), os.path.join(root, "f.txt")]
    assert [w[0] for w in tf.gfile.Walk(root)] == [root, os.path.join(root, "b"), deep]
    tf.gfile.DeleteRecursively(root)
    assert not tf.gfile.Exists(root)
    with pytest.raises(tf.errors.NotFoundError):
        tf.gfile.DeleteRecursively(root)
    with pytest.raises(tf.errors.NotFoundError):
        tf.gfile.ListDirectory(root)


def test_gfile_files(tmp_path):
    path = str(tmp_path / "data.bin")
    with tf.gfile.GFile(path, "wb") as f:
        f.write(b"\x00\x01line\n")
    with tf.gfile.GFile(path, "rb") as f:
        assert f.read() == b"\x00\x01line\n"
    with tf.gfile.Open(path, "r") as f:
        assert f.readlines() == ["\x00\x01line\n"]
    assert tf.gfile.Stat(path).length == 7 and tf.gfile.GFile(path).size() == 7
    tf.gfile.Copy(path, path + ".2")
    with pytest.raises(tf.errors.AlreadyExistsError):
        tf.gfile.Copy(path, path + ".2")
    tf.gfile.Rename(path + ".2", path + ".3")
    tf.gfile.Remove(path + ".3")
    with pytest.raises(tf.errors.NotFoundError):
        tf.gfile.GFile(str(tmp_path / "missing")).read()
    with pytest.raises(tf.errors.NotFoundError):
        tf.gfile.Remove(path + ".3")
