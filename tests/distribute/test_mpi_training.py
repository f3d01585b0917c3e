"""Two processes under mpiexec: the collectives on every backend, and data-parallel training that ends
every step with the weights of one process training on the whole batch, and only rank 0 writes files
(mpi_checks.py does the work, in one launch); a process that raises ends the other at once, with its error."""
import os

import pytest

from mpi_launch import missing, mpiexec

pytestmark = [pytest.mark.slow, pytest.mark.skipif(missing() is not None, reason=str(missing()))]
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mpi_checks.py")
CHECKS = ("collectives", "strategy-reduce-dataset", "horovod-sgd", "horovod-adam", "horovod-predivide",
          "horovod-local-aggregation", "keras-sgd", "keras-adam", "keras-uneven-batches", "keras-horovod-sgd",
          "rank-0-writes", "estimator-sgd", "estimator-adam")


def test_two_processes_train_as_one_on_the_whole_batch():
    run = mpiexec([SCRIPT])
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for check in CHECKS:
        for rank in (0, 1):
            assert f"ok {check} rank {rank} (" in run.oks, (check, rank, run.oks, run.stderr[-3000:])


def test_eager_training_with_a_distributed_gradient_tape():
    run = mpiexec([SCRIPT, "eager"])
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "ok eager-gradient-tape rank 0 (" in run.oks and "ok eager-gradient-tape rank 1 (" in run.oks


def test_a_process_that_raises_stops_the_others_with_its_error():
    run = mpiexec([SCRIPT, "fail"], timeout=60)
    assert run.returncode != 0
    assert "rank 1 fails on purpose" in run.stderr
    assert "aborting every rank" in run.stderr
    assert "rank 0 was not stopped" not in run.stdout
