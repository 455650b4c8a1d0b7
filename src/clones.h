/*
 * clones.h - VICREG_PASS, the attribute of the streaming passes over the
 * n x d data: each is built once per instruction set (baseline x86-64,
 * AVX2, AVX-512) and the dynamic loader picks the clone for the processor,
 * so that the passes keep up with memory on current processors while the
 * library stays runnable on any x86-64. Does not depend on the precision.
 * Never installed.
 *
 * No clones (a plain function) under ThreadSanitizer: the ifunc resolvers
 * that pick a clone run while the dynamic loader relocates the library,
 * before the TSan runtime is initialised, and their instrumentation crashes
 * the program at load (gcc defines __SANITIZE_THREAD__, clang has the
 * feature test). Under AddressSanitizer the clones are built as in a
 * release, so that the ASan build tests the code that ships (checked with
 * gcc 12 and clang 14: the suite and the fuzz corpus run clean).
 */
#ifndef VICREG_CLONES_H
#define VICREG_CLONES_H

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define VICREG_NO_CLONES 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define VICREG_NO_CLONES 1
#endif

#if defined(__x86_64__) && defined(__has_attribute) && !defined(VICREG_NO_CLONES)
#if __has_attribute(target_clones)
#define VICREG_PASS __attribute__((target_clones("default", "avx2", "avx512f")))
#endif
#endif
#ifndef VICREG_PASS
#define VICREG_PASS
#endif

#endif
