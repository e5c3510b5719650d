#!/usr/bin/env python3
"""Malformed checkpoints: each must give a clear error naming the file and
the tensor, key or offset at fault, a non-zero exit, and no output file.

usage: malformed.py WORKDIR

Starts from small valid models (scripts/gen-synthetic.py and the bundled
bitllama2.c model), writes one corrupted copy per class of damage, runs
`ternc CKPT -o OUT` (ternc from PATH) on each and checks the outcome.
Prints one line per case and a closing "N passed, N failed".
"""
import json
import os
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def gguf_tensor_info(data, name):
    """Offsets of (name, n_dims, dims, type, offset) of a tensor info."""
    key = struct.pack("<Q", len(name)) + name.encode()
    p = data.index(key) + len(key)
    n_dims = struct.unpack_from("<I", data, p)[0]
    dims = p + 4
    typ = dims + 8 * n_dims
    return p - len(name), dims, typ, typ + 4


def gguf_kv_value(data, key):
    """Offset of the value of a metadata key (after its u32 type tag)."""
    k = struct.pack("<Q", len(key)) + key.encode()
    return data.index(k) + len(k) + 4


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    gen = [sys.executable, os.path.join(ROOT, "scripts", "gen-synthetic.py"),
           "--hidden", "256", "--ffn", "512", "--layers", "1", "--heads",
           "4", "--kv-heads", "2", "--vocab", "300", "--seed", "5"]
    subprocess.run(gen + ["--format", "gguf-i2_s", "--arch", "2b4t", "--out",
                          os.path.join(work, "i2s.gguf")], check=True,
                   capture_output=True)
    subprocess.run(gen + ["--format", "gguf-tq2_0", "--arch", "2b4t",
                          "--out", os.path.join(work, "tq2.gguf")],
                   check=True, capture_output=True)
    subprocess.run(gen + ["--format", "hf", "--arch", "2b4t", "--out",
                          os.path.join(work, "hf")], check=True,
                   capture_output=True)
    i2s = open(os.path.join(work, "i2s.gguf"), "rb").read()
    tq2 = open(os.path.join(work, "tq2.gguf"), "rb").read()
    bl = open(os.path.join(ROOT, "models", "bitllama2c-tinystories-1M",
                           "bit_model.bin"), "rb").read()

    cases = []  # (name, path, [substrings the message must contain])

    def file_case(name, data, expect, suffix=".gguf"):
        path = os.path.join(work, name + suffix)
        with open(path, "wb") as f:
            f.write(data)
        cases.append((name, path, expect))

    def patched(data, at, new):
        b = bytearray(data)
        b[at:at + len(new)] = new
        return bytes(b)

    # GGUF.
    file_case("gguf-truncated", i2s[: len(i2s) // 2],
              ["gguf-truncated.gguf", "tensor 'token_embd.weight'",
               "exceeds the file"])
    file_case("gguf-truncated-header", i2s[:20],
              ["gguf-truncated-header.gguf", "offset"])
    file_case("gguf-bad-magic", b"GGUX" + i2s[4:],
              ["gguf-bad-magic.gguf"])
    arch_at = i2s.index(b"bitnet-b1.58")
    file_case("gguf-unknown-arch", patched(i2s, arch_at, b"mamba2-b1.58"),
              ["gguf-unknown-arch.gguf", "unsupported architecture",
               "mamba2-b1.58"])
    _, _, typ, _ = gguf_tensor_info(i2s, "blk.0.ffn_down.weight")
    file_case("gguf-wrong-dtype", patched(i2s, typ, struct.pack("<I", 2)),
              ["gguf-wrong-dtype.gguf", "blk.0.ffn_down.weight"])
    name_at, _, _, _ = gguf_tensor_info(i2s, "blk.0.ffn_up.weight")
    file_case("gguf-missing-tensor",
              patched(i2s, name_at, b"blk.0.ffn_uq.weight"),
              ["gguf-missing-tensor.gguf", "missing tensor",
               "blk.0.ffn_up.weight"])
    _, dims, _, _ = gguf_tensor_info(i2s, "blk.0.attn_q.weight")
    file_case("gguf-wrong-shape",
              patched(i2s, dims, struct.pack("<Q", 128)),
              ["gguf-wrong-shape.gguf", "blk.0.attn_q.weight"])
    file_case("gguf-absurd-dim",
              patched(i2s, dims, struct.pack("<Q", 1 << 40)),
              ["gguf-absurd-dim.gguf", "blk.0.attn_q.weight"])
    at = gguf_kv_value(i2s, "bitnet-b1.58.embedding_length")
    file_case("gguf-absurd-metadata",
              patched(i2s, at, struct.pack("<I", 0xFFFFFFFF)),
              ["gguf-absurd-metadata.gguf", "embedding_length"])
    # I2_S: the f32 scale is the first word of the 32-byte tail.
    _, _, _, off_at = gguf_tensor_info(i2s, "blk.0.attn_k.weight")
    rel = struct.unpack_from("<Q", i2s, off_at)[0]
    align = 32
    data_start = None
    # The data section starts after the last tensor info, aligned.
    last = max(i2s.rfind(b".weight") + 7, 0)
    n_dims = struct.unpack_from("<I", i2s, last)[0]
    data_start = last + 4 + 8 * n_dims + 4 + 8
    data_start = (data_start + align - 1) // align * align
    k_bytes = 128 * 256 // 4  # kv_dim 128 x dim 256 codes
    scale_at = data_start + rel + k_bytes
    for label, value in (("nan", float("nan")), ("zero", 0.0)):
        file_case("gguf-%s-scale" % label,
                  patched(i2s, scale_at, struct.pack("<f", value)),
                  ["gguf-%s-scale.gguf" % label, "blk.0.attn_k.weight",
                   "scale"])
    # TQ2_0: a block scale (f16 at the end of a 66-byte block) of zero.
    _, _, _, off_at = gguf_tensor_info(tq2, "blk.0.attn_v.weight")
    rel = struct.unpack_from("<Q", tq2, off_at)[0]
    last = tq2.rfind(b".weight") + 7
    n_dims = struct.unpack_from("<I", tq2, last)[0]
    ds = (last + 4 + 8 * n_dims + 4 + 8 + 31) // 32 * 32
    file_case("gguf-zero-block-scale",
              patched(tq2, ds + rel + 64, struct.pack("<H", 0)),
              ["gguf-zero-block-scale.gguf", "blk.0.attn_v.weight",
               "block 0"])

    # Hugging Face directories.
    def hf_case(name, mutate, expect):
        d = os.path.join(work, name)
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(os.path.join(work, "hf"), d)
        mutate(d)
        cases.append((name, d, expect))

    def edit_config(**changes):
        def mutate(d):
            p = os.path.join(d, "config.json")
            cfg = json.load(open(p))
            for k, v in changes.items():
                if v is None:
                    cfg.pop(k, None)
                else:
                    cfg[k] = v
            json.dump(cfg, open(p, "w"))
        return mutate

    def edit_safetensors(fn):
        def mutate(d):
            p = os.path.join(d, "model.safetensors")
            data = bytearray(open(p, "rb").read())
            n = struct.unpack_from("<Q", data, 0)[0]
            header = json.loads(bytes(data[8:8 + n]))
            out = fn(header, data, 8 + n)
            open(p, "wb").write(out)
        return mutate

    def set_tensor(name, value_bytes):
        def fn(header, data, base):
            begin = header[name]["data_offsets"][0]
            data[base + begin: base + begin + len(value_bytes)] = value_bytes
            return bytes(data)
        return fn

    def rewrite_header(fn2):
        def fn(header, data, base):
            fn2(header)
            h = json.dumps(header).encode()
            h += b" " * (-len(h) % 8)
            return struct.pack("<Q", len(h)) + h + bytes(data[base:])
        return fn

    hf_case("hf-unknown-arch",
            edit_config(architectures=["MambaForCausalLM"]),
            ["hf-unknown-arch", "config.json", "MambaForCausalLM"])
    hf_case("hf-missing-field", edit_config(hidden_size=None),
            ["hf-missing-field", "config.json", "hidden_size"])
    hf_case("hf-absurd-size", edit_config(num_hidden_layers=1 << 40),
            ["hf-absurd-size", "num_hidden_layers"])
    hf_case("hf-truncated",
            lambda d: open(os.path.join(d, "model.safetensors"), "r+b")
            .truncate(os.path.getsize(os.path.join(d, "model.safetensors"))
                      // 2),
            ["hf-truncated", "model.safetensors", "tensor"])
    hf_case("hf-nan-scale",
            edit_safetensors(set_tensor(
                "model.layers.0.self_attn.o_proj.weight_scale",
                struct.pack("<H", 0x7FC0))),
            ["hf-nan-scale", "model.layers.0.self_attn.o_proj.weight",
             "scale"])
    hf_case("hf-missing-tensor",
            edit_safetensors(rewrite_header(lambda h: h.update(
                {"model.layers.0.mlp.up_projX.weight":
                 h.pop("model.layers.0.mlp.up_proj.weight")}))),
            ["hf-missing-tensor", "model.layers.0.mlp.up_proj.weight"])
    hf_case("hf-wrong-dtype",
            edit_safetensors(rewrite_header(lambda h: h[
                "model.layers.0.mlp.gate_proj.weight"].update(
                    dtype="I8"))),
            ["hf-wrong-dtype", "model.layers.0.mlp.gate_proj.weight"])

    # bitllama2.c.
    file_case("bl-bad-magic", b"ak43" + bl[4:],
              ["bl-bad-magic.bin", "unknown checkpoint format"], ".bin")
    file_case("bl-truncated", bl[:300000],
              ["bl-truncated.bin", "truncated", "layers."], ".bin")
    file_case("bl-absurd-dim", patched(bl, 8, struct.pack("<i", 1 << 30)),
              ["bl-absurd-dim.bin", "offset 8", "dim"], ".bin")
    first = 256 + 4 * 128 + 4 * 512 * 128
    file_case("bl-zero-scale", patched(bl, first, struct.pack("<f", 0.0)),
              ["bl-zero-scale.bin", "layers.0.wq", "scale"], ".bin")
    file_case("bl-unknown-format", b"\x00" * 64, ["bl-unknown-format.bin",
                                                    "unknown checkpoint"],
              ".bin")

    passed = failed = 0
    for name, path, expect in cases:
        out = os.path.join(work, "out-" + name)
        r = subprocess.run(["ternc", "-q", path, "-o", out, "--cpu=native"],
                           capture_output=True, text=True)
        msg = r.stderr.strip().splitlines()
        msg = msg[-1] if msg else ""
        left = [p for p in (out, out + ".weights") if os.path.exists(p)]
        missing = [e for e in expect if e not in r.stderr]
        ok = r.returncode != 0 and not left and not missing and \
            "Stack dump" not in r.stderr and r.returncode < 128
        if ok:
            passed += 1
            print("ok   %-24s %s" % (name, msg))
        else:
            failed += 1
            print("FAIL %-24s exit %d, left %s, message lacks %s: %s"
                  % (name, r.returncode, left, missing, r.stderr[-400:]))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
