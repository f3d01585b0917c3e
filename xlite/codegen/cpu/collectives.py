"""all_reduce, all_gather and collective_broadcast as calls of MPI from the generated code.

A collective is a kernel of its own (never fused): its operand, row-major, is copied into the output
buffer, which MPI then reduces or broadcasts in place (MPI_IN_PLACE); an all_gather has MPI gather the
operand's bytes straight into the output. So a training step whose gradients are all-reduced is still
one native call. In a world of one process (no MPI) the code is the copy alone, and needs no MPI symbol.
Counts passed to MPI are C ints: buffers are reduced and broadcast in pieces of at most MAX_COUNT elements.

The async pair (all_reduce_start / all_reduce_done) is emitted in the entry function itself
(computation.py): the start calls MPI_Iallreduce and keeps its requests in an arena slot, the done calls
MPI_Wait, and while a request is in flight every kernel call is preceded by MPI_Test of it (`emit_poke`).
"""
from __future__ import annotations

from llvmlite import ir

from xlite import errors
from xlite.codegen.cpu import mpi_provider
from xlite.codegen.cpu.ir_array import physical_order
from xlite.codegen.cpu.kernels import Kernel, kernel_rule
from xlite.codegen.cpu.llvm_types import I32, I64, PTR, constant, i64, memory_type
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
            _divide(fc, out.ptr, inst.shape, w.size)
    elif inst.opcode == "all_gather":
        nbytes = x.shape.byte_size
        if nbytes >= MAX_COUNT * 2:
            raise errors.unimplemented(f"all_gather {inst.name}: {nbytes} bytes per process (at most 2 GiB)")
        calls.allgather(src.ptr, out.ptr, nbytes)
    else:
        for start, count in _pieces(x.shape.byte_size):
            calls.bcast(kernel.fc.byte_offset(out.ptr, start), count, inst.attrs["root"])


# the async pair ---------------------------------------------------------------------------------
REQUEST_CELL = 8       # bytes per MPI_Request in a start's slot (4 in MPICH, 8 in Open MPI)


def async_slot_bytes(inst: Instruction) -> int:
    """Arena bytes an all_reduce_start keeps until its done: an MPI_Request cell per piece, then MPI_Test's flag
    (8 bytes) and an MPI_Status; none in a world of one or for an empty array (no MPI call)."""
    pieces = _requests(inst)
    if pieces and mpi_provider.request_bytes() > REQUEST_CELL:
        raise errors.unimplemented(f"all_reduce_start {inst.name}: an MPI_Request of {mpi_provider.request_bytes()} "
                                   f"bytes (at most {REQUEST_CELL})")
    return REQUEST_CELL * pieces + 8 + -(-mpi_provider.status_bytes() // 8) * 8 if pieces else 0


def _requests(start: Instruction) -> int:
    """How many MPI_Iallreduce calls (requests) a start makes: none in a world of one or for an empty array."""
    if world().size == 1 or start.shape.num_elements == 0:
        return 0
    return len(list(_pieces(start.shape.num_elements)))


def emit_all_reduce_start(fc, inst: Instruction, src, out, slot) -> None:
    """out = the operand at src (None: out is the operand's buffer), then MPI_Iallreduce over out in place, each
    piece's request kept in `slot` (pointers into the entry's arena)."""
    if src is not None:
        fc.memmove(out, src, inst.shape.byte_size)
    if not async_slot_bytes(inst):
        return
    kind, dtype, item = inst.attrs["kind"], _mpi_dtype(inst), inst.shape.dtype.itemsize
    calls = _MpiCalls(fc)
    for k, (start, count) in enumerate(_pieces(inst.shape.num_elements)):
        calls.iallreduce(fc.byte_offset(out, start * item), count, dtype, "sum" if kind == "mean" else kind,
                         fc.byte_offset(slot, REQUEST_CELL * k))


def emit_all_reduce_done(fc, inst: Instruction, src, out, slot) -> None:
    """Waits for the start's requests, then out = the start's buffer at src (None: out is that buffer), divided
    for a mean."""
    start = inst.operands[0]
    pieces = _requests(start)
    calls = _MpiCalls(fc)
    for k in range(pieces):
        calls.wait(fc.byte_offset(slot, REQUEST_CELL * k), _flag_and_status(fc, slot, pieces)[1])
    if src is not None:
        fc.memmove(out, src, inst.shape.byte_size)
    if pieces and start.attrs["kind"] == "mean":
        _divide(fc, out, inst.shape, world().size)


def emit_poke(fc, start: Instruction, slot) -> None:
    """MPI_Test on each request of an in-flight start: MPICH moves a non-blocking collective on only inside MPI
    calls, so calls between kernels let it progress while the backward pass runs."""
    if not mpi_provider.test_pokes():
        return
    pieces = _requests(start)
    calls = _MpiCalls(fc)
    for k in range(pieces):
        calls.test(fc.byte_offset(slot, REQUEST_CELL * k), *_flag_and_status(fc, slot, pieces))


def _flag_and_status(fc, slot, pieces: int) -> tuple:
    flag = fc.byte_offset(slot, REQUEST_CELL * pieces)
    return flag, fc.byte_offset(flag, 8)


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


def _divide(fc, ptr, shape, size: int) -> None:
    """ptr[:] /= size elementwise over a row-major array (an all_reduce mean), as the interpreter divides."""
    b = fc.builder
    elem = memory_type(shape.dtype)
    divisor = constant(shape.dtype, size)
    with fc.for_range(shape.num_elements, "mean") as i:
        address = b.gep(ptr, [i], inbounds=True, source_etype=elem)
        b.store(b.fdiv(b.load(address, typ=elem), divisor), address)


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

    def iallreduce(self, buffer, count: int, dtype: str, kind: str, request) -> None:
        in_place = ir.Constant(I64, mpi_provider.in_place()).inttoptr(PTR)
        h = self.handle
        self._call("xlite_mpi_iallreduce",
                   [in_place, buffer, self._count(count), self._load(mpi_provider.type_symbol(dtype)),
                    self._load(mpi_provider.op_symbol(kind)), self._load(mpi_provider.COMM_WORLD), request],
                   [PTR, PTR, I32, h, h, h, PTR])

    def wait(self, request, status) -> None:
        self._call("xlite_mpi_wait", [request, status], [PTR, PTR])

    def test(self, request, flag, status) -> None:
        self._call("xlite_mpi_test", [request, flag, status], [PTR, PTR, PTR])

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


__all__ = ["emit_collective", "MAX_COUNT", "async_slot_bytes", "emit_all_reduce_start", "emit_all_reduce_done",
           "emit_poke"]
