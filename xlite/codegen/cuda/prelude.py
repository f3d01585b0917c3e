"""The CUDA C every generated module starts with: element types and the helpers the rules call.

Each helper has the interpreter's exact semantics (xlite/semantics/eval_rules.py):
integer division never traps (x/0 = -1, x%0 = x, INT_MIN/-1 = INT_MIN), float
max/min propagate NaN, float->int converts truncate, saturate and send NaN to 0,
and the Philox-4x32-10 generator and its distributions follow
xlite/semantics/philox.py step by step in float32. The text needs no headers, so
it compiles with plain nvcc, pycuda or NVRTC alike; modules are compiled with
-fmad=false so that `a * b + c` rounds twice, as NumPy does.
"""
from __future__ import annotations

import numpy as np

from xlite.ir import dtypes
from xlite.semantics import philox
from xlite.codegen.cuda.c_types import literal


def _f(value: float) -> str:
    return literal(dtypes.float32, value)


def _horner(coeffs, first: float, var: str) -> str:
    lines = [f"  p = {_f(first)};"]
    lines += [f"  p = {_f(c)} + p * {var};" for c in coeffs]
    return "\n".join(lines)


_ERFINV_SMALL = (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                 -0.00417768164, 0.246640727, 1.50140941)
_ERFINV_LARGE = (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                 0.00943887047, 1.00167406, 2.83297682)

