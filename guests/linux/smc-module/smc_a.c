#define SMC_VALUE 11
#include "smc-module.c"
