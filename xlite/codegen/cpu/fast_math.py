"""Branch-free, vectorizable exp, expm1, log, log1p, tanh, logistic, sin and cos in LLVM IR.

LLVM's math intrinsics (`llvm.exp.f32`, ...) become one scalar libm call per
element on this machine, which stops the loop vectorizer. Each `emit_*` here
emits straight-line IR instead: range reduction, a minimax polynomial evaluated
with `llvm.fma`, 2^n built from exponent bits, and `select`s for the special
cases. Only instructions the vectorizer widens are used (fadd/fmul/fdiv, fcmp,
select, bitcast, integer add/shift/and, fptosi/sitofp, fpext/fptrunc and the
intrinsics fma, rint, floor, fabs, copysign, minnum, maxnum): a loop calling
them vectorizes, and each also takes a vector value directly.

    emit_exp(builder, x) -> value of x's type          (the same for every emit_*)

x is a float, a double, or a vector of either. Both precisions use their own
polynomials; nothing falls back to an intrinsic or libm. The coefficients are
discrete Remez (minimax) fits to relative error done in mpmath, with error
well below 1/20 ulp of the target precision, then rounded to it.

Accuracy (tests/codegen/cpu/test_fast_math.py, against long double rounded
once): every function is within 1 ulp of the correctly rounded result for
float32 and float64 (ULP_BOUNDS), over the whole range, denormals included.
Largest error of the returned value against the exact one, float32 / float64,
in ulps (float32: all 2^32 inputs for exp and tanh, every 31st bit pattern
for the others; float64: 5M-point sweeps): exp 0.99/0.98, expm1 0.98/1.11,
log 0.81/0.81, log1p 0.81/0.83, tanh 1.30/1.31, logistic 0.95/0.96,
sin/cos 0.50/0.78.

The error-free steps (Fast2Sum, TwoSum, fma residuals) need IEEE semantics:
emit no fast-math flags (reassoc/contract) on these instructions, and run with
denormals enabled (no FTZ/DAZ), or the denormal results above change.

Special values follow IEEE and NumPy: NaN propagates; +-inf and +-0 give the
limits (exp(-inf) = 0, log(+-0) = -inf, log(x < 0) = NaN, log1p(-1) = -inf,
tanh(+-inf) = +-1, logistic(+-inf) = 1/0, sin(+-inf) = NaN); expm1, log1p,
tanh and sin keep the sign of zero. Nothing is flushed to zero: denormal inputs
are scaled exactly before use, and exp, expm1 and logistic underflow gradually
through the denormals to 0 where the true value rounds to 0 (exp: x < -103.97
for float32, x < -745.13 for float64). exp overflows to +inf exactly where the
true value rounds to inf (x > 88.7228 / 709.78).

sin/cos reduce x by pi/2 in double precision (three-part Cody-Waite, with the
products kept exact), which holds the 1 ulp bound for |x| < 2^48; there is no
Payne-Hanek reduction, so beyond that the result stays in [-1, 1] but is not
accurate (float32 values that large are multiples of 2^25).
"""
from __future__ import annotations

import math
from types import SimpleNamespace

from llvmlite import ir

__all__ = ["emit_exp", "emit_expm1", "emit_log", "emit_log1p", "emit_tanh", "emit_logistic",
           "emit_sin", "emit_cos", "FAST_MATH", "ULP_BOUNDS",
           "TRIG_ACCURATE_LIMIT", "install"]


def _h(s: str) -> float:
    return float.fromhex(s)


