// Software IEEE 754 binary32/binary64 arithmetic, exact in every rounding mode.
//
// rvfp.c uses this for round-to-nearest-ties-to-max-magnitude (RMM), which x86 (and most
// hosts) cannot do in hardware, for int -> float conversions, and for fused multiply-add on a
// host without an FMA unit. It follows RISC-V rules: canonical NaN results, NV for signalling
// NaN inputs (and for inf*0 in a fused multiply-add even when the addend is a quiet NaN),
// tininess detected after rounding.
//
// Internal representation of a finite nonzero value: sign, exponent e and a 64-bit
// significand `sig` normalised with its leading one at bit 62 (bit 63 is room for a carry):
// value = sig / 2^62 * 2^e. Bits shifted out to the right are "jammed" (ORed) into bit 0, so
// bit 0 is a sticky bit; all operands enter with at least 10 trailing zero bits, which keeps the
// jammed results a correct round-to-odd of the exact value.
#include <stdint.h>
#include "rvfp.h"

#define NX RVFP_NX
#define UF RVFP_UF
#define OF RVFP_OF
#define DZ RVFP_DZ
#define NV RVFP_NV

typedef unsigned __int128 u128;

// Per-format constants. is64 selects binary64 (1) or binary32 (0).
#define P(is64) ((is64) ? 53 : 24)              // precision, hidden bit included
#define MBITS(is64) (P(is64) - 1)                // stored mantissa bits
#define BIAS(is64) ((is64) ? 1023 : 127)
#define EMIN(is64) (1 - BIAS(is64))
#define EMAX(is64) (BIAS(is64))
#define SIGNBIT(is64) ((is64) ? 0x8000000000000000ull : 0x80000000ull)
#define EXPMASK(is64) ((is64) ? 0x7ff0000000000000ull : 0x7f800000ull)
#define MANTMASK(is64) ((is64) ? 0x000fffffffffffffull : 0x007fffffull)
#define QUIETBIT(is64) ((is64) ? 0x0008000000000000ull : 0x00400000ull)
#define DEFNAN(is64) ((is64) ? RVF64_CANONICAL_NAN : (uint64_t)RVF32_CANONICAL_NAN)

static inline int s_isnan(int is64, uint64_t a) {
    return (a & ~SIGNBIT(is64)) > EXPMASK(is64);
}
static inline int s_issnan(int is64, uint64_t a) {
    return s_isnan(is64, a) && !(a & QUIETBIT(is64));
}
static inline int s_isinf(int is64, uint64_t a) {
    return (a & ~SIGNBIT(is64)) == EXPMASK(is64);
}
static inline int s_iszero(int is64, uint64_t a) {
    return (a & ~SIGNBIT(is64)) == 0;
}
static inline int s_sign(int is64, uint64_t a) {
    return (a & SIGNBIT(is64)) != 0;
}
static inline uint64_t s_inf(int is64, int sign) {
    return EXPMASK(is64) | (sign ? SIGNBIT(is64) : 0);
}
static inline uint64_t s_zero(int is64, int sign) {
    return sign ? SIGNBIT(is64) : 0;
}

static inline uint64_t jam64(uint64_t x, int n) {
    if (n <= 0) return x;
    if (n >= 63) return x != 0;
    return (x >> n) | ((x << (64 - n)) != 0);
}
static inline u128 jam128(u128 x, int n) {
    if (n <= 0) return x;
    if (n >= 127) return x != 0;
    return (x >> n) | ((x << (128 - n)) != 0);
}
static inline int clz128(u128 x) {
    uint64_t hi = (uint64_t)(x >> 64);
    return hi ? __builtin_clzll(hi) : 64 + __builtin_clzll((uint64_t)x);
}

