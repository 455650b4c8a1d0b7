#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_loss.c into tests/fuzz/corpus/.

Each seed is one small program in the harness's byte format (see
fuzz_loss.c): a head byte (low nibble % 5: parameter settings; high nibble
% 4 + 1: loss calls), the settings (key byte, value byte), then per call a
selector byte (0xFF: a query first), flags (bit 0 f64, bit 1 grad_a, bit 2
grad_b, bits 3-4 zero: NULL loss, bits 5-7 % 3: data mode), flags2 (low six
bits 1/2/3: NULL ctx/za/zb, 4: grad_a on za, 5: both gradients in one
buffer), n, d, lda, ldb, ldga, ldgb, then the data. Run it again after
changing the format; libFuzzer's own corpus grows from these.
"""
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
    for name, blob in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(blob)
    print("wrote", len(seeds), "seeds to", OUT)
    shard_seeds(rng)


def shard(flags, d, sizes, data=b""):
    """A fuzz_shard.c input: flags (bit 0 f64, bit 1 paper, bits 2-3 the
    gradient scale, bits 4-5 the data mode, bit 6 NULL grad_a on odd
    shards), d - 1, the shard count - 1, the shard sizes, the data."""
    return bytes([flags, d - 1, len(sizes) - 1, *sizes]) + data


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
    for name, blob in seeds.items():
        with open(os.path.join(OUT_SHARD, name), "wb") as f:
            f.write(blob)
    print("wrote", len(seeds), "seeds to", OUT_SHARD)


if __name__ == "__main__":
    main()
