#!/usr/bin/env python3
"""Malformed checkpoints: each must give a clear error naming the file and
the tensor, key or offset at fault, a non-zero exit, and no output file.

usage: malformed.py WORKDIR

Starts from small valid models (scripts/gen-synthetic.py: GGUF I2_S and
TQ2_0, a Hugging Face directory; and the bundled bitllama2.c model), writes
one damaged copy per case, runs `ternc CKPT -o OUT` (ternc from PATH) on
each and checks: an exit status in [1, 127] (no signal), a message holding
the case's expected substrings (always the damaged file's name, and the
key, tensor or offset at fault, most with the exact offset or size the
layout gives), no output file or weight blob left, and no crash report
(LLVM stack dump or bug-report banner, ASan/LSan/UBSan report).

Classes of damage:
  GGUF  truncation at every section boundary, found by walking the file's
        layout (class Gguf): in the magic, after the magic, version and
        counts, inside the first key and value, after every metadata entry,
        inside the token, token-type and merge arrays, after every tensor
        info and inside each field of one, in the alignment padding, at the
        data section, in the middle of every tensor's data, one byte short;
        lying counts and lengths (2^63 metadata or tensor count, key, value
        and token lengths past the file, a 2^62-element token array); bad
        value types, array element types, bools; duplicate keys and tensor
        names; data offsets past the file, misaligned, overlapping; bad
        general.alignment; absurd dimensions (ne[0] 2^40 or 2^63, 0 or 9
        dims, element counts overflowing 64 bits, a 1-D embedding); tensor
        types 2, 999, a norm as I2_S, I2_S data declared F32; unknown
        architecture, missing tensor, wrong shape, absurd metadata; NaN or
        zero scales; invalid UTF-8 in keys, the architecture, tokens,
        merges and tensor names.
  HF    config.json: unknown architecture, missing, absurd (2^40, 10^12),
        negative or non-integer sizes, invalid UTF-8, not JSON, not an
        object; model.safetensors: truncated, header length 2^63 or past
        the file, header not JSON, not an object, invalid UTF-8, bad
        __metadata__, data_offsets reversed, negative, past the file, 2^63
        or malformed, shapes that overflow, are negative or mismatch the
        bytes, dtypes Q4, I8 (packed weights, a norm), U8 for a norm;
        missing tensor, NaN scale.
  bitllama2.c  bad magic, unknown format, bad version, negative, zero and
        too large header fields (vocab -2^31, whose negation overflows),
        heads that do not divide, sizes that overflow 32 bits, trailing
        data, the file cut in the header, the norm, the embedding, in the
        middle of every layer's wq and of layer 0 of every matrix group,
        one byte short; zero scale.

Some damage is harmless by design and must compile ("accepted": an unknown
key or a token whose bytes are not UTF-8). Damage that ternc does not
detect would be written but not run ("gap", printed as such); there is
none at present.

Every ternc runs with at most 4 GB of address space (ulimit -v 4000000;
not when TERNC_NO_MEMLIMIT=1, for sanitizer builds, which reserve terabytes
of it) and 60 seconds; a time-out fails the case.

Prints one line per case and a closing "N passed, N failed".
"""
import dataclasses
import json
import os
import resource
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

MEM_LIMIT_BYTES = 4000000 * 1024  # ulimit -v 4000000
TIMEOUT_S = 60
CRASH_MARKERS = ("Stack dump", "PLEASE submit a bug report",
                 "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                 "runtime error:")


# ---------------------------------------------------------------------------
# GGUF layout
# ---------------------------------------------------------------------------

GGUF_SCALAR_BYTES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8,
                     11: 8, 12: 8}
GGUF_STRING = 8
GGML_F32, GGML_F16, GGML_TQ2_0, GGML_I2_S = 0, 1, 35, 36


def ggml_bytes(typ, ne):
    """Byte size of a tensor of the types gen-synthetic.py writes."""
    n = 1
    for d in ne:
        n *= d
    if typ == GGML_I2_S:
        return n // 4 + 32
    block, size = {GGML_F32: (1, 4), GGML_F16: (1, 2),
                   GGML_TQ2_0: (256, 66)}[typ]
    return n // block * size


@dataclasses.dataclass
class GgufKv:
    index: int
    start: int      # the key's length field
    key: str
    type_at: int    # the value type tag
    type: int
    value_at: int   # the value (for an array: its element type)
    end: int


@dataclasses.dataclass
class GgufTensor:
    index: int
    start: int      # the name's length field
    name: str
    n_dims_at: int
    ne: list
    type_at: int
    type: int
    offset_at: int
    offset: int     # relative to the data section
    end: int
    data_at: int = 0   # absolute
    nbytes: int = 0


