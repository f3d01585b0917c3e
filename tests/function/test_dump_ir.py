"""`xlite dump-ir` on a script that uses tf.function: each traced function's compile shows its stages."""
import os
import textwrap

import pytest

from xlite.cli import main
from xlite.eager.context import eager_mode
from xlite.passes import dump


@pytest.fixture(autouse=True)
def graph():
    """No graph entered, and eager execution (which the script turns on) back off after the test."""
    with eager_mode():
        yield None

SCRIPT = textwrap.dedent("""
    import numpy as np
    import xlite as tf
    from xlite.eager.context import enable_eager_execution

    enable_eager_execution()

    @tf.function
    def scaled_tanh(x):
        return tf.tanh(x * 0.5) + 1.0

    print("result", scaled_tanh(tf.constant(np.ones((4, 8), np.float32))).numpy().sum())
""")


def test_dump_ir_shows_a_traced_function(tmp_path, capsys):
    script = tmp_path / "uses_function.py"
    script.write_text(SCRIPT)
    out_dir = tmp_path / "dumps"
    assert main(["dump-ir", str(script), "--dump-dir", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert "result" in out
    files = sorted(os.listdir(out_dir))
    mine = [f for f in files if ".scaled_tanh." in f]
    assert any(f.endswith(".frontend.txt") for f in mine), files
    for stage in ("fusion", "buffer-assignment"):
        assert any(f.endswith(f".{stage}.txt") for f in mine), (stage, files)
    frontend = (out_dir / next(f for f in mine if f.endswith(".frontend.txt"))).read_text()
    assert "tanh" in frontend and "f32[4,8]" in frontend
    assert dump.options() is None
