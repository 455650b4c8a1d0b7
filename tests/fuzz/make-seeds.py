#!/usr/bin/env python3
"""Writes the seed corpora of the libFuzzer harnesses: fuzz_loss.c into
tests/fuzz/corpus/, fuzz_shard.c into tests/fuzz/corpus-shard/ and
fuzz_views.c into tests/fuzz/corpus-views/ (its format: vcase() below).

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
with a gradient scale of 1e-67; float64 with a subnormal nu). In
corpus-views/, v2-g1-subnormal-scale: with two views and G = 1, float64
and a subnormal invariance factor (gradient scale 5e-324), the views call
gives gradient bits other than those of vicreg_loss_f64(), which
include/vicreg.h promises equal whatever G; the seed v2-g1-subnormal-diff
(written here) shows the same with a subnormal difference of the views.
Also in corpus-views/, f32-shard-scatter-underflow: float32 data whose
centred squares (about 1e-49) are below the float32 subnormals, with
gamma 1e-40 and eps 2e-308; the sharded finish returned
VICREG_ERR_OVERFLOW where the whole-batch call succeeds, because the
variances came from the float32 product's diagonal, which underflowed to
zero, until the scatter phase added its double sums of squares there.
Their bytes mean what they do only in this format: after a format change,
find them again or drop them.

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


# ---------------------------------------------------------------------
# fuzz_views.c
# ---------------------------------------------------------------------
OUT_VIEWS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus-views")

# View count bytes (fuzz_views.c view_count()): below 128 1 + b % 4, below
# 192 1 + b % 8, below 232 1 + b % 64, else an edge by b % 9: 0, 65,
# SIZE_MAX, 2^32 + 1, 2^32 + 2, 64, 63, 258, INT_MAX + 3.
V_BYTE = {1: 0, 2: 1, 3: 2, 4: 3, 8: 135, 16: 207, 64: 239, 63: 240}
V_EDGE = {0: 234, 65: 235, "SIZE_MAX": 236, "2^32+1": 237, "2^32+2": 238,
          258: 241, "INT_MAX+3": 242}
# G selectors (set_global()): b % 8: 0 -> 0 (every view global), 2 -> 1,
# 3 -> V, 4 -> 1 + next % V, 5 -> V + 1, 6 -> V + 1 + next % 64, 7 -> a
# value outside the bounds from the next byte (param_outside: 0 one ulp
# below 0, 1 one ulp above 64, 2 NaN, 3 Inf, 4 -Inf, 5 0.5, 6 -1, 7 65).
G_ALL, G_ONE, G_V, G_ABOVE = b"\x00", b"\x02", b"\x03", b"\x05"


def g_below(k):
    return b"\x04" + bytes([k - 1])  # G = k for k <= V


def g_far(k):
    return b"\x06" + bytes([k])  # G = V + 1 + k


def g_outside(k):
    return b"\x07" + bytes([k])


# Faults (fault byte 160 + k: 1 + (160 + k) % 7): NULL ctx, NULL z, NULL
# z[a], grad[a] on z[b], grad[a] = grad[b], grad[a] in z[b]'s last row,
# z[a] = z[b] (legal); then a and b, and for the overlaps (with ldgrad
# passed) a byte whose bit 0 gives the overlapping gradient the leading
# dimension of what it overlaps.
NULL_CTX, NULL_Z, NULL_VIEW, IN_PLACE, SHARED, INTO, ALIAS = range(1, 8)


def fault(kind, a=0, b=0, same_ld=None):
    out = bytes([160 + (kind - 1 - 160 % 7) % 7])
    if kind >= NULL_VIEW:
        out += bytes([a, b])
    if kind in (IN_PLACE, SHARED, INTO) and same_ld is not None:
        out += bytes([same_ld])
    return out


def lead_len(b, d):
    """The leading dimension a leading() byte (below 235) gives."""
    if b < 150:
        return d
    if b < 220:
        return d + 1 + b % 3
    return d - 1 - (b & 1)


def ld_bytes(ld, count, d):
    """The bytes of a leading dimension list (a list of leading() bytes:
    one for all, or one per view after it, flagged by a first byte >= 128)
    and the leading dimensions of `count` views."""
    if len(ld) == 1:
        return b"\x00" + bytes(ld), [lead_len(ld[0], d)] * count
    return b"\x80" + bytes(ld), [lead_len(x, d) for x in ld[1:]]


def vcase(f64, views, n, d, rng, mode=0, G=None, params=None, scale=0, ldz=None,
          ldg=None, grads=b"\x01", flt=b"\x00", shards=(), split_bits=0, rows=(0, 0),
          past=0, g_two=0, loss_null=False, corrupt=0, reserve=False, data=None):
    """One fuzz_views.c case: flags (bit 0 f64, bits 1-2 the data mode: 0
    small times 2^scale, 1 small with specials, 2 raw bits, 3 near the
    overflow bound; bit 3 NULL loss; bits 4, 5 ldz, ldgrad NULL; bit 6 a
    parameter block; bit 7 a G setting), the block, the view count byte,
    the G selector, the scale byte (mode 0), n, d, the ld bytes of z and of
    the gradients (None: NULL; see ld_bytes()), the gradient byte (% 4: 0
    the array NULL, 1 all, 2 a mask byte per 8 views, 3 all but next % V),
    the fault, the shard byte (1 + b % 4 shards; bit 2 NULL z on empty
    shards, bit 3 NULL grad on odd shards; bits 4-6 corrupt statistics: 1
    a row count not whole, 2 a negative invariance sum, 3 NaN in the sums,
    passed to phase 2; 4 a negative scatter diagonal, 5 NaN in the scatter,
    passed to phase 3; 6 a row count of 1, passed to phase 2) and the cuts,
    the row range, the past-n range, the two-batch G (bits 0-6, % 65; bit 7:
    the scratch query and reserve first), then the data of every view. data=None:
    random bytes, one per value (modes 0 and 3), as many as the harness
    reads for a valid shape (the extents of the views) or an invalid one
    (n x d, or 2 x 1 for n or d outside the small range, per view buffer)."""
    vb = V_BYTE.get(views, V_EDGE.get(views))
    legal = isinstance(views, int) and 1 <= views <= 64
    bufs = views if legal else 1
    flags = f64 | mode << 1 | (8 if loss_null else 0) | (16 if ldz is None else 0) | \
        (32 if ldg is None else 0) | (64 if params is not None else 0) | \
        (128 if G is not None else 0)
    out = bytes([flags]) + (params or b"") + bytes([vb]) + (G or b"")
    if mode == 0:
        out += bytes([scale])
    out += bytes([n, d])
    lds, ldgs = [d] * bufs, [d] * bufs
    if ldz is not None:
        b, lds = ld_bytes(ldz, bufs, d)
        out += b
    if ldg is not None:
        b, ldgs = ld_bytes(ldg, bufs, d)
        out += b
    out += grads + flt + bytes([len(shards) | split_bits << 2 | corrupt << 4]) + bytes(shards)
    out += bytes(rows) + bytes([past, g_two | (0x80 if reserve else 0)])
    if data is None:
        valid = legal and n >= 2 and d >= 1 and min(lds) >= d and \
            (grads[0] % 4 == 0 or min(ldgs) >= d)
        rows_, cols = (n if 1 <= n <= 24 else 2), (d if 1 <= d <= 16 else 1)
        count = sum((n - 1) * ld + d for ld in lds) if valid else bufs * rows_ * cols
        data = small(rng, count)
    return out + data


def cases(*blobs):
    """An input of one to three cases: the head byte (count - 1), the
    cases."""
    return bytes([len(blobs) - 1]) + b"".join(blobs)


def views_seeds():
    os.makedirs(OUT_VIEWS, exist_ok=True)
    rng = random.Random(12)
    all_grads, no_grads = b"\x01", b"\x00"
    seeds = {
        # One view: the VCReg regulariser; both paths, both precisions.
        "v1-f64-cov": cases(vcase(1, 1, 9, 4, rng, shards=(3, 7))),
        "v1-f32-gram": cases(vcase(0, 1, 3, 10, rng, scale=2, shards=(1,))),
        # Two views: G = 0, 1, 2 against the two-batch calls and the 1.1
        # phases.
        "v2-f64-g0": cases(vcase(1, 2, 8, 4, rng, G=G_ALL, shards=(2, 5, 6), rows=(3, 4))),
        "v2-f64-g1": cases(vcase(1, 2, 8, 4, rng, G=G_ONE, shards=(4,), rows=(1, 5))),
        "v2-f32-g2": cases(vcase(0, 2, 6, 5, rng, G=G_V, ldz=[160], ldg=[200], shards=(0, 6))),
        "v2-f32-gram-g1": cases(vcase(0, 2, 3, 12, rng, G=G_ONE, scale=5, g_two=64)),
        # Three views: G = 1, 2, 3, per-view leading dimensions, a mask.
        "v3-f64-g1": cases(vcase(1, 3, 7, 5, rng, G=G_ONE, ldz=[0, 150, 0, 152],
                                 ldg=[0, 0, 151, 0], grads=b"\x02\x05", shards=(2, 2, 5))),
        "v3-f32-g2": cases(vcase(0, 3, 10, 3, rng, G=g_below(2), scale=3, shards=(5,),
                                 rows=(2, 7))),
        "v3-f64-paper": cases(vcase(1, 3, 5, 6, rng, G=G_V,
                                    params=block(decade(LAMBDA, 1), decade(MU, 1),
                                                 decade(NU, 0), decade(GAMMA, 0),
                                                 decade(EPS, -4), b"\x01", b"\x00",
                                                 decade(GRAD_SCALE, 0)),
                                    grads=b"\x03\x01")),
        # Eight views, 64 views: G = 0, 1, 3, V.
        "v8-f64-g0": cases(vcase(1, 8, 10, 6, rng, shards=(3, 3, 8))),
        "v8-f32-g3": cases(vcase(0, 8, 12, 4, rng, G=g_below(3), grads=b"\x02\xa5",
                                 ldz=[151], shards=(6, 1))),
        "v8-f64-gram-g1": cases(vcase(1, 8, 4, 11, rng, G=G_ONE)),
        "v64-f64-g0": cases(vcase(1, 64, 4, 3, rng, shards=(1, 2, 3))),
        "v64-f32-g64": cases(vcase(0, 64, 5, 2, rng, G=G_V, scale=4, shards=(2,))),
        "v64-f64-g1-gram": cases(vcase(1, 64, 3, 6, rng, G=G_ONE, ldg=[152],
                                       grads=b"\x03\x28")),
        # G edge cases: above V (BAD_SHAPE from the views call and from
        # phase 1; the two-batch calls do not read it), far above, 64 for
        # fewer views, 65 for 64 views (refused by set_param), values
        # outside the bounds.
        "g-above-v3": cases(vcase(1, 3, 6, 4, rng, G=G_ABOVE, shards=(3,))),
        "g-above-v2": cases(vcase(0, 2, 6, 4, rng, G=G_ABOVE, shards=(1, 4))),
        "g-64-v8": cases(vcase(1, 8, 6, 3, rng, G=g_far(55))),
        "g-65-v64": cases(vcase(1, 64, 3, 2, rng, G=G_ABOVE)),
        "g-outside": cases(vcase(1, 2, 4, 3, rng, G=g_outside(5)),
                           vcase(1, 3, 4, 3, rng, G=g_outside(7)),
                           vcase(0, 1, 4, 3, rng, G=g_outside(2))),
        # View counts the library must refuse (a 32-bit truncation would
        # take 2^32 + 1, 2^32 + 2 and 258 as 1, 2 and 2).
        "v-refused": cases(vcase(1, 0, 4, 3, rng), vcase(1, 65, 4, 3, rng),
                           vcase(0, "SIZE_MAX", 4, 3, rng)),
        "v-truncated": cases(vcase(1, "2^32+1", 4, 3, rng), vcase(1, "2^32+2", 4, 3, rng),
                             vcase(0, 258, 4, 3, rng)),
        # Shapes: n = 1; d = 0; an ld below d.
        "shapes": cases(vcase(1, 3, 1, 4, rng), vcase(1, 2, 5, 0, rng),
                        vcase(0, 3, 5, 4, rng, ldz=[0, 0, 225, 0])),
        # NULL arguments and overlapping gradients.
        "nulls": cases(vcase(1, 3, 4, 3, rng, flt=fault(NULL_CTX)),
                       vcase(1, 3, 4, 3, rng, flt=fault(NULL_Z)),
                       vcase(0, 3, 4, 3, rng, flt=fault(NULL_VIEW, 2))),
        "overlaps": cases(vcase(1, 3, 6, 3, rng, ldg=[0], flt=fault(IN_PLACE, 1, 2, 1),
                                shards=(2, 4)),
                          vcase(1, 3, 6, 3, rng, ldg=[0], flt=fault(SHARED, 0, 2, 1),
                                shards=(0, 3)),
                          vcase(0, 2, 6, 3, rng, flt=fault(INTO, 1, 0))),
        "alias": cases(vcase(1, 4, 6, 3, rng, G=g_below(2), flt=fault(ALIAS, 3, 0),
                             shards=(3,))),
        # The data: specials planted (NaN/Inf in one shard), raw bits,
        # near the overflow bound; no gradients, NULL loss.
        "specials-f64": cases(vcase(1, 3, 6, 4, rng, mode=1, shards=(3,),
                                    data=bytes([0x10, 0x0F, 0, 0x20] * 18))),
        "subnormals-f32": cases(vcase(0, 2, 6, 4, rng, mode=1, shards=(2, 4), past=1,
                                      data=bytes([0x0F, 8, 0x31, 0x0F, 9, 0x12] * 8))),
        "specials-f32": cases(vcase(0, 3, 6, 4, rng, mode=1, shards=(2, 4), past=3,
                                    data=bytes([0x21, 0x0F, 5, 0x12] * 23 + [0x0F, 1]))),
        "raw-f64": cases(vcase(1, 2, 4, 2, rng, mode=2,
                               data=b"".join(struct.pack(">d", x) for x in
                                             [1e300, -1e300, 2.5, 1e-310] * 4))),
        "near-overflow": cases(vcase(1, 3, 6, 4, rng, mode=3, shards=(3,))),
        "no-grads-null-loss": cases(vcase(0, 3, 5, 3, rng, grads=no_grads, loss_null=True,
                                          shards=(2,))),
        "grads-all-but-one": cases(vcase(1, 3, 5, 3, rng, grads=b"\x03\x01", split_bits=3,
                                         shards=(0, 2, 2))),
        # The parameters at the ends of their bounds with three and four
        # views.
        "block-ends-hi-v3": cases(vcase(1, 3, 7, 5, rng, G=G_ONE,
                                        params=block(hi(), hi(), hi(), hi(), hi(), b"\x01",
                                                     b"\x02", hi()), shards=(3,))),
        "block-f32-nu-tiny-v4": cases(vcase(0, 4, 12, 4, rng, G=g_below(2), scale=7,
                                            params=block(decade(LAMBDA, 0), hi(),
                                                         log_point(NU, 1e-29), hi(), lo(),
                                                         b"\x00", b"\x01",
                                                         decade(GRAD_SCALE, 0)),
                                            shards=(6,))),
        # Statistics no batch has, passed to the sharded phases 2 and 3.
        "corrupt-sums": cases(vcase(1, 3, 6, 3, rng, shards=(2, 4), corrupt=1),
                              vcase(0, 2, 6, 3, rng, shards=(3,), corrupt=2),
                              vcase(1, 4, 6, 3, rng, shards=(0, 6), corrupt=3, split_bits=1)),
        "corrupt-scatter": cases(vcase(1, 3, 6, 3, rng, shards=(2, 4), corrupt=4),
                                 vcase(0, 2, 6, 3, rng, shards=(3,), corrupt=5),
                                 vcase(1, 1, 6, 3, rng, shards=(3,), corrupt=6)),
        # The scratch query and reserve before the call, growing on one
        # context.
        "reserve-grow": cases(vcase(1, 2, 4, 3, rng, reserve=True),
                              vcase(0, 16, 8, 8, rng, reserve=True, shards=(4,)),
                              vcase(1, 64, 8, 8, rng, reserve=True, G=G_ONE)),
        # Found by fuzz-views: with V = 2 and G = 1, a difference of the
        # views below 2^-1021 (here the smallest subnormal) gives gradient
        # bits other than those of G = 2 and of vicreg_loss_f64().
        "v2-g1-subnormal-diff": cases(vcase(1, 2, 2, 1, rng, mode=1, G=G_ONE,
                                            grads=all_grads, data=bytes([0, 0, 0x0F, 10, 0]))),
    }
    for name, blob in seeds.items():
        with open(os.path.join(OUT_VIEWS, name), "wb") as f:
            f.write(blob)
    print("wrote", len(seeds), "seeds to", OUT_VIEWS)


if __name__ == "__main__":
    main()
    views_seeds()
