"""`xlite run -n N script.py`: the mpiexec command it runs, its errors, and a real two-process launch."""
import argparse
import os
import subprocess
import sys

import pytest

from mpi_launch import ROOT, missing
from xlite.distribute import launch


def _args(argv):
    parser = argparse.ArgumentParser()
    launch.add_arguments(parser)
    return parser.parse_args(argv)


def test_the_mpiexec_command():
    args = _args(["-n", "4", "--hostfile", "hosts.txt", "train.py", "--epochs", "3"])
    assert launch.command(args, "/usr/bin/mpiexec") == ["/usr/bin/mpiexec", "-n", "4", "-hostfile", "hosts.txt",
                                                         sys.executable, "train.py", "--epochs", "3"]
    assert launch.command(_args(["t.py"]), "mpiexec")[:3] == ["mpiexec", "-n", "1"]


def test_errors(capsys):
    assert launch.run_from_args(_args(["-n", "2", "--mpiexec", "no-such-launcher", "t.py"])) == 127
    assert "pip install 'xlite[mpi]'" in capsys.readouterr().err
    assert launch.run_from_args(_args(["-n", "0", "t.py"])) == 2


@pytest.mark.slow
@pytest.mark.skipif(missing() is not None, reason=str(missing()))
def test_xlite_run_starts_the_script_in_n_processes(tmp_path):
    script = tmp_path / "hello.py"
    script.write_text("import sys\nimport xlite.distribute.mpi as hvd\nhvd.init()\n"
                      "open(sys.argv[1] + str(hvd.rank()), 'w').write(f'{hvd.rank()} of {hvd.size()} {sys.argv[2:]}')\n")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("XLITE_MPI", None)
    prefix = str(tmp_path / "rank")
    run = subprocess.run([sys.executable, "-m", "xlite.cli", "run", "-n", "2", str(script), prefix, "x"],
                         capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr
    # Each rank writes its own file: the launcher interleaves the ranks' stdout at arbitrary byte boundaries.
    assert [open(prefix + str(rank)).read() for rank in (0, 1)] == ["0 of 2 ['x']", "1 of 2 ['x']"]
