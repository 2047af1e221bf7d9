// RISC-V F/D arithmetic on top of the host FPU.
//
// RNE/RTZ/RDN/RUP: the host instruction runs with its rounding mode set and its exception
// flags cleared just before it, and the flags are read once just after it. On x86-64 this is
// done with ldmxcsr/op/stmxcsr in a single asm statement (nothing can be reordered or
// constant-folded across it); the host is put back to round-to-nearest (MXCSR 0x1f80) after
// any other mode. Other hosts use <fenv.h> under FENV_ACCESS.
// RMM (ties to max magnitude) has no host mode: add/sub/mul/div/fma and fcvt.s.d use the exact
// software path in rvfp_soft.c; sqrt uses RNE, which gives the same result and flags because a
// square root is never exactly halfway between two floating-point numbers.
// Host NaN results (x86's negative default NaN, propagated payloads) are replaced by the
// canonical NaN. min/max, compares, classify and float<->int conversions are done in software.
#include <stdint.h>
#include <string.h>
#include "rvfp.h"

#if (defined(__x86_64__) || defined(__i386__)) && !defined(RVFP_PORTABLE)
#define RVFP_X86 1
#else
#define RVFP_X86 0
#include <fenv.h>
#include <math.h>
#pragma STDC FENV_ACCESS ON
#endif

// rvfp_soft.c
uint64_t rvfp_soft_round_pack(int is64, int sign, int exp, uint64_t sig, int rm, uint32_t *flags);
uint64_t rvfp_soft_add(int is64, uint64_t a, uint64_t b, int rm, uint32_t *flags);
uint64_t rvfp_soft_mul(int is64, uint64_t a, uint64_t b, int rm, uint32_t *flags);
uint64_t rvfp_soft_div(int is64, uint64_t a, uint64_t b, int rm, uint32_t *flags);
uint64_t rvfp_soft_fma(int is64, uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *flags);
uint64_t rvfp_soft_from_int(int is64, int sign, uint64_t mag, int rm, uint32_t *flags);
uint64_t rvfp_soft_f64_to_f32(uint64_t a, int rm, uint32_t *flags);

#define NX RVFP_NX
#define UF RVFP_UF
#define OF RVFP_OF
#define DZ RVFP_DZ
#define NV RVFP_NV

#define S32 0x80000000u
#define S64 0x8000000000000000ull
#define CNAN32 RVF32_CANONICAL_NAN
#define CNAN64 RVF64_CANONICAL_NAN

static inline float f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline double f64(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
static inline uint32_t b32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline uint64_t b64(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }

static inline int isnan32(uint32_t a) { return (a & ~S32) > 0x7f800000u; }
static inline int isnan64(uint64_t a) { return (a & ~S64) > 0x7ff0000000000000ull; }
static inline int issnan32(uint32_t a) { return isnan32(a) && !(a & 0x00400000u); }
static inline int issnan64(uint64_t a) { return isnan64(a) && !(a & 0x0008000000000000ull); }
static inline int isinf32(uint32_t a) { return (a & ~S32) == 0x7f800000u; }
static inline int isinf64(uint64_t a) { return (a & ~S64) == 0x7ff0000000000000ull; }
static inline int iszero32(uint32_t a) { return (a & ~S32) == 0; }
static inline int iszero64(uint64_t a) { return (a & ~S64) == 0; }

static inline uint32_t fix32(uint32_t r) { return isnan32(r) ? CNAN32 : r; }
static inline uint64_t fix64(uint64_t r) { return isnan64(r) ? CNAN64 : r; }

// ---------------------------------------------------------------------------------------------
// Host operation wrappers.

#if RVFP_X86
// MXCSR: all exceptions masked, flags clear, no FTZ/DAZ, rounding control in bits 13-14
// (00 nearest, 01 down, 10 up, 11 toward zero). Indexed by the RISC-V rm.
static const uint32_t mxcsr_rm[4] = { 0x1f80u, 0x7f80u, 0x3f80u, 0x5f80u };
static const uint32_t mxcsr_default = 0x1f80u;

// MXCSR flags IE DE ZE OE UE PE (bits 0..5) -> NV - DZ OF UF NX. DE (denormal operand) has no
// RISC-V counterpart.
static inline uint32_t mx_flags(uint32_t m) {
    return ((m & 1u) << 4) | ((m & 4u) << 1) | ((m & 8u) >> 1) | ((m & 16u) >> 3) | ((m & 32u) >> 5);
}

// Every operation is one asm statement: ldmxcsr (mode, flags cleared), the instruction,
// stmxcsr, and for modes other than RNE a second ldmxcsr back to the default. (Reading MXCSR
// first to skip the ldmxcsr when nothing is pending measured slower: stmxcsr is the costly part.)
// x = x OP y, where OP is an SSE scalar instruction "insn y, x".
#define HOST2(insn, x, y, rm, flags) do {                                                     \
        uint32_t csr_out_;                                                                      \
        if ((rm) == RVFP_RNE) {                                                                 \
            __asm__ volatile("ldmxcsr %[in]\n\t" insn " %[b], %[a]\n\tstmxcsr %[o]"            \
                             : [a] "+x"(x), [o] "=m"(csr_out_)                                  \
                             : [b] "x"(y), [in] "m"(mxcsr_default));                            \
        } else {                                                                                \
            __asm__ volatile("ldmxcsr %[in]\n\t" insn " %[b], %[a]\n\tstmxcsr %[o]\n\t"        \
                             "ldmxcsr %[d]"                                                     \
                             : [a] "+x"(x), [o] "=m"(csr_out_)                                  \
                             : [b] "x"(y), [in] "m"(mxcsr_rm[rm]), [d] "m"(mxcsr_default));     \
        }                                                                                       \
        *(flags) |= mx_flags(csr_out_);                                                         \
    } while (0)

