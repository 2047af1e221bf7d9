#ifndef TRAPEZE_CSHIMS_H
#define TRAPEZE_CSHIMS_H
// What Swift cannot reach directly (or not fast enough): IEEE floating point with
// explicit rounding modes and exception flags, terminal control, host memory maps, executable
// memory for the JIT, and the host I/O calls of the virtio devices (files, random bytes, TAP).
#include "rvfp.h"
#include "host.h"
#include "jit.h"
#include "hostio.h"
#include "tap.h"
#endif
