/*
 * checkpoint.h - saving and loading the encoder.
 *
 * File format, version 1. All integers are unsigned and little-endian, all
 * reals IEEE-754 binary32 little-endian, with no padding anywhere:
 *
 *   offset  size     field
 *   0       8        magic, the ASCII bytes "VICREGFM"
 *   8       4        u32 format version (1)
 *   12      4        u32 L, the number of layers (1..8)
 *   16      4(L+1)   u32 widths: inputs of layer 0, then outputs of layers 0..L-1
 *   ..      4L       u32 flags per layer: 1 = BN + ReLU follow the linear map,
 *                    0 = a plain linear map
 *   ..      4        f32 input mean   } an input pixel p (0..255) enters as
 *   ..      4        f32 input std    }   (p/255 - mean) / std
 *   ..      4        f32 batch-norm epsilon
 *   ..      8        u64 seed of the training run
 *   ..      4        u32 epochs trained (0: the random initialisation)
 *   then, for each layer l = 0..L-1 with in = widths[l], out = widths[l+1]:
 *           4*in*out  W, row-major in x out: W[i*out + j] maps input i to
 *                     output j, so y = x W (no bias)
 *           4*out     BN scale gamma      } only when the layer's
 *           4*out     BN shift beta       } flag is 1; evaluation computes
 *           4*out     BN mean             } relu(gamma (y - mean) /
 *           4*out     BN variance         }      sqrt(var + eps) + beta)
 *   last    4        u32 CRC-32 (zlib's crc32, the one of gzip and PNG) of
 *                    every byte before it
 *
 * The mean and variance are the exact statistics of the clean training
 * images (fm_mlp_calibrate), so the file alone reproduces the features.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#ifndef FM_CHECKPOINT_H
#define FM_CHECKPOINT_H

#include <stdint.h>

#include "nn.h"

#define FM_CKPT_MAGIC "VICREGFM"
#define FM_CKPT_VERSION 1u

struct fm_ckpt_info {
    uint64_t seed;
    uint32_t epochs;
};

/* Writes m to path (through a temporary file renamed into place). Exits
 * with a message on an I/O error. */
void fm_checkpoint_save(const char *path, const struct fm_mlp *m, const struct fm_ckpt_info *info);

/* Reads path into a new network m. Exits with a message naming what is
 * wrong (missing file, bad magic, unknown version, bad sizes, truncated
 * data, CRC mismatch). */
void fm_checkpoint_load(const char *path, struct fm_mlp *m, struct fm_ckpt_info *info);

#endif /* FM_CHECKPOINT_H */
