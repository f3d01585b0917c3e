"""`xlite dump-ir` and XLITE_DUMP: numbered dumps per compiled run signature, and a summary of what fused."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import xlite as tf
from xlite.cli import main
from xlite.ir.parser import parse_module
from xlite.passes import dump

SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import xlite as tf

    steps = int(sys.argv[1])
    x = tf.placeholder(tf.float32, [None, 16])
    y_ = tf.placeholder(tf.float32, [None, 4])
    W = tf.Variable(tf.zeros([16, 4]))
    b = tf.Variable(tf.zeros([4]))
    y = tf.nn.softmax(tf.matmul(x, W) + b)
    loss = tf.reduce_mean(-tf.reduce_sum(y_ * tf.log(y), axis=1))
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    rng = np.random.default_rng(0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(steps):
            _, value = sess.run([train, loss], {x: rng.random((8, 16), np.float32),
                                                y_: np.eye(4, dtype=np.float32)[rng.integers(0, 4, 8)]})
    print("final loss", value)
""")

IR = """
HloModule chain
ENTRY %main {
  %x = f32[8,8] parameter(0)
  %h = f32[] constant(0.5)
  %hb = f32[8,8] broadcast_in_dim(%h), dimensions={}
  %m = f32[8,8] mul(%x, %hb)
  %t = f32[8,8] tanh(%m)
  %s = f32[8] reduce(%t), dimensions={1}, kind=sum
  ROOT %out = (f32[8]) tuple(%s)
}
"""


def _script(tmp_path):
    path = tmp_path / "softmax_regression.py"
    path.write_text(SCRIPT)
    return str(path)


def test_dump_ir_runs_a_script_and_shows_what_fused(tmp_path, capsys):
    out_dir = tmp_path / "dumps"
    assert main(["dump-ir", _script(tmp_path), "3", "--dump-dir", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert "final loss" in out
    assert "2 compiled run signature(s)" in out
    train = [block for block in out.split("module_") if "Placeholder" in block][0]
    assert "kernels:" in train and "peak" in train and "lowered" in train
    fused_lines = [line for line in train.splitlines() if line.strip().startswith("%fusion.")]
    assert any("(output): %dot" in line for line in fused_lines), out   # the update fused into the dot
    assert any("(input):" in line and "%reduce" in line for line in fused_lines)
    files = sorted(os.listdir(out_dir))
    assert "module_0002.run.00.frontend.txt" in files
    for stage in ("layout-assignment", "fusion", "scheduling", "buffer-assignment"):
        assert any(f.startswith("module_0002.run.") and f.endswith(f".{stage}.txt") for f in files), stage
    final = next(f for f in files if f.startswith("module_0002") and f.endswith("buffer-assignment.txt"))
    text = (out_dir / final).read_text()
    assert "// #" in text and "arena[" in text and "param2[" in text and " live " in text
    parse_module(text)           # the buffer notes are comments: the dump still parses
    assert dump.options() is None   # dumping is off again after the command


def test_dump_ir_stage_and_dot_format(tmp_path, capsys):
    out_dir = tmp_path / "dot"
    assert main(["dump-ir", _script(tmp_path), "--stage", "fusion", "--format", "dot",
                 "--dump-dir", str(out_dir), "--", "1"]) == 0
    files = sorted(f for f in os.listdir(out_dir) if not f.endswith(".summary.txt"))
    assert files and all(f.endswith(".fusion.dot") or f.endswith(".fusion.svg") for f in files)
    text = (out_dir / files[-1]).read_text()
    assert text.startswith("digraph") and "subgraph \"cluster_fusion." in text


def test_dump_ir_runs_passes_on_an_ir_file(tmp_path, capsys):
    path = tmp_path / "chain.ir"
    path.write_text(IR)
    assert main(["dump-ir", str(path), "--passes", "layout-assignment,fusion"]) == 0
    out = capsys.readouterr().out
    m = parse_module(out)
    (f,) = [i for i in m.entry.instructions if i.opcode == "fusion"]
    assert f.attrs["kind"] == "input"
    assert main(["dump-ir", str(path)]) == 0           # the whole cpu pipeline: buffers shown
    assert "result0[+32]" in capsys.readouterr().out


def test_xlite_dump_environment_variable(tmp_path, monkeypatch, capsys):
    out_dir = tmp_path / "env"
    monkeypatch.setenv("XLITE_DUMP", str(out_dir))
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [4, 4])
        y = tf.tanh(x * 0.5 + 0.1) * tf.sigmoid(x) + tf.nn.relu(x - 0.2)
        with tf.Session(target="interpreter") as sess:
            value = sess.run(y, {x: np.ones((4, 4), np.float32)})
    assert value.shape == (4, 4)
    files = os.listdir(out_dir)
    assert any(f.endswith(".frontend.txt") for f in files) and any(f.endswith(".fusion.txt") for f in files)
    summary = next(f for f in files if f.endswith(".summary.txt"))
    assert "kernels: 1" in (out_dir / summary).read_text()
    assert "xlite: dumped" in capsys.readouterr().err


@pytest.mark.slow
def test_console_script_entry_point(tmp_path):
    path = tmp_path / "chain.ir"
    path.write_text(IR)
    result = subprocess.run([sys.executable, "-m", "xlite.cli", "dump-ir", str(path), "--passes", "simplify"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "ENTRY %main" in result.stdout


@pytest.mark.slow
def test_dump_ir_of_the_softmax_regression_example(tmp_path, capsys):
    pytest.importorskip("sklearn")
    example = os.path.join(os.path.dirname(__file__), "..", "examples", "softmax_regression.py")
    assert main(["dump-ir", example, "--dump-dir", str(tmp_path), "--stage", "fusion"]) == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and "3 compiled run signature(s)" in out
    assert "(output): %dot" in out and "(input):" in out
    assert len([f for f in os.listdir(tmp_path) if f.endswith(".fusion.txt")]) == 3


_BAD_IR_FILES = {
    "mismatched-operands": (b"ENTRY e {\n  %a = f32[4] parameter(0)\n  %b = f32[5] parameter(1)\n"
                            b"  ROOT %c = f32[4] add(%a, %b)\n}\n", 4),
    "binary-garbage": (bytes(range(256)) * 4, 2),     # byte 10 ends line 1; 0x80 is the first bad byte
    "deep-nesting": (b"ENTRY e {\n  %a = " + b"(" * 100_000 + b"f32[]" + b")" * 100_000 + b" parameter(0)\n}\n", 2),
    "bad-utf8": (b"ENTRY e {\n  %a = f32[] parameter(0)\n  // \xc3\x28\n}\n", 3),
    "empty": (b"", 1),
}


@pytest.mark.parametrize("name", [n if n != "deep-nesting" else pytest.param(n, marks=pytest.mark.slow)
                                  for n in sorted(_BAD_IR_FILES)])
def test_dump_ir_on_a_bad_ir_file_prints_one_error_line_and_exits_2(tmp_path, capsys, name):
    data, line = _BAD_IR_FILES[name]
    path = tmp_path / f"{name}.ir"
    path.write_bytes(data)
    assert main(["dump-ir", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (message,) = captured.err.splitlines()
    assert message.startswith(f"{path}:{line}: error: "), message


def test_dump_ir_on_a_missing_ir_file_exits_2(tmp_path, capsys):
    path = tmp_path / "missing.ir"
    assert main(["dump-ir", str(path)]) == 2
    (message,) = capsys.readouterr().err.splitlines()
    assert message.startswith(f"{path}: error: ")
