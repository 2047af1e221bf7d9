#ifndef TRAPEZE_RVFP_H
#define TRAPEZE_RVFP_H
// RISC-V F and D extension arithmetic (IEEE 754-2008, RISC-V NaN rules).
//
// Flags, as in fcsr.fflags: NX=1 UF=2 OF=4 DZ=8 NV=16. Every function ORs the flags it raises
// into *flags (it never clears them).
// rm: 0 RNE, 1 RTZ, 2 RDN, 3 RUP, 4 RMM. The caller has already resolved the dynamic mode (7)
// and rejected the invalid ones (5, 6).
// Single-precision operands and results are raw uint32_t bits (the caller does NaN-boxing);
// double-precision ones are raw uint64_t bits. Any NaN result is the canonical NaN
// (0x7fc00000 / 0x7ff8000000000000). Underflow is detected after rounding.
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    RVFP_NX = 1, RVFP_UF = 2, RVFP_OF = 4, RVFP_DZ = 8, RVFP_NV = 16,
};
enum {
    RVFP_RNE = 0, RVFP_RTZ = 1, RVFP_RDN = 2, RVFP_RUP = 3, RVFP_RMM = 4,
};
#define RVF32_CANONICAL_NAN 0x7fc00000u
#define RVF64_CANONICAL_NAN 0x7ff8000000000000ull

// ---- single precision ----
uint32_t rvf32_add(uint32_t a, uint32_t b, int rm, uint32_t *flags);
uint32_t rvf32_sub(uint32_t a, uint32_t b, int rm, uint32_t *flags);
uint32_t rvf32_mul(uint32_t a, uint32_t b, int rm, uint32_t *flags);
uint32_t rvf32_div(uint32_t a, uint32_t b, int rm, uint32_t *flags);
uint32_t rvf32_sqrt(uint32_t a, int rm, uint32_t *flags);
uint32_t rvf32_madd(uint32_t a, uint32_t b, uint32_t c, int rm, uint32_t *flags);   // a*b+c, one rounding
uint32_t rvf32_msub(uint32_t a, uint32_t b, uint32_t c, int rm, uint32_t *flags);   // a*b-c
uint32_t rvf32_nmsub(uint32_t a, uint32_t b, uint32_t c, int rm, uint32_t *flags);  // -(a*b)+c
uint32_t rvf32_nmadd(uint32_t a, uint32_t b, uint32_t c, int rm, uint32_t *flags);  // -(a*b)-c
uint32_t rvf32_min(uint32_t a, uint32_t b, uint32_t *flags);  // RISC-V 2.2+ minNum semantics, -0 < +0
uint32_t rvf32_max(uint32_t a, uint32_t b, uint32_t *flags);
int rvf32_eq(uint32_t a, uint32_t b, uint32_t *flags);   // quiet: NV only for sNaN
int rvf32_lt(uint32_t a, uint32_t b, uint32_t *flags);   // signaling: NV for any NaN
int rvf32_le(uint32_t a, uint32_t b, uint32_t *flags);
uint32_t rvf32_classify(uint32_t a);                      // the 10-bit fclass mask
int64_t  rvf32_to_i32(uint32_t a, int rm, uint32_t *flags);  // fcvt.w.s, sign-extended to 64 bits
int64_t  rvf32_to_u32(uint32_t a, int rm, uint32_t *flags);  // fcvt.wu.s, 32-bit result sign-extended
int64_t  rvf32_to_i64(uint32_t a, int rm, uint32_t *flags);
uint64_t rvf32_to_u64(uint32_t a, int rm, uint32_t *flags);
uint32_t rvf32_from_i32(int32_t v, int rm, uint32_t *flags);
uint32_t rvf32_from_u32(uint32_t v, int rm, uint32_t *flags);
uint32_t rvf32_from_i64(int64_t v, int rm, uint32_t *flags);
uint32_t rvf32_from_u64(uint64_t v, int rm, uint32_t *flags);

// ---- double precision ----
uint64_t rvf64_add(uint64_t a, uint64_t b, int rm, uint32_t *flags);
uint64_t rvf64_sub(uint64_t a, uint64_t b, int rm, uint32_t *flags);
uint64_t rvf64_mul(uint64_t a, uint64_t b, int rm, uint32_t *flags);
uint64_t rvf64_div(uint64_t a, uint64_t b, int rm, uint32_t *flags);
uint64_t rvf64_sqrt(uint64_t a, int rm, uint32_t *flags);
uint64_t rvf64_madd(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *flags);
uint64_t rvf64_msub(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *flags);
uint64_t rvf64_nmsub(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *flags);
uint64_t rvf64_nmadd(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *flags);
uint64_t rvf64_min(uint64_t a, uint64_t b, uint32_t *flags);
uint64_t rvf64_max(uint64_t a, uint64_t b, uint32_t *flags);
int rvf64_eq(uint64_t a, uint64_t b, uint32_t *flags);
int rvf64_lt(uint64_t a, uint64_t b, uint32_t *flags);
int rvf64_le(uint64_t a, uint64_t b, uint32_t *flags);
uint32_t rvf64_classify(uint64_t a);
int64_t  rvf64_to_i32(uint64_t a, int rm, uint32_t *flags);  // fcvt.w.d, sign-extended to 64 bits
int64_t  rvf64_to_u32(uint64_t a, int rm, uint32_t *flags);  // fcvt.wu.d, 32-bit result sign-extended
int64_t  rvf64_to_i64(uint64_t a, int rm, uint32_t *flags);
uint64_t rvf64_to_u64(uint64_t a, int rm, uint32_t *flags);
uint64_t rvf64_from_i32(int32_t v, int rm, uint32_t *flags);
uint64_t rvf64_from_u32(uint32_t v, int rm, uint32_t *flags);
uint64_t rvf64_from_i64(int64_t v, int rm, uint32_t *flags);
uint64_t rvf64_from_u64(uint64_t v, int rm, uint32_t *flags);

// ---- between formats ----
uint64_t rvf32_to_f64(uint32_t a, uint32_t *flags);              // fcvt.d.s (exact; NV on sNaN; canonical NaN out)
uint32_t rvf64_to_f32(uint64_t a, int rm, uint32_t *flags);      // fcvt.s.d

#ifdef __cplusplus
}
#endif
#endif
