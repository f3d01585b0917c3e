"""examples/basics.py, run as a user runs it, prints exactly what USERS.md promises."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_five_basics_print_tensorflows_answers():
    result = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "basics.py")],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "3\n1\n2\n3\n2\n4\n2 1\n[[4 6]\n [4 6]]\n"
