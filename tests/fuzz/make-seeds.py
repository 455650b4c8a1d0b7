#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_loss.c into tests/fuzz/corpus/.

Each seed is one small program in the harness's byte format (see
fuzz_loss.c): a head byte (bits 0-5 % 5: parameter settings, so 0x30
gives three; bits 4-5 + 1: loss calls; bit 6: a parameter block first;
bit 7: a parameter block before each call), the block if any, the settings (key byte, value byte:
below 128 a special, 160-175 just outside the key's bounds, 176-239 a legal
value anywhere in them), then per call (its block first with bit 7) a
selector byte (0xFF: a query first), flags (bit 0 f64, bit 1 grad_a, bit 2
grad_b, bits 3-4 zero: NULL loss, bits 5-7: data mode, % 3 except that 3
and 7 are the wide mode, multiples of 1/2 up to +-64), flags2 (low six
bits 1/2/3: NULL ctx/za/zb, 4: grad_a on za, 5: both gradients in one
buffer), n, d, lda, ldb, ldga, ldgb, then the data. Run it again after
changing the format; libFuzzer's own corpus grows from these. New seeds go
after the old ones, which draw from the same random stream, so that the
old seeds come out byte for byte as they were (the new fuzz_loss.c seeds
draw from a stream of their own).

The corpora also hold inputs the fuzzers found, kept as libFuzzer wrote
them (this script neither writes nor removes them): in corpus/,
f32-fold-overflow and f64-fold-subnormal-alpha; in corpus-shard/,
f32-fold-overflow and f32-fold-alpha-underflow. Each gave VICREG_OK with
non-finite gradients on the covariance path before the fold check of
commit af67f2d (float32 with nu = 1e-29 against mu = gamma = 1e9, and
with a gradient scale of 1e-67; float64 with a subnormal nu). Their bytes
mean what they do only in this format: after a format change, find them
again or drop them.