// acc = x*y + acc (FMA3, single rounding).
#define HOSTFMA(insn, x, y, acc, rm, flags) do {                                              \
        uint32_t csr_out_;                                                                      \
        if ((rm) == RVFP_RNE) {                                                                 \
            __asm__ volatile("ldmxcsr %[in]\n\t" insn " %[b], %[a], %[c]\n\tstmxcsr %[o]"      \
                             : [c] "+x"(acc), [o] "=m"(csr_out_)                                \
                             : [a] "x"(x), [b] "x"(y), [in] "m"(mxcsr_default));                \
        } else {                                                                                \
            __asm__ volatile("ldmxcsr %[in]\n\t" insn " %[b], %[a], %[c]\n\tstmxcsr %[o]\n\t"  \
                             "ldmxcsr %[d]"                                                     \
                             : [c] "+x"(acc), [o] "=m"(csr_out_)                                \
                             : [a] "x"(x), [b] "x"(y), [in] "m"(mxcsr_rm[rm]),                  \
                               [d] "m"(mxcsr_default));                                         \
        }                                                                                       \
        *(flags) |= mx_flags(csr_out_);                                                         \
    } while (0)

static int host_has_fma(void) {
    static int cached = -1;  // every thread computes the same value; relaxed atomics suffice
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("fma") ? 1 : 0;
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return v;
}

#define DEF_HOST_BIN(name, T, insn)                                                             \
    static inline T name(T x, T y, int rm, uint32_t *flags) { HOST2(insn, x, y, rm, flags); return x; }
DEF_HOST_BIN(h_add32, float, "addss")
DEF_HOST_BIN(h_sub32, float, "subss")
DEF_HOST_BIN(h_mul32, float, "mulss")
DEF_HOST_BIN(h_div32, float, "divss")
DEF_HOST_BIN(h_add64, double, "addsd")
DEF_HOST_BIN(h_sub64, double, "subsd")
DEF_HOST_BIN(h_mul64, double, "mulsd")
DEF_HOST_BIN(h_div64, double, "divsd")
static inline float h_sqrt32(float x, int rm, uint32_t *flags) { float r = x; HOST2("sqrtss", r, x, rm, flags); return r; }
static inline double h_sqrt64(double x, int rm, uint32_t *flags) { double r = x; HOST2("sqrtsd", r, x, rm, flags); return r; }
static inline float h_cvt64to32(double x, int rm, uint32_t *flags) {
    float r = 0.0f;
    HOST2("cvtsd2ss", r, x, rm, flags);
    return r;
}
static inline float h_fma32(float x, float y, float z, int rm, uint32_t *flags) {
    HOSTFMA("vfmadd231ss", x, y, z, rm, flags);
    return z;
}
static inline double h_fma64(double x, double y, double z, int rm, uint32_t *flags) {
    HOSTFMA("vfmadd231sd", x, y, z, rm, flags);
    return z;
}