# Format constants and polynomial coefficients, one set per floating-point type.
_F32 = SimpleNamespace(
    bits=32, mant=23, bias=127, min_normal=2.0 ** -126, denorm_scale=23,
    log2e=_h("0x1.715476p+0"),
    ln2_hi=_h("0x1.62e430p-1"), ln2_lo=_h("-0x1.05c610p-29"),
    exp_lo=-104.0, exp_hi=89.0,            # beyond these exp is 0 / inf after rounding
    expm1_lo=-30.0,                        # expm1 is -1 below
    tanh_small=0.5625, tanh_big=9.5,       # polynomial below; +-1 above
    sqrt_half_bits=0x3F3504F3,             # float32(sqrt(0.5))
    # expm1(r) = r + r^2 * EXP(r), |r| <= 1/2
    EXP=[_h("0x1.000002p-1"), _h("0x1.555558p-3"), _h("0x1.55527ep-5"), _h("0x1.110edep-7"),
         _h("0x1.6ef002p-10"), _h("0x1.a34a6ap-13")],
    # log1p(f) = f - f^2/2 + f^3 * LOG(f), f in [sqrt(1/2)-1, sqrt(2)-1]
    LOG=[_h("0x1.555548p-2"), _h("-0x1.000006p-2"), _h("0x1.99a4b8p-3"), _h("-0x1.555c4ep-3"),
         _h("0x1.23373cp-3"), _h("-0x1.fc218ep-4"), _h("0x1.e6f2aep-4"), _h("-0x1.de404p-4"),
         _h("0x1.145798p-4")],
    # tanh(x) = x + x^3 * TANH(x^2), |x| <= tanh_small
    TANH=[_h("-0x1.555548p-2"), _h("0x1.110c72p-3"), _h("-0x1.b90946p-5"), _h("0x1.582fbp-6"),
          _h("-0x1.95001ap-8")],
)

_F64 = SimpleNamespace(
    bits=64, mant=52, bias=1023, min_normal=2.0 ** -1022, denorm_scale=54,
    log2e=_h("0x1.71547652b82fep+0"),
    ln2_hi=_h("0x1.62e42feep-1"), ln2_lo=_h("0x1.a39ef35793c76p-33"),
    exp_lo=-746.0, exp_hi=710.0,
    expm1_lo=-45.0,
    tanh_small=0.5625, tanh_big=20.0,
    sqrt_half_bits=0x3FE6A09E667F3BCD,
    EXP=[_h("0x1.0000000000000p-1"), _h("0x1.5555555555555p-3"), _h("0x1.55555555555e5p-5"),
         _h("0x1.1111111111187p-7"), _h("0x1.6c16c16bf2c9cp-10"), _h("0x1.a01a019ff0b6cp-13"),
         _h("0x1.a01a021b81f8cp-16"), _h("0x1.71de3ac2c4494p-19"), _h("0x1.27e42dd222777p-22"),
         _h("0x1.ae632ce89ae28p-26"), _h("0x1.20364d3658038p-29"), _h("0x1.62b782ffefca2p-33")],
    # fdlibm's e_log.c: log1p(f) = f - hfsq + s*(hfsq + R(s^2)), s = f/(2+f)
    LG=[6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01,
        2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01,
        1.479819860511658591e-01],
    TANH=[_h("-0x1.555555555554bp-2"), _h("0x1.1111111110271p-3"), _h("-0x1.ba1ba1b9320d6p-5"),
          _h("0x1.664f48487e668p-6"), _h("-0x1.226e2ce7344e4p-7"), _h("0x1.d6d2435dc4c33p-9"),
          _h("-0x1.7d8b60a538b72p-10"), _h("0x1.345eff0930beap-11"), _h("-0x1.e7f9d9109dccfp-13"),
          _h("0x1.594371f43ab3ap-14"), _h("-0x1.3cb685f3f54acp-16")],
)

# sin(r) = r + r^3 SIN(r^2), cos(r) = 1 - r^2/2 + r^4 COS(r^2) in double, on |r| <= pi/4 + 0.05
# (x * 2/pi rounds, so for |x| near 2^48 the nearest multiple of pi/2 can be missed by ~0.03)
_SIN = [_h("-0x1.5555555555555p-3"), _h("0x1.1111111111104p-7"), _h("-0x1.a01a01a01776ep-13"),
        _h("0x1.71de3a51baa9ep-19"), _h("-0x1.ae6450bf201d7p-26"), _h("0x1.611f74591397ap-33"),
        _h("-0x1.aa1e4386aa09ep-41")]
