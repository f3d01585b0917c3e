"""The C side of an AOT artifact: NAME.h (plain C, documented) and NAME_example.c (a complete call).

The header declares the three exported symbols, one block of macros per
argument and result (index, byte size, alignment, rank, element type), the
scratch size, the error codes, and `static const` tables of `xlite_tensor_info`
(name from the TF graph, dtype, kind, shape, byte size, alignment) for code
that wants to walk them. It includes only <stddef.h> and <stdint.h>.
"""
from __future__ import annotations

from xlite.aot import signature as s
from xlite.aot.signature import SCRATCH_ALIGNMENT, Signature

C_TYPES = {"float32": "float", "float64": "double", "int32": "int32_t", "int64": "int64_t",
           "int8": "int8_t", "uint8": "uint8_t", "uint32": "uint32_t", "bool": "uint8_t",
           "float16": "uint16_t"}
DTYPE_ENUM = {"bool": "XLITE_DTYPE_BOOL", "int8": "XLITE_DTYPE_INT8", "uint8": "XLITE_DTYPE_UINT8",
              "int32": "XLITE_DTYPE_INT32", "uint32": "XLITE_DTYPE_UINT32", "int64": "XLITE_DTYPE_INT64",
              "float16": "XLITE_DTYPE_FLOAT16", "float32": "XLITE_DTYPE_FLOAT32", "float64": "XLITE_DTYPE_FLOAT64"}
KIND_ENUM = {"feed": "XLITE_KIND_FEED", "variable": "XLITE_KIND_VARIABLE", "rng_counter": "XLITE_KIND_RNG_COUNTER",
             "fetch": "XLITE_KIND_RESULT"}

_COMMON = """\
#ifndef XLITE_AOT_COMMON_DEFINED
#define XLITE_AOT_COMMON_DEFINED
/* Shared by every xlite AOT header. */
typedef enum xlite_dtype {
  XLITE_DTYPE_BOOL = 1,      /* one byte, 0 or 1 */
  XLITE_DTYPE_INT8 = 2,
  XLITE_DTYPE_UINT8 = 3,
  XLITE_DTYPE_INT32 = 4,
  XLITE_DTYPE_UINT32 = 5,
  XLITE_DTYPE_INT64 = 6,
  XLITE_DTYPE_FLOAT16 = 7,   /* IEEE half, as uint16_t bits */
  XLITE_DTYPE_FLOAT32 = 8,
  XLITE_DTYPE_FLOAT64 = 9
} xlite_dtype;

typedef enum xlite_kind {
  XLITE_KIND_FEED = 0,         /* an input, only read */
  XLITE_KIND_VARIABLE = 1,     /* a Variable: read, and written in place when `updated` */
  XLITE_KIND_RNG_COUNTER = 2,  /* int64 run counter of the random ops (a Session passes 1, 2, 3, ...) */
  XLITE_KIND_RESULT = 3        /* a fetched value, written by the run */
} xlite_kind;

typedef struct xlite_tensor_info {
  const char *name;            /* the name in the TF graph ("images:0", a Variable's name) */
  const char *c_name;          /* the identifier used in this header's macros */
  int dtype;                   /* xlite_dtype */
  int kind;                    /* xlite_kind */
  int updated;                 /* a Variable the run assigns (updated in place) */
  int rank;
  const int64_t *dims;         /* rank sizes, row-major (C order) */
  size_t byte_size;            /* the buffer's size in bytes */
  size_t alignment;            /* the buffer's address must be a multiple of this */
} xlite_tensor_info;
#endif
"""


def _shape(spec) -> str:
    return "[" + ",".join(map(str, spec.shape)) + "]"


def _c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _describe(prefix: str, specs: list) -> list[str]:
    lines = []
    width = max([len(x.name) for x in specs] + [4])
    for i, x in enumerate(specs):
        note = {"feed": "feed", "variable": "Variable" + (", updated in place" if x.update is not None else ""),
                "rng_counter": "rng counter", "fetch": "fetch"}[x.kind]
        lines.append(f" *   {prefix}[{i}]  {x.name.ljust(width)}  {x.dtype} {_shape(x)}, {x.byte_size} bytes "
                     f"({note})")
    return lines or [" *   (none)"]


