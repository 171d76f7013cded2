/*
 * blas.h - choosing OpenBLAS's compute kernels safely at start-up.
 *
 * Debian 12's OpenBLAS 0.3.21 (DYNAMIC_ARCH) does not know recent CPU models
 * and falls back to its generic "Prescott" SSE3 kernels, about 5x slower
 * than its AVX-512 ("SkylakeX") or AVX2 ("Haswell") ones. The kernel is
 * picked in a library constructor from OPENBLAS_CORETYPE, so the variable
 * only works if it is set before the process starts. blas_select():
 *
 *   - when OpenBLAS chose a generic core, OPENBLAS_CORETYPE is unset and the
 *     CPU supports AVX-512 (F, DQ, BW, VL) or AVX2 + FMA, re-executes the
 *     program (/proc/self/exe, same argv) with OPENBLAS_CORETYPE=SkylakeX
 *     or Haswell and NASNET_BLAS=<chosen>:<original> in the environment;
 *   - in every process, checks cblas_sgemm once against a naive
 *     double-precision product (the transposes the engine uses); if a core
 *     it chose disagrees, re-executes with the original core instead
 *     (NASNET_BLAS=fallback:<original>), so a mis-detected CPU never gets
 *     wrong numbers.
 *
 * Call it first in main(), before anything else runs (no threads, no open
 * output files): it may not return into the old image. Returns 0, or -1
 * after an error() when even the fallback core fails the check.
 * blas_describe() gives the provenance string, e.g.
 *   "SkylakeX (selected over Prescott, verified)".
 */
#ifndef NASNET_BLAS_H
#define NASNET_BLAS_H

#include <stddef.h>

int blas_select(int argc, char **argv);
/* 0 when cblas_sgemm agrees with the naive product on a few odd shapes */
int blas_verify(void);
const char *blas_describe(char *buf, size_t n);

#endif
