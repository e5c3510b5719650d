#!/usr/bin/env python3
"""Writes the weight store bench/kernels.mlir reads: random ternary matrices
of the 2B4T layer shapes (U8, four 2-bit codes per byte, code = value + 1,
about one third zeros) with an F32 per-tensor scale each, and a random f16
LM head [128256, 2560].

usage: make-kernel-store.py OUT.safetensors
"""
import json
import struct
import sys

import numpy as np

TERNARY = {"wq": (2560, 2560), "wk": (640, 2560), "wo": (2560, 2560),
           "wgate": (6912, 2560), "wdown": (2560, 6912)}


def main():
    rng = np.random.default_rng(1)
    tensors = []  # (name, dtype, shape, bytes)
    for name, (n, k) in TERNARY.items():
        codes = rng.integers(0, 3, size=(n, k), dtype=np.uint8)
        packed = (codes[:, 0::4] | codes[:, 1::4] << 2 | codes[:, 2::4] << 4
                  | codes[:, 3::4] << 6).astype(np.uint8)
        tensors.append((name, "U8", [n, k // 4], packed.tobytes()))
        tensors.append((name + ".scale", "F32", [1],
                        np.float32(1.5).tobytes()))
    head = rng.standard_normal((128256, 2560), dtype=np.float32) * 0.02
    tensors.append(("head", "F16", [128256, 2560],
                    head.astype(np.float16).tobytes()))
    header, offset = {}, 0
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(sys.argv[1], "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, _, _, data in tensors:
            f.write(data)


if __name__ == "__main__":
    main()