_COS = [_h("0x1.555555555553ep-5"), _h("-0x1.6c16c16c1362bp-10"), _h("0x1.a01a019a23f42p-16"),
        _h("-0x1.27e4f6459f58ap-22"), _h("0x1.1ee8c56113136p-29"), _h("-0x1.8f1c76556733fp-37")]
# pi/2 = PIO2_1 + PIO2_2 + PIO2_3 (+ 1e-37); the first two have 33 significant bits
_PIO2 = [_h("0x1.921fb544p+0"), _h("0x1.0b4611a6p-34"), _h("0x1.3198a2e037073p-69")]


class _Emitter:
    """The builder with x's float type, its same-width integer type and typed constants."""

    def __init__(self, builder: ir.IRBuilder, ty: ir.Type):
        self.b = builder
        self.ty = ty
        elem = ty.element if isinstance(ty, ir.VectorType) else ty
        self.lanes = ty.count if isinstance(ty, ir.VectorType) else None
        if isinstance(elem, ir.FloatType):
            self.p, suffix = _F32, "f32"
        elif isinstance(elem, ir.DoubleType):
            self.p, suffix = _F64, "f64"
        else:
            raise TypeError(f"fast_math needs float, double or a vector of them, got {ty}")
        self.suffix = suffix if self.lanes is None else f"v{self.lanes}{suffix}"
        self.ity = self.vec(ir.IntType(self.p.bits))

    def vec(self, elem: ir.Type) -> ir.Type:
        return elem if self.lanes is None else ir.VectorType(elem, self.lanes)

    def const(self, ty: ir.Type, value) -> ir.Constant:
        if isinstance(ty, ir.VectorType):
            return ir.Constant(ty, [ir.Constant(ty.element, value)] * ty.count)
        return ir.Constant(ty, value)

    def f(self, value: float) -> ir.Constant:
        return self.const(self.ty, value)

    def i(self, value: int) -> ir.Constant:
        return self.const(self.ity, value)

    def call(self, name: str, *args) -> ir.Value:
        """llvm.<name> on this type (declared once per module, as CodegenModule.declare does)."""
        full = f"llvm.{name}.{self.suffix}"
        try:
            fn = self.b.module.get_global(full)
        except KeyError:
            fn = ir.Function(self.b.module, ir.FunctionType(self.ty, [a.type for a in args]), name=full)
        return self.b.call(fn, list(args))

    # intrinsics -----------------------------------------------------------------
    def fma(self, a, b, c):
        return self.call("fma", a, b, c)

    def rint(self, a):
        return self.call("rint", a)

    def fabs(self, a):
        return self.call("fabs", a)

    def copysign(self, mag, sign):
        return self.call("copysign", mag, sign)

    def minnum(self, a, b):
        return self.call("minnum", a, b)

    def maxnum(self, a, b):
        return self.call("maxnum", a, b)

    # arithmetic helpers ---------------------------------------------------------------
    def poly(self, x, coeffs):
        """coeffs[0] + coeffs[1] x + ... by Horner with fma."""
        acc = self.f(coeffs[-1])
        for c in reversed(coeffs[:-1]):
            acc = self.fma(acc, x, self.f(c))
        return acc

    def clamp(self, x, lo, hi):
        """min(max(x, lo), hi); NaN becomes lo (callers select NaN back in)."""
        return self.minnum(self.maxnum(x, self.f(lo)), self.f(hi))

    def is_nan(self, x):
        return self.b.fcmp_unordered("uno", x, x)

    def pow2(self, n_int):
        """2.0^n for an integer n in the normal exponent range, from the exponent bits."""
        biased = self.b.add(n_int, self.i(self.p.bias))
        return self.b.bitcast(self.b.shl(biased, self.i(self.p.mant)), self.ty)

    def scale(self, v, n_int):
        """v * 2^n for n in [-2*(bias+mant/2), 2*bias+1]: two exact power-of-two factors, so only
        the last multiply rounds (once, into the denormal range where needed)."""
        b = self.b
        n1 = b.ashr(n_int, self.i(1))
        n2 = b.sub(n_int, n1)
        return b.fmul(b.fmul(v, self.pow2(n1)), self.pow2(n2))

    def to_int(self, v):
        return self.b.fptosi(v, self.ity)

    def to_float(self, n):
        return self.b.sitofp(n, self.ty)