PRELUDE = f"""// ---- xlite CUDA prelude ----
#ifndef XLITE_PRELUDE
#define XLITE_PRELUDE
typedef signed char xl_s8;
typedef unsigned char xl_u8;
#define XL_DEV __device__ __forceinline__

template <typename T> XL_DEV T xl_fmax(T x, T y) {{ return (x != x) ? x : (x > y ? x : y); }}
template <typename T> XL_DEV T xl_fmin(T x, T y) {{ return (x != x) ? x : (x < y ? x : y); }}
template <typename T> XL_DEV T xl_imax(T x, T y) {{ return x > y ? x : y; }}
template <typename T> XL_DEV T xl_imin(T x, T y) {{ return x < y ? x : y; }}

template <typename T, typename U> XL_DEV T xl_sdiv(T x, T y) {{
  if (y == 0) return (T)-1;
  if (y == (T)-1) return (T)(U)(0 - (U)x);
  return (T)(x / y);
}}
template <typename T> XL_DEV T xl_udiv(T x, T y) {{ return y == 0 ? (T)~(T)0 : (T)(x / y); }}
template <typename T> XL_DEV T xl_srem(T x, T y) {{
  if (y == 0) return x;
  if (y == (T)-1) return (T)0;
  return (T)(x % y);
}}
template <typename T> XL_DEV T xl_urem(T x, T y) {{ return y == 0 ? x : (T)(x % y); }}
template <typename T, typename U> XL_DEV T xl_spow(T x, T y) {{
  if (y < 0) return x == 1 ? (T)1 : (x == (T)-1 ? ((y & 1) ? (T)-1 : (T)1) : (T)0);
  U r = 1, b = (U)x, e = (U)y;
  while (e) {{ if (e & 1) r = (U)(r * b); b = (U)(b * b); e >>= 1; }}
  return (T)r;
}}
template <typename T> XL_DEV T xl_upow(T x, T y) {{
  T r = 1, b = x;
  while (y) {{ if (y & 1) r = (T)(r * b); b = (T)(b * b); y >>= 1; }}
  return r;
}}
template <typename T> XL_DEV T xl_f2i(double x, double lo, double hi, T tmin, T tmax) {{
  if (x != x) return (T)0;
  const double t = trunc(x);
  if (t >= hi) return tmax;
  if (t <= lo) return tmin;
  return (T)t;
}}
XL_DEV float xl_logistic(float x) {{
  const float e = expf(-fabsf(x)), d = 1.0f + e;
  return (x >= 0.0f || x != x) ? 1.0f / d : e / d;
}}
XL_DEV double xl_logistic(double x) {{
  const double e = exp(-fabs(x)), d = 1.0 + e;
  return (x >= 0.0 || x != x) ? 1.0 / d : e / d;
}}
template <typename T> XL_DEV T xl_fsign(T x) {{
  return x > (T)0 ? (T)1 : (x < (T)0 ? (T)-1 : (x == (T)0 ? (T)0 : x));
}}

// Philox-4x32-10 on counter (i lo, i hi, run lo, run hi) under key (k0, k1): words 0 and 1.
XL_DEV void xl_philox(unsigned long long i, unsigned long long run, unsigned k0, unsigned k1,
                      unsigned* w0, unsigned* w1) {{
  unsigned c0 = (unsigned)i, c1 = (unsigned)(i >> 32), c2 = (unsigned)run, c3 = (unsigned)(run >> 32);
  #pragma unroll
  for (int r = 0; r < {philox.ROUNDS}; ++r) {{
    const unsigned hi0 = __umulhi(0x{philox.PHILOX_M0:08X}u, c0), lo0 = 0x{philox.PHILOX_M0:08X}u * c0;
    const unsigned hi1 = __umulhi(0x{philox.PHILOX_M1:08X}u, c2), lo1 = 0x{philox.PHILOX_M1:08X}u * c2;
    c0 = hi1 ^ c1 ^ k0; c1 = lo1; c2 = hi0 ^ c3 ^ k1; c3 = lo0;
    k0 += 0x{philox.PHILOX_W0:08X}u; k1 += 0x{philox.PHILOX_W1:08X}u;
  }}
  *w0 = c0; *w1 = c1;
}}
XL_DEV float xl_uniform(unsigned w) {{ return (float)(w >> 9) * {_f(2.0 ** -23)}; }}
XL_DEV float xl_normal(unsigned w0, unsigned w1) {{
  const float u1 = xl_uniform(w0) + {_f(2.0 ** -23)};
  const float u2 = xl_uniform(w1);
  const float radius = sqrtf({_f(-2.0)} * logf(u1));
  return radius * cosf({_f(np.float32(2 * np.pi))} * u2);
}}
XL_DEV float xl_erfinv(float x) {{
  float w = -logf((1.0f - x) * (1.0f + x)), p;
  if (w < 5.0f) {{
    w = w - 2.5f;
{_horner(_ERFINV_SMALL, 2.81022636e-08, "w")}
  }} else {{
    w = sqrtf(w) - 3.0f;
{_horner(_ERFINV_LARGE, -0.000200214257, "w")}
  }}
  return p * x;
}}
XL_DEV float xl_truncated_normal(unsigned w0) {{
  const float u = xl_uniform(w0);
  const float t = (2.0f * u - 1.0f) * {_f(0.9544997361036416)};
  return {_f(np.sqrt(2.0))} * xl_erfinv(t);
}}

// A pairwise float sum (xlite/codegen/pairwise.py): a binary counter of block sums, level k holding a sum of
// 2^k blocks while bit k of n is set, so each term goes through about log2(blocks) additions, not one per block.
template <typename T, int L> struct xl_pairwise {{
  T level[L];
  unsigned long long n = 0;
  XL_DEV void push(T s) {{
    unsigned long long c = n++;
    int k = 0;
    for (; c & 1ull; c >>= 1, ++k) s = level[k] + s;
    level[k] = s;
  }}
  XL_DEV T total(T acc) const {{
    for (int k = 0; k < L; ++k) if ((n >> k) & 1ull) acc = level[k] + acc;
    return acc;
  }}
}};

// Warp shuffles for every accumulator type.
template <typename T> XL_DEV T xl_shfl_down(T v, int offset) {{ return __shfl_down_sync(0xffffffffu, v, offset); }}
XL_DEV bool xl_shfl_down(bool v, int offset) {{ return __shfl_down_sync(0xffffffffu, (int)v, offset) != 0; }}
XL_DEV xl_s8 xl_shfl_down(xl_s8 v, int offset) {{ return (xl_s8)__shfl_down_sync(0xffffffffu, (int)v, offset); }}
XL_DEV xl_u8 xl_shfl_down(xl_u8 v, int offset) {{ return (xl_u8)__shfl_down_sync(0xffffffffu, (unsigned)v, offset); }}

// atomicAdd for every type scatter_add accumulates with atomics: long long through unsigned long long (the same
// two's-complement sum); double natively from sm_60, before that by the CUDA programming guide's compare-and-swap
// loop (which nvcc 13, whose oldest target is sm_75, cannot compile here to check).
XL_DEV float xl_atomic_add(float* p, float v) {{ return atomicAdd(p, v); }}
XL_DEV double xl_atomic_add(double* p, double v) {{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 600
  unsigned long long* a = (unsigned long long*)p;
  unsigned long long old = *a, seen;
  do {{
    seen = old;
    old = atomicCAS(a, seen, (unsigned long long)__double_as_longlong(__longlong_as_double((long long)seen) + v));
  }} while (seen != old);
  return __longlong_as_double((long long)old);
#else
  return atomicAdd(p, v);
#endif
}}
XL_DEV int xl_atomic_add(int* p, int v) {{ return atomicAdd(p, v); }}
XL_DEV unsigned xl_atomic_add(unsigned* p, unsigned v) {{ return atomicAdd(p, v); }}
XL_DEV long long xl_atomic_add(long long* p, long long v) {{
  return (long long)atomicAdd((unsigned long long*)p, (unsigned long long)v);
}}
#endif  // XLITE_PRELUDE
// ---- end of prelude ----
"""

__all__ = ["PRELUDE"]