#else  // portable <fenv.h> version

static inline int fe_mode(int rm) {
    switch (rm) {
    case RVFP_RTZ: return FE_TOWARDZERO;
    case RVFP_RDN: return FE_DOWNWARD;
    case RVFP_RUP: return FE_UPWARD;
    default: return FE_TONEAREST;
    }
}
static inline uint32_t fe_flags(int ex) {
    uint32_t f = 0;
    if (ex & FE_INEXACT) f |= NX;
    if (ex & FE_UNDERFLOW) f |= UF;
    if (ex & FE_OVERFLOW) f |= OF;
    if (ex & FE_DIVBYZERO) f |= DZ;
    if (ex & FE_INVALID) f |= NV;
    return f;
}
#define FE_BEGIN(rm) do { feclearexcept(FE_ALL_EXCEPT); if ((rm) != RVFP_RNE) fesetround(fe_mode(rm)); } while (0)
#define FE_END(rm, flags) do {                                                                  \
        int ex_ = fetestexcept(FE_ALL_EXCEPT);                                                  \
        if ((rm) != RVFP_RNE) fesetround(FE_TONEAREST);                                         \
        *(flags) |= fe_flags(ex_);                                                              \
    } while (0)
#define DEF_HOST_BIN(name, T, OP)                                                               \
    static T name(T x, T y, int rm, uint32_t *flags) {                                          \
        volatile T vx = x, vy = y, r;                                                           \
        FE_BEGIN(rm); r = vx OP vy; FE_END(rm, flags); return r;                                \
    }
DEF_HOST_BIN(h_add32, float, +)
DEF_HOST_BIN(h_sub32, float, -)
DEF_HOST_BIN(h_mul32, float, *)
DEF_HOST_BIN(h_div32, float, /)
DEF_HOST_BIN(h_add64, double, +)
DEF_HOST_BIN(h_sub64, double, -)
DEF_HOST_BIN(h_mul64, double, *)
DEF_HOST_BIN(h_div64, double, /)
static float h_sqrt32(float x, int rm, uint32_t *flags) {
    volatile float vx = x, r; FE_BEGIN(rm); r = sqrtf(vx); FE_END(rm, flags); return r;
}
static double h_sqrt64(double x, int rm, uint32_t *flags) {
    volatile double vx = x, r; FE_BEGIN(rm); r = sqrt(vx); FE_END(rm, flags); return r;
}
static float h_cvt64to32(double x, int rm, uint32_t *flags) {
    volatile double vx = x; volatile float r; FE_BEGIN(rm); r = (float)vx; FE_END(rm, flags); return r;
}
static float h_fma32(float x, float y, float z, int rm, uint32_t *flags) {
    volatile float vx = x, vy = y, vz = z, r; FE_BEGIN(rm); r = fmaf(vx, vy, vz); FE_END(rm, flags); return r;
}
static double h_fma64(double x, double y, double z, int rm, uint32_t *flags) {
    volatile double vx = x, vy = y, vz = z, r; FE_BEGIN(rm); r = fma(vx, vy, vz); FE_END(rm, flags); return r;
}
static int host_has_fma(void) {
#if defined(__FMA__) || defined(__aarch64__) || defined(__arm64__)
    return 1;
#else
    return 0;  // libm fma may be a slow or imprecise emulation: use the software path
#endif
}
#endif

// ---------------------------------------------------------------------------------------------
// Single precision

uint32_t rvf32_add(uint32_t a, uint32_t b, int rm, uint32_t *flags) {
    if (rm == RVFP_RMM) return (uint32_t)rvfp_soft_add(0, a, b, rm, flags);
    return fix32(b32(h_add32(f32(a), f32(b), rm, flags)));
}
uint32_t rvf32_sub(uint32_t a, uint32_t b, int rm, uint32_t *flags) {
    if (rm == RVFP_RMM) return (uint32_t)rvfp_soft_add(0, a, b ^ S32, rm, flags);
    return fix32(b32(h_sub32(f32(a), f32(b), rm, flags)));
}
uint32_t rvf32_mul(uint32_t a, uint32_t b, int rm, uint32_t *flags) {
    if (rm == RVFP_RMM) return (uint32_t)rvfp_soft_mul(0, a, b, rm, flags);
    return fix32(b32(h_mul32(f32(a), f32(b), rm, flags)));
}
uint32_t rvf32_div(uint32_t a, uint32_t b, int rm, uint32_t *flags) {
    if (rm == RVFP_RMM) return (uint32_t)rvfp_soft_div(0, a, b, rm, flags);
    return fix32(b32(h_div32(f32(a), f32(b), rm, flags)));
}
uint32_t rvf32_sqrt(uint32_t a, int rm, uint32_t *flags) {
    if (rm == RVFP_RMM) rm = RVFP_RNE;  // no ties: RMM == RNE for sqrt
    return fix32(b32(h_sqrt32(f32(a), rm, flags)));
}