def header_source(sig: Signature) -> str:
    n, up = sig.name, sig.name.upper()
    libs = " ".join("-l" + lib for lib in sig.libraries if lib != "c")
    out = [f"/* {n}.h: the xlite ahead-of-time compiled run signature \"{n}\". Generated; do not edit.",
           " *",
           f" * Target CPU: {sig.cpu or sig.target_cpu}"
           + (f" (target_cpu={sig.target_cpu!r})" if sig.cpu and sig.cpu != sig.target_cpu else "")
           + f". Variables: {sig.variables}"
           + (" (their values at compile time are constants in the object)." if sig.variables == "freeze"
              else " (passed as arguments; the ones the run assigns are updated in place)."),
           f" * Build: cc -c app.c && cc app.o {n}.o {libs}   (no Python, xlite or BLAS needed"
           + (", threads through pthreads)" if sig.threads > 1 else ", single-threaded)"),
           " *",
           f" *   int {n}_run(void **args, void **results, void *scratch);",
           " *",
           f" * args[i] points to argument i ({up}_NUM_ARGS of them, table below), results[j] to a buffer",
           " * the caller allocated for result j, both in C order (row-major) with the listed dtype, each",
           " * aligned to its element size, none overlapping another. Feeds are only read; Variables the run",
           " * assigns are updated in place. `scratch` is " + f"{up}_SCRATCH_BYTES bytes aligned to "
           f"{up}_SCRATCH_ALIGNMENT,",
           " * e.g. from aligned_alloc; its contents need not survive between calls (NULL if the size is 0).",
           f" * Returns {up}_OK (0), or an error code before anything runs (a NULL or misaligned pointer);",
           f" * {n}_error_message(code) gives a static description. The function allocates nothing and",
           " * writes no global state: threads may call it at the same time with separate scratch and",
           " * result buffers." + (f" Besides ordinary frames it needs {sig.stack_bytes // 1024} KB of the "
                                   "calling thread's" if sig.stack_bytes else ""),
           *([" * stack (matrix products pack blocks there): mind small thread stacks."] if sig.stack_bytes else []),
           " *",
           " * Arguments:"] + _describe("args", sig.args) + [" * Results:"] + _describe("results", sig.results) + [
           f" * Scratch: {sig.scratch_bytes} bytes.",
           " */",
           f"#ifndef {up}_XLITE_AOT_H",
           f"#define {up}_XLITE_AOT_H",
           "",
           "#include <stddef.h>",
           "#include <stdint.h>",
           "",
           "#ifdef __cplusplus",
           'extern "C" {',
           "#endif",
           "",
           _COMMON,
           f"#define {up}_NUM_ARGS {len(sig.args)}",
           f"#define {up}_NUM_RESULTS {len(sig.results)}",
           f"#define {up}_SCRATCH_BYTES ((size_t){sig.scratch_bytes})",
           f"#define {up}_SCRATCH_ALIGNMENT {SCRATCH_ALIGNMENT}",
           f"#define {up}_THREADS {sig.threads}   /* threads one call may use */",
           f"#define {up}_STACK_BYTES ((size_t){sig.stack_bytes})   /* stack one call needs besides its frames */",
           ""]
    for prefix, specs in (("ARG", sig.args), ("RESULT", sig.results)):
        for i, x in enumerate(specs):
            m = f"{up}_{prefix}_{x.c_name.upper()}"
            where = "args" if prefix == "ARG" else "results"
            out += [f"/* {where}[{i}]: {x.name}, {x.dtype} {_shape(x)} */",
                    f"#define {m} {i}",
                    f"#define {m}_BYTES ((size_t){x.byte_size})",
                    f"#define {m}_ALIGNMENT {x.alignment}",
                    f"#define {m}_RANK {len(x.shape)}",
                    f"#define {m}_ELEMENTS ((size_t){x.byte_size // x.alignment})",
                    f"typedef {C_TYPES[x.dtype]} {n}_{prefix.lower()}_{x.c_name}_t;",
                    ""]
    out += [f"/* Return codes of {n}_run. */",
            f"#define {up}_OK {s.OK}",
            f"#define {up}_ERROR_NULL_ARGS {s.ERROR_NULL_ARGS}",
            f"#define {up}_ERROR_NULL_RESULTS {s.ERROR_NULL_RESULTS}",
            f"#define {up}_ERROR_NULL_SCRATCH {s.ERROR_NULL_SCRATCH}",
            f"#define {up}_ERROR_SCRATCH_ALIGNMENT {s.ERROR_SCRATCH_ALIGNMENT}",
            f"#define {up}_ERROR_NULL_ARG(i) ({s.ERROR_NULL_ARG_BASE} + (i))",
            f"#define {up}_ERROR_NULL_RESULT(j) ({s.ERROR_NULL_RESULT_BASE} + (j))",
            f"#define {up}_ERROR_ARG_ALIGNMENT(i) ({s.ERROR_ARG_ALIGNMENT_BASE} + (i))",
            f"#define {up}_ERROR_RESULT_ALIGNMENT(j) ({s.ERROR_RESULT_ALIGNMENT_BASE} + (j))",
            ""]
    dims, offsets = [], []
    for x in sig.args + sig.results:
        offsets.append(len(dims))
        dims += list(x.shape)
    out.append(f"static const int64_t {n}_dims_[{max(len(dims), 1)}] = {{{', '.join(map(str, dims)) or '0'}}};")
    k = 0
    for table, specs in (("args", sig.args), ("results", sig.results)):
        rows = []
        for x in specs:
            rows.append(f"  {{{_c_string(x.name)}, {_c_string(x.c_name)}, {DTYPE_ENUM[x.dtype]}, {KIND_ENUM[x.kind]}, "
                        f"{int(x.update is not None)}, {len(x.shape)}, {n}_dims_ + {offsets[k]}, "
                        f"{x.byte_size}, {x.alignment}}}")
            k += 1
        body = ",\n".join(rows) if rows else "  {0, 0, 0, 0, 0, 0, 0, 0, 0}"
        out += [f"static const xlite_tensor_info {n}_{table}_info[{max(len(specs), 1)}] = {{", body, "};"]
    out += ["",
            f"int {n}_run(void **args, void **results, void *scratch);",
            f"const char *{n}_error_message(int code);",
            f"/* The signature as JSON (what xlite.aot.load reads). */",
            f"extern const char {n}_signature_json[];",
            "",
            "#ifdef __cplusplus",
            "}",
            "#endif",
            f"#endif /* {up}_XLITE_AOT_H */",
            ""]
    return "\n".join(out)


