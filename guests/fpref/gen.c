// Reference-vector generator for Trapeze's F/D arithmetic (Sources/CShims/rvfp.c).
//
// Runs every F and D arithmetic instruction through inline asm, in each static rounding mode,
// on a deterministic set of edge-case and pseudo-random operands, and prints the results and
// the fflags each one raised. Run it on a RISC-V machine or under qemu-riscv64:
//
//   riscv64-linux-gnu-gcc -O1 -static -march=rv64gc -o gen gen.c
//   qemu-riscv64 ./gen [scale [seed]] > Tests/RISCVTests/fpref/fpref.txt
// (guests/fpref/regen.sh does both.)
//
// Format: a line "@OP" (e.g. "@fadd.s") starts the vectors of instruction OP; then one line each
// (all numbers hex, no 0x):
//   OPERANDS... R F                     for instructions without a rounding mode
//   OPERANDS... R0 F0 R1 F1 ... R4 F4   for instructions with one: rm = rne rtz rdn rup rmm
// where R is the result (float results: the raw 32/64 bits; integer results: the whole 64-bit
// destination register) and F the fflags raised. A slot written "=" repeats the previous
// slot's R F. Lines starting with '#' are comments.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {  // xorshift64
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

// ------------------------------------------------------------------------------------------
// Instruction wrappers: ASM_* run one instruction with the given rounding-mode suffix between
// clearing and reading fflags.

typedef uint64_t (*op3_fn)(uint64_t a, uint64_t b, uint64_t c, int rm, uint64_t *f);

// float r = insn(float a, float b) [rm]; rm 5 = no rounding-mode operand
#define GEN_FFF(fn, insn, mvin, mvout)                                                           \
    static uint64_t fn(uint64_t a, uint64_t b, uint64_t c, int rm, uint64_t *f) {                \
        uint64_t r; (void)c;                                                                     \
        switch (rm) {                                                                            \
        case 0: FFF(insn, mvin, mvout, ", rne"); break;                                          \
        case 1: FFF(insn, mvin, mvout, ", rtz"); break;                                          \
        case 2: FFF(insn, mvin, mvout, ", rdn"); break;                                          \
        case 3: FFF(insn, mvin, mvout, ", rup"); break;                                          \
        case 4: FFF(insn, mvin, mvout, ", rmm"); break;                                          \
        default: FFF(insn, mvin, mvout, ""); break;                                              \
        }                                                                                        \
        return r;                                                                                \
    }
#define FFF(insn, mvin, mvout, RM)                                                               \
    __asm__ volatile("fsflags zero\n\t" mvin " ft0, %[a]\n\t" mvin " ft1, %[b]\n\t"              \
                     insn " ft2, ft0, ft1" RM "\n\t" mvout " %[r], ft2\n\tfrflags %[f]"          \
                     : [r] "=r"(r), [f] "=r"(*f) : [a] "r"(a), [b] "r"(b) : "ft0", "ft1", "ft2")

// float r = insn(float a, float b, float c) [rm]
#define GEN_FFFF(fn, insn, mvin, mvout)                                                          \
    static uint64_t fn(uint64_t a, uint64_t b, uint64_t c, int rm, uint64_t *f) {                \
        uint64_t r;                                                                              \
        switch (rm) {                                                                            \
        case 0: FFFF(insn, mvin, mvout, ", rne"); break;                                         \
        case 1: FFFF(insn, mvin, mvout, ", rtz"); break;                                         \
        case 2: FFFF(insn, mvin, mvout, ", rdn"); break;                                         \
        case 3: FFFF(insn, mvin, mvout, ", rup"); break;                                         \
        default: FFFF(insn, mvin, mvout, ", rmm"); break;                                        \
        }                                                                                        \
        return r;                                                                                \
    }
