#!/usr/bin/python3
"""Write one random ternary BitNet b1.58 model, of any shape, in one or several checkpoint
formats that all describe the same model (same ternary codes, same scales, same norms and
embedding values; formats: docs in the project's format notes).

Formats:
  hf          Hugging Face directory: config.json, model.safetensors (U8 [out/4, in] row-block
              packed ternary codes + weight_scale BF16 [1]), bf16 norms/embedding,
              tokenizer.json, tokenizer_config.json, generation_config.json.
  hf-bf16     the same model as bf16 master weights (quantization_mode "online").
  gguf-tq1_0, gguf-tq2_0, gguf-i2_s
              GGUF v3 (f16 token_embd, f32 norms, ternary linears in that type).

Architectures (--arch):
  2b4t     BitNetForCausalLM / GGUF "bitnet-b1.58": relu2, attn_sub_norm + ffn_sub_norm, tied
           head, linear_class autobitlinear (weight_scale is a multiplier, ~1.5).
  1bitllm  BitnetForCausalLM / GGUF "bitnet": SiLU, sub-norms (HF names inner_attn_ln /
           ffn_layernorm), tied head, linear_class bitlinear (weight_scale is the inverse).
  llama    LlamaForCausalLM / GGUF "llama": SiLU, no sub-norms, untied lm_head (bf16 in HF,
           f16 in GGUF), linear_class bitlinear. In the GGUF file the q/k rows of each head are
           permuted to adjacent RoPE pairs (rows 2i, 2i+1 <- HF rows i, i+hd/2), the llama
           convention of GGUF; the bitnet architectures keep the HF row order (half-split RoPE).

Exactness: every value is chosen to be exactly representable in every format that holds it
(embedding/lm_head: bf16 values that are also exact in f16; norms: bf16; scales: bf16 and
f16; for the bitlinear class the multiplier is a power of two so that 1/weight_scale is exact).
So all formats decode to bit-identical models.

Scale relations (m = multiplier, T = ternary codes):
  hf (autobitlinear): weight_scale = m        y = (T.q)/s_x * m
  hf (bitlinear):     weight_scale = 1/m      y = (T.q)/(s_x * weight_scale)
  hf-bf16:            W = T * m * u with u in {1, 2} per nonzero, exactly (N - nnz) entries with
                      u = 2, so sum|W| = m * N and the absmean quantizer gives
                      mean|W| = m exactly (in exact / float64 arithmetic) and
                      clamp(round(W/m), -1, 1) = T. Checked for every matrix (fails loudly).
  TQ1_0 / TQ2_0:      every block's fp16 d = m.     I2_S: the fp32 tail scale = m.

Usage:
  gen-synthetic.py --format hf --arch 2b4t --out /tmp/m-hf
  gen-synthetic.py --format hf,hf-bf16,gguf-tq2_0 --out /tmp/m    (a directory of several)
  gen-synthetic.py --format gguf-i2_s --shape 2b4t --out /tmp/2b4t-i2s.gguf
"""

import argparse
import json
import math
import os
import random
import struct
import sys
import time
import zlib

import numpy as np

FORMATS = ('hf', 'hf-bf16', 'gguf-tq1_0', 'gguf-tq2_0', 'gguf-i2_s')
MULTI_NAMES = {'hf': 'hf', 'hf-bf16': 'hf-bf16', 'gguf-tq1_0': 'model-tq1_0.gguf',
               'gguf-tq2_0': 'model-tq2_0.gguf', 'gguf-i2_s': 'model-i2_s.gguf'}

ARCHS = {
    '2b4t': dict(hf_arch='BitNetForCausalLM', model_type='bitnet', gguf_arch='bitnet-b1.58',
                 act='relu2', sub_norm=('self_attn.attn_sub_norm', 'mlp.ffn_sub_norm'),
                 tied=True, linear_class='autobitlinear', theta=500000.0),
    '1bitllm': dict(hf_arch='BitnetForCausalLM', model_type='llama', gguf_arch='bitnet',
                    act='silu', sub_norm=('self_attn.inner_attn_ln', 'mlp.ffn_layernorm'),
                    tied=True, linear_class='bitlinear', theta=10000.0),
    'llama': dict(hf_arch='LlamaForCausalLM', model_type='llama', gguf_arch='llama',
                  act='silu', sub_norm=None, tied=False, linear_class='bitlinear',
                  theta=500000.0),
}

SHAPE_2B4T = dict(hidden=2560, ffn=6912, layers=30, heads=20, kv_heads=5, vocab=128256, ctx=4096)