static uint32_t fma32(uint32_t a, uint32_t b, uint32_t c, int rm, uint32_t *flags) {
    if (isnan32(a) || isnan32(b) || isnan32(c)) {
        // RISC-V: NV for a signalling NaN, and for inf*0 even when the addend is a quiet NaN.
        if (issnan32(a) || issnan32(b) || issnan32(c) || (isinf32(a) && iszero32(b)) ||
            (iszero32(a) && isinf32(b)))
            *flags |= NV;
        return CNAN32;
    }
    if (rm == RVFP_RMM || !host_has_fma()) return (uint32_t)rvfp_soft_fma(0, a, b, c, rm, flags);
    return fix32(b32(h_fma32(f32(a), f32(b), f32(c), rm, flags)));
}
uint32_t rvf32_madd(uint32_t a, uint32_t b, uint32_t c, int rm, uint32_t *flags) { return fma32(a, b, c, rm, flags); }
uint32_t rvf32_msub(uint32_t a, uint32_t b, uint32_t c, int rm, uint32_t *flags) { return fma32(a, b, c ^ S32, rm, flags); }
uint32_t rvf32_nmsub(uint32_t a, uint32_t b, uint32_t c, int rm, uint32_t *flags) { return fma32(a ^ S32, b, c, rm, flags); }
uint32_t rvf32_nmadd(uint32_t a, uint32_t b, uint32_t c, int rm, uint32_t *flags) { return fma32(a ^ S32, b, c ^ S32, rm, flags); }

// a < b on non-NaN values with -0 < +0 (sign-magnitude integer order).
static inline int tlt32(uint32_t a, uint32_t b) {
    int sa = a >> 31, sb = b >> 31;
    if (sa != sb) return sa;
    if (a == b) return 0;
    return sa ? a > b : a < b;
}
static inline int tlt64(uint64_t a, uint64_t b) {
    int sa = (int)(a >> 63), sb = (int)(b >> 63);
    if (sa != sb) return sa;
    if (a == b) return 0;
    return sa ? a > b : a < b;
}

uint32_t rvf32_min(uint32_t a, uint32_t b, uint32_t *flags) {
    if (issnan32(a) || issnan32(b)) *flags |= NV;
    if (isnan32(a)) return isnan32(b) ? CNAN32 : b;
    if (isnan32(b)) return a;
    return tlt32(a, b) ? a : b;
}
uint32_t rvf32_max(uint32_t a, uint32_t b, uint32_t *flags) {
    if (issnan32(a) || issnan32(b)) *flags |= NV;
    if (isnan32(a)) return isnan32(b) ? CNAN32 : b;
    if (isnan32(b)) return a;
    return tlt32(a, b) ? b : a;
}
int rvf32_eq(uint32_t a, uint32_t b, uint32_t *flags) {
    if (isnan32(a) || isnan32(b)) {
        if (issnan32(a) || issnan32(b)) *flags |= NV;
        return 0;
    }
    return a == b || (iszero32(a) && iszero32(b));
}
int rvf32_lt(uint32_t a, uint32_t b, uint32_t *flags) {
    if (isnan32(a) || isnan32(b)) { *flags |= NV; return 0; }
    if (iszero32(a) && iszero32(b)) return 0;
    return tlt32(a, b);
}
int rvf32_le(uint32_t a, uint32_t b, uint32_t *flags) {
    if (isnan32(a) || isnan32(b)) { *flags |= NV; return 0; }
    if (a == b || (iszero32(a) && iszero32(b))) return 1;
    return tlt32(a, b);
}