A parameter block (fuzz_input.h) is a mask byte (below 0x80: set every
parameter) and one value per parameter set, in the order lambda, mu, nu,
gamma, eps, convention, path, gradient scale, each read by
param_in_bounds(): a selector byte (% 16: 0 lo, 1 hi, 2 and 3 one ulp
inside lo and hi, 4 a few ulps inside either, 6 and 7 a power of ten, 8 a
power of two, 9 and 13 log-uniform over the range, 5, 10 and 12 a ratio
to the block's previous continuous value near a float32/float64 exponent
limit, 11 a ratio of any power of two, 14 log-uniform over the float32
part, 15 a multiple of 1/8) and its extra bytes; for the
convention and the path the byte is the value (mod the count).
"""
import math
import os
import random
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
OUT_SHARD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus-shard")


def call(flags, flags2, n, d, lds=(0, 0, 0, 0), data=b"", query=False):
    sel = b"\xff" + b"\x05\x08\x04\x01" if query else b"\x00"
    return sel + bytes([flags, flags2, n, d, *lds]) + data


def small(rng, count):
    return bytes(rng.randrange(256) for _ in range(count))


# vicreg_param_bounds(), in the block's order (include/vicreg.h).
DBL_MIN = 2.2250738585072014e-308
TINY = 5e-324  # the smallest subnormal, where the log scale starts for lo = 0
BOUNDS = [(0.0, 1e9), (0.0, 1e9), (0.0, 1e9), (DBL_MIN, 1e9), (DBL_MIN, 1e9),
          (0, 1), (0, 2), (0.0, 1e9)]
LAMBDA, MU, NU, GAMMA, EPS, CONVENTION, PATH, GRAD_SCALE = range(8)


def lo():
    return b"\x00"


def hi():
    return b"\x01"


def inside_lo():
    return b"\x02"


def inside_hi():
    return b"\x03"


def log_point(k, value):
    """The log-uniform point (selector 9) nearest value for parameter k."""
    low, high = BOUNDS[k]
    pos = low if low > 0 else TINY
    t = (math.log(value) - math.log(pos)) / (math.log(high) - math.log(pos))
    return b"\x09" + struct.pack(">H", round(t * 65535))


def decade(k, e):
    """10^e (selector 6) for parameter k."""
    low, _ = BOUNDS[k]
    kmin = math.ceil(math.log10(low if low > 0 else TINY))
    return b"\x06" + struct.pack(">H", e - kmin)


def block(*values, keep=None):
    """A parameter block: eight values (bytes as above), or with keep a
    list of the indices (below 7) to leave as they are and None in their
    place."""
    if keep is None:
        return b"\x00" + b"".join(values)
    mask = 0x80
    for k in keep:
        mask |= 1 << k
    return bytes([mask]) + b"".join(v for k, v in enumerate(values) if k not in keep)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(4)
    seeds = {}
    grads = 0b00001110  # grad_a, grad_b, loss
    # Plain calls, both precisions, both paths (n > d, n < d), padding.
    seeds["f32-cov-8x4"] = b"\x00" + call(grads, 0, 8, 4, data=small(rng, 64))
    seeds["f64-cov-8x4"] = b"\x00" + call(grads | 1, 0, 8, 4, data=small(rng, 64))
    seeds["f32-gram-3x12"] = b"\x00" + call(grads, 0, 3, 12, data=small(rng, 72))
    seeds["f64-gram-2x20"] = b"\x00" + call(grads | 1, 0, 2, 20, data=small(rng, 80))
    seeds["f32-padded"] = b"\x00" + call(grads, 0, 6, 5, (160, 200, 170, 210), small(rng, 80))
    seeds["no-grads-null-loss"] = b"\x00" + call(0, 0, 5, 3, data=small(rng, 30))
    # Data with specials planted (mode 2) and raw bits (mode 1).
    seeds["specials"] = b"\x00" + call(grads | 0x40, 0, 6, 6,
                                       data=bytes([0x0F, 7, 0x1F, 1] * 20))
    seeds["raw-f64"] = b"\x00" + call(grads | 1 | 0x20, 0, 4, 2,
                                      data=b"".join(struct.pack(">d", x) for x in
                                                    [1e300, -1e300, 2.5, 1e-310] * 4))
    seeds["raw-f32"] = b"\x00" + call(grads | 0x20, 0, 4, 2,
                                      data=b"".join(struct.pack(">f", x) for x in
                                                    [3e38, -3e38, 0.5, 1e-40] * 4))
    # Edge shapes: n = 0, 1, 2; d = 0, 1; ld < d; huge values.
    seeds["shapes"] = b"\x30" + call(grads, 0, 0, 4) + call(grads, 0, 1, 4) + \
        call(grads | 1, 0, 2, 1, data=small(rng, 16)) + call(grads, 0, 5, 0)
    seeds["ld-small"] = b"\x10" + call(grads, 0, 5, 4, (225, 0, 0, 0)) + \
        call(grads, 0, 5, 4, (0, 0, 0, 226))
    seeds["huge"] = b"\x30" + call(grads, 0, 201, 4) + call(grads, 0, 5, 203) + \
        call(grads | 1, 0, 5, 4, (240, 204, 0, 0)) + call(grads, 0, 210, 211)
    # NULL arguments and overlap.
    seeds["nulls"] = b"\x30" + call(grads, 1, 4, 4) + call(grads, 2, 4, 4) + \
        call(grads, 3, 4, 4) + call(grads, 4, 4, 4, data=small(rng, 32))
    seeds["overlap-shared"] = b"\x00" + call(grads, 5, 4, 3, data=small(rng, 24))
    # Parameters: every key, NaN/Inf/negative/denormal/unknown.
    seeds["params"] = b"\x14" + bytes([0, 20, 1, 9, 3, 12, 4, 11]) + \
        call(grads, 0, 7, 5, data=small(rng, 70)) + call(grads | 1, 0, 3, 9, data=small(rng, 54))
    seeds["params-paper-gram"] = b"\x03" + bytes([5, 2, 6, 17, 6, 18]) + \
        call(grads | 1, 0, 9, 4, data=small(rng, 72))
    seeds["params-unknown"] = b"\x02" + bytes([250, 0, 0, 0, 99, 21, 2, 0]) + \
        call(grads, 0, 4, 4, data=small(rng, 32), query=True)
    # Growing and shrinking on one context.
    seeds["grow-shrink"] = b"\x30" + call(grads, 0, 4, 3, data=small(rng, 24)) + \
        call(grads | 1, 0, 30, 30, data=small(rng, 40)) + \
        call(grads, 0, 3, 2, data=small(rng, 12)) + call(grads | 1, 0, 12, 35, data=small(rng, 8))
    # Since the parameter blocks: every parameter across its bounds. Their
    # own random stream, so that the shard seeds drawn after these keep
    # their bytes.
    rng2 = random.Random(5)
    ends_lo = block(lo(), lo(), lo(), lo(), lo(), b"\x00", b"\x00", lo())
    ends_hi = block(hi(), hi(), hi(), hi(), hi(), b"\x01", b"\x02", hi())
    seeds["block-ends-lo"] = b"\x40" + ends_lo + call(grads, 0, 7, 5, data=small(rng2, 70))
    seeds["block-ends-hi"] = b"\x40" + ends_hi + call(grads | 1, 0, 7, 5, data=small(rng2, 70))
    seeds["block-inside-ends"] = b"\x40" + \
        block(inside_lo(), inside_hi(), inside_lo(), inside_hi(), inside_lo(), b"\x01", b"\x01",
              inside_hi()) + call(grads, 0, 6, 6, data=small(rng2, 72))
    # float32, nu tiny against mu at its top, gamma far above the column
    # stds, on the covariance path: what the fold of the variance factor
    # into the product must survive.
    seeds["block-f32-nu-tiny"] = b"\x40" + \
        block(decade(LAMBDA, 0), hi(), log_point(NU, 1e-29), hi(), lo(), b"\x00", b"\x01",
              decade(GRAD_SCALE, 0)) + call(grads, 0, 12, 4, data=small(rng2, 96))
    seeds["block-f64-nu-tiny"] = b"\x40" + \
        block(decade(LAMBDA, 0), hi(), log_point(NU, 1e-298), hi(), lo(), b"\x00", b"\x01",
              decade(GRAD_SCALE, 0)) + call(grads | 1, 0, 12, 4, data=small(rng2, 96))
    # eps near DBL_MIN, the gradient scale near 0 and at 1e9, Gram path.
    seeds["block-eps-scale"] = b"\x40" + \
        block(hi(), hi(), hi(), decade(GAMMA, 3), inside_lo(), b"\x01", b"\x02",
              log_point(GRAD_SCALE, 1e-300)) + call(grads, 0, 3, 12, data=small(rng2, 72))
    # A block before each of four calls, some parameters kept.
    seeds["block-each-call"] = b"\xb2" + \
        block(hi(), None, log_point(NU, 1e-20), hi(), None, b"\x01", b"\x00", hi(),
              keep=[1, 4]) + call(grads, 0, 8, 4, data=small(rng2, 64)) + \
        block(lo(), decade(MU, -5), hi(), lo(), hi(), b"\x00", b"\x02", inside_lo()) + \
        call(grads | 1, 0, 3, 9, data=small(rng2, 54)) + \
        block(b"\x0e\x80\x00", b"\x0e\xff\xff", b"\x0e\x00\x00", b"\x0e\x40\x00",
              b"\x0e\xc0\x00", b"\x00", b"\x01", b"\x0e\x80\x00") + \
        call(grads, 0, 9, 9, data=small(rng2, 162)) + \
        block(b"\x08\x00\x10", b"\x08\x04\x10", b"\x08\x00\x00", b"\x08\x04\x00",
              b"\x08\x00\x20", b"\x01", b"\x00", b"\x08\x04\x00") + \
        call(grads | 1, 0, 5, 5, data=small(rng2, 50))
    # Single settings with legal values across the bounds (value bytes
    # 176-239) and values just outside them (160-175).
    # (The key byte indexes the keys in block order, % 8.)
    seeds["params-in-bounds"] = b"\x04" + \
        bytes([LAMBDA, 177, 9, 0x80, 0x00, GAMMA, 182, 1, EPS, 200, 2, PATH, 190, 2]) + \
        call(grads, 0, 7, 5, data=small(rng2, 70))
    seeds["params-outside"] = b"\x04" + \
        bytes([GAMMA, 160, 0, EPS, 161, 1, CONVENTION, 165, 5, PATH, 167, 7]) + \
        call(grads | 1, 0, 6, 3, data=small(rng2, 36))
    # The wide data mode (3): moderate values up to +-64, default parameters.
    seeds["wide-f32-cov"] = b"\x00" + call(grads | 0x60, 0, 10, 3, data=small(rng2, 60))
    seeds["wide-f64-gram"] = b"\x00" + call(grads | 1 | 0xE0, 0, 3, 10, data=small(rng2, 60))
    for name, blob in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(blob)
    print("wrote", len(seeds), "seeds to", OUT)
    shard_seeds(rng)


def shard(flags, d, sizes, data=b"", params=None, scale=0):
    """A fuzz_shard.c input: flags (bit 0 f64, bit 1 paper, bits 2-3 the
    gradient scale, bits 4-5 the data mode, bit 6 NULL grad_a on odd
    shards, bit 7 a parameter block), d - 1, the shard count - 1, the shard
    sizes, the parameter block (params, when given: sets bit 7) and the
    data scale byte after it (the small values times 2^scale), the
    data."""
    if params is None:
        return bytes([flags, d - 1, len(sizes) - 1, *sizes]) + data
    return bytes([flags | 0x80, d - 1, len(sizes) - 1, *sizes]) + params + \
        bytes([scale]) + data


def shard_seeds(rng):
    os.makedirs(OUT_SHARD, exist_ok=True)
    seeds = {
        "f64-equal": shard(0x01, 4, [5, 5], small(rng, 80)),
        "f32-unequal": shard(0x00, 6, [1, 7, 0, 3], small(rng, 132)),
        "f64-paper-scale": shard(0x07, 9, [8, 2, 4], small(rng, 252)),
        "one-shard": shard(0x01, 3, [6], small(rng, 36)),
        "one-row": shard(0x01, 5, [1], small(rng, 10)),
        "empty": shard(0x01, 5, [0, 0]),
        "null-grads": shard(0x41, 7, [3, 4, 5], small(rng, 168)),
        "planted-f32": shard(0x10, 4, [4, 4], small(rng, 64) + bytes([0, 3, 2])),
        "planted-f64": shard(0x11, 4, [2, 6], small(rng, 64) + bytes([7, 1, 0])),
        "raw-f64": shard(0x21, 2, [3, 3], small(rng, 96)),
        "near-overflow": shard(0x31, 8, [8, 8], small(rng, 256)),
    }
    # Since the parameter block: every parameter across its bounds, on
    # every shard's context alike.
    ends_lo = block(lo(), lo(), lo(), lo(), lo(), b"\x00", b"\x00", lo())
    ends_hi = block(hi(), hi(), hi(), hi(), hi(), b"\x01", b"\x02", hi())
    seeds.update({
        "block-ends-lo": shard(0x01, 4, [5, 5], small(rng, 80), ends_lo),
        "block-ends-hi": shard(0x01, 5, [3, 8, 2], small(rng, 130), ends_hi),
        "block-inside-ends": shard(0x00, 6, [4, 0, 6], small(rng, 120),
                                   block(inside_lo(), inside_hi(), inside_lo(), inside_hi(),
                                         inside_lo(), b"\x01", b"\x01", inside_hi())),
        "block-f32-nu-tiny": shard(0x00, 4, [8, 8, 8], small(rng, 192),
                                   block(decade(LAMBDA, 0), hi(), log_point(NU, 1e-29), hi(),
                                         lo(), b"\x00", b"\x00", decade(GRAD_SCALE, 0))),
        "block-f64-kept": shard(0x07, 3, [6, 2], small(rng, 48),
                                block(hi(), None, log_point(NU, 1e-12), decade(GAMMA, 1), None,
                                      None, b"\x02", log_point(GRAD_SCALE, 1e-200),
                                      keep=[1, 4, 5]), scale=3),
        "block-f32-wide": shard(0x00, 3, [8, 8, 8, 8], small(rng, 192),
                                block(lo(), hi(), hi(), hi(), lo(), b"\x01", b"\x00", hi()),
                                scale=7),
    })
    for name, blob in seeds.items():
        with open(os.path.join(OUT_SHARD, name), "wb") as f:
            f.write(blob)
    print("wrote", len(seeds), "seeds to", OUT_SHARD)


if __name__ == "__main__":
    main()