class Gguf:
    """The layout of a well-formed GGUF v3 file: where every field lies."""

    def __init__(self, data):
        self.data = data
        self.tensor_count, self.kv_count = struct.unpack_from("<QQ", data, 8)
        p = 24
        self.kvs = []
        for i in range(self.kv_count):
            start = p
            n = self._u64(p)
            key = data[p + 8:p + 8 + n].decode()
            p += 8 + n
            typ = self._u32(p)
            end = self._skip(typ, p + 4)
            self.kvs.append(GgufKv(i, start, key, p, typ, p + 4, end))
            p = end
        self.tensors = []
        for i in range(self.tensor_count):
            start = p
            n = self._u64(p)
            name = data[p + 8:p + 8 + n].decode()
            p += 8 + n
            n_dims = self._u32(p)
            ne = list(struct.unpack_from("<%dQ" % n_dims, data, p + 4))
            type_at = p + 4 + 8 * n_dims
            typ = self._u32(type_at)
            offset = self._u64(type_at + 4)
            self.tensors.append(GgufTensor(i, start, name, p, ne, type_at, typ,
                                           type_at + 4, offset,
                                           type_at + 12))
            p = type_at + 12
        align = self.kv("general.alignment")
        self.alignment = self._u32(align.value_at) if align else 32
        self.data_start = -(-p // self.alignment) * self.alignment
        for t in self.tensors:
            t.data_at = self.data_start + t.offset
            t.nbytes = ggml_bytes(t.type, t.ne)

    def _u32(self, p):
        return struct.unpack_from("<I", self.data, p)[0]

    def _u64(self, p):
        return struct.unpack_from("<Q", self.data, p)[0]

    def _skip(self, typ, p):
        """The offset just past a value of type `typ` at `p`."""
        if typ in GGUF_SCALAR_BYTES:
            return p + GGUF_SCALAR_BYTES[typ]
        if typ == GGUF_STRING:
            return p + 8 + self._u64(p)
        elem, count = struct.unpack_from("<IQ", self.data, p)
        p += 12
        if elem in GGUF_SCALAR_BYTES:
            return p + count * GGUF_SCALAR_BYTES[elem]
        for _ in range(count):
            p = self._skip(elem, p)
        return p

    def kv(self, key):
        return next((kv for kv in self.kvs if kv.key == key), None)

    def tensor(self, name):
        return next(t for t in self.tensors if t.name == name)

    def string_at(self, p):
        """(offset of the bytes, bytes) of the string whose length is at p."""
        n = self._u64(p)
        return p + 8, self.data[p + 8:p + 8 + n]

    def array_strings(self, key):
        """Offsets of the length fields of a string array's elements."""
        kv = self.kv(key)
        p = kv.value_at + 12
        out = []
        for _ in range(self._u64(kv.value_at + 4)):
            out.append(p)
            p += 8 + self._u64(p)
        return out

    def rebuild(self, infos):
        """The file with its tensor-info records replaced by `infos` (raw
        records), the data section re-aligned after them."""
        head = self.data[:8] + struct.pack("<Q", len(infos)) + \
            self.data[16:self.tensors[0].start]
        table = head + b"".join(infos)
        table += b"\0" * (-len(table) % self.alignment)
        return table + self.data[self.data_start:]

    def info_record(self, t):
        return self.data[t.start:t.end]


def gguf_info(name, ne, typ, offset):
    """A raw tensor-info record."""
    n = name.encode()
    return struct.pack("<Q", len(n)) + n + struct.pack("<I", len(ne)) + \
        struct.pack("<%dQ" % len(ne), *ne) + struct.pack("<IQ", typ, offset)


def patched(data, at, new):
    b = bytearray(data)
    b[at:at + len(new)] = new
    return bytes(b)


def put(data, at, fmt, *values):
    return patched(data, at, struct.pack(fmt, *values))


# ---------------------------------------------------------------------------
# Running ternc
# ---------------------------------------------------------------------------

def limits():
    """In the child: bounded address space (unless sanitized), no core."""
    if os.environ.get("TERNC_NO_MEMLIMIT") != "1":
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        lim = MEM_LIMIT_BYTES if hard == resource.RLIM_INFINITY else \
            min(MEM_LIMIT_BYTES, hard)
        resource.setrlimit(resource.RLIMIT_AS, (lim, hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def check(name, path, expect, accept, work):
    """Runs ternc on one case; returns (ok, line to print)."""
    out = os.path.join(work, "out-" + name)
    try:
        r = subprocess.run(["ternc", "-q", path, "-o", out, "--cpu=native"],
                           capture_output=True, timeout=TIMEOUT_S,
                           preexec_fn=limits)
        code = r.returncode
        err = r.stderr.decode("utf-8", "backslashreplace")
    except subprocess.TimeoutExpired:
        code, err = None, ""
    lines = err.strip().splitlines()
    msg = lines[-1] if lines else ""
    left = [p for p in (out, out + ".weights") if os.path.exists(p)]
    problems = []
    if code is None:
        problems.append("timed out after %d s" % TIMEOUT_S)
    elif code < 0:
        problems.append("killed by signal %d" % -code)
    elif code >= 128:
        problems.append("exit %d" % code)
    problems += ["crash report (%s)" % m for m in CRASH_MARKERS if m in err]
    if accept:
        if code == 0 and out not in left:
            problems.append("no output file")
        elif code != 0 and not problems:
            problems.append("exit %d, expected a compile (%s)"
                            % (code, accept))
        for p in left:
            os.remove(p)
        summary = "accepted: " + accept
    else:
        if code == 0:
            problems.append("exit 0")
        if left:
            problems.append("left %s" % ", ".join(left))
        expect = [os.path.basename(path.rstrip("/"))] + expect
        missing = [e for e in expect if e not in err]
        if missing:
            problems.append("message lacks %s" % missing)
        summary = msg
    if not problems:
        return True, "ok   %-36s %s" % (name, summary)
    return False, "FAIL %-36s %s: %s" % (name, "; ".join(problems),
                                         err[-600:])


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

class Cases:
    """The damaged copies. `expect`: substrings of the error (the file's
    name is always added); `accept`: why ternc compiles this one instead;
    `gap`: a damage ternc does not detect yet, written but not run."""

    def __init__(self, work):
        self.work = work
        self.list = []  # (name, path, expect, accept, gap)

    def file(self, name, data, expect, suffix=".gguf", accept=None,
             gap=None):
        path = os.path.join(self.work, name + suffix)
        with open(path, "wb") as f:
            f.write(data)
        self.list.append((name, path, expect, accept, gap))

    def dir(self, name, src, mutate, expect, accept=None, gap=None):
        d = os.path.join(self.work, name)
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(src, d)
        mutate(d)
        self.list.append((name, d, expect, accept, gap))


def gguf_truncations(c, data):
    """One case per section boundary of the I2_S file (and a few cuts
    inside fields), each cut where the layout walk says."""
    g = Gguf(data)
    n_kv, n_t = g.kv_count, g.tensor_count
    file_len = len(data)

    def cut(label, at, expect):
        c.file("gguf-cut-" + label, data[:at], expect)

    def kv_count_lie(at):
        # Cut early in the metadata: the declared counts no longer fit in
        # what is left (13 bytes per entry at least, 24 per tensor info),
        # which the reader checks before it reads any entry.
        return ["offset 16", "metadata count %d exceeds the file (%d bytes "
                "left)" % (n_kv, at - 24)]

    def tensor_count_lie(at):
        return ["offset 8", "tensor count %d exceeds the file (%d bytes "
                "left)" % (n_t, at - 24)]

    cut("in-magic", 2, ["unknown checkpoint format"])
    cut("after-magic", 4, ["offset 4", "header: truncated version: need 4 "
                           "bytes, 0 left"])
    cut("in-version", 6, ["offset 4", "truncated version: need 4 bytes, "
                          "2 left"])
    cut("after-version", 8, ["offset 8", "truncated tensor count: need 8 "
                             "bytes, 0 left"])
    cut("in-tensor-count", 12, ["offset 8", "truncated tensor count"])
    cut("after-tensor-count", 16, ["offset 16", "truncated metadata count: "
                                   "need 8 bytes, 0 left"])
    cut("after-kv-count", 24, kv_count_lie(24))
    kv0 = g.kvs[0]
    cut("in-kv-0-key-length", kv0.start + 3, kv_count_lie(kv0.start + 3))
    cut("in-kv-0-key", kv0.start + 8 + 4, kv_count_lie(kv0.start + 12))
    cut("in-kv-0-value", kv0.value_at + 10, kv_count_lie(kv0.value_at + 10))
    # After every metadata entry. Once the counted entries and tensor infos
    # fit in the bytes left, the reader gets to the entry that is cut and
    # names it.
    for kv in g.kvs:
        if (kv.end - 24) // 13 < n_kv:
            expect = kv_count_lie(kv.end)
        elif (kv.end - 24) // 24 < n_t:
            expect = tensor_count_lie(kv.end)
        elif kv.index + 1 < n_kv:
            expect = ["offset %d" % kv.end, "metadata entry %d: truncated "
                      "key: need 8 bytes, 0 left" % (kv.index + 1)]
        else:
            expect = ["offset %d" % kv.end, "tensor 0: truncated name: need "
                      "8 bytes, 0 left"]
        cut("after-kv-%d" % kv.index, kv.end, expect)
    # Inside the string and integer arrays of the vocabulary.
    toks = g.kv("tokenizer.ggml.tokens")
    cut("in-tokens-array-count", toks.value_at + 8,
        ["offset %d" % (toks.value_at + 4), "metadata key "
         "'tokenizer.ggml.tokens': truncated array count: need 8 bytes, "
         "4 left"])
    el = g.array_strings("tokenizer.ggml.tokens")
    cut("in-tokens-array-count-lie", el[40],
        ["offset %d" % (toks.value_at + 4), "metadata key "
         "'tokenizer.ggml.tokens': array of %d strings exceeds the file "
         "(%d bytes left)" % (len(el), el[40] - el[0])])
    cut("in-token-250", el[250] + 9,
        ["offset %d" % el[250], "metadata key 'tokenizer.ggml.tokens': "
         "element 250: string of %d bytes exceeds the file (1 bytes left)"
         % g._u64(el[250])])
    merges = g.array_strings("tokenizer.ggml.merges")
    cut("in-last-merge", merges[-1] + 4,
        ["offset %d" % merges[-1], "metadata key 'tokenizer.ggml.merges': "
         "element %d: truncated string: need 8 bytes, 4 left"
         % (len(merges) - 1)])
    types = g.kv("tokenizer.ggml.token_type")
    cut("in-token-type-array", types.value_at + 12 + 4 * 150,
        ["offset %d" % (types.value_at + 4), "metadata key "
         "'tokenizer.ggml.token_type': array of %d i32s exceeds the file "
         "(600 bytes left)" % len(el)])
    # After every tensor info (the last: in the alignment padding).
    for t in g.tensors:
        if t.index + 1 < n_t:
            expect = ["offset %d" % t.end, "tensor %d: truncated name: need "
                      "8 bytes, 0 left" % (t.index + 1)]
        else:
            expect = ["offset %d" % t.end, "data section would start at %d, "
                      "beyond the end of the file (%d bytes)"
                      % (g.data_start, t.end)]
        cut("after-info-%d" % t.index, t.end, expect)
    # Inside one tensor info, field by field.
    t = g.tensor("blk.0.attn_q.weight")
    q = "tensor 'blk.0.attn_q.weight': "
    cut("in-info-name-length", t.start + 5,
        ["offset %d" % t.start, "tensor %d: truncated name: need 8 bytes, "
         "5 left" % t.index])
    cut("in-info-name", t.start + 12,
        ["offset %d" % t.start, "tensor %d: name of %d bytes exceeds the "
         "file (4 bytes left)" % (t.index, len(t.name))])
    cut("in-info-n-dims", t.n_dims_at + 2,
        ["offset %d" % t.n_dims_at, q + "truncated n_dims: need 4 bytes, "
         "2 left"])
    cut("in-info-dims", t.n_dims_at + 4 + 8 + 3,
        ["offset %d" % (t.n_dims_at + 12), q + "truncated dimension: need 8 "
         "bytes, 3 left"])
    cut("in-info-type", t.type_at + 1,
        ["offset %d" % t.type_at, q + "truncated type: need 4 bytes, 1 "
         "left"])
    cut("in-info-offset", t.offset_at + 7,
        ["offset %d" % t.offset_at, q + "truncated data offset: need 8 "
         "bytes, 7 left"])
    # The data section: at its start, in the middle of every tensor, one
    # byte short.
    first = g.tensors[0]
    cut("at-data-start", g.data_start,
        ["offset %d" % first.start, "tensor '%s': F16 data of %d bytes at "
         "offset %d exceeds the file (%d bytes)"
         % (first.name, first.nbytes, g.data_start, g.data_start)])
    type_name = {GGML_F32: "F32", GGML_F16: "F16", GGML_I2_S: "I2_S"}
    for t in g.tensors:
        at = t.data_at + t.nbytes // 2
        cut("in-data-%d" % t.index, at,
            ["offset %d" % t.start, "tensor '%s': %s data of %d bytes at "
             "offset %d exceeds the file (%d bytes)"
             % (t.name, type_name[t.type], t.nbytes, t.data_at, at)])
    last = g.tensors[-1]
    cut("one-byte-short", file_len - 1,
        ["offset %d" % last.start, "tensor '%s': F32 data of %d bytes at "
         "offset %d exceeds the file (%d bytes)"
         % (last.name, last.nbytes, last.data_at, file_len - 1)])


def gguf_cases(c, i2s, tq2):
    g = Gguf(i2s)
    file_len = len(i2s)

    # Damage kept from the first version of this test.
    c.file("gguf-truncated", i2s[: len(i2s) // 2],
           ["tensor 'token_embd.weight'", "exceeds the file"])
    c.file("gguf-truncated-header", i2s[:20], ["offset"])
    c.file("gguf-bad-magic", b"GGUX" + i2s[4:], ["unknown checkpoint format"])
    arch = g.kv("general.architecture")
    arch_at, _ = g.string_at(arch.value_at)
    c.file("gguf-unknown-arch", patched(i2s, arch_at, b"mamba2-b1.58"),
           ["unsupported architecture", "mamba2-b1.58"])
    down = g.tensor("blk.0.ffn_down.weight")
    c.file("gguf-wrong-dtype", put(i2s, down.type_at, "<I", 2),
           ["blk.0.ffn_down.weight"])
    up = g.tensor("blk.0.ffn_up.weight")
    c.file("gguf-missing-tensor",
           patched(i2s, up.start + 8, b"blk.0.ffn_uq.weight"),
           ["missing tensor", "blk.0.ffn_up.weight"])
    q = g.tensor("blk.0.attn_q.weight")
    c.file("gguf-wrong-shape", put(i2s, q.n_dims_at + 4, "<Q", 128),
           ["blk.0.attn_q.weight"])
    c.file("gguf-absurd-dim", put(i2s, q.n_dims_at + 4, "<Q", 1 << 40),
           ["blk.0.attn_q.weight"])
    at = g.kv("bitnet-b1.58.embedding_length").value_at
    c.file("gguf-absurd-metadata", put(i2s, at, "<I", 0xFFFFFFFF),
           ["embedding_length"])
    # I2_S: the f32 scale is the first word of the 32-byte tail.
    k = g.tensor("blk.0.attn_k.weight")
    for label, value in (("nan", float("nan")), ("zero", 0.0)):
        c.file("gguf-%s-scale" % label,
               put(i2s, k.data_at + k.nbytes - 32, "<f", value),
               ["blk.0.attn_k.weight", "scale"])
    # TQ2_0: a block scale (f16 at the end of a 66-byte block) of zero.
    v = Gguf(tq2).tensor("blk.0.attn_v.weight")
    c.file("gguf-zero-block-scale", put(tq2, v.data_at + 64, "<H", 0),
           ["blk.0.attn_v.weight", "block 0"])

    # Truncation at every boundary.
    gguf_truncations(c, i2s)

    # Lying counts, lengths and offsets.
    c.file("gguf-huge-kv-count", put(i2s, 16, "<Q", 1 << 63),
           ["offset 16", "metadata count %d exceeds the file" % (1 << 63)])
    c.file("gguf-huge-tensor-count", put(i2s, 8, "<Q", 1 << 63),
           ["offset 8", "tensor count %d exceeds the file" % (1 << 63)])
    name = g.kv("general.name")
    c.file("gguf-key-length-past-file",
           put(i2s, name.start, "<Q", file_len + 1),
           ["offset %d" % name.start, "metadata entry 1: key of %d bytes "
            "exceeds the file" % (file_len + 1)])
    c.file("gguf-huge-key-length", put(i2s, name.start, "<Q", 1 << 63),
           ["offset %d" % name.start, "metadata entry 1: key of %d bytes "
            "exceeds the file" % (1 << 63)])
    c.file("gguf-string-length-past-file",
           put(i2s, name.value_at, "<Q", file_len),
           ["offset %d" % name.value_at, "metadata key 'general.name': "
            "string of %d bytes exceeds the file" % file_len])
    toks = g.kv("tokenizer.ggml.tokens")
    c.file("gguf-huge-tokens-array",
           put(i2s, toks.value_at + 4, "<Q", 1 << 62),
           ["offset %d" % (toks.value_at + 4), "metadata key "
            "'tokenizer.ggml.tokens': array of %d strings exceeds the file"
            % (1 << 62)])
    el = g.array_strings("tokenizer.ggml.tokens")
    c.file("gguf-token-length-past-file",
           put(i2s, el[7], "<Q", 1 << 62),
           ["offset %d" % el[7], "metadata key 'tokenizer.ggml.tokens': "
            "element 7: string of %d bytes exceeds the file" % (1 << 62)])
    c.file("gguf-bad-value-type", put(i2s, name.type_at, "<I", 13),
           ["offset %d" % name.type_at, "metadata key 'general.name': value "
            "type 13 is not a GGUF type"])
    c.file("gguf-bad-array-element-type",
           put(i2s, toks.value_at, "<I", 1000),
           ["offset %d" % toks.value_at, "metadata key "
            "'tokenizer.ggml.tokens': array element type 1000 is not a GGUF "
            "type"])
    bos = g.kv("tokenizer.ggml.add_bos_token")
    c.file("gguf-bad-bool", put(i2s, bos.value_at, "<B", 7),
           ["offset %d" % bos.value_at, "metadata key "
            "'tokenizer.ggml.add_bos_token': bool value 7 is not 0 or 1"])
    ft = g.kv("general.file_type")
    c.file("gguf-duplicate-key",
           patched(i2s, ft.start + 8, b"general.alignment"),
           ["offset %d" % ft.start, "metadata key 'general.alignment': "
            "duplicate key"])
    c.file("gguf-duplicate-tensor",
           patched(i2s, k.start + 8, b"blk.0.attn_q.weight"),
           ["offset %d" % k.start, "tensor 'blk.0.attn_q.weight': duplicate "
            "tensor name"])
    c.file("gguf-tensor-name-length-past-file",
           put(i2s, q.start, "<Q", file_len),
           ["offset %d" % q.start, "tensor %d: name of %d bytes exceeds the "
            "file" % (q.index, file_len)])
    c.file("gguf-offset-past-file",
           put(i2s, q.offset_at, "<Q", 1 << 40),
           ["offset %d" % q.start, "tensor 'blk.0.attn_q.weight': data "
            "offset %d is beyond the end of the file" % (1 << 40)])
    c.file("gguf-huge-offset",
           put(i2s, q.offset_at, "<Q", (1 << 64) - 32),
           ["offset %d" % q.start, "tensor 'blk.0.attn_q.weight': data "
            "offset %d is beyond the end of the file" % ((1 << 64) - 32)])
    c.file("gguf-misaligned-offset",
           put(i2s, q.offset_at, "<Q", q.offset + 4),
           ["offset %d" % q.offset_at, "tensor 'blk.0.attn_q.weight': data "
            "offset %d is not a multiple of the alignment 32"
            % (q.offset + 4)])
    align = g.kv("general.alignment")
    c.file("gguf-alignment-not-power-of-two",
           put(i2s, align.value_at, "<I", 48),
           ["offset %d" % align.value_at, "metadata key 'general.alignment'"
            ": 48 is not a power of two"])
    c.file("gguf-alignment-zero", put(i2s, align.value_at, "<I", 0),
           ["offset %d" % align.value_at, "metadata key 'general.alignment'"
            ": 0 is not a power of two"])
    c.file("gguf-alignment-wrong-type", put(i2s, align.type_at, "<I", 6),
           ["offset %d" % align.value_at, "metadata key 'general.alignment'"
            ": expected an unsigned integer, got f32"])
    # Two tensors whose data overlap: wk starts inside wq.
    c.file("gguf-overlapping-tensors",
           put(i2s, k.offset_at, "<Q", q.offset + 64),
           ["offset %d" % k.start, "tensor 'blk.0.attn_k.weight': data at "
            "offset %d overlaps tensor 'blk.0.attn_q.weight' [%d, %d)"
            % (q.data_at + 64, q.data_at, q.data_at + q.nbytes)])
    c.file("gguf-same-offset",
           put(i2s, k.offset_at, "<Q", q.offset),
           ["overlaps tensor", "blk.0.attn_"])

    # Absurd dimensions.
    c.file("gguf-dim-2^63", put(i2s, q.n_dims_at + 4, "<Q", 1 << 63),
           ["offset %d" % (q.n_dims_at + 4), "tensor 'blk.0.attn_q.weight':"
            " ne[0] = %d is out of range" % (1 << 63)])
    infos = [g.info_record(t) for t in g.tensors]

    def with_info(t, **changes):
        f = dict(name=t.name, ne=t.ne, typ=t.type, offset=t.offset)
        f.update(changes)
        out = list(infos)
        out[t.index] = gguf_info(**f)
        return g.rebuild(out)

    g2 = Gguf(with_info(q, ne=[]))   # the layout with one record shortened
    c.file("gguf-zero-dims", g2.data,
           ["offset %d" % (g2.tensor(q.name).type_at), "tensor "
            "'blk.0.attn_q.weight': I2_S element count 1 is not a multiple "
            "of 4"])
    attn_norm = g.tensor("blk.0.attn_norm.weight")
    c.file("gguf-zero-dims-norm", with_info(attn_norm, ne=[]),
           ["tensor 'blk.0.attn_norm.weight' has the wrong shape"])
    c.file("gguf-nine-dims", with_info(q, ne=[1] * 7 + [256, 256]),
           ["offset %d" % q.n_dims_at, "tensor 'blk.0.attn_q.weight': 9 "
            "dimensions exceed the maximum of 4"])
    g2 = Gguf(with_info(q, ne=[1 << 32, 1 << 32]))
    c.file("gguf-element-count-overflow", g2.data,
           ["offset %d" % (g2.tensor(q.name).n_dims_at + 12), "tensor "
            "'blk.0.attn_q.weight': element count overflows"])
    g2 = Gguf(with_info(q, ne=[1 << 31, 1 << 31, 4]))
    c.file("gguf-element-count-overflow-3d", g2.data,
           ["offset %d" % (g2.tensor(q.name).n_dims_at + 20), "tensor "
            "'blk.0.attn_q.weight': element count overflows"])
    c.file("gguf-embedding-1d", with_info(g.tensors[0], ne=[256 * 300]),
           ["token_embd.weight must be 2-D"])

    # Wrong tensor types.
    c.file("gguf-type-999", put(i2s, q.type_at, "<I", 999),
           ["tensor 'blk.0.attn_q.weight' (info at offset %d)" % q.start,
            "type 999 tensors are not supported"])
    c.file("gguf-norm-as-i2s", put(i2s, attn_norm.type_at, "<I", GGML_I2_S),
           ["blk.0.attn_norm.weight", "I2_S"])
    c.file("gguf-i2s-as-f32", put(i2s, q.type_at, "<I", GGML_F32),
           ["tensor 'blk.0.attn_q.weight'"])

    # Non-UTF-8 strings.
    key_at, key = g.string_at(name.start)
    c.file("gguf-key-invalid-utf8",
           patched(i2s, key_at + 8, b"\xff\xfe"), [],
           accept="an unknown key is ignored, whatever its bytes")
    emb = g.kv("bitnet-b1.58.embedding_length")
    c.file("gguf-required-key-invalid-utf8",
           patched(i2s, emb.start + 8 + 13, b"\xff\xfe"),
           ["missing metadata key 'bitnet-b1.58.embedding_length'"])
    c.file("gguf-arch-invalid-utf8", patched(i2s, arch_at, b"\xff\xfe"),
           ["unsupported architecture"])
    c.file("gguf-token-invalid-utf8", patched(i2s, el[0] + 8, b"\xff"), [],
           accept="token text is not checked to be UTF-8")
    c.file("gguf-special-token-invalid-utf8",
           patched(i2s, el[299] + 8, b"\xff\xfe"), [],
           accept="token text is not checked to be UTF-8")
    # A token that a merge makes (token 256 + i comes from merge i): the
    # merge no longer makes it.
    c.file("gguf-merged-token-invalid-utf8",
           patched(i2s, el[280] + 8, b"\xff\xfe"),
           ["tokenizer: merge 24 (", "does not make a token"])
    merges = g.array_strings("tokenizer.ggml.merges")
    last = len(merges) - 1
    at, text = g.string_at(merges[last])
    bad = b"\xff" + text[1:]
    # (The tokenizer reports the offset of the whole array.)
    c.file("gguf-merge-invalid-utf8", patched(i2s, at, bad),
           ["offset %d" % g.kv("tokenizer.ggml.merges").value_at,
            "metadata key "
            "'tokenizer.ggml.merges': merge %d '%s' names a piece that is not "
            "in the vocabulary" % (last, bad.decode("utf-8",
                                                    "backslashreplace"))])
    tn = g.tensor("blk.0.ffn_gate.weight")
    c.file("gguf-tensor-name-invalid-utf8",
           patched(i2s, tn.start + 8 + 6, b"\xff\xfe"),
           ["missing tensor 'blk.0.ffn_gate.weight'"])


def hf_cases(c, src):
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

    def raw_config(fn):
        def mutate(d):
            p = os.path.join(d, "config.json")
            data = open(p, "rb").read()
            open(p, "wb").write(fn(data))
        return mutate

    def edit_safetensors(fn):
        """fn(header dict, whole file bytearray, data start) -> new file."""
        def mutate(d):
            p = os.path.join(d, "model.safetensors")
            data = bytearray(open(p, "rb").read())
            n = struct.unpack_from("<Q", data, 0)[0]
            header = json.loads(bytes(data[8:8 + n]))
            open(p, "wb").write(fn(header, data, 8 + n))
        return mutate

    def set_tensor(name, value_bytes):
        def fn(header, data, base):
            begin = header[name]["data_offsets"][0]
            data[base + begin: base + begin + len(value_bytes)] = value_bytes
            return bytes(data)
        return fn

    def raw_header(fn2):
        """fn2(header dict) -> header bytes (padded here to 8)."""
        def fn(header, data, base):
            h = fn2(header)
            h += b" " * (-len(h) % 8)
            return struct.pack("<Q", len(h)) + h + bytes(data[base:])
        return fn

    def rewrite_header(fn2):
        def edit(header):
            fn2(header)
            return json.dumps(header).encode()
        return raw_header(edit)

    def set_entry(name, **changes):
        return rewrite_header(lambda h: h[name].update(changes))

    def set_length(value):
        def fn(header, data, base):
            return struct.pack("<Q", value) + bytes(data[8:])
        return fn

    gate = "model.layers.0.mlp.gate_proj.weight"
    up = "model.layers.0.mlp.up_proj.weight"
    norm = "model.layers.0.input_layernorm.weight"
    st_file = open(os.path.join(src, "model.safetensors"), "rb").read()
    n = struct.unpack_from("<Q", st_file, 0)[0]
    gate_off = json.loads(st_file[8:8 + n])[gate]["data_offsets"]
    up_off = json.loads(st_file[8:8 + n])[up]["data_offsets"]
    data_bytes = len(st_file) - 8 - n

    def case(name, mutate, expect, accept=None, gap=None):
        c.dir(name, src, mutate, expect, accept, gap)

    # Kept from the first version of this test.
    case("hf-unknown-arch", edit_config(architectures=["MambaForCausalLM"]),
         ["config.json", "MambaForCausalLM"])
    case("hf-missing-field", edit_config(hidden_size=None),
         ["config.json", "hidden_size"])
    case("hf-absurd-size", edit_config(num_hidden_layers=1 << 40),
         ["num_hidden_layers"])
    case("hf-truncated",
         lambda d: open(os.path.join(d, "model.safetensors"), "r+b")
         .truncate(os.path.getsize(os.path.join(d, "model.safetensors"))
                   // 2),
         ["model.safetensors", "tensor"])
    case("hf-nan-scale",
         edit_safetensors(set_tensor(
             "model.layers.0.self_attn.o_proj.weight_scale",
             struct.pack("<H", 0x7FC0))),
         ["model.layers.0.self_attn.o_proj.weight", "scale"])
    case("hf-missing-tensor",
         edit_safetensors(rewrite_header(lambda h: h.update(
             {"model.layers.0.mlp.up_projX.weight": h.pop(up)}))),
         ["model.layers.0.mlp.up_proj.weight"])
    case("hf-wrong-dtype", edit_safetensors(set_entry(gate, dtype="I8")),
         [gate])

    # config.json.
    case("hf-hidden-size-1e12", edit_config(hidden_size=10 ** 12),
         ["config.json: 'hidden_size' = 1000000000000 is out of range"])
    case("hf-negative-layers", edit_config(num_hidden_layers=-3),
         ["config.json: 'num_hidden_layers' = -3 is out of range"])
    case("hf-layers-not-integer", edit_config(num_hidden_layers=1.5),
         ["config.json: missing integer 'num_hidden_layers'"])
    case("hf-config-invalid-utf8",
         raw_config(lambda b: b.replace(b'"bfloat16"', b'"bf\xff\xfe16"')),
         ["config.json: invalid JSON", "UTF-8"])
    case("hf-config-not-json", raw_config(lambda b: b[:len(b) // 2]),
         ["config.json: invalid JSON"])
    case("hf-config-not-object", raw_config(lambda b: b"[1, 2]"),
         ["config.json: not a JSON object"])

    # The safetensors header.
    st = "model.safetensors: "
    case("hf-header-length-2^63", edit_safetensors(set_length(1 << 63)),
         [st + "header length %d at offset 0 exceeds the 104857600-byte "
          "limit" % (1 << 63)])
    case("hf-header-length-past-file",
         edit_safetensors(set_length(100 << 20)),
         [st + "truncated: header of 104857600 bytes ends past the end of "
          "the"])
    case("hf-header-not-json",
         edit_safetensors(raw_header(lambda h: b"{not json at all}")),
         [st + "header is not valid JSON"])
    case("hf-header-not-object",
         edit_safetensors(raw_header(lambda h: b"[]")),
         [st + "header is not a JSON object"])
    case("hf-header-invalid-utf8",
         edit_safetensors(raw_header(lambda h: json.dumps(h).encode()
                                     .replace(b"weight_scale",
                                              b"weight_sc\xff\xfe", 1))),
         [st + "header is not valid JSON", "UTF-8"])

    def duplicate(h):
        # The same name twice: json.dumps cannot write that, so by hand.
        items = [json.dumps(k) + ":" + json.dumps(v) for k, v in h.items()]
        dup = dict(h[up])
        items.append(json.dumps(gate) + ":" + json.dumps(dup))
        return ("{" + ",".join(items) + "}").encode()
    case("hf-duplicate-tensor-name", edit_safetensors(raw_header(duplicate)),
         [st + "tensor '%s' is declared twice in the header (again at "
          "file offset" % gate])
    case("hf-overlapping-tensors",
         edit_safetensors(set_entry(gate, data_offsets=up_off)),
         [st + "tensor '%s': data_offsets [%d, %d] overlaps tensor '%s'"
          % (up, up_off[0], up_off[1], gate)])
    case("hf-metadata-not-string",
         edit_safetensors(rewrite_header(lambda h: h.update(
             __metadata__={"format": 1}))),
         [st + "__metadata__ entry 'format' is not a string"])
    case("hf-offsets-reversed",
         edit_safetensors(set_entry(gate, data_offsets=gate_off[::-1])),
         [st + "tensor '%s': data_offsets must be non-negative and ordered"
          % gate])
    case("hf-offsets-negative",
         edit_safetensors(set_entry(gate, data_offsets=[-4, gate_off[1]])),
         [st + "tensor '%s': data_offsets must be non-negative and ordered"
          % gate])
    case("hf-offsets-past-file",
         edit_safetensors(set_entry(gate, data_offsets=[
             gate_off[0], data_bytes + 64])),
         [st + "tensor '%s': data_offsets [%d, %d] end past the %d data "
          "bytes" % (gate, gate_off[0], data_bytes + 64, data_bytes)])
    case("hf-offsets-2^63",
         edit_safetensors(set_entry(gate, data_offsets=[
             gate_off[0], 1 << 63])),
         [st + "tensor '%s': data_offsets must be non-negative and ordered"
          % gate])
    case("hf-offsets-one-entry",
         edit_safetensors(set_entry(gate, data_offsets=[0])),
         [st + "tensor '%s': data_offsets must be [begin, end]" % gate])
    case("hf-shape-bytes-overflow",
         edit_safetensors(set_entry(gate, shape=[1 << 62, 1 << 62])),
         [st + "tensor '%s': holds %d bytes but its shape and dtype need "
          "more than the file" % (gate, gate_off[1] - gate_off[0])])
    case("hf-shape-negative",
         edit_safetensors(set_entry(gate, shape=[-128, 256])),
         [st + "tensor '%s': shape entries must be non-negative integers"
          % gate])
    case("hf-shape-mismatch",
         edit_safetensors(set_entry(gate, shape=[128, 257])),
         [st + "tensor '%s': holds %d bytes but its shape and dtype need %d"
          % (gate, gate_off[1] - gate_off[0], 128 * 257)])
    case("hf-dtype-q4", edit_safetensors(set_entry(gate, dtype="Q4")),
         [st + "tensor '%s': unsupported dtype 'Q4'" % gate])
    case("hf-norm-as-i8",
         edit_safetensors(set_entry(norm, dtype="I8", shape=[512])),
         [st + "tensor '%s': unsupported dtype I8" % norm])
    case("hf-norm-as-i8-same-shape",
         edit_safetensors(set_entry(norm, dtype="I8")),
         [st + "tensor '%s': holds 512 bytes but its shape and dtype need "
          "256" % norm])
    case("hf-norm-as-u8",
         edit_safetensors(set_entry(norm, dtype="U8", shape=[512])),
         ["tensor '%s' has the wrong dtype or shape" % norm])


BL_FIELDS = ("dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads",
             "vocab_size", "seq_len")


def bl_layout(data):
    """(name, offset, bytes) of each part of a bitllama2.c file, in order."""
    dim, hidden, layers, heads, kv_heads, vocab, _ = \
        struct.unpack_from("<7i", data, 8)
    kv = dim // heads * kv_heads
    parts = [("the final norm", 256, 4 * dim)]
    parts.append(("the embedding", 256 + 4 * dim, 4 * vocab * dim))
    off = parts[-1][1] + parts[-1][2]
    for g, rows, cols in (("wq", dim, dim), ("wk", kv, dim), ("wv", kv, dim),
                          ("wo", dim, dim), ("w1", hidden, dim),
                          ("w2", dim, hidden), ("w3", hidden, dim)):
        for l in range(layers):
            n = 4 + rows * cols // 4
            parts.append(("'layers.%d.%s'" % (l, g), off, n))
            off += n
    assert off == len(data)
    return parts


def bl_cases(c, bl):
    def case(name, data, expect, accept=None):
        c.file(name, data, expect, ".bin", accept)

    def field(name):
        return 8 + 4 * BL_FIELDS.index(name)

    # Kept from the first version of this test.
    case("bl-bad-magic", b"ak43" + bl[4:], ["unknown checkpoint format"])
    case("bl-truncated", bl[:300000], ["truncated", "layers."])
    case("bl-absurd-dim", put(bl, 8, "<i", 1 << 30), ["offset 8", "dim"])
    first = 256 + 4 * 128 + 4 * 512 * 128
    case("bl-zero-scale", put(bl, first, "<f", 0.0), ["layers.0.wq", "scale"])
    case("bl-unknown-format", b"\x00" * 64, ["unknown checkpoint"])

    # The header.
    case("bl-bad-version", put(bl, 4, "<i", 2),
         ["offset 4: unsupported version 2 (only 1)"])
    for name, value in (("dim", -128), ("n_layers", -8), ("n_heads", -1),
                        ("hidden_dim", -(1 << 31)), ("seq_len", 0),
                        ("n_kv_heads", 0), ("vocab_size", 0),
                        ("n_layers", 1 << 20)):
        limit = {"dim": 65536, "hidden_dim": 262144, "n_layers": 1024,
                 "n_heads": 65536, "n_kv_heads": 65536,
                 "vocab_size": 4194304, "seq_len": 4194304}[name]
        case("bl-%s-%d" % (name.replace("_", "-"), value),
             put(bl, field(name), "<i", value),
             ["offset %d: %s = %d is outside [1, %d]"
              % (field(name), name, value, limit)])
    # -2^31: its negation (the untied-classifier convention) overflows i32.
    case("bl-vocab-int-min", put(bl, field("vocab_size"), "<i", -(1 << 31)),
         ["offset 28: vocab_size = 2147483648 is outside [1, 4194304]"])
    case("bl-vocab-negative", put(bl, field("vocab_size"), "<i", -512),
         ["offset 28: negative vocab_size (untied classifier) is not "
          "supported"])
    case("bl-heads-not-dividing", put(bl, field("n_heads"), "<i", 3),
         ["offset 8: dim 128, n_heads 3, n_kv_heads 4 do not divide into "
          "even-sized heads"])
    # The largest sizes the limits allow: far more than the file, and
    # products that overflow 32 bits (not 64).
    huge = put(bl, 8, "<5i", 65536, 262144, 1024, 8, 4)
    huge = put(huge, field("vocab_size"), "<i", 4194304)
    case("bl-sizes-overflow-32-bits", huge,
         ["truncated: the embedding needs %d bytes at offset %d, the file "
          "has %d" % (4 * 4194304 * 65536, 256 + 4 * 65536, len(bl))])
    case("bl-trailing-data", bl + b"\0" * 12,
         ["12 bytes of trailing data after the last matrix at offset %d"
          % len(bl)])

    # Cut in the header, the norm, the embedding, in the middle of every
    # layer's wq and of layer 0 of every matrix group, one byte short.
    case("bl-cut-in-header", bl[:100],
         ["truncated: 100 bytes, the header alone needs 256"])
    parts = bl_layout(bl)
    picks = [p for p in parts if not p[0].startswith("'layers.")]
    picks += [p for p in parts if p[0].endswith(".wq'")]
    picks += [p for p in parts if p[0].startswith("'layers.0.")
              and not p[0].endswith(".wq'")]
    for what, off, n in picks:
        at = off + n // 2
        label = what.strip("'").replace("the ", "").replace(" ", "-") \
            .replace("layers.", "layer-").replace(".", "-")
        case("bl-cut-in-" + label, bl[:at],
             ["truncated: %s needs %d bytes at offset %d, the file has %d"
              % (what, n, off, at)])
    what, off, n = parts[-1]
    case("bl-cut-one-byte-short", bl[:-1],
         ["truncated: %s needs %d bytes at offset %d, the file has %d"
          % (what, n, off, len(bl) - 1)])


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    gen = [sys.executable, os.path.join(ROOT, "scripts", "gen-synthetic.py"),
           "--hidden", "256", "--ffn", "512", "--layers", "1", "--heads",
           "4", "--kv-heads", "2", "--vocab", "300", "--seed", "5"]
    for fmt, out in (("gguf-i2_s", "i2s.gguf"), ("gguf-tq2_0", "tq2.gguf"),
                     ("hf", "hf")):
        subprocess.run(gen + ["--format", fmt, "--arch", "2b4t", "--out",
                              os.path.join(work, out)],
                       check=True, capture_output=True)
    i2s = open(os.path.join(work, "i2s.gguf"), "rb").read()
    tq2 = open(os.path.join(work, "tq2.gguf"), "rb").read()
    bl = open(os.path.join(ROOT, "models", "bitllama2c-tinystories-1M",
                           "bit_model.bin"), "rb").read()

    c = Cases(work)
    gguf_cases(c, i2s, tq2)
    hf_cases(c, os.path.join(work, "hf"))
    bl_cases(c, bl)

    names = [case[0] for case in c.list]
    assert len(names) == len(set(names)), "duplicate case names"
    passed = failed = 0
    for name, path, expect, accept, gap in c.list:
        if gap:
            print("gap  %-36s not run: %s" % (name, gap))
            continue
        ok, line = check(name, path, expect, accept, work)
        print(line, flush=True)
        passed += ok
        failed += not ok
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