// Unpack a finite nonzero value.
static inline void s_unpack(int is64, uint64_t a, int *sign, int *exp, uint64_t *sig) {
    int mb = MBITS(is64);
    uint64_t mant = a & MANTMASK(is64);
    int be = (int)((a & EXPMASK(is64)) >> mb);
    *sign = s_sign(is64, a);
    if (be == 0) {  // subnormal: mant * 2^(EMIN - MBITS)
        int lz = __builtin_clzll(mant);
        *sig = mant << (lz - 1);
        *exp = 63 - lz + EMIN(is64) - mb;
    } else {
        *sig = (mant | (1ull << mb)) << (62 - mb);
        *exp = be - BIAS(is64);
    }
}

// Round sig/2^62 * 2^exp (sig != 0, leading one at bit 62 or below only when exp is already
// at or below EMIN) to the format, with the RISC-V flags.
uint64_t rvfp_soft_round_pack(int is64, int sign, int exp, uint64_t sig, int rm, uint32_t *flags) {
    const int p = P(is64);
    const int rbits = 63 - p;  // 10 for binary64, 39 for binary32
    const uint64_t rmask = (1ull << rbits) - 1, half = 1ull << (rbits - 1);
    uint64_t inc;
    switch (rm) {
    case RVFP_RTZ: inc = 0; break;
    case RVFP_RDN: inc = sign ? rmask : 0; break;
    case RVFP_RUP: inc = sign ? 0 : rmask; break;
    default: inc = half; break;  // RNE, RMM
    }
    // Normalise (callers normally pass sig with the leading one at bit 62 already).
    if (sig >> 63) { sig = jam64(sig, 1); exp++; }
    while (!(sig >> 62)) { sig <<= 1; exp--; }

    uint32_t f = 0;
    if (exp < EMIN(is64)) {
        // Tiny after rounding: the value rounded to p bits with an unbounded exponent is still
        // below 2^EMIN. It only reaches 2^EMIN when exp == EMIN-1 and the rounding carries out.
        int tiny = (exp < EMIN(is64) - 1) || (sig + inc < 0x8000000000000000ull);
        sig = jam64(sig, EMIN(is64) - exp);
        exp = EMIN(is64);
        if (tiny && (sig & rmask)) f |= UF;
    }
    uint64_t rb = sig & rmask;
    if (rb) f |= NX;
    uint64_t m = (sig + inc) >> rbits;
    if (rm == RVFP_RNE && rb == half) m &= ~1ull;
    if (m >> p) { m >>= 1; exp++; }  // rounding carried into a new binade
    uint64_t out;
    if (m == 0) {
        out = s_zero(is64, sign);
    } else if (!(m >> (p - 1))) {  // subnormal
        out = (sign ? SIGNBIT(is64) : 0) | m;
    } else if (exp > EMAX(is64)) {
        f |= OF | NX;
        int toinf = rm == RVFP_RNE || rm == RVFP_RMM || (rm == RVFP_RDN && sign) || (rm == RVFP_RUP && !sign);
        out = toinf ? s_inf(is64, sign) : (s_inf(is64, sign) - 1);  // inf - 1 ulp = max finite
    } else {
        out = (sign ? SIGNBIT(is64) : 0) | ((uint64_t)(exp + BIAS(is64)) << (p - 1)) | (m & MANTMASK(is64));
    }
    *flags |= f;
    return out;
}

// Sign of an exact zero sum of operands with opposite signs.
static inline int zero_sum_sign(int rm) { return rm == RVFP_RDN; }

