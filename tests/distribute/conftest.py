"""In-process tests here run in a world of one process, whatever started pytest (multi-process checks
launch their own mpiexec: mpi_launch.py)."""
import pytest


@pytest.fixture(autouse=True)
def _one_process(world_of_one):
    """tests/conftest.py's world_of_one for every test here."""