#define FFFF(insn, mvin, mvout, RM)                                                              \
    __asm__ volatile("fsflags zero\n\t" mvin " ft0, %[a]\n\t" mvin " ft1, %[b]\n\t"              \
                     mvin " ft2, %[c]\n\t" insn " ft3, ft0, ft1, ft2" RM "\n\t"                  \
                     mvout " %[r], ft3\n\tfrflags %[f]"                                          \
                     : [r] "=r"(r), [f] "=r"(*f) : [a] "r"(a), [b] "r"(b), [c] "r"(c)           \
                     : "ft0", "ft1", "ft2", "ft3")

// r = insn(float a) [rm], r in an f register (mvout "fmv...") or an x register (mvout "").
#define GEN_F1(fn, insn, mvin, mvout, dst)                                                       \
    static uint64_t fn(uint64_t a, uint64_t b, uint64_t c, int rm, uint64_t *f) {                \
        uint64_t r; (void)b; (void)c;                                                            \
        switch (rm) {                                                                            \
        case 0: F1(insn, mvin, mvout, dst, ", rne"); break;                                      \
        case 1: F1(insn, mvin, mvout, dst, ", rtz"); break;                                      \
        case 2: F1(insn, mvin, mvout, dst, ", rdn"); break;                                      \
        case 3: F1(insn, mvin, mvout, dst, ", rup"); break;                                      \
        case 4: F1(insn, mvin, mvout, dst, ", rmm"); break;                                      \
        default: F1(insn, mvin, mvout, dst, ""); break;                                          \
        }                                                                                        \
        return r;                                                                                \
    }
#define F1(insn, mvin, mvout, dst, RM)                                                           \
    __asm__ volatile("fsflags zero\n\t" mvin " ft0, %[a]\n\t" insn " " dst ", ft0" RM "\n\t"     \
                     mvout "\n\tfrflags %[f]"                                                    \
                     : [r] "=r"(r), [f] "=r"(*f) : [a] "r"(a) : "ft0", "ft2")

// float r = insn(int a) [rm]
#define GEN_XF(fn, insn, mvout)                                                                  \
    static uint64_t fn(uint64_t a, uint64_t b, uint64_t c, int rm, uint64_t *f) {                \
        uint64_t r; (void)b; (void)c;                                                            \
        switch (rm) {                                                                            \
        case 0: XF(insn, mvout, ", rne"); break;                                                 \
        case 1: XF(insn, mvout, ", rtz"); break;                                                 \
        case 2: XF(insn, mvout, ", rdn"); break;                                                 \
        case 3: XF(insn, mvout, ", rup"); break;                                                 \
        case 4: XF(insn, mvout, ", rmm"); break;                                                 \
        default: XF(insn, mvout, ""); break;                                                     \
        }                                                                                        \
        return r;                                                                                \
    }
#define XF(insn, mvout, RM)                                                                      \
    __asm__ volatile("fsflags zero\n\t" insn " ft2, %[a]" RM "\n\t" mvout " %[r], ft2\n\t"       \
                     "frflags %[f]"                                                              \
                     : [r] "=r"(r), [f] "=r"(*f) : [a] "r"(a) : "ft2")

// int r = insn(float a, float b) (compares)
#define GEN_FFX(fn, insn, mvin)                                                                  \
    static uint64_t fn(uint64_t a, uint64_t b, uint64_t c, int rm, uint64_t *f) {                \
        uint64_t r; (void)c; (void)rm;                                                           \
        __asm__ volatile("fsflags zero\n\t" mvin " ft0, %[a]\n\t" mvin " ft1, %[b]\n\t"          \
                         insn " %[r], ft0, ft1\n\tfrflags %[f]"                                  \
                         : [r] "=r"(r), [f] "=r"(*f) : [a] "r"(a), [b] "r"(b) : "ft0", "ft1");   \
        return r;                                                                                \
    }