// fclass bits: 0 -inf, 1 -normal, 2 -subnormal, 3 -0, 4 +0, 5 +subnormal, 6 +normal, 7 +inf,
// 8 signalling NaN, 9 quiet NaN.
static inline uint32_t classify(int sign, int expAllOnes, int expZero, int mantZero, int quiet) {
    if (expAllOnes) {
        if (mantZero) return sign ? 1u << 0 : 1u << 7;
        return quiet ? 1u << 9 : 1u << 8;
    }
    if (expZero) {
        if (mantZero) return sign ? 1u << 3 : 1u << 4;
        return sign ? 1u << 2 : 1u << 5;
    }
    return sign ? 1u << 1 : 1u << 6;
}
uint32_t rvf32_classify(uint32_t a) {
    uint32_t e = (a >> 23) & 0xff, m = a & 0x7fffff;
    return classify(a >> 31, e == 0xff, e == 0, m == 0, (a >> 22) & 1);
}

// ---------------------------------------------------------------------------------------------
// Float -> integer. The value (binary32 converted exactly to binary64) is rounded to an
// integral value in software, then range-checked: out of range (after rounding) or NaN is
// invalid and saturates; otherwise inexact if rounding changed the value.

static double round_integral(double x, int rm, int *inexact) {
    uint64_t u = b64(x);
    int e = (int)((u >> 52) & 0x7ff);
    int sign = (int)(u >> 63);
    *inexact = 0;
    if (e >= 1023 + 52) return x;  // already integral (or inf)
    if (e < 1023) {  // |x| < 1
        if ((u << 1) == 0) return x;
        *inexact = 1;
        int up;
        switch (rm) {
        case RVFP_RNE: up = e == 1022 && (u & 0x000fffffffffffffull) != 0; break;  // > 0.5
        case RVFP_RMM: up = e == 1022; break;                                       // >= 0.5
        case RVFP_RDN: up = sign; break;
        case RVFP_RUP: up = !sign; break;
        default: up = 0; break;
        }
        return up ? (sign ? -1.0 : 1.0) : (sign ? -0.0 : 0.0);
    }
    int fb = 1023 + 52 - e;  // fraction bits, 1..52
    uint64_t fmask = (1ull << fb) - 1, frac = u & fmask, half = 1ull << (fb - 1);
    if (!frac) return x;
    *inexact = 1;
    uint64_t t = u & ~fmask;  // truncated toward zero
    int up;
    switch (rm) {
    // The units bit of the integer part is bit fb of the encoding; for e == 1023 that is the
    // exponent's low bit, which is 1 like the hidden units bit it stands for.
    case RVFP_RNE: up = frac > half || (frac == half && ((t >> fb) & 1)); break;
    case RVFP_RMM: up = frac >= half; break;
    case RVFP_RDN: up = sign; break;
    case RVFP_RUP: up = !sign; break;
    default: up = 0; break;
    }
    if (up) t += 1ull << fb;  // a carry into the exponent is the right next power of two
    return f64(t);
}

enum { K_I32, K_U32, K_I64, K_U64 };

static uint64_t to_int(double x, int isnan, int rm, int kind, uint32_t *flags) {
    static const uint64_t nanres[4] = { 0x7fffffffull, 0xffffffffffffffffull, 0x7fffffffffffffffull, 0xffffffffffffffffull };
    if (isnan) { *flags |= NV; return nanres[kind]; }
    int inexact;
    double r = round_integral(x, rm, &inexact);
    uint64_t out;
    switch (kind) {
    case K_I32:
        if (r >= 2147483648.0) { *flags |= NV; return 0x7fffffffull; }
        if (r < -2147483648.0) { *flags |= NV; return (uint64_t)(int64_t)INT32_MIN; }
        out = (uint64_t)(int64_t)r;
        break;
    case K_U32:
        if (r >= 4294967296.0) { *flags |= NV; return 0xffffffffffffffffull; }
        if (r < 0.0) { *flags |= NV; return 0; }
        out = (uint64_t)(int64_t)(int32_t)(uint32_t)r;
        break;
    case K_I64:
        if (r >= 9223372036854775808.0) { *flags |= NV; return 0x7fffffffffffffffull; }
        if (r < -9223372036854775808.0) { *flags |= NV; return 0x8000000000000000ull; }
        out = (uint64_t)(int64_t)r;
        break;
    default:
        if (r >= 18446744073709551616.0) { *flags |= NV; return 0xffffffffffffffffull; }
        if (r < 0.0) { *flags |= NV; return 0; }
        out = r >= 9223372036854775808.0 ? (uint64_t)(int64_t)(r - 9223372036854775808.0) + 0x8000000000000000ull
                                         : (uint64_t)(int64_t)r;
        break;
    }
    if (inexact) *flags |= NX;
    return out;
}

