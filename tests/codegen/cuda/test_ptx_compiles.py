"""The generated CUDA C compiles with plain nvcc to PTX for sm_80 and sm_90: CI's proof without a GPU.

Every opcode's test graphs (cuda_cases.py, as lowered and after the cpu pipeline's
fusion) go into one .cu file, each module's kernels under their own prefix, so nvcc
runs once per architecture, without NVVM's optimizer (test_kernel_resources.py compiles the
optimized cases at -O3 through ptxas). The examples' graphs (every run signature each example
script compiles, captured without running them) are a second file. Skipped only
where nvcc is missing.
"""
import glob
import os
import re
import subprocess
import sys

import pytest

from cuda_cases import CASES, OPCODES, as_written, covered_opcodes, optimized
from xlite.codegen.cuda import emit_cuda, has_cuda_rule
from xlite.codegen.cuda.compiler import compile_ptx, find_nvcc
from xlite.codegen.cuda.prelude import PRELUDE

pytestmark = pytest.mark.skipif(find_nvcc() is None, reason="nvcc is not installed")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
ARCHS = ("sm_80", "sm_90")
KERNEL = re.compile(r'extern "C" __global__ void (?:__launch_bounds__\(\d+\) )?(\w+)\(')


def test_every_opcode_has_a_cuda_rule():
    assert [op for op in OPCODES if not has_cuda_rule(op)] == []
    assert not has_cuda_rule("matmul")


def test_cases_cover_every_opcode():
    assert sorted(set(OPCODES) - covered_opcodes()) == []


@pytest.fixture(scope="module")
def case_source():
    bodies = []
    for k, c in enumerate(CASES):
        for variant, module in (("r", as_written(c.build())), ("f", optimized(c.build()))):
            bodies.append(emit_cuda(module, prefix=f"c{k}{variant}_").source[len(PRELUDE):])
    return PRELUDE + "\n".join(bodies)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.slow
def test_every_case_compiles_to_ptx(case_source, arch):
    ptx = compile_ptx(case_source, arch, optimize=False)
    names = KERNEL.findall(case_source)
    entries = set(re.findall(r"\.entry (\w+)\(", ptx))
    assert names and set(names) <= entries
    assert f".target {arch}" in ptx


EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "examples", "*.py")))
TUTORIALS = [("mnist_softmax.py", "--fake_data", "--steps=2"),
             ("mnist_deep.py", "--fake_data", "--steps=2", "--batch_size=4", "--eval_batch_size=4", "--log_every=1"),
             ("fully_connected_feed.py", "--fake_data", "--max_steps=2", "--batch_size=10", "--eval_examples=20",
              "--hidden1=16", "--hidden2=8", "--learning_rate=0.1")]


def _capture(tmp_path, k, script, *args) -> str:
    out = tmp_path / f"example{k}.cu"
    env = dict(os.environ, XLITE_TARGET="cuda", PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, os.path.join(HERE, "capture_graphs.py"), str(out), f"x{k}_", script,
                           *args], capture_output=True, text=True, timeout=600, env=env, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return out.read_text()[len(PRELUDE):]


@pytest.fixture(scope="module")
def example_source(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("examples")
    bodies = [_capture(tmp, k, path) for k, path in enumerate(EXAMPLES)]
    for k, (name, *args) in enumerate(TUTORIALS):
        bodies.append(_capture(tmp, len(EXAMPLES) + k, os.path.join(ROOT, "examples", "mnist_tutorials", name),
                               *args, f"--log_dir={tmp}/logs{k}"))
    return PRELUDE + "\n".join(bodies)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHS)
def test_every_example_compiles_to_ptx(example_source, arch):
    ptx = compile_ptx(example_source, arch, optimize=False)
    names = KERNEL.findall(example_source)
    assert len(names) > 50
    assert set(names) <= set(re.findall(r"\.entry (\w+)\(", ptx))
