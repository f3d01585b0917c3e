"""target "cuda" where it cannot run: import xlite works, CPU and interpreter Sessions work, and
Session(target="cuda") raises an error naming each missing piece (pycuda, driver, GPU, nvcc)."""
import subprocess
import sys

import numpy as np
import pytest

import xlite as tf
from xlite.codegen.cuda import availability, compiler
from xlite.codegen.cuda.availability import CudaUnavailableError


@pytest.fixture
def no_emulator(monkeypatch):
    monkeypatch.delenv("XLITE_CUDA_EMULATOR", raising=False)


@pytest.mark.slow
def test_importing_xlite_and_generating_cuda_c_needs_no_pycuda():
    code = ("import sys, xlite, xlite.codegen.cuda as c; from xlite.ir.parser import parse_module; "
            "m = parse_module('ENTRY %e {\\n %p = f32[3] parameter(0)\\n %q = f32[3] exp(%p)\\n "
            "ROOT %t = (f32[3]) tuple(%q)\\n}'); "
            "from xlite.runtime.driver import with_naive_buffers; "
            "assert 'extern \"C\" __global__' in c.emit_cuda_source(with_naive_buffers(m)); "
            "assert 'pycuda' not in sys.modules, 'pycuda imported'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_session_names_what_is_missing_here(no_emulator):
    gaps = availability.missing()
    if not gaps:
        pytest.skip("this machine can run target 'cuda'")
    with pytest.raises(CudaUnavailableError) as info:
        tf.Session(target="cuda")
    message = str(info.value)
    assert "target 'cuda'" in message
    for gap in gaps:
        assert gap in message


@pytest.mark.parametrize("pycuda, driver, gpus, nvcc, expected", [
    (False, True, 1, True, ["pycuda is not installed"]),
    (True, False, 0, True, ["no CUDA driver"]),
    (True, True, 0, True, ["no NVIDIA GPU"]),
    (True, True, 1, False, ["nvcc is not installed"]),
    (False, False, 0, False, ["pycuda is not installed", "no CUDA driver", "nvcc is not installed"]),
])
def test_each_missing_piece_is_named(monkeypatch, no_emulator, pycuda, driver, gpus, nvcc, expected):
    monkeypatch.setattr(availability, "_pycuda_installed", lambda: pycuda)
    monkeypatch.setattr(availability, "_probe_driver", lambda: (driver, gpus, "probed"))
    monkeypatch.setattr(compiler, "find_nvcc", lambda: "/usr/bin/nvcc" if nvcc else None)
    with pytest.raises(CudaUnavailableError) as info:
        tf.Session(target="cuda")
    message = str(info.value)
    for phrase in expected:
        assert phrase in message
    assert len(availability.missing()) == len(expected)
    assert isinstance(info.value, tf.errors.UnimplementedError)


def test_nothing_missing_means_available(monkeypatch, no_emulator):
    monkeypatch.setattr(availability, "_pycuda_installed", lambda: True)
    monkeypatch.setattr(availability, "_probe_driver", lambda: (True, 1, "1 device(s)"))
    monkeypatch.setattr(compiler, "find_nvcc", lambda: "/usr/bin/nvcc")
    assert availability.is_available()
    availability.check_available()


def test_other_targets_are_unaffected(no_emulator):
    with tf.Graph().as_default():
        x = tf.constant(np.arange(3, dtype=np.float32))
        for target in ("interpreter", "cpu"):
            with tf.Session(target=target) as sess:
                np.testing.assert_array_equal(sess.run(x * 2), [0, 2, 4])
