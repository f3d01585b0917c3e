"""Helpers of the AOT tests: build C programs with gcc against NAME.o and NAME.h alone, run them on raw files.

A C program here sees only the artifacts' directory on its include path (no Python headers) and links
NAME.o with -lm (and -lpthread where the artifact uses threads), never Python, xlite or a BLAS.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess

import numpy as np
import pytest

CC = shutil.which("gcc") or shutil.which("cc")
NM = shutil.which("nm")
needs_cc = pytest.mark.skipif(CC is None, reason="needs a C compiler (gcc)")
needs_nm = pytest.mark.skipif(NM is None, reason="needs nm (binutils)")

# A generic runner: `runner STEPS ARG_0.bin ... RESULT_0.bin ...`. Reads every argument from its file,
# calls NAME_run STEPS times with one scratch buffer, writes the results, and writes every Variable the
# run updates back to its argument file.
RUNNER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "@NAME@.h"

static void *alloc64(size_t n) { size_t m = (n + 63) / 64 * 64; void *p = aligned_alloc(64, m ? m : 64); return p; }

static int io(const char *path, void *buf, size_t n, int writing) {
  FILE *f = fopen(path, writing ? "wb" : "rb");
  size_t done;
  if (!f) return 0;
  done = writing ? fwrite(buf, 1, n, f) : fread(buf, 1, n, f);
  fclose(f);
  return done == n;
}

int main(int argc, char **argv) {
  void *args[@UP@_NUM_ARGS + 1], *results[@UP@_NUM_RESULTS + 1];
  void *scratch = @UP@_SCRATCH_BYTES ? alloc64(@UP@_SCRATCH_BYTES) : NULL;
  int steps, i, s, code;
  if (argc != 2 + @UP@_NUM_ARGS + @UP@_NUM_RESULTS) { fprintf(stderr, "usage\n"); return 9; }
  steps = atoi(argv[1]);
  for (i = 0; i < @UP@_NUM_ARGS; i++) {
    args[i] = alloc64(@NAME@_args_info[i].byte_size);
    if (!io(argv[2 + i], args[i], @NAME@_args_info[i].byte_size, 0)) {
      fprintf(stderr, "read %s\n", argv[2 + i]);
      return 8;
    }
  }
  for (i = 0; i < @UP@_NUM_RESULTS; i++) results[i] = alloc64(@NAME@_results_info[i].byte_size);
  for (s = 0; s < steps; s++) {
    code = @NAME@_run(args, results, scratch);
    if (code) { fprintf(stderr, "@NAME@_run: %s\n", @NAME@_error_message(code)); return 1; }
  }
  for (i = 0; i < @UP@_NUM_RESULTS; i++)
    if (!io(argv[2 + @UP@_NUM_ARGS + i], results[i], @NAME@_results_info[i].byte_size, 1)) return 7;
  for (i = 0; i < @UP@_NUM_ARGS; i++)
    if (@NAME@_args_info[i].updated && !io(argv[2 + i], args[i], @NAME@_args_info[i].byte_size, 1)) return 7;
  for (i = 0; i < @UP@_NUM_ARGS; i++) free(args[i]);
  for (i = 0; i < @UP@_NUM_RESULTS; i++) free(results[i]);
  free(scratch);
  return 0;
}
"""


def libs_of(artifacts) -> list:
    return ["-lm"] + (["-lpthread"] if artifacts.signature.threads > 1 else [])


def build(source: str, directory: str, exe: str, objects: list, libs=("-lm",), extra=(), include=None) -> str:
    """gcc -std=c11 -Wall -Wextra -Werror -I include (the artifacts' directory, nothing else) source objects
    libs; the program goes in `directory`."""
    path = os.path.join(directory, exe + ".c")
    with open(path, "w") as f:
        f.write(source)
    out = os.path.join(directory, exe)
    cmd = [CC, "-std=c11", "-O1", "-Wall", "-Wextra", "-Werror", *extra, "-I", include or directory, "-o", out, path,
           *objects, *libs]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, " ".join(cmd) + "\n" + proc.stderr
    return out


def build_runner(artifacts, directory: str) -> str:
    name = artifacts.signature.name
    source = RUNNER.replace("@NAME@", name).replace("@UP@", name.upper())
    return build(source, directory, f"{name}_runner", [artifacts.object_path], libs_of(artifacts),
                 include=os.path.dirname(os.path.abspath(artifacts.header_path)))


def run_runner(exe: str, artifacts, arrays: list, steps: int = 1) -> tuple[list, list]:
    """Writes the argument arrays as raw files, runs `exe steps ...`; (results, arguments after)."""
    sig = artifacts.signature
    directory = os.path.dirname(exe)
    arg_paths = []
    for i, (spec, array) in enumerate(zip(sig.args, arrays)):
        array = np.ascontiguousarray(array, dtype=spec.dtype)
        assert array.shape == tuple(spec.shape)
        path = os.path.join(directory, f"arg{i}.bin")
        array.tofile(path)
        arg_paths.append(path)
    result_paths = [os.path.join(directory, f"result{j}.bin") for j in range(len(sig.results))]
    proc = subprocess.run([exe, str(steps), *arg_paths, *result_paths], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    results = [np.fromfile(p, dtype=r.dtype).reshape(r.shape) for p, r in zip(result_paths, sig.results)]
    after = [np.fromfile(p, dtype=a.dtype).reshape(a.shape) for p, a in zip(arg_paths, sig.args)]
    return results, after


def undefined_symbols(object_path: str) -> list:
    out = subprocess.run([NM, "-u", object_path], capture_output=True, text=True, check=True).stdout
    return sorted({line.split()[-1] for line in out.splitlines() if line.strip()})


def system_library_symbols(names: list, libraries=("c", "m")) -> list:
    """The names that none of the system `libraries` defines (checked with dlsym, not a list of ours)."""
    libs = []
    for lib in libraries:
        path = ctypes.util.find_library(lib)
        libs.append(ctypes.CDLL(path or f"lib{lib}.so.6"))
    return [n for n in names if not any(hasattr(lib, n) for lib in libs)]


def defined_symbol_types(object_path: str) -> dict:
    out = subprocess.run([NM, "--defined-only", object_path], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1]: line.split()[-2] for line in out.splitlines() if len(line.split()) == 3}