def example_source(sig: Signature) -> str:
    n, up = sig.name, sig.name.upper()
    libs = " ".join("-l" + lib for lib in sig.libraries if lib != "c")
    return f"""\
/* {n}_example.c: one call of {n}_run. Generated by xlite; a starting point, not part of the library.
 *
 * Build: cc -O2 -o {n}_example {n}_example.c {n}.o {libs}
 * Run:   ./{n}_example [ARG_0.bin ... ARG_{{N-1}}.bin [RESULT_0.bin ...]]
 *   Each argument file holds the argument's raw bytes (C order, native byte order); without files the
 *   arguments are zero. Results are written to the result files when given, else their first values
 *   are printed. Variables updated by the run are written back to their argument files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "{n}.h"

static void *allocate(size_t bytes) {{
  size_t size = (bytes + 63) / 64 * 64;             /* aligned_alloc wants a multiple of the alignment */
  void *p = aligned_alloc(64, size ? size : 64);
  if (p) memset(p, 0, size ? size : 64);
  return p;
}}

static int read_file(const char *path, void *buffer, size_t bytes) {{
  FILE *f = fopen(path, "rb");
  size_t got = f ? fread(buffer, 1, bytes, f) : 0;
  if (f) fclose(f);
  if (got != bytes) fprintf(stderr, "%s: expected %zu bytes\\n", path, bytes);
  return got == bytes;
}}

static int write_file(const char *path, const void *buffer, size_t bytes) {{
  FILE *f = fopen(path, "wb");
  size_t put = f ? fwrite(buffer, 1, bytes, f) : 0;
  if (f) fclose(f);
  return put == bytes;
}}

static double element(const xlite_tensor_info *t, const void *p, size_t i) {{
  switch (t->dtype) {{
    case XLITE_DTYPE_FLOAT32: return ((const float *)p)[i];
    case XLITE_DTYPE_FLOAT64: return ((const double *)p)[i];
    case XLITE_DTYPE_INT32: return ((const int32_t *)p)[i];
    case XLITE_DTYPE_INT64: return (double)((const int64_t *)p)[i];
    case XLITE_DTYPE_UINT32: return ((const uint32_t *)p)[i];
    case XLITE_DTYPE_INT8: return ((const int8_t *)p)[i];
    default: return ((const uint8_t *)p)[i];
  }}
}}

int main(int argc, char **argv) {{
  void *args[{up}_NUM_ARGS + 1];
  void *results[{up}_NUM_RESULTS + 1];
  void *scratch = {up}_SCRATCH_BYTES ? allocate({up}_SCRATCH_BYTES) : NULL;
  int from_files = argc > {up}_NUM_ARGS, code, i;
  for (i = 0; i < {up}_NUM_ARGS; i++) {{
    args[i] = allocate({n}_args_info[i].byte_size);
    if (from_files && !read_file(argv[1 + i], args[i], {n}_args_info[i].byte_size)) return 2;
  }}
  for (i = 0; i < {up}_NUM_RESULTS; i++) results[i] = allocate({n}_results_info[i].byte_size);

  code = {n}_run(args, results, scratch);
  if (code != {up}_OK) {{
    fprintf(stderr, "{n}_run: %s\\n", {n}_error_message(code));
    return 1;
  }}

  for (i = 0; i < {up}_NUM_RESULTS; i++) {{
    const xlite_tensor_info *t = &{n}_results_info[i];
    if (argc > 1 + {up}_NUM_ARGS + i) {{
      if (!write_file(argv[1 + {up}_NUM_ARGS + i], results[i], t->byte_size)) return 3;
    }} else {{
      size_t count = t->byte_size / t->alignment, k;
      printf("%s:", t->name);
      for (k = 0; k < count && k < 8; k++) printf(" %g", element(t, results[i], k));
      printf(count > 8 ? " ...\\n" : "\\n");
    }}
  }}
  for (i = 0; i < {up}_NUM_ARGS; i++)
    if (from_files && {n}_args_info[i].updated && !write_file(argv[1 + i], args[i], {n}_args_info[i].byte_size))
      return 3;
  for (i = 0; i < {up}_NUM_ARGS; i++) free(args[i]);
  for (i = 0; i < {up}_NUM_RESULTS; i++) free(results[i]);
  free(scratch);
  return 0;
}}
"""


__all__ = ["header_source", "example_source", "C_TYPES"]