static inline double f32_exact64(uint32_t a) { return (double)f32(a); }

int64_t rvf32_to_i32(uint32_t a, int rm, uint32_t *flags) { return (int64_t)to_int(isnan32(a) ? 0.0 : f32_exact64(a), isnan32(a), rm, K_I32, flags); }
int64_t rvf32_to_u32(uint32_t a, int rm, uint32_t *flags) { return (int64_t)to_int(isnan32(a) ? 0.0 : f32_exact64(a), isnan32(a), rm, K_U32, flags); }
int64_t rvf32_to_i64(uint32_t a, int rm, uint32_t *flags) { return (int64_t)to_int(isnan32(a) ? 0.0 : f32_exact64(a), isnan32(a), rm, K_I64, flags); }
uint64_t rvf32_to_u64(uint32_t a, int rm, uint32_t *flags) { return to_int(isnan32(a) ? 0.0 : f32_exact64(a), isnan32(a), rm, K_U64, flags); }

// Integer -> float: always software (exact in every mode, no host mode switch).
static inline uint64_t mag64(int64_t v) { return v < 0 ? 0 - (uint64_t)v : (uint64_t)v; }
uint32_t rvf32_from_i32(int32_t v, int rm, uint32_t *flags) { return (uint32_t)rvfp_soft_from_int(0, v < 0, mag64(v), rm, flags); }
uint32_t rvf32_from_u32(uint32_t v, int rm, uint32_t *flags) { return (uint32_t)rvfp_soft_from_int(0, 0, v, rm, flags); }
uint32_t rvf32_from_i64(int64_t v, int rm, uint32_t *flags) { return (uint32_t)rvfp_soft_from_int(0, v < 0, mag64(v), rm, flags); }
uint32_t rvf32_from_u64(uint64_t v, int rm, uint32_t *flags) { return (uint32_t)rvfp_soft_from_int(0, 0, v, rm, flags); }

// ---------------------------------------------------------------------------------------------
// Double precision

uint64_t rvf64_add(uint64_t a, uint64_t b, int rm, uint32_t *flags) {
    if (rm == RVFP_RMM) return rvfp_soft_add(1, a, b, rm, flags);
    return fix64(b64(h_add64(f64(a), f64(b), rm, flags)));
}
uint64_t rvf64_sub(uint64_t a, uint64_t b, int rm, uint32_t *flags) {
    if (rm == RVFP_RMM) return rvfp_soft_add(1, a, b ^ S64, rm, flags);
    return fix64(b64(h_sub64(f64(a), f64(b), rm, flags)));
}
uint64_t rvf64_mul(uint64_t a, uint64_t b, int rm, uint32_t *flags) {
    if (rm == RVFP_RMM) return rvfp_soft_mul(1, a, b, rm, flags);
    return fix64(b64(h_mul64(f64(a), f64(b), rm, flags)));
}
uint64_t rvf64_div(uint64_t a, uint64_t b, int rm, uint32_t *flags) {
    if (rm == RVFP_RMM) return rvfp_soft_div(1, a, b, rm, flags);
    return fix64(b64(h_div64(f64(a), f64(b), rm, flags)));
}
uint64_t rvf64_sqrt(uint64_t a, int rm, uint32_t *flags) {
    if (rm == RVFP_RMM) rm = RVFP_RNE;  // no ties: RMM == RNE for sqrt
    return fix64(b64(h_sqrt64(f64(a), rm, flags)));
}

static uint64_t fma64(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *flags) {
    if (isnan64(a) || isnan64(b) || isnan64(c)) {
        if (issnan64(a) || issnan64(b) || issnan64(c) || (isinf64(a) && iszero64(b)) ||
            (iszero64(a) && isinf64(b)))
            *flags |= NV;
        return CNAN64;
    }
    if (rm == RVFP_RMM || !host_has_fma()) return rvfp_soft_fma(1, a, b, c, rm, flags);
    return fix64(b64(h_fma64(f64(a), f64(b), f64(c), rm, flags)));
}
uint64_t rvf64_madd(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *flags) { return fma64(a, b, c, rm, flags); }
uint64_t rvf64_msub(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *flags) { return fma64(a, b, c ^ S64, rm, flags); }
uint64_t rvf64_nmsub(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *flags) { return fma64(a ^ S64, b, c, rm, flags); }
uint64_t rvf64_nmadd(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *flags) { return fma64(a ^ S64, b, c ^ S64, rm, flags); }

