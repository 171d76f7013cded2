/*
 * simd.h - run-time ISA dispatch for the hot loops of the ops engine.
 *
 * SIMD_CLONES compiles a function three times (AVX-512F, AVX2, and
 * the x86-64 baseline) and lets the dynamic loader pick the best one for the
 * CPU at start-up (GCC target_clones, an ifunc, keyed on CPU features, not
 * on the CPU model as "arch=" clones would be), so the default build never
 * needs -march=native and still runs on any x86-64. Within one machine the
 * same clone always runs, so results stay deterministic; between machines a
 * clone may contract a*b+c into an FMA and round differently in the last
 * bit. The loops inside use `#pragma omp simd` because -O2's very cheap cost model would otherwise
 * leave loops with a remainder unvectorised. Other architectures get the
 * plain function.
 */
#ifndef NASNET_SIMD_H
#define NASNET_SIMD_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(NASNET_NO_CLONES)
#define SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SIMD_CLONES
#endif

#endif
