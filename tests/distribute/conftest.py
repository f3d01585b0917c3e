"""In-process tests here run in a world of one process, whatever started pytest (multi-process checks
launch their own mpiexec: mpi_launch.py)."""
import pytest

from xlite.semantics import world as world_module


@pytest.fixture(autouse=True)
def world_of_one(monkeypatch):
    monkeypatch.setenv("XLITE_MPI", "0")
    monkeypatch.setattr(world_module, "_world", None)
    yield
    world_module._world = None