// Variants for instructions that take no rounding-mode operand.
#define GEN_FFF0(fn, insn, mvin, mvout)                                                          \
    static uint64_t fn(uint64_t a, uint64_t b, uint64_t c, int rm, uint64_t *f) {                \
        uint64_t r; (void)c; (void)rm;                                                           \
        FFF(insn, mvin, mvout, "");                                                              \
        return r;                                                                                \
    }
#define GEN_F10(fn, insn, mvin, mvout, dst)                                                      \
    static uint64_t fn(uint64_t a, uint64_t b, uint64_t c, int rm, uint64_t *f) {                \
        uint64_t r; (void)b; (void)c; (void)rm;                                                  \
        F1(insn, mvin, mvout, dst, "");                                                          \
        return r;                                                                                \
    }
#define GEN_XF0(fn, insn, mvout)                                                                 \
    static uint64_t fn(uint64_t a, uint64_t b, uint64_t c, int rm, uint64_t *f) {                \
        uint64_t r; (void)b; (void)c; (void)rm;                                                  \
        XF(insn, mvout, "");                                                                     \
        return r;                                                                                \
    }

GEN_FFF(fadd_s, "fadd.s", "fmv.w.x", "fmv.x.w")
GEN_FFF(fsub_s, "fsub.s", "fmv.w.x", "fmv.x.w")
GEN_FFF(fmul_s, "fmul.s", "fmv.w.x", "fmv.x.w")
GEN_FFF(fdiv_s, "fdiv.s", "fmv.w.x", "fmv.x.w")
GEN_FFF(fadd_d, "fadd.d", "fmv.d.x", "fmv.x.d")
GEN_FFF(fsub_d, "fsub.d", "fmv.d.x", "fmv.x.d")
GEN_FFF(fmul_d, "fmul.d", "fmv.d.x", "fmv.x.d")
GEN_FFF(fdiv_d, "fdiv.d", "fmv.d.x", "fmv.x.d")
GEN_FFF0(fmin_s, "fmin.s", "fmv.w.x", "fmv.x.w")
GEN_FFF0(fmax_s, "fmax.s", "fmv.w.x", "fmv.x.w")
GEN_FFF0(fmin_d, "fmin.d", "fmv.d.x", "fmv.x.d")
GEN_FFF0(fmax_d, "fmax.d", "fmv.d.x", "fmv.x.d")
GEN_FFFF(fmadd_s, "fmadd.s", "fmv.w.x", "fmv.x.w")
GEN_FFFF(fmsub_s, "fmsub.s", "fmv.w.x", "fmv.x.w")
GEN_FFFF(fnmsub_s, "fnmsub.s", "fmv.w.x", "fmv.x.w")
GEN_FFFF(fnmadd_s, "fnmadd.s", "fmv.w.x", "fmv.x.w")
GEN_FFFF(fmadd_d, "fmadd.d", "fmv.d.x", "fmv.x.d")
GEN_FFFF(fmsub_d, "fmsub.d", "fmv.d.x", "fmv.x.d")
GEN_FFFF(fnmsub_d, "fnmsub.d", "fmv.d.x", "fmv.x.d")
GEN_FFFF(fnmadd_d, "fnmadd.d", "fmv.d.x", "fmv.x.d")
GEN_F1(fsqrt_s, "fsqrt.s", "fmv.w.x", "fmv.x.w %[r], ft2", "ft2")
GEN_F1(fsqrt_d, "fsqrt.d", "fmv.d.x", "fmv.x.d %[r], ft2", "ft2")
GEN_F1(fcvt_w_s, "fcvt.w.s", "fmv.w.x", "", "%[r]")
GEN_F1(fcvt_wu_s, "fcvt.wu.s", "fmv.w.x", "", "%[r]")
GEN_F1(fcvt_l_s, "fcvt.l.s", "fmv.w.x", "", "%[r]")
GEN_F1(fcvt_lu_s, "fcvt.lu.s", "fmv.w.x", "", "%[r]")
GEN_F1(fcvt_w_d, "fcvt.w.d", "fmv.d.x", "", "%[r]")
GEN_F1(fcvt_wu_d, "fcvt.wu.d", "fmv.d.x", "", "%[r]")
GEN_F1(fcvt_l_d, "fcvt.l.d", "fmv.d.x", "", "%[r]")
GEN_F1(fcvt_lu_d, "fcvt.lu.d", "fmv.d.x", "", "%[r]")
GEN_F1(fcvt_s_d, "fcvt.s.d", "fmv.d.x", "fmv.x.w %[r], ft2", "ft2")
GEN_F10(fcvt_d_s, "fcvt.d.s", "fmv.w.x", "fmv.x.d %[r], ft2", "ft2")  // exact: rm = 5
GEN_F10(fclass_s, "fclass.s", "fmv.w.x", "", "%[r]")                   // rm = 5
GEN_F10(fclass_d, "fclass.d", "fmv.d.x", "", "%[r]")                   // rm = 5
GEN_XF(fcvt_s_w, "fcvt.s.w", "fmv.x.w")
GEN_XF(fcvt_s_wu, "fcvt.s.wu", "fmv.x.w")
GEN_XF(fcvt_s_l, "fcvt.s.l", "fmv.x.w")
GEN_XF(fcvt_s_lu, "fcvt.s.lu", "fmv.x.w")
GEN_XF0(fcvt_d_w, "fcvt.d.w", "fmv.x.d")    // exact: rm = 5
GEN_XF0(fcvt_d_wu, "fcvt.d.wu", "fmv.x.d")  // exact: rm = 5
GEN_XF(fcvt_d_l, "fcvt.d.l", "fmv.x.d")
GEN_XF(fcvt_d_lu, "fcvt.d.lu", "fmv.x.d")
GEN_FFX(feq_s, "feq.s", "fmv.w.x")
GEN_FFX(flt_s, "flt.s", "fmv.w.x")
GEN_FFX(fle_s, "fle.s", "fmv.w.x")
GEN_FFX(feq_d, "feq.d", "fmv.d.x")
GEN_FFX(flt_d, "flt.d", "fmv.d.x")
GEN_FFX(fle_d, "fle.d", "fmv.d.x")

