"""The MPI entry points and handles that generated collectives use, found in the MPI library mpi4py loaded.

Generated code calls `xlite_mpi_allreduce` / `xlite_mpi_allgather` / `xlite_mpi_bcast` and, for the async
pair, `xlite_mpi_iallreduce` / `xlite_mpi_wait` / `xlite_mpi_test` (MPI_Allreduce, ..., resolved with dlsym
through mpi4py's extension module, whose dependencies hold libmpi) and loads its communicator, datatype and op handles from `xlite_mpi_comm_world`,
`xlite_mpi_type_<dtype>`, `xlite_mpi_op_<kind>`: the addresses where mpi4py keeps MPI_COMM_WORLD,
MPI_FLOAT, MPI_SUM, ... So object code holds no handle value (an int in MPICH, a pointer in Open MPI)
and no address; the handle width and MPI_IN_PLACE are part of the cache key (`description`). Like
blas_provider.py, this needs no LLVM: the ELF loader resolves these names with it.
"""
from __future__ import annotations

import ctypes
import functools
import os

PREFIX = "xlite_mpi_"
FUNCTIONS = {"xlite_mpi_allreduce": "MPI_Allreduce", "xlite_mpi_allgather": "MPI_Allgather",
             "xlite_mpi_bcast": "MPI_Bcast", "xlite_mpi_iallreduce": "MPI_Iallreduce", "xlite_mpi_wait": "MPI_Wait",
             "xlite_mpi_test": "MPI_Test"}
DATATYPES = {"f32": "FLOAT", "f64": "DOUBLE", "s8": "INT8_T", "u8": "UINT8_T", "s32": "INT32_T",
             "u32": "UINT32_T", "s64": "INT64_T", "byte": "BYTE"}
OPS = {"sum": "SUM", "max": "MAX", "min": "MIN"}
COMM_WORLD = "xlite_mpi_comm_world"


def type_symbol(name: str) -> str:
    return f"{PREFIX}type_{name}"


def op_symbol(kind: str) -> str:
    return f"{PREFIX}op_{kind}"


def _mpi():
    from mpi4py import MPI
    return MPI


def handle_bits() -> int:
    """The width of an MPI handle (MPI_Comm, MPI_Datatype, MPI_Op): 32 in MPICH, 64 in Open MPI."""
    MPI = _mpi()
    return 8 * MPI._sizeof(MPI.Comm)


def request_bytes() -> int:
    """The size of an MPI_Request (an int in MPICH, a pointer in Open MPI)."""
    MPI = _mpi()
    return MPI._sizeof(MPI.Request)


def status_bytes() -> int:
    """The size of an MPI_Status, which MPI_Wait and MPI_Test fill."""
    MPI = _mpi()
    return MPI._sizeof(MPI.Status)


def test_pokes() -> bool:
    """Whether generated code calls MPI_Test on in-flight all-reduces between kernels (XLITE_MPI_POKE, default
    on): MPICH progresses a non-blocking collective only inside MPI calls."""
    return os.environ.get("XLITE_MPI_POKE", "1") not in ("", "0")


def in_place() -> int:
    """The value of MPI_IN_PLACE, as an unsigned 64-bit address."""
    return int(_mpi().IN_PLACE) & 0xFFFFFFFFFFFFFFFF


@functools.lru_cache(maxsize=None)
def description() -> str:
    """What about this MPI changes the generated code: part of the cache key of code with collectives."""
    MPI = _mpi()
    library = MPI.Get_library_version().splitlines()[0].strip()
    return (f"mpi {library}; handles {handle_bits()} bits; in_place {in_place():#x}; request {request_bytes()} "
            f"status {status_bytes()} bytes; pokes {int(test_pokes())}")


@functools.lru_cache(maxsize=None)
def symbol_addresses() -> dict[str, int]:
    """Every xlite_mpi_* symbol and its address in this process."""
    MPI = _mpi()
    library = ctypes.CDLL(MPI.__file__)      # dlsym on it searches libmpi, which it links
    table = {name: ctypes.cast(getattr(library, real), ctypes.c_void_p).value for name, real in FUNCTIONS.items()}
    table[COMM_WORLD] = MPI._addressof(MPI.COMM_WORLD)
    for name, mpi_name in DATATYPES.items():
        table[type_symbol(name)] = MPI._addressof(getattr(MPI, mpi_name))
    for kind, mpi_name in OPS.items():
        table[op_symbol(kind)] = MPI._addressof(getattr(MPI, mpi_name))
    return table


def has_collectives(module) -> bool:
    from xlite.ir.opcodes import op_info
    return any(op_info(i.opcode).collective for c in module.all_computations() for i in c.instructions)


def world_description(module) -> str:
    """The cache-key part of a module's collectives: the world size, and the MPI the calls go to."""
    if not has_collectives(module):
        return ""
    from xlite.semantics.world import world
    size = world().size
    return f"\nworld {size}" + (f"; {description()}" if size > 1 else "")


def address_of(name: str) -> int | None:
    """The address of one xlite_mpi_* symbol, or None for another name (MPI is started only for these)."""
    if not name.startswith(PREFIX):
        return None
    return symbol_addresses().get(name)


__all__ = ["PREFIX", "FUNCTIONS", "DATATYPES", "OPS", "COMM_WORLD", "type_symbol", "op_symbol", "handle_bits",
           "request_bytes", "status_bytes", "test_pokes", "in_place", "description", "symbol_addresses", "address_of",
           "has_collectives", "world_description"]
