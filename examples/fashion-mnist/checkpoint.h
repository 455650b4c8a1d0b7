/*
 * checkpoint.h - saving and loading the encoder.
 *
 * File format, version 1 (the MLP). All integers are unsigned and
 * little-endian, all reals IEEE-754 binary32 little-endian, with no padding
 * anywhere:
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
 * Version 2 holds the convolutional encoder of cnn.h, with the same
 * conventions:
 *
 *   offset  size     field
 *   0       8        magic, "VICREGFM"
 *   8       4        u32 format version (2)
 *   12      4        u32 B, the number of blocks (1..8)
 *   16      4        u32 input channels (1)
 *   20      4        u32 kernel side k (odd)
 *   24      8B       per block: u32 output channels, u32 pooling flag (1 =
 *                    2 x 2 max pooling after the ReLU)
 *   ..      4+4+4    f32 input mean, f32 input std, f32 batch-norm epsilon
 *   ..      8        u64 seed of the training run
 *   ..      4        u32 epochs trained
 *   then, for each block with in channels (the previous block's out, or
 *   the input channels) and out channels:
 *           4*k*k*in*out  W, row-major (k*k*in) x out: row (ky*k + kx)*in + c
 *                         holds the weights from input channel c at kernel
 *                         offset (ky, kx) (conv.h); no bias
 *           4*out x 4     BN gamma, beta, mean, variance; every block is
 *                         conv, BN, ReLU (then the optional pooling), and
 *                         the features are the global average of the last
 *                         block's output
 *   last    4        u32 CRC-32 of every byte before it
 *
 * The mean and variance are the calibrated statistics (fm_cnn_calibrate).
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#ifndef FM_CHECKPOINT_H
#define FM_CHECKPOINT_H

#include <stdint.h>

#include "encoder.h"

#define FM_CKPT_MAGIC "VICREGFM"
#define FM_CKPT_VERSION_MLP 1u
#define FM_CKPT_VERSION_CNN 2u

struct fm_ckpt_info {
    uint64_t seed;
    uint32_t epochs;
};

/* Writes the encoder to path (version 1 for the MLP, 2 for the CNN),
 * through a temporary file renamed into place. Exits with a message on an
 * I/O error. */
void fm_checkpoint_save(const char *path, const struct fm_encoder *e,
                        const struct fm_ckpt_info *info);

/* Reads path into a new encoder e (either version; e->side is left to the
 * caller). Exits with a message naming what is wrong (missing file, bad
 * magic, unknown version, bad sizes, truncated data, CRC mismatch). */
void fm_checkpoint_load(const char *path, struct fm_encoder *e, struct fm_ckpt_info *info);

#endif /* FM_CHECKPOINT_H */