uint64_t rvf64_min(uint64_t a, uint64_t b, uint32_t *flags) {
    if (issnan64(a) || issnan64(b)) *flags |= NV;
    if (isnan64(a)) return isnan64(b) ? CNAN64 : b;
    if (isnan64(b)) return a;
    return tlt64(a, b) ? a : b;
}
uint64_t rvf64_max(uint64_t a, uint64_t b, uint32_t *flags) {
    if (issnan64(a) || issnan64(b)) *flags |= NV;
    if (isnan64(a)) return isnan64(b) ? CNAN64 : b;
    if (isnan64(b)) return a;
    return tlt64(a, b) ? b : a;
}
int rvf64_eq(uint64_t a, uint64_t b, uint32_t *flags) {
    if (isnan64(a) || isnan64(b)) {
        if (issnan64(a) || issnan64(b)) *flags |= NV;
        return 0;
    }
    return a == b || (iszero64(a) && iszero64(b));
}
int rvf64_lt(uint64_t a, uint64_t b, uint32_t *flags) {
    if (isnan64(a) || isnan64(b)) { *flags |= NV; return 0; }
    if (iszero64(a) && iszero64(b)) return 0;
    return tlt64(a, b);
}
int rvf64_le(uint64_t a, uint64_t b, uint32_t *flags) {
    if (isnan64(a) || isnan64(b)) { *flags |= NV; return 0; }
    if (a == b || (iszero64(a) && iszero64(b))) return 1;
    return tlt64(a, b);
}
uint32_t rvf64_classify(uint64_t a) {
    uint64_t e = (a >> 52) & 0x7ff, m = a & 0x000fffffffffffffull;
    return classify((int)(a >> 63), e == 0x7ff, e == 0, m == 0, (int)((a >> 51) & 1));
}

int64_t rvf64_to_i32(uint64_t a, int rm, uint32_t *flags) { return (int64_t)to_int(isnan64(a) ? 0.0 : f64(a), isnan64(a), rm, K_I32, flags); }
int64_t rvf64_to_u32(uint64_t a, int rm, uint32_t *flags) { return (int64_t)to_int(isnan64(a) ? 0.0 : f64(a), isnan64(a), rm, K_U32, flags); }
int64_t rvf64_to_i64(uint64_t a, int rm, uint32_t *flags) { return (int64_t)to_int(isnan64(a) ? 0.0 : f64(a), isnan64(a), rm, K_I64, flags); }
uint64_t rvf64_to_u64(uint64_t a, int rm, uint32_t *flags) { return to_int(isnan64(a) ? 0.0 : f64(a), isnan64(a), rm, K_U64, flags); }

uint64_t rvf64_from_i32(int32_t v, int rm, uint32_t *flags) { return rvfp_soft_from_int(1, v < 0, mag64(v), rm, flags); }
uint64_t rvf64_from_u32(uint32_t v, int rm, uint32_t *flags) { return rvfp_soft_from_int(1, 0, v, rm, flags); }
uint64_t rvf64_from_i64(int64_t v, int rm, uint32_t *flags) { return rvfp_soft_from_int(1, v < 0, mag64(v), rm, flags); }
uint64_t rvf64_from_u64(uint64_t v, int rm, uint32_t *flags) { return rvfp_soft_from_int(1, 0, v, rm, flags); }

// ---------------------------------------------------------------------------------------------
// Between formats

uint64_t rvf32_to_f64(uint32_t a, uint32_t *flags) {
    if (isnan32(a)) {
        if (issnan32(a)) *flags |= NV;
        return CNAN64;
    }
    return b64(f32_exact64(a));  // exact (binary32 subnormals are binary64 normals)
}

uint32_t rvf64_to_f32(uint64_t a, int rm, uint32_t *flags) {
    if (isnan64(a)) {
        if (issnan64(a)) *flags |= NV;
        return CNAN32;
    }
    if (rm == RVFP_RMM) return (uint32_t)rvfp_soft_f64_to_f32(a, rm, flags);
    return b32(h_cvt64to32(f64(a), rm, flags));
}
