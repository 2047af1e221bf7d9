#define SMC_VALUE 22
#include "smc-module.c"