// ------------------------------------------------------------------------------------------
// Operands

// Edge cases, binary32 and binary64.
static const uint64_t E32[] = {
    0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x007fffff, 0x807fffff, 0x00800000, 0x80800000,
    0x3f800000, 0xbf800000, 0x3fc00000, 0xc0200000, 0x40000000, 0x3f000000, 0xbf000000, 0x00400000,
    0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001, 0xffa00000,
};
static const uint64_t E64[] = {
    0x0000000000000000, 0x8000000000000000, 0x0000000000000001, 0x8000000000000001,
    0x000fffffffffffff, 0x800fffffffffffff, 0x0010000000000000, 0x8010000000000000,
    0x3ff0000000000000, 0xbff0000000000000, 0x3ff8000000000000, 0xc004000000000000,
    0x4000000000000000, 0x3fe0000000000000, 0xbfe0000000000000, 0x0008000000000000,
    0x7fefffffffffffff, 0xffefffffffffffff, 0x7ff0000000000000, 0xfff0000000000000,
    0x7ff8000000000000, 0xfff8000000000001, 0x7ff0000000000001, 0xfff4000000000000,
};
#define NE (sizeof E32 / sizeof E32[0])

// Structured random value: exponents clustered around the interesting ranges, mantissas with
// few low bits (so that exact ties happen), all ones, small integers, or random.
static uint64_t gen(int is64) {
    int mb = is64 ? 52 : 23, emaxb = is64 ? 0x7ff : 0xff;
    uint64_t sign = rnd() & 1, e, m;
    switch (rnd() % 10) {
    case 0: e = rnd() % 3; break;                                        // subnormal / tiny
    case 1: e = emaxb - 1 - rnd() % 3; break;                            // huge
    case 2: e = (emaxb >> 1) + (int)(rnd() % 9) - 4; break;              // near 1
    case 3: e = rnd() % (emaxb + 1); break;                              // anywhere
    case 4: e = (uint64_t)((rnd() % 8 == 0) ? emaxb : (emaxb >> 1)); break;  // inf/NaN sometimes
    case 5: e = mb + 1 + rnd() % 3; break;                               // around the subnormal boundary for products
    default: e = (emaxb >> 1) + (int)(rnd() % 41) - 20; break;
    }
    switch (rnd() % 5) {
    case 0: m = rnd(); break;
    case 1: m = rnd() & ~((1ull << (rnd() % mb)) - 1); break;                  // trailing zeros
    case 2: m = ((1ull << mb) - 1) ^ (1ull << (rnd() % mb)); break;            // nearly all ones
    case 3: m = (rnd() % 2) ? 0 : ((1ull << mb) - 1); break;
    default: m = (rnd() >> (56 + rnd() % 8)) << (mb - 8); break;                // small integers
    }
    m &= (1ull << mb) - 1;
    if (e == (uint64_t)emaxb && rnd() % 2) m = 0;
    return (sign << (is64 ? 63 : 31)) | (e << mb) | m;
}

