#!/usr/bin/env python3
"""Compiled programs against the independent NumPy oracle.

usage: oracle-compare.py WORKDIR [RUNNER...]

For each architecture variant (2b4t, 1bitllm, llama) one small random model
is written by scripts/gen-synthetic.py in every format (Hugging Face packed,
Hugging Face bf16 masters, GGUF TQ1_0, TQ2_0, I2_S). Each is compiled by
ternc (from PATH) into a program, which teacher-forces a token sequence and
dumps its logits. Checks: the logits match the oracle's (max abs error below
1e-3 of the logit range, same argmax at every position), and all formats of
one model give the same logits as its Hugging Face packed form (the formats
hold bit-identical models). RUNNER (e.g. "qemu-aarch64") runs the programs;
TERNC_FLAGS (environment) adds ternc options such as --target.
Prints one line per check and a closing "N passed, N failed".
"""
import os
import shlex
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test", "oracle"))
import oracle  # noqa: E402

FORMATS = [("hf", "hf"), ("hf-bf16", "hf-bf16"),
           ("gguf-tq1_0", "model-tq1_0.gguf"),
           ("gguf-tq2_0", "model-tq2_0.gguf"),
           ("gguf-i2_s", "model-i2_s.gguf")]
TOKENS = [1, 5, 9, 77, 200, 13, 255, 4, 4, 299]