uint64_t rvfp_soft_add(int is64, uint64_t a, uint64_t b, int rm, uint32_t *flags) {
    if (s_isnan(is64, a) || s_isnan(is64, b)) {
        if (s_issnan(is64, a) || s_issnan(is64, b)) *flags |= NV;
        return DEFNAN(is64);
    }
    int sa = s_sign(is64, a), sb = s_sign(is64, b);
    if (s_isinf(is64, a)) {
        if (s_isinf(is64, b) && sa != sb) { *flags |= NV; return DEFNAN(is64); }
        return a;
    }
    if (s_isinf(is64, b)) return b;
    if (s_iszero(is64, a) && s_iszero(is64, b))
        return s_zero(is64, sa == sb ? sa : zero_sum_sign(rm));
    if (s_iszero(is64, a)) return b;
    if (s_iszero(is64, b)) return a;
    int ea, eb;
    uint64_t ma, mb;
    s_unpack(is64, a, &sa, &ea, &ma);
    s_unpack(is64, b, &sb, &eb, &mb);
    if (eb > ea || (eb == ea && mb > ma)) {  // make |a| >= |b|
        int t = ea; ea = eb; eb = t;
        uint64_t u = ma; ma = mb; mb = u;
        t = sa; sa = sb; sb = t;
    }
    mb = jam64(mb, ea - eb);
    if (sa == sb) {
        uint64_t s = ma + mb;  // < 2^64: both < 2^63
        return rvfp_soft_round_pack(is64, sa, ea, s, rm, flags);
    }
    uint64_t d = ma - mb;
    if (d == 0) return s_zero(is64, zero_sum_sign(rm));
    int sh = __builtin_clzll(d) - 1;
    return rvfp_soft_round_pack(is64, sa, ea - sh, d << sh, rm, flags);
}

uint64_t rvfp_soft_mul(int is64, uint64_t a, uint64_t b, int rm, uint32_t *flags) {
    if (s_isnan(is64, a) || s_isnan(is64, b)) {
        if (s_issnan(is64, a) || s_issnan(is64, b)) *flags |= NV;
        return DEFNAN(is64);
    }
    int sign = s_sign(is64, a) ^ s_sign(is64, b);
    if (s_isinf(is64, a) || s_isinf(is64, b)) {
        if (s_iszero(is64, a) || s_iszero(is64, b)) { *flags |= NV; return DEFNAN(is64); }
        return s_inf(is64, sign);
    }
    if (s_iszero(is64, a) || s_iszero(is64, b)) return s_zero(is64, sign);
    int sa, sb, ea, eb;
    uint64_t ma, mb;
    s_unpack(is64, a, &sa, &ea, &ma);
    s_unpack(is64, b, &sb, &eb, &mb);
    u128 prod = (u128)ma * mb;  // in [2^124, 2^126)
    int e = ea + eb;
    uint64_t sig;
    if (prod >> 125) { sig = (uint64_t)(prod >> 63) | ((prod << 65) != 0); e++; }
    else sig = (uint64_t)(prod >> 62) | ((prod << 66) != 0);
    return rvfp_soft_round_pack(is64, sign, e, sig, rm, flags);
}

uint64_t rvfp_soft_div(int is64, uint64_t a, uint64_t b, int rm, uint32_t *flags) {
    if (s_isnan(is64, a) || s_isnan(is64, b)) {
        if (s_issnan(is64, a) || s_issnan(is64, b)) *flags |= NV;
        return DEFNAN(is64);
    }
    int sign = s_sign(is64, a) ^ s_sign(is64, b);
    if (s_isinf(is64, a)) {
        if (s_isinf(is64, b)) { *flags |= NV; return DEFNAN(is64); }
        return s_inf(is64, sign);
    }
    if (s_isinf(is64, b)) return s_zero(is64, sign);
    if (s_iszero(is64, b)) {
        if (s_iszero(is64, a)) { *flags |= NV; return DEFNAN(is64); }
        *flags |= DZ;
        return s_inf(is64, sign);
    }
    if (s_iszero(is64, a)) return s_zero(is64, sign);
    int sa, sb, ea, eb;
    uint64_t ma, mb;
    s_unpack(is64, a, &sa, &ea, &ma);
    s_unpack(is64, b, &sb, &eb, &mb);
    int e = ea - eb;
    u128 num;
    if (ma < mb) { num = (u128)ma << 63; e--; }
    else num = (u128)ma << 62;
    uint64_t q = (uint64_t)(num / mb);  // in [2^62, 2^63)
    if ((u128)q * mb != num) q |= 1;
    return rvfp_soft_round_pack(is64, sign, e, q, rm, flags);
}