// Values around the integer conversion boundaries.
static int conv_edges(int is64, uint64_t *out) {
    int n = 0;
    static const double B[] = { 2147483648.0, 4294967296.0, 9223372036854775808.0, 18446744073709551616.0 };
    double extra[] = { 0.0, 0.5, 1.0, 1.5, 2.5, 0.4999999, 0.5000001, 1e-30, 3.5, 4294967295.0,
                       2147483647.0, 2147483647.5, 2147483648.5, 4294967295.5, 4294967296.5,
                       -2147483648.5, -2147483649.0, -4294967296.0 };
    for (int i = 0; i < 4; i++) {
        for (int s = 0; s < 2; s++) {
            double b = s ? -B[i] : B[i];
            if (is64) {
                double v[] = { b, nextafter(b, 0), nextafter(b, 2 * b), b - (s ? -1 : 1), b - (s ? -0.5 : 0.5) };
                for (int k = 0; k < 5; k++) { uint64_t u; memcpy(&u, &v[k], 8); out[n++] = u; }
            } else {
                float fb = (float)b;
                float v[] = { fb, nextafterf(fb, 0), nextafterf(fb, 2 * fb) };
                for (int k = 0; k < 3; k++) { uint32_t u; memcpy(&u, &v[k], 4); out[n++] = u; }
            }
        }
    }
    for (unsigned i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        for (int s = 0; s < 2; s++) {
            double v = s ? -extra[i] : extra[i];
            if (is64) { uint64_t u; memcpy(&u, &v, 8); out[n++] = u; }
            else { float fv = (float)v; uint32_t u; memcpy(&u, &fv, 4); out[n++] = u; }
        }
    }
    return n;
}

// Integers for int -> float conversions (64-bit patterns; the W forms use the low 32 bits).
static uint64_t gen_int(void) {
    uint64_t v = rnd();
    switch (rnd() % 6) {
    case 0: v >>= rnd() % 64; break;
    case 1: { int s = rnd() % 40; v = ((v >> (rnd() % 64)) << s) | (s ? 1ull << (s - 1) : 0); break; }  // ties
    case 2: v = (v >> (rnd() % 64)) | 1; break;
    case 3: v = -(v >> (rnd() % 64)); break;
    default: break;
    }
    return v;
}
static const uint64_t EINT[] = {
    0, 1, 2, 3, 0xffffffffffffffff, 0x7fffffff, 0x80000000, 0xffffffff, 0xffffffff80000000,
    0x7fffffffffffffff, 0x8000000000000000, 0x1000001, 0x1000003, 0x1000002, 0xfffffffffefffffe,
    0x20000000000001, 0x20000000000003, 0x20000000000002, 0xffdfffffffffffff, 0x8000008000000000,
    0x8000018000000000, 0xffffff8000000000, 0xffffff7fffffffff, 0x7fffff80, 0x7fffffc0, 0xffffff80,
    0xfffffbff, 0x8000000000000400, 0x8000000000000c00, 0xfffffffffffffc00, 0xfffffffffffff800,
};

