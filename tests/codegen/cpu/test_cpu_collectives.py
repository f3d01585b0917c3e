"""The CPU backend's collectives (the async all_reduce_start/done pair too) against the interpreter in a world
of one process: the generated code is the copy alone and needs no MPI symbol. Two processes (MPI_Allreduce and friends called from generated
code): tests/distribute/test_mpi_training.py."""
import numpy as np
import pytest

from cpu_check import SIZES, check, module_from
from xlite import errors
from xlite.codegen.cpu import compile_cpu, emit_llvm_ir
from xlite.runtime.driver import with_naive_buffers


pytestmark = pytest.mark.usefixtures("world_of_one")


def _collectives(b, x):
    kinds = ["sum", "max", "min"] + (["mean"] if x.shape.dtype.is_floating else [])
    return [b.emit("all_reduce", (x,), kind=k) for k in kinds] + [
        b.emit("all_gather", (x,), replicas=1), b.emit("collective_broadcast", (x,), root=0)] + [
        b.emit("all_reduce_done", (b.emit("all_reduce_start", (x,), kind=k),)) for k in kinds]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8"])
def test_collectives_of_one_process_match_the_interpreter(n, dtype):
    x = (np.random.RandomState(n).standard_normal((n, 3)) * 50).astype(dtype)
    check(module_from(_collectives, [(dtype, (n, 3))]), [x])


def test_a_transposed_operand_is_laid_out_first():
    def build(b, x):
        return [b.emit("all_reduce", (b.transpose(x, (1, 0)),), kind="sum")]
    check(module_from(build, [("float32", (5, 3))]), [np.arange(15, dtype=np.float32).reshape(5, 3)])


def test_one_process_code_calls_no_mpi():
    module = module_from(_collectives, [("float32", (4, 3))])
    text, _ = emit_llvm_ir(with_naive_buffers(module))
    assert "xlite_mpi" not in text


def test_a_gather_for_another_world_fails_at_compile_time():
    def build(b, x):
        return [b.emit("all_gather", (x,), replicas=2)]
    with pytest.raises(errors.FailedPreconditionError, match="built for 2 processes"):
        compile_cpu(with_naive_buffers(module_from(build, [("float32", (4,))])))