// a*b + c with a single rounding (callers apply the negations of msub/nmsub/nmadd to the
// operands' sign bits first).
uint64_t rvfp_soft_fma(int is64, uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *flags) {
    int infzero = (s_isinf(is64, a) && s_iszero(is64, b)) || (s_iszero(is64, a) && s_isinf(is64, b));
    if (s_isnan(is64, a) || s_isnan(is64, b) || s_isnan(is64, c)) {
        if (s_issnan(is64, a) || s_issnan(is64, b) || s_issnan(is64, c) || infzero) *flags |= NV;
        return DEFNAN(is64);
    }
    if (infzero) { *flags |= NV; return DEFNAN(is64); }
    int sp = s_sign(is64, a) ^ s_sign(is64, b), sc = s_sign(is64, c);
    if (s_isinf(is64, a) || s_isinf(is64, b)) {
        if (s_isinf(is64, c) && sc != sp) { *flags |= NV; return DEFNAN(is64); }
        return s_inf(is64, sp);
    }
    if (s_isinf(is64, c)) return c;
    if (s_iszero(is64, a) || s_iszero(is64, b)) {
        if (s_iszero(is64, c)) return s_zero(is64, sp == sc ? sp : zero_sum_sign(rm));
        return c;
    }
    if (s_iszero(is64, c)) return rvfp_soft_mul(is64, a, b, rm, flags);

    int sa, sb, ea, eb, ec;
    uint64_t ma, mb, mc;
    s_unpack(is64, a, &sa, &ea, &ma);
    s_unpack(is64, b, &sb, &eb, &mb);
    s_unpack(is64, c, &sc, &ec, &mc);
    // Exact product, leading one at bit 126: value = P / 2^126 * 2^ep.
    u128 P = (u128)ma * mb;
    int ep = ea + eb;
    if (P >> 125) { P <<= 1; ep++; } else P <<= 2;
    u128 C = (u128)mc << 64;
    // X: larger magnitude.
    u128 X = P, Y = C;
    int ex = ep, ey = ec, sx = sp, sy = sc;
    if (ec > ep || (ec == ep && C > P)) { X = C; Y = P; ex = ec; ey = ep; sx = sc; sy = sp; }
    Y = jam128(Y, ex - ey);
    u128 S;
    if (sx == sy) {
        S = X + Y;
        if (S >> 127) { S = jam128(S, 1); ex++; }
    } else {
        S = X - Y;
        if (S == 0) return s_zero(is64, zero_sum_sign(rm));
        int sh = clz128(S) - 1;
        S <<= sh;
        ex -= sh;
    }
    uint64_t sig = (uint64_t)(S >> 64) | ((uint64_t)S != 0);
    return rvfp_soft_round_pack(is64, sx, ex, sig, rm, flags);
}

uint64_t rvfp_soft_from_int(int is64, int sign, uint64_t mag, int rm, uint32_t *flags) {
    if (mag == 0) return 0;
    int lz = __builtin_clzll(mag);
    if (lz == 0) return rvfp_soft_round_pack(is64, sign, 63, jam64(mag, 1), rm, flags);
    return rvfp_soft_round_pack(is64, sign, 63 - lz, mag << (lz - 1), rm, flags);
}

uint64_t rvfp_soft_f64_to_f32(uint64_t a, int rm, uint32_t *flags) {
    if (s_isnan(1, a)) {
        if (s_issnan(1, a)) *flags |= NV;
        return RVF32_CANONICAL_NAN;
    }
    int sign = s_sign(1, a);
    if (s_isinf(1, a)) return s_inf(0, sign);
    if (s_iszero(1, a)) return s_zero(0, sign);
    int e;
    uint64_t m;
    s_unpack(1, a, &sign, &e, &m);
    return rvfp_soft_round_pack(0, sign, e, m, rm, flags);
}