// ------------------------------------------------------------------------------------------
// Output

static void emit(const char *name, op3_fn fn, int nops, int width, int hasrm, uint64_t a, uint64_t b, uint64_t c) {
    static const char *current = "";
    if (strcmp(name, current) != 0) {
        printf("@%s\n", name);
        current = name;
    }
    uint64_t in[3] = { a, b, c };
    for (int i = 0; i < nops; i++) printf(i ? " %llx" : "%llx", (unsigned long long)(width == 32 ? (in[i] & 0xffffffffu) : in[i]));
    uint64_t pr = 0, pf = 0;
    int nslots = hasrm ? 5 : 1;
    for (int rm = 0; rm < nslots; rm++) {
        uint64_t f;
        uint64_t r = fn(a, b, c, hasrm ? rm : 5, &f);
        if (rm > 0 && r == pr && f == pf) { printf(" ="); continue; }
        printf(" %llx %llx", (unsigned long long)r, (unsigned long long)f);
        pr = r;
        pf = f;
    }
    printf("\n");
}

// Float results of single-precision instructions come out of fmv.x.w sign-extended.
#define M32(fn)                                                                                  \
    static uint64_t fn##_m(uint64_t a, uint64_t b, uint64_t c, int rm, uint64_t *f) {            \
        return fn(a, b, c, rm, f) & 0xffffffffu;                                                 \
    }