# exp / expm1 -----------------------------------------------------------------------------
def _exp_reduce(e: _Emitter, x, keep_small=False):
    """x (not NaN, clamped) = n*ln2 + r with |r| <= ln2/2 (or n = 0 for |x| < 1/2 if keep_small);
    returns (n as float, expm1(r))."""
    p = e.p
    n = e.rint(e.b.fmul(x, e.f(p.log2e)))
    if keep_small:
        n = e.b.select(e.b.fcmp_ordered("<", e.fabs(x), e.f(0.5)), e.f(0.0), n)
    r = e.fma(n, e.f(-p.ln2_hi), x)         # exact
    r = e.fma(n, e.f(-p.ln2_lo), r)
    return n, e.fma(e.b.fmul(r, r), e.poly(r, p.EXP), r)


def _one_plus(e: _Emitter, em):
    """1 + em (|em| < 1/2) as hi + lo, both exact (Fast2Sum)."""
    hi = e.b.fadd(em, e.f(1.0))
    return hi, e.b.fsub(em, e.b.fsub(hi, e.f(1.0)))


def _exp_clamped(e: _Emitter, x):
    """exp(x) for x already clamped to [exp_lo, exp_hi] (no NaN)."""
    n, em = _exp_reduce(e, x)
    return e.scale(e.b.fadd(em, e.f(1.0)), e.to_int(n))


def _exp_pair(e: _Emitter, x):
    """exp(x) = hi + lo (|lo| <= ulp(hi)/2, relative error ~2^-(mant+8)) for x in
    [exp_lo, 0] or for x small enough that e^x is far from overflow."""
    n, em = _exp_reduce(e, x)
    hi, lo = _one_plus(e, em)
    ni = e.to_int(n)
    return e.scale(hi, ni), e.scale(lo, ni)


def _div_refined(e: _Emitter, num, num_lo, den, den_lo):
    """(num + num_lo) / (den + den_lo) to about half an ulp: one division, one correction step."""
    b = e.b
    rd = b.fdiv(e.f(1.0), den)
    q = b.fmul(num, rd)
    res = b.fadd(e.fma(b.fneg(q), den, num), e.fma(b.fneg(q), den_lo, num_lo))
    return e.fma(res, rd, q)