# ggml type ids and general.file_type values
GGML_F32, GGML_F16, GGML_TQ1_0, GGML_TQ2_0, GGML_I2_S = 0, 1, 34, 35, 36
FILE_TYPE = {'gguf-tq1_0': 36, 'gguf-tq2_0': 37, 'gguf-i2_s': 40}
GGML_OF = {'gguf-tq1_0': GGML_TQ1_0, 'gguf-tq2_0': GGML_TQ2_0, 'gguf-i2_s': GGML_I2_S}


def die(msg):
    print('gen-synthetic: error: ' + msg, file=sys.stderr)
    sys.exit(2)


class Progress:
    def __init__(self, total_bytes, label):
        self.total = max(total_bytes, 1)
        self.done = 0
        self.t0 = time.time()
        self.last = 0.0
        self.label = label
        self.enabled = total_bytes > (64 << 20)

    def add(self, n):
        self.done += n
        now = time.time()
        if self.enabled and (now - self.last > 2.0 or self.done >= self.total):
            self.last = now
            print('  %s: %5.1f%% of %.2f GB, %.1f s' % (self.label, 100.0 * self.done / self.total,
                                                       self.total / 1e9, now - self.t0),
                  file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# the model: values, deterministic per tensor from (seed, logical name)
# --------------------------------------------------------------------------------------------

def f32_to_bf16_bits(x):
    """float32 -> bfloat16 bit patterns, round to nearest even."""
    b = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    b = b + (np.uint32(0x7FFF) + ((b >> np.uint32(16)) & np.uint32(1)))
    return (b >> np.uint32(16)).astype(np.uint16)


def bf16_bits_to_f32(u):
    return (u.astype(np.uint32) << np.uint32(16)).view(np.float32)


def round_bf16_f16_exact(x):
    """float32 values rounded to bf16 and made exact in f16 too (|v| < 2^-17 flushed to 0)."""
    v = bf16_bits_to_f32(f32_to_bf16_bits(x))
    v = np.where(np.abs(v) < np.float32(2.0 ** -17), np.float32(0), v)
    if np.any(np.abs(v) > 65504):
        raise ValueError('value out of f16 range')
    return v.astype(np.float32)


class Spec:
    def __init__(self, a):
        self.arch = a.arch
        self.A = ARCHS[a.arch]
        self.H, self.F, self.L = a.hidden, a.ffn, a.layers
        self.nh, self.nkv, self.V, self.ctx = a.heads, a.kv_heads, a.vocab, a.ctx
        self.seed = a.seed
        self.eps = a.eps
        self.theta = a.rope_theta if a.rope_theta else self.A['theta']
        self.scale = a.scale
        self.hd = self.H // self.nh if self.nh else 0
        self.kvd = self.nkv * self.hd
        self.inverse = self.A['linear_class'] == 'bitlinear'
        self.llama3_vocab = self.V == 128256

    def validate(self, formats):
        if min(self.H, self.F, self.L, self.nh, self.nkv, self.V, self.ctx) <= 0:
            die('all shape values must be positive')
        if self.H % self.nh:
            die('hidden (%d) must be a multiple of heads (%d)' % (self.H, self.nh))
        if self.nh % self.nkv:
            die('heads (%d) must be a multiple of kv-heads (%d)' % (self.nh, self.nkv))
        if self.hd % 2:
            die('head dim %d must be even (RoPE pairs)' % self.hd)
        for n, (_, _, N, K) in self.linears(0).items():
            if N % 4:
                die('%s has %d output rows; the HF U8 packing needs a multiple of 4' % (n, N))
        for f in formats:
            if f in ('gguf-tq1_0', 'gguf-tq2_0'):
                for n, (_, _, N, K) in self.linears(0).items():
                    if K % 256:
                        die('%s needs every linear input size to be a multiple of 256 '
                            '(%s has %d); choose --hidden/--ffn accordingly' % (f, n, K))
            if f == 'gguf-i2_s':
                for n, (_, _, N, K) in self.linears(0).items():
                    if (N * K) % 128:
                        die('gguf-i2_s needs out*in %% 128 == 0 (%s is %dx%d)' % (n, N, K))
        if self.V < 258:
            die('vocab must be at least 258 (256 byte tokens + BOS + EOS)')
        if self.llama3_vocab and self.V != 128256:
            die('internal')

    def linears(self, i):
        """logical name -> (hf suffix, gguf suffix, out, in) for layer i."""
        H, F, kvd = self.H, self.F, self.kvd
        qd = self.nh * self.hd
        return {
            'q': ('self_attn.q_proj', 'attn_q', qd, H),
            'k': ('self_attn.k_proj', 'attn_k', kvd, H),
            'v': ('self_attn.v_proj', 'attn_v', kvd, H),
            'o': ('self_attn.o_proj', 'attn_output', H, qd),
            'gate': ('mlp.gate_proj', 'ffn_gate', F, H),
            'up': ('mlp.up_proj', 'ffn_up', F, H),
            'down': ('mlp.down_proj', 'ffn_down', H, F),
        }

    def rng(self, name, stream=0):
        return np.random.default_rng([self.seed, zlib.crc32(name.encode()), stream])

    # ---- values ----
    def codes(self, name, N, K):
        """uint8 codes (value + 1) in {0, 1, 2}, [N, K], uniform: about 1/3 zeros."""
        return self.rng(name).integers(0, 3, size=(N, K), dtype=np.uint8)

    def multiplier(self, name, K):
        """per-tensor multiplier m: bf16- and f16-exact; a power of two for bitlinear."""
        r = self.rng(name, 1)
        if self.inverse:
            if self.scale:
                k = round(-math.log2(self.scale))
            else:
                k = round(math.log2(math.sqrt(2.0 * K / 3.0))) + int(r.integers(-1, 1, endpoint=True))
            return 2.0 ** -k
        base = self.scale if self.scale else 1.5
        m = base * float(r.uniform(0.85, 1.15))
        return float(round_bf16_f16_exact(np.array([m], np.float32))[0])

    def masters_bf16(self, name, codes, m):
        """bf16 master weights W = T * m * u, u in {1, 2}, exactly N - nnz entries with u = 2,
        so mean|W| == m and round(W/m) clamped == T. Returns uint16 bf16 bits [N, K]."""
        N, K = codes.shape
        n = N * K
        flat = codes.reshape(-1)
        nz = flat != 1
        nnz = int(np.count_nonzero(nz))
        n_two = n - nnz
        if n_two > nnz:
            die('%s: fewer than half of the codes are nonzero; cannot build exact masters' % name)
        # Bernoulli(n_two / nnz) over the nonzeros, then fix the count exactly
        r = self.rng(name, 2)
        thr = int(round(65536.0 * n_two / nnz)) if nnz else 0
        two = (r.integers(0, 65536, size=n, dtype=np.uint16) < thr) & nz
        diff = n_two - int(np.count_nonzero(two))
        if diff:
            cand = np.flatnonzero(nz & ~two) if diff > 0 else np.flatnonzero(two)
            pick = cand[r.choice(cand.size, size=abs(diff), replace=False)]
            two[pick] = diff > 0
        # bf16 bit patterns of 0, +-m, +-2m, selected by (code, u)
        vals = np.array([-m, 0.0, m, -2 * m, 0.0, 2 * m], dtype=np.float32)
        table = f32_to_bf16_bits(vals)
        if not np.array_equal(bf16_bits_to_f32(table), vals):
            die('%s: multiplier %r is not exact in bf16' % (name, m))
        idx = flat + 3 * two.view(np.uint8)
        bits = table[idx].reshape(N, K)
        # Verify with the absmean quantizer. W is table[idx] elementwise, so: the scale from the
        # exact counts of each table entry (float64 sum, exact for these values), and the
        # quantizer applied to each of the six table values.
        cnt = np.bincount(idx, minlength=6).astype(np.float64)
        absv = np.abs(bf16_bits_to_f32(table).astype(np.float64))
        s = max(float(np.dot(cnt, absv)) / n, 1e-5)
        if s != m:
            die('%s: bf16 masters give absmean scale %r, expected %r' % (name, s, m))
        tq = np.clip(np.rint(bf16_bits_to_f32(table).astype(np.float64) / s), -1, 1)
        if not np.array_equal(tq, np.array([-1, 0, 1, -1, 0, 1], dtype=np.float64)):
            die('%s: bf16 masters do not quantize back to the ternary codes' % name)
        return bits

    def norm(self, name, n):
        v = 1.0 + 0.1 * self.rng(name).standard_normal(n, dtype=np.float32)
        return bf16_bits_to_f32(f32_to_bf16_bits(v))

    EMB_CHUNK = 4096

    def embed_chunks(self, name, V, H):
        """float32 chunks of rows, exact in bf16 and f16 (same chunks for every format)."""
        r = self.rng(name)
        for b in range(0, V, self.EMB_CHUNK):
            n = min(self.EMB_CHUNK, V - b)
            x = r.standard_normal((n, H), dtype=np.float32) * np.float32(0.02)
            yield round_bf16_f16_exact(x)

    # ---- tokenizer ----
    def tokenizer(self):
        """(tokens, token_types, merges, bos, eos, specials): byte-level BPE in GPT-2 spelling."""
        b2u = bytes_to_unicode()
        toks = [b2u[b] for b in range(256)]
        if self.llama3_vocab:
            n_regular = 128000
            bos, eos = 128000, 128001
        else:
            n_regular = self.V - 2
            bos, eos = self.V - 2, self.V - 1
        merges = []
        seen = set(toks)
        rnd = random.Random(self.seed * 1000003 + 17)
        # a few readable merges first, then synthetic ones until the regular vocabulary is full
        alpha = [b2u[c] for c in b'etaoinshrdlucmfwyp'] + [b2u[32]]
        seeds = ['\u0120 t', 'h e', '\u0120 a', 'i n', '\u0120t he', 'e r', 'o n', '\u0120 s']
        for mg in seeds:
            if len(toks) >= n_regular:
                break
            a, b = mg.split(' ')
            if a in seen and b in seen and a + b not in seen:
                merges.append(mg)
                toks.append(a + b)
                seen.add(a + b)
        tries = 0
        while len(toks) < n_regular:
            tries += 1
            if tries > 50 * n_regular + 1000:
                die('could not fill the vocabulary with merges')
            a = toks[rnd.randrange(256, len(toks))] if len(toks) > 264 and rnd.random() < 0.6 else rnd.choice(alpha)
            b = toks[rnd.randrange(256, len(toks))] if len(toks) > 264 and rnd.random() < 0.4 else rnd.choice(alpha)
            if len(a) + len(b) > 16 or (a + b) in seen:
                continue
            merges.append(a + ' ' + b)
            toks.append(a + b)
            seen.add(a + b)
        types = [1] * len(toks)
        specials = {}
        if self.llama3_vocab:
            names = {128000: '<|begin_of_text|>', 128001: '<|end_of_text|>',
                     128006: '<|start_header_id|>', 128007: '<|end_header_id|>',
                     128009: '<|eot_id|>'}
            for i in range(128000, 128256):
                nm = names.get(i, '<|reserved_special_token_%d|>' % (i - 128000))
                toks.append(nm)
                types.append(3)
                specials[i] = nm
        else:
            for i, nm in ((bos, '<|begin_of_text|>'), (eos, '<|end_of_text|>')):
                toks.append(nm)
                types.append(3)
                specials[i] = nm
        assert len(toks) == self.V
        return toks, types, merges, bos, eos, specials


def bytes_to_unicode():
    """GPT-2's byte -> printable unicode character map."""
    keep = list(range(ord('!'), ord('~') + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    out = {}
    n = 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + n)
            n += 1
    return out


# --------------------------------------------------------------------------------------------
# packings
# --------------------------------------------------------------------------------------------

def pack_hf_rowblock(codes):
    """[N, K] codes -> U8 [N/4, K]: bits 2i..2i+1 of P[r, c] hold row i*R + r."""
    N, K = codes.shape
    R = N // 4
    return (codes[:R] | (codes[R:2 * R] << 2) | (codes[2 * R:3 * R] << 4) | (codes[3 * R:] << 6)).astype(np.uint8)


def f16_bytes(v, nb):
    return np.tile(np.frombuffer(np.float16(v).tobytes(), dtype=np.uint8), (nb, 1))


def pack_tq2_0(codes, d):
    """TQ2_0 blocks of 256: qs[64] (qs[32c+m] bits 2n = element c*128+n*32+m), fp16 d."""
    blk = codes.reshape(-1, 2, 4, 32)                        # [nb, c, n, m]
    nb = blk.shape[0]
    qs = (blk[:, :, 0] | (blk[:, :, 1] << 2) | (blk[:, :, 2] << 4) | (blk[:, :, 3] << 6))
    out = np.empty((nb, 66), dtype=np.uint8)
    out[:, :64] = qs.reshape(nb, 64)
    out[:, 64:] = f16_bytes(d, nb)
    return out.reshape(-1)


def _tq1_bytes(trits):
    """trits [nb, ntr, m] (ntr <= 5, first most significant) -> bytes ceil(v*256/243)."""
    nb, ntr, m = trits.shape
    v = np.zeros((nb, m), dtype=np.uint32)
    for n in range(5):
        v = v * 3 + (trits[:, n].astype(np.uint32) if n < ntr else 0)
    return ((v * 256 + 242) // 243).astype(np.uint8)


def pack_tq1_0(codes, d):
    """TQ1_0 blocks of 256: qs[48] (5 trits/byte), qh[4] (4 trits/byte), fp16 d."""
    blk = codes.reshape(-1, 256)
    nb = blk.shape[0]
    out = np.empty((nb, 54), dtype=np.uint8)
    out[:, 0:32] = _tq1_bytes(blk[:, 0:160].reshape(nb, 5, 32))
    out[:, 32:48] = _tq1_bytes(blk[:, 160:240].reshape(nb, 5, 16))
    out[:, 48:52] = _tq1_bytes(blk[:, 240:256].reshape(nb, 4, 4))
    out[:, 52:54] = f16_bytes(d, nb)
    return out.reshape(-1)


def pack_i2_s(codes, scale):
    """I2_S: 128-element runs as 32 bytes (byte p: element p in bits 7:6, p+32 in 5:4, p+64
    in 3:2, p+96 in 1:0), then a 32-byte tail whose first 4 bytes are the fp32 scale."""
    g = codes.reshape(-1, 4, 32)
    q = (g[:, 0] << 6) | (g[:, 1] << 4) | (g[:, 2] << 2) | g[:, 3]
    tail = np.zeros(32, dtype=np.uint8)
    tail[:4] = np.frombuffer(np.float32(scale).tobytes(), dtype=np.uint8)
    return np.concatenate([q.reshape(-1).astype(np.uint8), tail])


def llama_qk_perm(n_heads, hd):
    """GGUF llama row order: row h*hd + 2i <- h*hd + i, row h*hd + 2i + 1 <- h*hd + hd/2 + i."""
    half = hd // 2
    i = np.arange(half)
    per = np.empty(hd, dtype=np.int64)
    per[0::2] = i
    per[1::2] = i + half
    return (np.arange(n_heads)[:, None] * hd + per[None, :]).reshape(-1)


# --------------------------------------------------------------------------------------------
# writers
# --------------------------------------------------------------------------------------------

def write_hf(spec, out, bf16_masters):
    A = spec.A
    os.makedirs(out, exist_ok=True)
    # tensor list: (name, dtype, shape, producer) in file order
    items = []
    items.append(('model.embed_tokens.weight', 'BF16', (spec.V, spec.H), ('embed', 'embed')))
    for i in range(spec.L):
        lp = 'model.layers.%d.' % i
        items.append((lp + 'input_layernorm.weight', 'BF16', (spec.H,), ('norm', 'L%d.attn_norm' % i)))
        items.append((lp + 'post_attention_layernorm.weight', 'BF16', (spec.H,), ('norm', 'L%d.ffn_norm' % i)))
        if A['sub_norm']:
            items.append((lp + A['sub_norm'][0] + '.weight', 'BF16', (spec.H,), ('norm', 'L%d.attn_sub_norm' % i)))
            items.append((lp + A['sub_norm'][1] + '.weight', 'BF16', (spec.F,), ('norm', 'L%d.ffn_sub_norm' % i)))
        for k, (hfn, _, N, K) in spec.linears(i).items():
            lname = 'L%d.%s' % (i, k)
            if bf16_masters:
                items.append((lp + hfn + '.weight', 'BF16', (N, K), ('master', lname)))
            else:
                items.append((lp + hfn + '.weight', 'U8', (N // 4, K), ('packed', lname)))
                items.append((lp + hfn + '.weight_scale', 'BF16', (1,), ('wscale', lname)))
    items.append(('model.norm.weight', 'BF16', (spec.H,), ('norm', 'final_norm')))
    if not A['tied']:
        items.append(('lm_head.weight', 'BF16', (spec.V, spec.H), ('embed', 'lm_head')))
    isz = {'BF16': 2, 'U8': 1}
    hdr = {'__metadata__': {'format': 'pt'}}
    off = 0
    for name, dt, shape, _ in items:
        n = int(np.prod(shape)) * isz[dt]
        hdr[name] = {'dtype': dt, 'shape': list(shape), 'data_offsets': [off, off + n]}
        off += n
    hj = json.dumps(hdr, separators=(',', ':')).encode()
    hj += b' ' * ((8 - len(hj) % 8) % 8)
    prog = Progress(off, os.path.basename(out.rstrip('/')) + '/model.safetensors')
    path = os.path.join(out, 'model.safetensors')
    with open(path + '.tmp', 'wb') as f:
        f.write(struct.pack('<Q', len(hj)))
        f.write(hj)
        for name, dt, shape, (kind, lname) in items:
            if kind == 'embed':
                for ch in spec.embed_chunks(lname, *shape):
                    b = f32_to_bf16_bits(ch).tobytes()
                    f.write(b)
                    prog.add(len(b))
                continue
            if kind == 'norm':
                data = f32_to_bf16_bits(spec.norm(lname, shape[0]))
            elif kind in ('packed', 'master', 'wscale'):
                i, k = lname[1:].split('.')
                _, _, N, K = spec.linears(int(i))[k]
                m = spec.multiplier(lname, K)
                if kind == 'wscale':
                    ws = 1.0 / m if spec.inverse else m
                    data = f32_to_bf16_bits(np.array([ws], np.float32))
                    assert float(bf16_bits_to_f32(data)[0]) == ws
                else:
                    codes = spec.codes(lname, N, K)
                    data = pack_hf_rowblock(codes) if kind == 'packed' else spec.masters_bf16(lname, codes, m)
            b = np.ascontiguousarray(data).tobytes()
            f.write(b)
            prog.add(len(b))
    os.replace(path + '.tmp', path)
    write_hf_side_files(spec, out, bf16_masters)


def write_hf_side_files(spec, out, bf16_masters):
    A = spec.A
    toks, types, merges, bos, eos, specials = spec.tokenizer()
    cfg = {
        'architectures': [A['hf_arch']],
        'model_type': A['model_type'],
        'hidden_size': spec.H,
        'intermediate_size': spec.F,
        'num_hidden_layers': spec.L,
        'num_attention_heads': spec.nh,
        'num_key_value_heads': spec.nkv,
        'vocab_size': spec.V,
        'max_position_embeddings': spec.ctx,
        'rope_theta': spec.theta,
        'rms_norm_eps': spec.eps,
        'hidden_act': A['act'],
        'tie_word_embeddings': A['tied'],
        'bos_token_id': bos,
        'eos_token_id': eos,
        'attention_bias': False,
        'mlp_bias': False,
        'initializer_range': 0.02,
        'torch_dtype': 'bfloat16',
        'quantization_config': {
            'quant_method': 'bitnet',
            'linear_class': A['linear_class'],
            'quantization_mode': 'online' if bf16_masters else 'offline',
        },
        'synthetic': {'generator': 'ternc scripts/gen-synthetic.py', 'seed': spec.seed,
                      'arch': spec.arch},
    }
    with open(os.path.join(out, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2)
        f.write('\n')
    with open(os.path.join(out, 'generation_config.json'), 'w') as f:
        json.dump({'bos_token_id': bos, 'eos_token_id': eos, 'do_sample': False}, f, indent=2)
        f.write('\n')
    llama3_regex = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                    r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
    added = [{'id': i, 'content': nm, 'single_word': False, 'lstrip': False, 'rstrip': False,
              'normalized': False, 'special': True} for i, nm in sorted(specials.items())]
    vocab = {t: i for i, t in enumerate(toks[:len(toks) - len(specials)])}
    bos_s = specials[bos]
    tok = {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': added,
        'normalizer': None,
        'pre_tokenizer': {'type': 'Sequence', 'pretokenizers': [
            {'type': 'Split', 'pattern': {'Regex': llama3_regex}, 'behavior': 'Isolated', 'invert': False},
            {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': False}]},
        'post_processor': {'type': 'TemplateProcessing',
                           'single': [{'SpecialToken': {'id': bos_s, 'type_id': 0}},
                                      {'Sequence': {'id': 'A', 'type_id': 0}}],
                           'pair': [{'SpecialToken': {'id': bos_s, 'type_id': 0}},
                                    {'Sequence': {'id': 'A', 'type_id': 0}},
                                    {'SpecialToken': {'id': bos_s, 'type_id': 1}},
                                    {'Sequence': {'id': 'B', 'type_id': 1}}],
                           'special_tokens': {bos_s: {'id': bos_s, 'ids': [bos], 'tokens': [bos_s]}}},
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': None,
                  'end_of_word_suffix': None, 'fuse_unk': False, 'byte_fallback': False,
                  'ignore_merges': True, 'vocab': vocab, 'merges': merges},
    }
    with open(os.path.join(out, 'tokenizer.json'), 'w', encoding='utf-8') as f:
        json.dump(tok, f, ensure_ascii=False)
    tcfg = {'bos_token': bos_s, 'eos_token': specials[eos], 'add_bos_token': True,
            'add_eos_token': False, 'model_max_length': spec.ctx, 'clean_up_tokenization_spaces': True,
            'tokenizer_class': 'PreTrainedTokenizerFast',
            'added_tokens_decoder': {str(a['id']): {k: v for k, v in a.items() if k != 'id'} for a in added}}
    with open(os.path.join(out, 'tokenizer_config.json'), 'w', encoding='utf-8') as f:
        json.dump(tcfg, f, indent=2, ensure_ascii=False)
        f.write('\n')


class GGUFWriter:
    def __init__(self):
        self.kv = []

    def add(self, key, vtype, value):
        self.kv.append((key, vtype, value))

    @staticmethod
    def _str(s):
        b = s.encode('utf-8')
        return struct.pack('<Q', len(b)) + b

    def _val(self, vtype, v):
        scal = {'u8': (0, '<B'), 'i8': (1, '<b'), 'u16': (2, '<H'), 'i16': (3, '<h'), 'u32': (4, '<I'),
                'i32': (5, '<i'), 'f32': (6, '<f'), 'bool': (7, '<?'), 'u64': (10, '<Q'),
                'i64': (11, '<q'), 'f64': (12, '<d')}
        if vtype in scal:
            t, fmt = scal[vtype]
            return struct.pack('<I', t), struct.pack(fmt, v)
        if vtype == 'str':
            return struct.pack('<I', 8), self._str(v)
        if vtype == 'arr_str':
            return struct.pack('<IIQ', 9, 8, len(v)), b''.join(self._str(s) for s in v)
        if vtype == 'arr_i32':
            return struct.pack('<IIQ', 9, 5, len(v)), np.asarray(v, dtype='<i4').tobytes()
        raise ValueError(vtype)

    def header(self, tensors, alignment=32):
        """tensors: list of (name, shape (PyTorch order), ggml type, nbytes).
        Returns (header bytes padded to alignment, offsets)."""
        out = [b'GGUF', struct.pack('<IQQ', 3, len(tensors), len(self.kv))]
        for k, t, v in self.kv:
            tb, vb = self._val(t, v)
            out += [self._str(k), tb, vb]
        offs = []
        off = 0
        for name, shape, gt, nbytes in tensors:
            ne = list(reversed(shape))
            out += [self._str(name), struct.pack('<I', len(ne)), struct.pack('<%dQ' % len(ne), *ne),
                    struct.pack('<IQ', gt, off)]
            offs.append(off)
            off += (nbytes + alignment - 1) // alignment * alignment
        h = b''.join(out)
        h += b'\0' * ((alignment - len(h) % alignment) % alignment)
        return h, offs, off


def write_gguf(spec, out, fmt):
    A = spec.A
    arch = A['gguf_arch']
    gt = GGML_OF[fmt]
    toks, types, merges, bos, eos, _ = spec.tokenizer()
    w = GGUFWriter()
    w.add('general.architecture', 'str', arch)
    w.add('general.name', 'str', 'synthetic-%s-h%d-l%d-seed%d' % (spec.arch, spec.H, spec.L, spec.seed))
    w.add('general.alignment', 'u32', 32)
    w.add('general.file_type', 'u32', FILE_TYPE[fmt])
    w.add('general.quantization_version', 'u32', 2)
    w.add(arch + '.context_length', 'u32', spec.ctx)
    w.add(arch + '.embedding_length', 'u32', spec.H)
    w.add(arch + '.block_count', 'u32', spec.L)
    w.add(arch + '.feed_forward_length', 'u32', spec.F)
    w.add(arch + '.attention.head_count', 'u32', spec.nh)
    w.add(arch + '.attention.head_count_kv', 'u32', spec.nkv)
    w.add(arch + '.rope.dimension_count', 'u32', spec.hd)
    w.add(arch + '.rope.freq_base', 'f32', spec.theta)
    w.add(arch + '.attention.layer_norm_rms_epsilon', 'f32', spec.eps)
    w.add(arch + '.vocab_size', 'u32', spec.V)
    w.add('tokenizer.ggml.model', 'str', 'gpt2')
    if spec.arch != '2b4t':
        w.add('tokenizer.ggml.pre', 'str', 'llama-bpe')   # the official 2B4T file has none
    w.add('tokenizer.ggml.tokens', 'arr_str', toks)
    w.add('tokenizer.ggml.token_type', 'arr_i32', types)
    w.add('tokenizer.ggml.merges', 'arr_str', merges)
    w.add('tokenizer.ggml.bos_token_id', 'u32', bos)
    w.add('tokenizer.ggml.eos_token_id', 'u32', eos)
    w.add('tokenizer.ggml.add_bos_token', 'bool', True)

    def tern_bytes(N, K):
        n = N * K
        if gt == GGML_TQ1_0:
            return n // 256 * 54
        if gt == GGML_TQ2_0:
            return n // 256 * 66
        return n // 4 + 32

    tensors = []   # (name, shape, type, nbytes, producer)
    tensors.append(('token_embd.weight', (spec.V, spec.H), GGML_F16, spec.V * spec.H * 2, ('embed', 'embed')))
    tensors.append(('output_norm.weight', (spec.H,), GGML_F32, spec.H * 4, ('norm', 'final_norm')))
    if not A['tied']:
        tensors.append(('output.weight', (spec.V, spec.H), GGML_F16, spec.V * spec.H * 2, ('embed', 'lm_head')))
    for i in range(spec.L):
        bp = 'blk.%d.' % i
        lin = spec.linears(i)

        def addlin(k):
            _, gn, N, K = lin[k]
            tensors.append((bp + gn + '.weight', (N, K), gt, tern_bytes(N, K), ('lin', 'L%d.%s' % (i, k))))
        tensors.append((bp + 'attn_norm.weight', (spec.H,), GGML_F32, spec.H * 4, ('norm', 'L%d.attn_norm' % i)))
        for k in ('q', 'k', 'v', 'o'):
            addlin(k)
        if A['sub_norm']:
            tensors.append((bp + 'attn_sub_norm.weight', (spec.H,), GGML_F32, spec.H * 4, ('norm', 'L%d.attn_sub_norm' % i)))
        tensors.append((bp + 'ffn_norm.weight', (spec.H,), GGML_F32, spec.H * 4, ('norm', 'L%d.ffn_norm' % i)))
        for k in ('gate', 'up', 'down'):
            addlin(k)
        if A['sub_norm']:
            tensors.append((bp + 'ffn_sub_norm.weight', (spec.F,), GGML_F32, spec.F * 4, ('norm', 'L%d.ffn_sub_norm' % i)))
    hdr, offs, total = w.header([t[:4] for t in tensors])
    prog = Progress(total, os.path.basename(out))
    tmp = out + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(hdr)
        pos = 0
        for (name, shape, t, nbytes, (kind, lname)), off in zip(tensors, offs):
            if off != pos:
                f.write(b'\0' * (off - pos))
                pos = off
            if kind == 'embed':
                for ch in spec.embed_chunks(lname, *shape):
                    b = ch.astype('<f2').tobytes()
                    f.write(b)
                    pos += len(b)
                    prog.add(len(b))
                continue
            if kind == 'norm':
                data = spec.norm(lname, shape[0]).astype('<f4')
            else:
                i, k = lname[1:].split('.')
                N, K = shape
                m = spec.multiplier(lname, K)
                codes = spec.codes(lname, N, K)
                if arch == 'llama' and k in ('q', 'k'):
                    codes = codes[llama_qk_perm(N // spec.hd, spec.hd)]
                if gt == GGML_TQ1_0:
                    data = pack_tq1_0(codes, m)
                elif gt == GGML_TQ2_0:
                    data = pack_tq2_0(codes, m)
                else:
                    data = pack_i2_s(codes, m)
            b = np.ascontiguousarray(data).tobytes()
            assert len(b) == nbytes, (name, len(b), nbytes)
            f.write(b)
            pos += len(b)
            prog.add(len(b))
        pad = (32 - pos % 32) % 32
        f.write(b'\0' * pad)
    os.replace(tmp, out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--format', required=True,
                    help='comma-separated list of: %s, or "all"' % ', '.join(FORMATS))
    ap.add_argument('--out', required=True,
                    help='output path (directory for hf formats, file for gguf); with several '
                         'formats a directory receiving %s' % ', '.join(MULTI_NAMES[f] for f in FORMATS))
    ap.add_argument('--arch', choices=sorted(ARCHS), default='2b4t')
    ap.add_argument('--shape', choices=('2b4t',), help='preset shape (2560/6912/30/20/5/128256, ctx 4096)')
    ap.add_argument('--hidden', type=int)
    ap.add_argument('--ffn', type=int)
    ap.add_argument('--layers', type=int)
    ap.add_argument('--heads', type=int)
    ap.add_argument('--kv-heads', type=int)
    ap.add_argument('--vocab', type=int)
    ap.add_argument('--ctx', type=int)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--eps', type=float, default=1e-5)
    ap.add_argument('--rope-theta', type=float, default=0.0, help='default: by --arch')
    ap.add_argument('--scale', type=float, default=0.0,
                    help='override the multiplier (2b4t: base of the ~1.5 multipliers; bitlinear '
                         'archs: rounded to a power of two)')
    a = ap.parse_args(argv)
    fmts = FORMATS if a.format == 'all' else tuple(x.strip() for x in a.format.split(',') if x.strip())
    for f in fmts:
        if f not in FORMATS:
            die('unknown format %r (choose from %s)' % (f, ', '.join(FORMATS)))
    base = dict(SHAPE_2B4T) if a.shape == '2b4t' else dict(hidden=256, ffn=512, layers=2, heads=4,
                                                            kv_heads=2, vocab=512, ctx=256)
    for k in base:
        if getattr(a, k) is None:
            setattr(a, k, base[k])
    spec = Spec(a)
    spec.validate(fmts)
    for f in fmts:
        t0 = time.time()
        out = a.out if len(fmts) == 1 else os.path.join(a.out, MULTI_NAMES[f])
        if len(fmts) > 1:
            os.makedirs(a.out, exist_ok=True)
        if f in ('hf', 'hf-bf16'):
            write_hf(spec, out, f == 'hf-bf16')
        else:
            write_gguf(spec, out, f)
        print('gen-synthetic: wrote %s (%s, arch %s, %.1f s)' % (out, f, spec.arch, time.time() - t0),
              file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
