/* SBI calls for the S-mode test programs (SBI spec v2.0: DBCN, SRST). */
#include <stdint.h>

#define read_csr(name) ({ uint64_t v_; __asm__ volatile("csrr %0, " #name : "=r"(v_)); v_; })
#define write_csr(name, v) __asm__ volatile("csrw " #name ", %0" :: "r"((uint64_t)(v)))

void sbi_putc(char c);
void sbi_puts(const char *s);
void sbi_puthex(uint64_t v);
void sbi_shutdown(int failed) __attribute__((noreturn));
