"""all_reduce, all_gather and collective_broadcast as calls of MPI from the generated code.

A collective is a kernel of its own (never fused): its operand, row-major, is copied into the output
buffer, which MPI then reduces or broadcasts in place (MPI_IN_PLACE); an all_gather has MPI gather the
operand's bytes straight into the output. So a training step whose gradients are all-reduced is still
one native call. In a world of one process (no MPI) the code is the copy alone, and needs no MPI symbol.
Counts passed to MPI are C ints: buffers are reduced and broadcast in pieces of at most MAX_COUNT elements.
"""
from __future__ import annotations

from llvmlite import ir

from xlite import errors
from xlite.codegen.cpu import mpi_provider
from xlite.codegen.cpu.ir_array import physical_order
from xlite.codegen.cpu.kernels import Kernel, kernel_rule
from xlite.codegen.cpu.llvm_types import I32, I64, PTR, constant, i64
from xlite.ir.module import Instruction
from xlite.semantics.collectives import world_mismatch
from xlite.semantics.world import world

MAX_COUNT = 1 << 30


@kernel_rule("all_reduce", "all_gather", "collective_broadcast")
def emit_collective(kernel: Kernel, inst: Instruction, out) -> None:
    """out = the collective of the operand, computed row-major (then laid out as `out` wants)."""
    row_major = tuple(range(inst.shape.rank))
    if physical_order(out.shape) != row_major:
        kernel.via_temp(inst, out, emit_collective)
        return
    (x,) = inst.operands
    src = kernel.array(x, [row_major])
    w = world()
    _check_world(inst, w.size)
    fc = kernel.fc
    if inst.opcode != "all_gather" or w.size == 1:
        fc.memmove(out.ptr, src.ptr, x.shape.byte_size)     # the same buffer: a no-op
    if w.size == 1 or inst.shape.num_elements == 0:
        return
    calls = _MpiCalls(fc)
    if inst.opcode == "all_reduce":
        kind = inst.attrs["kind"]
        dtype = _mpi_dtype(inst)
        for start, count in _pieces(inst.shape.num_elements):
            calls.allreduce(out.address_linear(kernel.b, i64(start)), count, dtype, "sum" if kind == "mean" else kind)
        if kind == "mean":
            _divide(kernel, out, w.size)
    elif inst.opcode == "all_gather":
        nbytes = x.shape.byte_size
        if nbytes >= MAX_COUNT * 2:
            raise errors.unimplemented(f"all_gather {inst.name}: {nbytes} bytes per process (at most 2 GiB)")
        calls.allgather(src.ptr, out.ptr, nbytes)
    else:
        for start, count in _pieces(x.shape.byte_size):
            calls.bcast(kernel.fc.byte_offset(out.ptr, start), count, inst.attrs["root"])


def _check_world(inst: Instruction, size: int) -> None:
    """Raised at compile time, before any process calls MPI with arguments the others do not share."""
    if inst.opcode == "all_gather" and inst.attrs["replicas"] != size:
        raise world_mismatch(f"all_gather {inst.name} was built for {inst.attrs['replicas']} processes, "
                             f"but {size} run it")
    if inst.opcode == "collective_broadcast" and not inst.attrs["root"] < size:
        raise world_mismatch(f"collective_broadcast {inst.name} from rank {inst.attrs['root']}, but the world "
                             f"has {size} processes")


def _mpi_dtype(inst: Instruction) -> str:
    name = inst.shape.dtype.ir_name
    if name not in mpi_provider.DATATYPES:
        raise errors.unimplemented(f"all_reduce {inst.name} of {inst.shape.dtype.name} on the cpu backend")
    return name


def _pieces(n: int):
    for start in range(0, n, MAX_COUNT):
        yield start, min(MAX_COUNT, n - start)


def _divide(kernel: Kernel, out, size: int) -> None:
    """out /= size elementwise (an all_reduce mean), as the interpreter divides."""
    fc, b = kernel.fc, kernel.b
    dtype = out.shape.dtype
    divisor = constant(dtype, size)
    with fc.for_range(out.num_elements, "mean") as i:
        address = out.address_linear(b, i)
        b.store(b.fdiv(b.load(address, typ=out.elem), divisor), address)


class _MpiCalls:
    """Declarations of the MPI entry points and loads of the handles they take, in one function."""

    def __init__(self, fc):
        self.fc = fc
        self.handle = ir.IntType(mpi_provider.handle_bits())

    def _global(self, name: str):
        module = self.fc.cg.module
        try:
            return module.get_global(name)
        except KeyError:
            return ir.GlobalVariable(module, self.handle, name)     # defined by the MPI library

    def _load(self, name: str):
        return self.fc.builder.load(self._global(name), typ=self.handle)

    def _call(self, name: str, args: list, types: list) -> None:
        fn = self.fc.cg.declare(name, I32, types, attrs=("nounwind",))
        self.fc.builder.call(fn, args)

    def _count(self, n: int):
        return ir.Constant(I32, n)

    def allreduce(self, buffer, count: int, dtype: str, kind: str) -> None:
        in_place = ir.Constant(I64, mpi_provider.in_place()).inttoptr(PTR)
        h = self.handle
        self._call("xlite_mpi_allreduce",
                   [in_place, buffer, self._count(count), self._load(mpi_provider.type_symbol(dtype)),
                    self._load(mpi_provider.op_symbol(kind)), self._load(mpi_provider.COMM_WORLD)],
                   [PTR, PTR, I32, h, h, h])

    def allgather(self, src, dst, nbytes: int) -> None:
        byte = self._load(mpi_provider.type_symbol("byte"))
        h = self.handle
        self._call("xlite_mpi_allgather",
                   [src, self._count(nbytes), byte, dst, self._count(nbytes), byte,
                    self._load(mpi_provider.COMM_WORLD)], [PTR, I32, h, PTR, I32, h, h])

    def bcast(self, buffer, nbytes: int, root: int) -> None:
        h = self.handle
        self._call("xlite_mpi_bcast",
                   [buffer, self._count(nbytes), self._load(mpi_provider.type_symbol("byte")), ir.Constant(I32, root),
                    self._load(mpi_provider.COMM_WORLD)], [PTR, I32, h, I32, h])


__all__ = ["emit_collective", "MAX_COUNT"]