def shard(src, dst):
    """Splits src/model.safetensors into two shards plus an index in dst."""
    import json
    import shutil
    import struct
    shutil.copytree(src, dst)
    path = os.path.join(dst, "model.safetensors")
    data = open(path, "rb").read()
    n = struct.unpack_from("<Q", data, 0)[0]
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    names = sorted(k for k in header if k != "__metadata__")
    halves = [names[: len(names) // 2], names[len(names) // 2:]]
    weight_map = {}
    for i, part in enumerate(halves):
        fname = "model-%05d-of-00002.safetensors" % (i + 1)
        h, chunks, off = {}, [], 0
        for k in part:
            b, e = header[k]["data_offsets"]
            h[k] = dict(header[k], data_offsets=[off, off + e - b])
            chunks.append(body[b:e])
            off += e - b
            weight_map[k] = fname
        hb = json.dumps(h).encode()
        hb += b" " * (-len(hb) % 8)
        with open(os.path.join(dst, fname), "wb") as f:
            f.write(struct.pack("<Q", len(hb)) + hb + b"".join(chunks))
    os.remove(path)
    with open(os.path.join(dst, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f)


def main():
    work, runner = sys.argv[1], sys.argv[2:]
    flags = shlex.split(os.environ.get("TERNC_FLAGS", "--cpu=native"))
    passed = failed = 0

    def check(name, ok, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print("ok   " + name)
        else:
            failed += 1
            print("FAIL %s: %s" % (name, detail))

    for arch in ("2b4t", "1bitllm", "llama"):
        out = os.path.join(work, arch)
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts",
                                                     "gen-synthetic.py"),
                        "--format", "all", "--arch", arch, "--out", out,
                        "--hidden", "256", "--ffn", "512", "--layers", "2",
                        "--heads", "4", "--kv-heads", "2", "--vocab", "300",
                        "--seed", "11"],
                       check=True, capture_output=True)
        shard(os.path.join(out, "hf"), os.path.join(out, "hf-sharded"))
        first = None
        for fmt, rel in FORMATS + [("hf-sharded", "hf-sharded")]:
            ckpt = os.path.join(out, rel)
            prog = os.path.join(work, "%s-%s" % (arch, fmt))
            dump = prog + ".logits"
            subprocess.run(["ternc", "-q", ckpt, "-o", prog] + flags,
                           check=True)
            subprocess.run(runner + [prog, "--prompt-ids",
                                     " ".join(map(str, TOKENS)),
                                     "--dump-logits", dump],
                           check=True, capture_output=True)
            model = oracle.load(ckpt)
            # The oracle in float32 with sums in index order: the arithmetic
            # the compiled code is specified to do. (Against float64, a
            # value at a rounding boundary of the int8 activation
            # quantization can round the other way and move a whole
            # position by more than the tolerance; that is reported, not
            # checked.)
            ref = oracle.Runner(model, dtype=np.float32,
                                bl_seq=True).forward(TOKENS)
            got = np.fromfile(dump, dtype=np.float32).reshape(ref.shape)
            rng = float(ref.max() - ref.min())
            err = float(np.abs(got - ref).max())
            check("%s %s: logits vs oracle (max error %.2g of range %.3g)"
                  % (arch, fmt, err, rng),
                  err < 1e-3 * rng and (got.argmax(1) == ref.argmax(1)).all(),
                  "too far from the oracle")
            ref64 = oracle.Runner(model).forward(TOKENS)
            per_pos = np.abs(got - ref64).max(1)
            print("     float64 oracle: %d of %d positions within 1e-3 of "
                  "the range (max error %.2g)"
                  % (int((per_pos < 1e-3 * rng).sum()), len(TOKENS),
                     float(per_pos.max())))
            if first is None:
                first = got
            else:
                diff = float(np.abs(got - first).max())
                check("%s %s: same logits as hf (max difference %.2g)"
                      % (arch, fmt, diff), diff <= 1e-6 * rng,
                      "formats disagree")
    # --lm-head=int8: the head quantized per row (scale = absmax / 127).
    ckpt = os.path.join(work, "2b4t", "hf")
    prog = os.path.join(work, "2b4t-int8-head")
    subprocess.run(["ternc", "-q", ckpt, "-o", prog, "--lm-head=int8"] + flags,
                   check=True)
    subprocess.run(runner + [prog, "--prompt-ids", " ".join(map(str, TOKENS)),
                             "--dump-logits", prog + ".logits"],
                   check=True, capture_output=True)
    model = oracle.load(ckpt)
    head = (model.head if model.head is not None else model.embed)
    head = head.astype(np.float32)
    scale = np.abs(head).max(axis=1, keepdims=True) / np.float32(127)
    scale[scale == 0] = 1
    model.head = (np.clip(np.rint(head / scale), -127, 127) * scale).astype(
        np.float32)
    ref = oracle.Runner(model, dtype=np.float32, bl_seq=True).forward(TOKENS)
    got = np.fromfile(prog + ".logits", dtype=np.float32).reshape(ref.shape)
    rng = float(ref.max() - ref.min())
    err = float(np.abs(got - ref).max())
    check("2b4t hf --lm-head=int8: logits vs oracle with an int8 head (max "
          "error %.2g of range %.3g)" % (err, rng), err < 1e-3 * rng,
          "too far from the oracle")

    # GGUF files written by llama.cpp's and bitnet.cpp's own tools.
    peers = os.path.join(ROOT, "test", "data", "peer-gguf")
    tokens = [1, 17, 42, 99, 256, 3, 511, 7]
    for name in sorted(os.listdir(peers)):
        if not name.endswith(".gguf"):
            continue
        ckpt = os.path.join(peers, name)
        prog = os.path.join(work, name[:-5])
        dump = prog + ".logits"
        subprocess.run(["ternc", "-q", ckpt, "-o", prog] + flags, check=True)
        subprocess.run(runner + [prog, "--prompt-ids",
                                 " ".join(map(str, tokens)),
                                 "--dump-logits", dump],
                       check=True, capture_output=True)
        ref = oracle.Runner(oracle.load(ckpt), dtype=np.float32,
                            bl_seq=True).forward(tokens)
        got = np.fromfile(dump, dtype=np.float32).reshape(ref.shape)
        rng = float(ref.max() - ref.min())
        err = float(np.abs(got - ref).max())
        check("peer %s: logits vs oracle (max error %.2g of range %.3g)"
              % (name, err, rng),
              err < 1e-3 * rng and (got.argmax(1) == ref.argmax(1)).all(),
              "too far from the oracle")
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
