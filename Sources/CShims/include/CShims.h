#ifndef TRAPEZE_CSHIMS_H
#define TRAPEZE_CSHIMS_H
// What Swift cannot reach directly (or not fast enough): IEEE floating point with
// explicit rounding modes and exception flags, terminal control, and host memory maps.
#include "rvfp.h"
#include "host.h"
#endif