M32(fadd_s) M32(fsub_s) M32(fmul_s) M32(fdiv_s) M32(fmin_s) M32(fmax_s) M32(fsqrt_s)
M32(fmadd_s) M32(fmsub_s) M32(fnmsub_s) M32(fnmadd_s) M32(fcvt_s_d)
M32(fcvt_s_w) M32(fcvt_s_wu) M32(fcvt_s_l) M32(fcvt_s_lu)

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 1;
    if (argc > 2) rng_state = strtoull(argv[2], NULL, 0) | 1;  // another seed (stress runs)
    printf("# RISC-V F/D reference vectors from guests/fpref/gen.c (scale %d, seed %#llx)\n", scale,
           (unsigned long long)rng_state);
    for (int is64 = 0; is64 < 2; is64++) {
        const uint64_t *E = is64 ? E64 : E32;
        int w = is64 ? 64 : 32;
        struct { const char *n; op3_fn f; } bin[] = {
            { is64 ? "fadd.d" : "fadd.s", is64 ? fadd_d : fadd_s_m },
            { is64 ? "fsub.d" : "fsub.s", is64 ? fsub_d : fsub_s_m },
            { is64 ? "fmul.d" : "fmul.s", is64 ? fmul_d : fmul_s_m },
            { is64 ? "fdiv.d" : "fdiv.s", is64 ? fdiv_d : fdiv_s_m },
        };
        for (int o = 0; o < 4; o++) {
            for (unsigned i = 0; i < NE; i++)
                for (unsigned j = 0; j < NE; j++) emit(bin[o].n, bin[o].f, 2, w, 1, E[i], E[j], 0);
            for (int k = 0; k < 350 * scale; k++) {
                uint64_t a = gen(is64), b = gen(is64);
                if (rnd() % 3 == 0) {  // same exponent: cancellation / exact ties
                    uint64_t em = is64 ? 0x7ff0000000000000ull : 0x7f800000ull;
                    b = (b & ~em) | (a & em);
                }
                emit(bin[o].n, bin[o].f, 2, w, 1, a, b, 0);
            }
        }
        struct { const char *n; op3_fn f; } fma[] = {
            { is64 ? "fmadd.d" : "fmadd.s", is64 ? fmadd_d : fmadd_s_m },
            { is64 ? "fmsub.d" : "fmsub.s", is64 ? fmsub_d : fmsub_s_m },
            { is64 ? "fnmsub.d" : "fnmsub.s", is64 ? fnmsub_d : fnmsub_s_m },
            { is64 ? "fnmadd.d" : "fnmadd.s", is64 ? fnmadd_d : fnmadd_s_m },
        };
        for (int o = 0; o < 4; o++) {
            for (int k = 0; k < 150; k++)  // edge triples
                emit(fma[o].n, fma[o].f, 3, w, 1, E[rnd() % NE], E[rnd() % NE], E[rnd() % NE]);
            for (int k = 0; k < 350 * scale; k++) {
                uint64_t a = gen(is64), b = gen(is64), c = gen(is64);
                if (rnd() % 3 == 0) {  // c close to +-a*b: cancellation, exact zeros, ties
                    uint64_t f;
                    uint64_t p = is64 ? fmul_d(a, b, 0, rnd() % 4, &f) : fmul_s_m(a, b, 0, rnd() % 4, &f);
                    c = p ^ (rnd() % 2 ? (is64 ? 0x8000000000000000ull : 0x80000000ull) : 0) ^ (rnd() % 3);
                }
                emit(fma[o].n, fma[o].f, 3, w, 1, a, b, c);
            }
        }
        const char *sq = is64 ? "fsqrt.d" : "fsqrt.s";
        op3_fn sqf = is64 ? fsqrt_d : fsqrt_s_m;
        for (unsigned i = 0; i < NE; i++) emit(sq, sqf, 1, w, 1, E[i], 0, 0);
        for (int k = 0; k < 300 * scale; k++) emit(sq, sqf, 1, w, 1, gen(is64) & (rnd() % 4 ? ~(is64 ? 0x8000000000000000ull : 0x80000000ull) : ~0ull), 0, 0);

        struct { const char *n; op3_fn f; int nrm; } cmp[] = {
            { is64 ? "fmin.d" : "fmin.s", is64 ? fmin_d : fmin_s_m, 0 },
            { is64 ? "fmax.d" : "fmax.s", is64 ? fmax_d : fmax_s_m, 0 },
            { is64 ? "feq.d" : "feq.s", is64 ? feq_d : feq_s, 0 },
            { is64 ? "flt.d" : "flt.s", is64 ? flt_d : flt_s, 0 },
            { is64 ? "fle.d" : "fle.s", is64 ? fle_d : fle_s, 0 },
        };
        for (int o = 0; o < 5; o++) {
            for (unsigned i = 0; i < NE; i++)
                for (unsigned j = 0; j < NE; j++) emit(cmp[o].n, cmp[o].f, 2, w, 0, E[i], E[j], 0);
            for (int k = 0; k < 100 * scale; k++) {
                uint64_t a = gen(is64), b = rnd() % 4 ? gen(is64) : a ^ (rnd() % 2);
                emit(cmp[o].n, cmp[o].f, 2, w, 0, a, b, 0);
            }
        }
        const char *cl = is64 ? "fclass.d" : "fclass.s";
        for (unsigned i = 0; i < NE; i++) emit(cl, is64 ? fclass_d : fclass_s, 1, w, 0, E[i], 0, 0);
        for (int k = 0; k < 50 * scale; k++) emit(cl, is64 ? fclass_d : fclass_s, 1, w, 0, gen(is64), 0, 0);

        // float -> integer
        struct { const char *n; op3_fn f; } toi[] = {
            { is64 ? "fcvt.w.d" : "fcvt.w.s", is64 ? fcvt_w_d : fcvt_w_s },
            { is64 ? "fcvt.wu.d" : "fcvt.wu.s", is64 ? fcvt_wu_d : fcvt_wu_s },
            { is64 ? "fcvt.l.d" : "fcvt.l.s", is64 ? fcvt_l_d : fcvt_l_s },
            { is64 ? "fcvt.lu.d" : "fcvt.lu.s", is64 ? fcvt_lu_d : fcvt_lu_s },
        };
        uint64_t ce[128];
        int nce = conv_edges(is64, ce);
        for (int o = 0; o < 4; o++) {
            for (unsigned i = 0; i < NE; i++) emit(toi[o].n, toi[o].f, 1, w, 1, E[i], 0, 0);
            for (int i = 0; i < nce; i++) emit(toi[o].n, toi[o].f, 1, w, 1, ce[i], 0, 0);
            for (int k = 0; k < 200 * scale; k++) {
                // magnitudes mostly in [2^-2, 2^66)
                uint64_t v = gen(is64);
                if (rnd() % 4) {
                    int mb = is64 ? 52 : 23, bias = is64 ? 1023 : 127;
                    uint64_t e = bias - 2 + rnd() % 68;
                    v = (v & ~(((uint64_t)(is64 ? 0x7ff : 0xff)) << mb)) | (e << mb);
                }
                emit(toi[o].n, toi[o].f, 1, w, 1, v, 0, 0);
            }
        }
        // integer -> float
        struct { const char *n; op3_fn f; int hasrm; int w32; } fromi[] = {
            { is64 ? "fcvt.d.w" : "fcvt.s.w", is64 ? fcvt_d_w : fcvt_s_w_m, !is64, 1 },
            { is64 ? "fcvt.d.wu" : "fcvt.s.wu", is64 ? fcvt_d_wu : fcvt_s_wu_m, !is64, 1 },
            { is64 ? "fcvt.d.l" : "fcvt.s.l", is64 ? fcvt_d_l : fcvt_s_l_m, 1, 0 },
            { is64 ? "fcvt.d.lu" : "fcvt.s.lu", is64 ? fcvt_d_lu : fcvt_s_lu_m, 1, 0 },
        };
        for (int o = 0; o < 4; o++) {
            int n = 0;
            for (unsigned i = 0; i < sizeof EINT / sizeof EINT[0]; i++, n++) {
                uint64_t v = EINT[i];
                if (fromi[o].w32) v = (uint64_t)(int64_t)(int32_t)v;  // as a W operand sits in a register
                emit(fromi[o].n, fromi[o].f, 1, fromi[o].w32 ? 32 : 64, fromi[o].hasrm, v, 0, 0);
            }
            for (int k = 0; k < (fromi[o].hasrm ? 200 : 60) * scale; k++) {
                uint64_t v = gen_int();
                if (fromi[o].w32) v = (uint64_t)(int64_t)(int32_t)(v >> (rnd() % 2 ? 0 : 32));
                emit(fromi[o].n, fromi[o].f, 1, fromi[o].w32 ? 32 : 64, fromi[o].hasrm, v, 0, 0);
            }
        }
    }
    // fcvt.d.s / fcvt.s.d
    for (unsigned i = 0; i < NE; i++) emit("fcvt.d.s", fcvt_d_s, 1, 32, 0, E32[i], 0, 0);
    for (int k = 0; k < 100 * scale; k++) emit("fcvt.d.s", fcvt_d_s, 1, 32, 0, gen(0), 0, 0);
    for (unsigned i = 0; i < NE; i++) emit("fcvt.s.d", fcvt_s_d_m, 1, 64, 1, E64[i], 0, 0);
    for (int k = 0; k < 350 * scale; k++) {
        uint64_t v = gen(1);
        if (rnd() % 2) {  // exponents in and around the binary32 range
            uint64_t e = 1023 - 155 + rnd() % 290;
            v = (v & ~(0x7ffull << 52)) | (e << 52);
        }
        emit("fcvt.s.d", fcvt_s_d_m, 1, 64, 1, v, 0, 0);
    }
    return 0;
}