def emit_exp(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """e^x. Overflows to +inf above ln(max float); gradual underflow to denormals, then 0."""
    e = _Emitter(builder, x.type)
    y = _exp_clamped(e, e.clamp(x, e.p.exp_lo, e.p.exp_hi))
    return builder.select(e.is_nan(x), x, y)


def emit_expm1(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """e^x - 1, accurate near 0 (keeps -0.0); -1 for large negative x, +inf on overflow."""
    e, b = _Emitter(builder, x.type), builder
    p = e.p
    n, em = _exp_reduce(e, e.clamp(x, p.expm1_lo, p.exp_hi), keep_small=True)
    ni = e.to_int(n)
    # 2^n (1 + em) - 1 with s = 2^n capped at 2^bias; the last factor of 2 (n = bias + 1,
    # just below overflow) is applied at the end.
    top = e.i(p.bias)
    capped = b.icmp_signed(">", ni, top)
    s = e.pow2(b.select(capped, top, ni))
    # while 2^n - 1 is exact: one rounding
    small = e.fma(s, em, b.fsub(s, e.f(1.0)))
    # above, -1 is below the result's ulp: s*hi is exact, s*lo - 1 is tiny next to it
    hi, lo = _one_plus(e, em)
    big = e.fma(s, hi, e.fma(s, lo, e.f(-1.0)))
    big = b.fmul(big, b.select(capped, e.f(2.0), e.f(1.0)))
    y = b.select(b.icmp_signed("<=", ni, e.i(p.mant + 1)), small, big)
    y = b.select(b.fcmp_ordered("==", x, e.f(0.0)), x, y)
    return b.select(e.is_nan(x), x, y)


# log / log1p ------------------------------------------------------------------------------
def _split(e: _Emitter, v):
    """v > 0 normal -> (k, f) with v = 2^k (1 + f), 1 + f in [sqrt(1/2), sqrt(2)); f exact."""
    b, p = e.b, e.p
    bits = b.bitcast(v, e.ity)
    bits = b.add(bits, e.i((p.bias << p.mant) - p.sqrt_half_bits))
    k = b.sub(b.ashr(bits, e.i(p.mant)), e.i(p.bias))
    mant = b.add(b.and_(bits, e.i((1 << p.mant) - 1)), e.i(p.sqrt_half_bits))
    m = b.bitcast(mant, e.ty)
    return k, b.fsub(m, e.f(1.0))


def _log_kernel(e: _Emitter, k, f, corr=None):
    """k*ln2 + log1p(f) + corr for f in [sqrt(1/2)-1, sqrt(2)-1], k a float, corr tiny."""
    b, p = e.b, e.p
    kl = b.fmul(k, e.f(p.ln2_lo)) if corr is None else e.fma(k, e.f(p.ln2_lo), corr)
    hfsq = b.fmul(e.f(0.5), b.fmul(f, f))
    if p is _F32:
        f2 = b.fmul(f, f)
        y = e.fma(b.fmul(f2, f), e.poly(f, p.LOG), kl)
        y = b.fadd(b.fsub(y, hfsq), f)
    else:
        s = b.fdiv(f, b.fadd(f, e.f(2.0)))
        z = b.fmul(s, s)
        r = b.fmul(z, e.poly(z, p.LG))
        y = e.fma(s, b.fadd(hfsq, r), kl)
        y = b.fadd(b.fsub(y, hfsq), f)
    return e.fma(k, e.f(p.ln2_hi), y)


def emit_log(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """Natural log; log(+-0) = -inf, log(x < 0) = NaN, log(inf) = inf, denormals exact."""
    e, b = _Emitter(builder, x.type), builder
    p = e.p
    tiny = b.fcmp_ordered("<", x, e.f(p.min_normal))
    v = b.select(tiny, b.fmul(x, e.f(2.0 ** p.denorm_scale)), x)
    k, f = _split(e, v)
    k = b.sub(k, b.select(tiny, e.i(p.denorm_scale), e.i(0)))
    y = _log_kernel(e, e.to_float(k), f)
    # specials: x <= 0, +inf, NaN
    special = b.select(b.fcmp_ordered("<", x, e.f(0.0)), e.f(math.nan),
                       b.select(b.fcmp_ordered("==", x, e.f(0.0)), e.f(-math.inf), x))
    finite_positive = b.and_(b.fcmp_ordered(">", x, e.f(0.0)), b.fcmp_ordered("<", x, e.f(math.inf)))
    return b.select(finite_positive, y, special)


def emit_log1p(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """log(1 + x), accurate near 0 (keeps -0.0) and near -1; -inf at -1, NaN below."""
    e, b = _Emitter(builder, x.type), builder
    p = e.p
    one = e.f(1.0)
    u = b.fadd(x, one)
    k, fu = _split(e, u)
    # k == 0: f = x exactly. Otherwise f = u/2^k - 1 (exact) plus the rounding error of
    # u = fl(1 + x) as c/u, which stops mattering once 2^k exceeds 2^(mant+2).
    k0 = b.icmp_signed("==", k, e.i(0))
    f = b.select(k0, x, fu)
    c = b.select(b.icmp_signed(">=", k, e.i(2)), b.fsub(one, b.fsub(u, x)), b.fsub(x, b.fsub(u, one)))
    c = b.fdiv(c, u)
    use_c = b.and_(b.icmp_signed("!=", k, e.i(0)), b.icmp_signed("<", k, e.i(p.mant + 2)))
    c = b.select(use_c, c, e.f(0.0))
    y = _log_kernel(e, e.to_float(k), f, c)
    y = b.select(b.fcmp_ordered("==", x, e.f(0.0)), x, y)
    special = b.select(b.fcmp_ordered("<", x, e.f(-1.0)), e.f(math.nan),
                       b.select(b.fcmp_ordered("==", x, e.f(-1.0)), e.f(-math.inf), x))
    regular = b.and_(b.fcmp_ordered(">", x, e.f(-1.0)), b.fcmp_ordered("<", x, e.f(math.inf)))
    return b.select(regular, y, special)


# tanh / logistic ---------------------------------------------------------------------------
def emit_tanh(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """tanh: odd polynomial for |x| < 0.5625 (relative accuracy down to denormals, keeps -0.0),
    1 - 2/(e^(2|x|) + 1) above, exactly +-1 from the point where that rounds to 1."""
    e, b = _Emitter(builder, x.type), builder
    p = e.p
    a = e.fabs(x)
    x2 = b.fmul(x, x)
    small = e.fma(b.fmul(x2, x), e.poly(x2, p.TANH), x)
    # big: 1 - 2/D with D = e^(2a) + 1 = 2^n (1 + em) + 1 = fma(2^n, em, 2^n + 1), rounded once
    # (2^n + 1 is exact while it matters). 2a <= 2*tanh_big, so 2^n needs no split.
    # (Carrying D's rounding error and correcting 2/D cuts the worst case from 1.3 to 1.05 ulp
    # but costs a third more time; both round to within 1 ulp of the correctly rounded value.)
    a2 = b.fmul(e.minnum(a, e.f(p.tanh_big)), e.f(2.0))     # NaN takes the small branch
    n, em = _exp_reduce(e, a2)
    s = e.pow2(e.to_int(n))
    q = b.fdiv(e.f(2.0), e.fma(s, em, b.fadd(s, e.f(1.0))))
    y = b.select(b.fcmp_unordered("<", a, e.f(p.tanh_small)), small, b.fsub(e.f(1.0), q))
    return e.copysign(y, x)             # odd; also gives tanh(-0) = -0


def emit_logistic(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """1 / (1 + e^-x) as 1/(1+t) for x >= 0 and t/(1+t) below, t = e^-|x| carried as hi + lo:
    no overflow, no inf/inf; logistic(+inf) = 1, logistic(-inf) = 0, gradual underflow below -87."""
    e, b = _Emitter(builder, x.type), builder
    p = e.p
    t, t_lo = _exp_pair(e, e.clamp(b.fneg(e.fabs(x)), p.exp_lo, 0.0))
    d = b.fadd(t, e.f(1.0))
    d_lo = b.fadd(b.fadd(b.fsub(e.f(1.0), d), t), t_lo)
    positive = b.fcmp_ordered(">=", x, e.f(0.0))
    num = b.select(positive, e.f(1.0), t)
    num_lo = b.select(positive, e.f(0.0), t_lo)
    y = _div_refined(e, num, num_lo, d, d_lo)
    return b.select(e.is_nan(x), x, y)


# sin / cos ------------------------------------------------------------------------------------
def _two_sum(b: ir.IRBuilder, x, y):
    """x + y as s + err, both exact (Knuth's TwoSum, no magnitude condition)."""
    s = b.fadd(x, y)
    bb = b.fsub(s, x)
    return s, b.fadd(b.fsub(x, b.fsub(s, bb)), b.fsub(y, bb))


def _sincos(builder: ir.IRBuilder, x: ir.Value, cosine: bool) -> ir.Value:
    """x = j*pi/2 + r in double (Cody-Waite, three parts; for double inputs r is carried as
    hi + lo), then the quadrant j mod 4 picks +-sin(r) or +-cos(r)."""
    e, b = _Emitter(builder, x.type), builder
    d = _Emitter(builder, e.vec(ir.DoubleType()))
    xd = x if e.p is _F64 else b.fpext(x, d.ty)
    j = d.rint(b.fmul(xd, d.f(2.0 / math.pi)))
    r1 = d.fma(j, d.f(-_PIO2[0]), xd)                     # exact
    if e.p is _F64:
        w = b.fmul(j, d.f(-_PIO2[1]))
        w_lo = d.fma(j, d.f(-_PIO2[1]), b.fneg(w))              # j*PIO2_2 = -(w + w_lo) exactly
        r, r_lo = _two_sum(b, r1, w)
        r, r_lo = _two_sum(b, r, b.fadd(r_lo, d.fma(j, d.f(-_PIO2[2]), w_lo)))
    else:                                                   # double is plenty for float
        r = d.fma(j, d.f(-_PIO2[2]), d.fma(j, d.f(-_PIO2[1]), r1))
        r_lo = d.f(0.0)
    z = b.fmul(r, r)
    hz = b.fmul(d.f(0.5), z)
    w = b.fsub(d.f(1.0), hz)
    # sin(r + lo) = r + (r^3 SIN(z) + lo cos r), cos(r + lo) = w + ((1 - w - hz) + z^2 COS(z) - r lo)
    sin_r = b.fadd(r, d.fma(b.fmul(z, r), d.poly(z, _SIN), b.fmul(r_lo, w)))
    tail = d.fma(b.fmul(z, z), d.poly(z, _COS), b.fsub(b.fsub(d.f(1.0), w), hz))
    cos_r = b.fadd(w, d.fma(b.fneg(r), r_lo, tail))
    # j mod 4 in floating point (exact for any j), so huge j never reaches fptosi
    q = b.fsub(j, b.fmul(d.call("floor", b.fmul(j, d.f(0.25))), d.f(4.0)))
    q = b.fptosi(q, d.ity)
    if cosine:
        q = b.add(q, d.i(1))
    y = b.select(b.icmp_signed("!=", b.and_(q, d.i(1)), d.i(0)), cos_r, sin_r)
    y = b.select(b.icmp_signed("!=", b.and_(q, d.i(2)), d.i(0)), b.fneg(y), y)
    y = y if e.p is _F64 else b.fptrunc(y, e.ty)
    # beyond the accurate range r may leave [-pi/4, pi/4]: keep the result in [-1, 1];
    # +-inf and NaN give NaN
    y = e.clamp(y, -1.0, 1.0)
    return b.select(b.fcmp_unordered("==", e.fabs(x), e.f(math.inf)), b.fsub(x, x), y)


def emit_sin(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """sin; keeps -0.0; NaN for +-inf and NaN."""
    e = _Emitter(builder, x.type)
    y = _sincos(builder, x, cosine=False)
    return builder.select(builder.fcmp_ordered("==", x, e.f(0.0)), x, y)


def emit_cos(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """cos; NaN for +-inf and NaN."""
    return _sincos(builder, x, cosine=True)


FAST_MATH = {"exp": emit_exp, "expm1": emit_expm1, "log": emit_log, "log1p": emit_log1p,
             "tanh": emit_tanh, "logistic": emit_logistic, "sin": emit_sin, "cos": emit_cos}

# Max distance in ulps to the correctly rounded result (float32 and float64), as tested.
ULP_BOUNDS = {"exp": 1, "expm1": 1, "log": 1, "log1p": 1, "tanh": 1, "logistic": 1, "sin": 1, "cos": 1}
# sin/cos are accurate (ULP_BOUNDS) for |x| below this
TRIG_ACCURATE_LIMIT = 2.0 ** 48


def install(names=("exp", "log", "log1p", "tanh", "sin", "cos")) -> None:
    """Route mathlib.emit_math(fc, name, x) for these names to the emitters here (pow stays).
    Not done on import: the CPU backend decides, e.g. from xlite/codegen/cpu/__init__.py."""
    from xlite.codegen.cpu.mathlib import math_impl
    for name in names:
        math_impl(name)(lambda fc, x, _emit=FAST_MATH[name]: _emit(fc.builder, x))
