#!/usr/bin/env bash
# vicreg_fast_coretype: prints the fastest OpenBLAS kernel set this CPU
# supports (SkylakeX with AVX-512, Haswell with AVX2 and FMA), or nothing.
# Debian's OpenBLAS 0.3.21 does not recognise some recent x86 CPUs and
# falls back to its generic Prescott kernels, several times slower; the
# main job and the benchmark then set OPENBLAS_CORETYPE to this for one
# command. Sourced by scripts/train.sh and bench/run.sh.
vicreg_fast_coretype() {
    local flags
    flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true) "
    has() { for f in "$@"; do [[ $flags == *" $f "* ]] || return 1; done; }
    if has avx512f avx512cd avx512bw avx512dq avx512vl; then
        echo SkylakeX
    elif has avx2 fma; then
        echo Haswell
    fi
}

# vicreg_kernel_rank NAME: orders OpenBLAS kernel sets by the widest vectors
# they use (3: AVX-512, 2: AVX2 and FMA, 1: AVX, 0: older or unknown), so
# that a benchmark can tell whether the kernels in use are older than the
# CPU allows (an OPENBLAS_CORETYPE in the environment, or a fallback).
vicreg_kernel_rank() {
    case $1 in
        SkylakeX | Cooperlake | SapphireRapids) echo 3 ;;
        Haswell | Zen) echo 2 ;;
        Sandybridge) echo 1 ;;
        *) echo 0 ;;
    esac
}
