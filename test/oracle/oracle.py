#!/usr/bin/python3
"""Independent NumPy reference forward pass ("oracle") for ternary BitNet b1.58 models.

Written from the formulas in the project's format notes, not from any engine or compiler code.
Reads, with its own small readers:
  * Hugging Face directories (config.json + model.safetensors or sharded + index), packed U8
    ternary weights with weight_scale (autobitlinear = multiplier, bitlinear = inverse) or
    float master weights (absmean quantization at load);
  * GGUF v3 files: F32, F16, BF16, Q8_0, TQ1_0, TQ2_0 and bitnet.cpp's I2_S (type 36);
  * bitllama2.c ("ak42") .bin files.
Computes logits for every position of the given tokens (teacher forcing), in float64 by default
(--dtype float32 to run the arithmetic in float32), or greedy-decodes (--generate N).

Usage:
  oracle.py CHECKPOINT --tokens 1,2,3 [--out logits.npy | --print] [options]
  oracle.py CHECKPOINT --tokens 1,403 --generate 100
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np


class FormatError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# numeric helpers
# --------------------------------------------------------------------------------------------

def bf16_bits_to_f32(u16):
    """uint16 array of bfloat16 bit patterns -> float32 array (exact)."""
    return (np.asarray(u16, dtype=np.uint32) << 16).view(np.float32)


def round_half_away(x):
    """round half away from zero, exact for any float (like C roundf/round)."""
    t = np.trunc(x)
    frac = x - t  # exact
    return t + np.where(np.abs(frac) >= 0.5, np.sign(x), 0).astype(x.dtype)


# --------------------------------------------------------------------------------------------
# safetensors / Hugging Face
# --------------------------------------------------------------------------------------------

ST_NP = {
    'F64': np.float64, 'F32': np.float32, 'F16': np.float16, 'BF16': np.uint16,
    'U8': np.uint8, 'I8': np.int8, 'I16': np.int16, 'U16': np.uint16, 'I32': np.int32,
    'U32': np.uint32, 'I64': np.int64, 'U64': np.uint64, 'BOOL': np.uint8,
}


class SafeTensors:
    """Minimal safetensors reader: tensors are memory-mapped, never copied until asked."""

    def __init__(self, path):
        self.path = path
        size = os.path.getsize(path)
        with open(path, 'rb') as f:
            head = f.read(8)
            if len(head) != 8:
                raise FormatError('%s: too short for a safetensors file' % path)
            n = struct.unpack('<Q', head)[0]
            if n > size - 8 or n > (1 << 30):
                raise FormatError('%s: bad header length %d' % (path, n))
            hdr = json.loads(f.read(n).decode('utf-8'))
        self.base = 8 + n
        self.mm = np.memmap(path, dtype=np.uint8, mode='r')
        self.meta = hdr.pop('__metadata__', None) or {}
        self.info = {}
        for name, ti in hdr.items():
            dt = ti['dtype']
            if dt not in ST_NP:
                raise FormatError('%s: tensor %s has unsupported dtype %s' % (path, name, dt))
            shape = tuple(int(s) for s in ti['shape'])
            b, e = (int(v) for v in ti['data_offsets'])
            nel = int(np.prod(shape, dtype=np.int64)) if shape else 1
            if b < 0 or e < b or self.base + e > size or e - b != nel * np.dtype(ST_NP[dt]).itemsize:
                raise FormatError('%s: tensor %s has inconsistent data_offsets' % (path, name))
            self.info[name] = (dt, shape, b, e)

    def names(self):
        return self.info.keys()

    def raw(self, name):
        dt, shape, b, e = self.info[name]
        a = self.mm[self.base + b:self.base + e].view(ST_NP[dt]).reshape(shape)
        return dt, a

    def float32(self, name):
        """Any float/int tensor as float32 (exact for BF16/F16/F32 sources)."""
        dt, a = self.raw(name)
        if dt == 'BF16':
            return bf16_bits_to_f32(a)
        if dt == 'F64':
            return np.asarray(a, dtype=np.float64)
        return np.asarray(a, dtype=np.float32)


class HFTensors:
    """The tensors of a Hugging Face checkpoint directory (single file or shards)."""

    def __init__(self, d):
        idx = os.path.join(d, 'model.safetensors.index.json')
        self.files = {}
        self.where = {}
        if os.path.exists(idx):
            with open(idx) as f:
                wm = json.load(f)['weight_map']
            for name, fn in wm.items():
                if fn not in self.files:
                    self.files[fn] = SafeTensors(os.path.join(d, fn))
                self.where[name] = self.files[fn]
        else:
            st = SafeTensors(os.path.join(d, 'model.safetensors'))
            for name in st.names():
                self.where[name] = st

    def has(self, name):
        return name in self.where

    def raw(self, name):
        if name not in self.where:
            raise FormatError('missing tensor %s' % name)
        return self.where[name].raw(name)

    def float32(self, name):
        if name not in self.where:
            raise FormatError('missing tensor %s' % name)
        return self.where[name].float32(name)


def unpack_rowblock_u8(p):
    """HF packed U8 [R, in] -> int8 ternary [4R, in]: T[i*R + r, c] = ((P[r,c] >> 2i) & 3) - 1."""
    p = np.asarray(p, dtype=np.uint8)
    R, K = p.shape
    out = np.empty((4 * R, K), dtype=np.int8)
    for i in range(4):
        c = (p >> (2 * i)) & 3
        if np.any(c == 3):
            raise FormatError('packed ternary weight holds the unused code 3')
        out[i * R:(i + 1) * R] = c.astype(np.int8) - 1
    return out


# --------------------------------------------------------------------------------------------
# GGUF
# --------------------------------------------------------------------------------------------

GGUF_SCALAR = {0: '<B', 1: '<b', 2: '<H', 3: '<h', 4: '<I', 5: '<i', 6: '<f', 7: '<?',
               10: '<Q', 11: '<q', 12: '<d'}
GGUF_NP = {0: '<u1', 1: '<i1', 2: '<u2', 3: '<i2', 4: '<u4', 5: '<i4', 6: '<f4', 7: '<u1',
           10: '<u8', 11: '<i8', 12: '<f8'}

T_F32, T_F16, T_Q8_0, T_BF16, T_TQ1_0, T_TQ2_0, T_I2_S = 0, 1, 8, 30, 34, 35, 36
TYPE_NAMES = {0: 'F32', 1: 'F16', 8: 'Q8_0', 30: 'BF16', 34: 'TQ1_0', 35: 'TQ2_0', 36: 'I2_S'}
I2S_ARCHS = ('bitnet-b1.58', 'bitnet-25')
FTYPE_I2_S = 40


class GGUF:
    def __init__(self, path):
        self.path = path
        self.size = os.path.getsize(path)
        self.mm = np.memmap(path, dtype=np.uint8, mode='r')
        buf = self.mm
        self.pos = 0

        def take(n):
            if n < 0 or self.pos + n > self.size:
                raise FormatError('%s: truncated at byte %d' % (path, self.pos))
            b = bytes(buf[self.pos:self.pos + n])
            self.pos += n
            return b

        def u32():
            return struct.unpack('<I', take(4))[0]

        def u64():
            return struct.unpack('<Q', take(8))[0]

        def string():
            n = u64()
            if n > self.size:
                raise FormatError('%s: string length %d too large' % (path, n))
            return take(n).decode('utf-8', errors='surrogateescape')

        def value(t):
            if t in GGUF_SCALAR:
                fmt = GGUF_SCALAR[t]
                return struct.unpack(fmt, take(struct.calcsize(fmt)))[0]
            if t == 8:
                return string()
            if t == 9:
                et = u32()
                n = u64()
                if n > self.size:
                    raise FormatError('%s: array length %d too large' % (path, n))
                if et in GGUF_NP:
                    isz = np.dtype(GGUF_NP[et]).itemsize
                    raw = take(n * isz)
                    return np.frombuffer(raw, dtype=GGUF_NP[et]).copy()
                if et == 8:
                    return [string() for _ in range(n)]
                raise FormatError('%s: unsupported array element type %d' % (path, et))
            raise FormatError('%s: unsupported value type %d' % (path, t))

        if take(4) != b'GGUF':
            raise FormatError('%s: not a GGUF file' % path)
        self.version = u32()
        if self.version not in (2, 3):
            raise FormatError('%s: unsupported GGUF version %d' % (path, self.version))
        n_tensors = u64()
        n_kv = u64()
        if n_tensors > self.size or n_kv > self.size:
            raise FormatError('%s: absurd counts' % path)
        self.kv = {}
        for _ in range(n_kv):
            k = string()
            t = u32()
            self.kv[k] = value(t)
        self.tensors = {}
        order = []
        for _ in range(n_tensors):
            name = string()
            nd = u32()
            if nd < 1 or nd > 4:
                raise FormatError('%s: tensor %s has %d dims' % (path, name, nd))
            ne = [u64() for _ in range(nd)]
            t = u32()
            off = u64()
            self.tensors[name] = (ne, t, off)
            order.append(name)
        self.alignment = int(self.kv.get('general.alignment', 32))
        if self.alignment <= 0 or self.alignment & (self.alignment - 1):
            raise FormatError('%s: bad alignment %d' % (path, self.alignment))
        self.data = (self.pos + self.alignment - 1) // self.alignment * self.alignment
        self.arch = self.kv.get('general.architecture', '')
        self.file_type = self.kv.get('general.file_type', None)
        for name in order:
            ne, t, off = self.tensors[name]
            nbytes = self.nbytes(name)
            if off % self.alignment or self.data + off + nbytes > self.size:
                raise FormatError('%s: tensor %s lies outside the file or is misaligned' % (path, name))

    def i2s(self, t):
        if t != T_I2_S:
            return False
        if self.arch in I2S_ARCHS or self.file_type == FTYPE_I2_S:
            return True
        raise FormatError('%s: ggml type 36 in a %r file without file_type 40: that id is a removed '
                          'type upstream, and I2_S only in bitnet.cpp files' % (self.path, self.arch))

    def nbytes(self, name):
        ne, t, _ = self.tensors[name]
        n = int(np.prod(ne, dtype=np.int64))
        if t == T_F32:
            return 4 * n
        if t in (T_F16, T_BF16):
            return 2 * n
        if t == T_Q8_0:
            if ne[0] % 32:
                raise FormatError('%s: Q8_0 tensor %s with ne0 %% 32 != 0' % (self.path, name))
            return n // 32 * 34
        if t in (T_TQ1_0, T_TQ2_0):
            if ne[0] % 256:
                raise FormatError('%s: %s tensor %s with ne0 %% 256 != 0' % (self.path, TYPE_NAMES[t], name))
            return n // 256 * (54 if t == T_TQ1_0 else 66)
        if self.i2s(t):
            if n % 128:
                raise FormatError('%s: I2_S tensor %s with %d elements (not a multiple of 128)' % (self.path, name, n))
            return n // 4 + 32
        raise FormatError('%s: tensor %s has unsupported ggml type %d' % (self.path, name, t))

    def has(self, name):
        return name in self.tensors

    def shape(self, name):
        return tuple(reversed(self.tensors[name][0]))

    def type(self, name):
        return self.tensors[name][1]

    def bytes_of(self, name):
        ne, t, off = self.tensors[name]
        return self.mm[self.data + off:self.data + off + self.nbytes(name)]

    def ternary(self, name):
        """For TQ1_0/TQ2_0/I2_S: (codes int8 [out, in] in {-1,0,1}, scales) where scales is a
        float or a per-256-block array [out, in/256]; None for other types."""
        ne, t, _ = self.tensors[name]
        shape = self.shape(name)
        if len(shape) != 2:
            return None
        N, K = shape
        raw = np.asarray(self.bytes_of(name))
        if t == T_TQ2_0:
            blk = raw.reshape(-1, 66)
            qs = blk[:, :64].reshape(-1, 2, 1, 32)
            sh = (2 * np.arange(4, dtype=np.uint8)).reshape(1, 1, 4, 1)
            codes = (qs >> sh) & 3                       # [nb, c, n, m]: element c*128+n*32+m
            d = blk[:, 64:66].copy().view('<f2').reshape(-1).astype(np.float32)
        elif t == T_TQ1_0:
            blk = raw.reshape(-1, 54)
            nb = blk.shape[0]
            pow3 = np.array([1, 3, 9, 27, 81], dtype=np.uint16)

            def trits(b, n):
                x = (b.astype(np.uint16)[:, None, :] * pow3[None, :n, None]) & 0xFF
                return ((x * 3) >> 8).astype(np.uint8)   # [nb, n, m]
            codes = np.empty((nb, 256), dtype=np.uint8)
            codes[:, 0:160] = trits(blk[:, 0:32], 5).reshape(nb, 160)
            codes[:, 160:240] = trits(blk[:, 32:48], 5).reshape(nb, 80)
            codes[:, 240:256] = trits(blk[:, 48:52], 4).reshape(nb, 16)
            d = blk[:, 52:54].copy().view('<f2').reshape(-1).astype(np.float32)
        elif self.i2s(t):
            n = N * K
            q = raw[:n // 4].reshape(-1, 1, 32)
            sh = (6 - 2 * np.arange(4, dtype=np.uint8)).reshape(1, 4, 1)
            codes = (q >> sh) & 3                         # [ng, j, p]: element j*32+p
            scale = float(raw[n // 4:n // 4 + 4].copy().view('<f4')[0])
            d = None
        else:
            return None
        codes = codes.reshape(N, K)
        if np.any(codes == 3):
            raise FormatError('%s: tensor %s holds the invalid 2-bit code 3' % (self.path, name))
        T = codes.astype(np.int8) - 1
        if d is None:
            return T, scale
        d = d.reshape(N, K // 256)
        if np.all(d == d.flat[0]):
            return T, float(d.flat[0])
        return T, d

    def float32(self, name):
        """Any tensor as a float32 array in PyTorch order (exact for F16/BF16/Q8_0/ternary)."""
        ne, t, _ = self.tensors[name]
        shape = self.shape(name)
        raw = np.asarray(self.bytes_of(name))
        if t == T_F32:
            return raw.view('<f4').reshape(shape)
        if t == T_F16:
            return raw.view('<f2').astype(np.float32).reshape(shape)
        if t == T_BF16:
            return bf16_bits_to_f32(raw.view('<u2')).reshape(shape)
        if t == T_Q8_0:
            blk = raw.reshape(-1, 34)
            d = blk[:, :2].copy().view('<f2').astype(np.float32)
            q = blk[:, 2:].view(np.int8).astype(np.float32)
            return (q * d).reshape(shape)
        T, s = self.ternary(name)
        if isinstance(s, float):
            return T.astype(np.float32) * np.float32(s)
        return (T.astype(np.float32).reshape(T.shape[0], -1, 256) * s[:, :, None]).reshape(T.shape)


# --------------------------------------------------------------------------------------------
# model description
# --------------------------------------------------------------------------------------------

class Linear:
    """Either ternary codes T [out, in] with a per-tensor scale (multiplier, or inverse) or a
    per-256-block multiplier array [out, in/256]; or a dense float matrix (no quantization)."""

    def __init__(self, T=None, scale=None, inverse=False, dense=None):
        self.T = T
        self.scale = scale
        self.inverse = inverse
        self.dense = dense
        self._Tf = None

    @property
    def shape(self):
        return self.T.shape if self.T is not None else self.dense.shape

    def Tf(self):
        if self._Tf is not None:
            return self._Tf
        Tf = self.T.astype(np.float32)
        if Tf.size <= (1 << 22):        # cache small matrices only (2B4T-size models stay lean)
            self._Tf = Tf
        return Tf


def exact_ternary(W):
    """If every entry of W is 0 or +-s for one s > 0, return (T, s) (the absmax reading of a
    dequantized ternary matrix), else None."""
    a = np.abs(W)
    s = float(a.max())
    if s <= 0:
        return None
    if not np.all((a == 0) | (a == s)):
        return None
    return np.sign(W).astype(np.int8), s


def absmean_quantize(W):
    """Online quantization of a float master matrix: w_scale = max(mean|W|, 1e-5),
    T = clamp(round(W / w_scale), -1, 1), computed in float64."""
    W = np.asarray(W, dtype=np.float64)
    s = max(float(np.abs(W).mean()), 1e-5)
    T = np.clip(np.rint(W / s), -1, 1).astype(np.int8)
    return T, s


def float_linear(W, policy, exact_first):
    if policy == 'dense':
        return Linear(dense=np.asarray(W, dtype=np.float32))
    if policy == 'auto' and exact_first:
        r = exact_ternary(W)
        if r is not None:
            return Linear(T=r[0], scale=r[1])
        print('oracle: warning: float linear weight is not exactly ternary; using absmean '
              'quantization', file=sys.stderr)
    T, s = absmean_quantize(W)
    return Linear(T=T, scale=s)


class Model:
    def __init__(self):
        self.family = 'bitnet'     # or 'bitllama2c'
        self.H = self.F = self.L = self.nh = self.nkv = self.hd = self.V = 0
        self.eps = 1e-5
        self.theta = 10000.0
        self.act = 'silu'
        self.rope = 'half'         # or 'interleaved'
        self.embed = None          # float32 [V, H]
        self.head = None           # float32 [V, H] or None when tied
        self.norm = None
        self.layers = []
        self.lin_rms_eps = None    # Falcon-E style extra RMSNorm before activation quantization
        self.source = ''


LIN_NAMES = ('q', 'k', 'v', 'o', 'gate', 'up', 'down')


def load_hf(d, policy):
    with open(os.path.join(d, 'config.json')) as f:
        cfg = json.load(f)
    t = HFTensors(d)
    m = Model()
    m.source = 'hf'
    arch = (cfg.get('architectures') or ['LlamaForCausalLM'])[0]
    m.H = cfg['hidden_size']
    m.F = cfg['intermediate_size']
    m.L = cfg['num_hidden_layers']
    m.nh = cfg['num_attention_heads']
    m.nkv = cfg.get('num_key_value_heads') or m.nh
    m.hd = cfg.get('head_dim') or m.H // m.nh
    m.V = cfg['vocab_size']
    m.eps = float(cfg.get('rms_norm_eps', 1e-6))
    m.theta = float(cfg.get('rope_theta', 10000.0))
    if cfg.get('rope_scaling'):
        raise FormatError('rope_scaling is not implemented by the oracle')
    m.act = cfg.get('hidden_act', 'silu')
    if m.act not in ('silu', 'relu2'):
        raise FormatError('unsupported hidden_act %r' % m.act)
    m.rope = 'half'
    qc = cfg.get('quantization_config') or {}
    linear_class = qc.get('linear_class', 'bitlinear')
    if linear_class not in ('bitlinear', 'autobitlinear'):
        raise FormatError('unknown linear_class %r' % linear_class)
    inverse = linear_class == 'bitlinear'
    if qc.get('use_rms_norm'):
        m.lin_rms_eps = float(qc.get('rms_norm_eps', 1e-6))
    p = 'model.'
    m.embed = t.float32(p + 'embed_tokens.weight')
    m.norm = t.float32(p + 'norm.weight')
    tied = cfg.get('tie_word_embeddings', arch != 'LlamaForCausalLM')
    if t.has('lm_head.weight') and not tied:
        m.head = t.float32('lm_head.weight')
    elif not t.has('lm_head.weight') and not tied:
        raise FormatError('tie_word_embeddings is false but lm_head.weight is missing')
    hf = {'q': 'self_attn.q_proj', 'k': 'self_attn.k_proj', 'v': 'self_attn.v_proj',
          'o': 'self_attn.o_proj', 'gate': 'mlp.gate_proj', 'up': 'mlp.up_proj',
          'down': 'mlp.down_proj'}
    for i in range(m.L):
        lp = '%slayers.%d.' % (p, i)
        ly = {'attn_norm': t.float32(lp + 'input_layernorm.weight'),
              'ffn_norm': t.float32(lp + 'post_attention_layernorm.weight')}
        for key, cands in (('attn_sub_norm', ('self_attn.attn_sub_norm', 'self_attn.inner_attn_ln')),
                           ('ffn_sub_norm', ('mlp.ffn_sub_norm', 'mlp.ffn_layernorm'))):
            ly[key] = None
            for c in cands:
                if t.has(lp + c + '.weight'):
                    ly[key] = t.float32(lp + c + '.weight')
        for k, n in hf.items():
            name = lp + n + '.weight'
            dt, raw = t.raw(name)
            if dt == 'U8':
                T = unpack_rowblock_u8(raw)
                ws = t.float32(lp + n + '.weight_scale').reshape(-1)
                if ws.size != 1:
                    raise FormatError('%s.weight_scale: only per-tensor scales are supported' % name)
                ly[k] = Linear(T=T, scale=float(ws[0]), inverse=inverse)
            else:
                ly[k] = float_linear(t.float32(name), policy if policy != 'auto' else 'absmean', False)
        m.layers.append(ly)
    return m


GGUF_ARCH_ACT = {'bitnet-b1.58': 'relu2', 'bitnet-25': 'relu2', 'bitnet': 'silu', 'llama': 'silu'}


def load_gguf(path, policy):
    g = GGUF(path)
    a = g.arch
    if a not in GGUF_ARCH_ACT:
        raise FormatError('%s: unsupported architecture %r' % (path, a))
    kv = g.kv
    m = Model()
    m.source = 'gguf:' + a
    m.act = GGUF_ARCH_ACT[a]
    # bitnet archs: half-split (NEOX) RoPE; llama arch: adjacent pairs (its converter permutes
    # the q/k rows so that this equals the Hugging Face half-split rotation).
    m.rope = 'interleaved' if a == 'llama' else 'half'
    m.H = int(kv[a + '.embedding_length'])
    m.F = int(kv[a + '.feed_forward_length'])
    m.L = int(kv[a + '.block_count'])
    m.nh = int(kv[a + '.attention.head_count'])
    m.nkv = int(kv.get(a + '.attention.head_count_kv', m.nh))
    m.hd = m.H // m.nh
    rd = int(kv.get(a + '.rope.dimension_count', m.hd))
    if rd != m.hd:
        raise FormatError('partial rotary embeddings are not supported')
    m.eps = float(kv.get(a + '.attention.layer_norm_rms_epsilon', 1e-5))
    m.theta = float(kv.get(a + '.rope.freq_base', 10000.0))
    m.embed = g.float32('token_embd.weight')
    m.V = m.embed.shape[0]
    m.norm = g.float32('output_norm.weight')
    if g.has('output.weight'):
        m.head = g.float32('output.weight')
    names = {'q': 'attn_q', 'k': 'attn_k', 'v': 'attn_v', 'o': 'attn_output',
             'gate': 'ffn_gate', 'up': 'ffn_up', 'down': 'ffn_down'}
    for i in range(m.L):
        bp = 'blk.%d.' % i
        ly = {'attn_norm': g.float32(bp + 'attn_norm.weight'),
              'ffn_norm': g.float32(bp + 'ffn_norm.weight')}
        for key in ('attn_sub_norm', 'ffn_sub_norm'):
            ly[key] = g.float32(bp + key + '.weight') if g.has(bp + key + '.weight') else None
        for k, n in names.items():
            name = bp + n + '.weight'
            if g.has(bp + n + '.scale'):
                raise FormatError('%s: separate .scale tensors are not supported' % name)
            tern = g.ternary(name)
            if tern is not None and policy != 'dense':
                ly[k] = Linear(T=tern[0], scale=tern[1])
            else:
                ly[k] = float_linear(g.float32(name), policy, True)
        m.layers.append(ly)
    return m


BITLLAMA_MAGIC = 0x616b3432


def load_bitllama2c(path, low_first=False):
    data = np.memmap(path, dtype=np.uint8, mode='r')
    if len(data) < 256:
        raise FormatError('%s: too short' % path)
    magic, ver, dim, hid, nl, nh, nkv, vocab, seq = struct.unpack('<Iiiiiiiii', bytes(data[:36]))
    shared = data[36]
    if magic != BITLLAMA_MAGIC or ver != 1:
        raise FormatError('%s: not a bitllama2.c v1 file' % path)
    if vocab < 0 or not shared:
        raise FormatError('%s: untied classifier is not supported' % path)
    for v in (dim, hid, nl, nh, nkv, vocab, seq):
        if v <= 0 or v > (1 << 24):
            raise FormatError('%s: bad header value %d' % (path, v))
    m = Model()
    m.family = 'bitllama2c'
    m.source = 'bitllama2c'
    m.H, m.F, m.L, m.nh, m.nkv, m.V = dim, hid, nl, nh, nkv, vocab
    m.hd = dim // nh
    m.eps = 1e-5
    m.theta = 10000.0
    m.act = 'silu'
    m.rope = 'interleaved'
    pos = 256

    def f32(n):
        nonlocal pos
        if pos + 4 * n > len(data):
            raise FormatError('%s: truncated' % path)
        a = data[pos:pos + 4 * n].view('<f4').astype(np.float32)
        pos += 4 * n
        return a
    m.norm = f32(dim)
    m.embed = f32(vocab * dim).reshape(vocab, dim)
    kvd = nkv * m.hd
    shapes = {'q': (nh * m.hd, dim), 'k': (kvd, dim), 'v': (kvd, dim), 'o': (dim, nh * m.hd),
              'gate': (hid, dim), 'down': (dim, hid), 'up': (hid, dim)}
    m.layers = [dict() for _ in range(nl)]
    lut = np.array([0, 1, 99, -1], dtype=np.int8)   # 0b00 -> 0, 0b01 -> +1, 0b11 -> -1
    shifts = np.array([0, 2, 4, 6] if low_first else [6, 4, 2, 0], dtype=np.uint8)
    for k in ('q', 'k', 'v', 'o', 'gate', 'down', 'up'):   # file order: wq wk wv wo w1 w2 w3
        N, K = shapes[k]
        for i in range(nl):
            s = float(f32(1)[0])
            nbytes = N * K // 4
            if pos + nbytes > len(data):
                raise FormatError('%s: truncated' % path)
            b = np.asarray(data[pos:pos + nbytes])
            pos += nbytes
            codes = (b[:, None] >> shifts[None, :]) & 3
            T = lut[codes].reshape(N, K)
            if np.any(T == 99):
                raise FormatError('%s: invalid 2-bit code 0b10' % path)
            m.layers[i][k] = Linear(T=T, scale=s)
    if pos != len(data):
        raise FormatError('%s: %d trailing bytes' % (path, len(data) - pos))
    return m


def load(path, policy='auto', bitllama_low_first=False):
    if os.path.isdir(path):
        return load_hf(path, policy)
    with open(path, 'rb') as f:
        head = f.read(4)
    if head == b'GGUF':
        return load_gguf(path, policy)
    if len(head) == 4 and struct.unpack('<I', head)[0] == BITLLAMA_MAGIC:
        return load_bitllama2c(path, bitllama_low_first)
    if path.endswith('.safetensors'):
        return load_hf(os.path.dirname(os.path.abspath(path)), policy)
    raise FormatError('%s: unknown checkpoint format' % path)


# --------------------------------------------------------------------------------------------
# forward pass
# --------------------------------------------------------------------------------------------

class Runner:
    def __init__(self, model, dtype=np.float64, act_block=0, act_quant=True, bl_seq=False,
                 emulate='none'):
        self.m = model
        self.dt = np.dtype(dtype)
        self.act_block = act_block
        self.act_quant = act_quant
        self.bl_seq = bl_seq       # bitllama2c: sequential (C loop order) float sums
        # Engine emulation (only to check the readers against the peers' own logits; the
        # reference semantics are emulate='none'):
        #   bitnet.cpp: q, k, v rounded to f16 at the attention (its f16 KV cache);
        #   llama.cpp:  the same, plus its CPU flash attention (online softmax with an f16 V
        #               accumulator), activations rounded to f16 before every f16 matmul
        #               (incl. the LM head), and int8 activation scales per 256-block (Q8_K)
        #               for the ternary types.
        if emulate not in ('none', 'bitnet.cpp', 'llama.cpp'):
            raise ValueError('unknown emulation %r' % emulate)
        self.kv_f16 = emulate != 'none'
        self.fa_f16 = emulate == 'llama.cpp'
        self.f16_act = emulate == 'llama.cpp'
        if emulate == 'llama.cpp' and not act_block:
            self.act_block = 256
        m = model
        dt = self.dt
        # RoPE inverse frequencies, computed in fp32 (formats.md)
        i = np.arange(m.hd // 2, dtype=np.float64)
        if m.family == 'bitllama2c':
            # runner: freq = 1.0f / powf(10000.0f, (float)(2i) / (float)head_size)
            e = (np.float32(2) * i.astype(np.float32)) / np.float32(m.hd)
            p = np.power(np.float64(m.theta), e.astype(np.float64)).astype(np.float32)
            self.inv_freq = (np.float32(1) / p).astype(np.float32)
        else:
            self.inv_freq = (1.0 / m.theta ** (2.0 * i / m.hd)).astype(np.float32)
        self.reset()

    def reset(self):
        m = self.m
        self.pos = 0
        self.kc = [np.zeros((0, m.nkv, m.hd), dtype=self.dt) for _ in range(m.L)]
        self.vc = [np.zeros((0, m.nkv, m.hd), dtype=self.dt) for _ in range(m.L)]

    # -- pieces --
    # Transcendental functions are evaluated in float64 and rounded to the working type: for
    # float32 this models a correctly rounded libm (glibc expf/sinf/cosf), which numpy's own
    # float32 SIMD routines are not.
    def exp(self, x):
        return np.exp(x.astype(np.float64)).astype(self.dt)

    def cos(self, x):
        return np.cos(x.astype(np.float64)).astype(self.dt)

    def sin(self, x):
        return np.sin(x.astype(np.float64)).astype(self.dt)

    def f16(self, x):
        return x.astype(np.float16).astype(self.dt)

    def c(self, v):
        return self.dt.type(v)

    def rsum(self, x):
        """sum over the last axis (sequential C order when mirroring bitllama2.c in fp32)."""
        if self.bl_seq:
            return np.cumsum(x, axis=-1, dtype=self.dt)[..., -1]
        return np.sum(x, axis=-1, dtype=self.dt)

    def sumsq(self, x):
        """The sum of squares of an RMSNorm over the last axis. Mirroring ternc's f32 arithmetic
        (bl_seq), as tern.rms_norm defines it for the model: for bitllama2.c in order, for the
        others in 16 interleaved partial sums (lane j: elements j, j + 16, ... in order), then
        the 16 in order."""
        sq = x * x
        if not self.bl_seq or self.m.family == 'bitllama2c':
            return self.rsum(sq)
        lanes = 16
        n = sq.shape[-1]
        pad = (-n) % lanes
        if pad:
            sq = np.concatenate([sq, np.zeros(sq.shape[:-1] + (pad,), dtype=sq.dtype)], axis=-1)
        parts = sq.reshape(sq.shape[:-1] + (-1, lanes))
        partial = np.cumsum(parts, axis=-2, dtype=self.dt)[..., -1, :]
        return np.cumsum(partial, axis=-1, dtype=self.dt)[..., -1]

    def rmsnorm(self, x, w, eps):
        ms = self.sumsq(x) / self.c(x.shape[-1])
        r = self.c(1) / np.sqrt(ms + self.c(eps))
        y = x * r[..., None]
        return y if w is None else w.astype(self.dt) * y

    def act_q(self, x):
        """BitNet per-row absmax int8 quantization (optionally per block of act_block)."""
        dt = self.dt
        if self.act_block:
            T, K = x.shape
            if K % self.act_block:
                raise FormatError('activation blocks of %d do not divide K = %d' % (self.act_block, K))
            xb = x.reshape(T, K // self.act_block, self.act_block)
            amax = np.max(np.abs(xb), axis=-1, keepdims=True)
            s = self.c(127) / np.maximum(amax, self.c(1e-5))
            q = np.clip(np.rint(xb * s), -128, 127).reshape(T, K)
            return q, s[..., 0]                       # s: [T, nblocks]
        amax = np.max(np.abs(x), axis=-1, keepdims=True)
        s = self.c(127) / np.maximum(amax, self.c(1e-5))
        q = np.clip(np.rint(x * s), -128, 127)
        return q, s                                  # s: [T, 1]

    def imatmul(self, q, L, lo=None, hi=None):
        """exact integer T.q (int8 x ternary) via float32 BLAS: every partial sum is an integer
        of magnitude <= K*128 < 2^24, so it is exact."""
        Tf = L.Tf()
        if lo is not None:
            return q[:, lo:hi].astype(np.float32) @ Tf[:, lo:hi].T
        assert Tf.shape[1] * 128 < (1 << 24)
        return q.astype(np.float32) @ Tf.T

    def linear(self, L, x):
        dt = self.dt
        if L.dense is not None:
            if self.f16_act:
                x = self.f16(x)
            return x @ L.dense.astype(dt).T
        if not self.act_quant:       # ternary weights, unquantized activations (fp graph)
            if isinstance(L.scale, float):
                W = L.Tf().astype(dt) / dt.type(L.scale) if L.inverse else L.Tf().astype(dt) * dt.type(L.scale)
            else:
                W = (L.Tf().astype(dt).reshape(L.T.shape[0], -1, 256) * L.scale[:, :, None]).reshape(L.T.shape)
            return x @ W.T
        if self.m.lin_rms_eps is not None:
            x = self.rmsnorm(x, None, self.m.lin_rms_eps)
        q, s = self.act_q(x)
        scalar = isinstance(L.scale, float)
        if scalar and not self.act_block:
            acc = self.imatmul(q, L).astype(dt)
            w = dt.type(L.scale)
            return acc / (s * w) if L.inverse else (acc / s) * w
        # per-block weight scales and/or per-block activation scales
        N, K = L.T.shape
        blk = self.act_block or 256
        y = np.zeros((x.shape[0], N), dtype=dt)
        for b in range(K // blk):
            acc = self.imatmul(q, L, b * blk, (b + 1) * blk).astype(dt)
            sb = s[:, b:b + 1] if self.act_block else s
            if scalar:
                y += (acc / (sb * dt.type(L.scale))) if L.inverse else (acc / sb) * dt.type(L.scale)
            else:
                if blk != 256:
                    raise FormatError('per-block weight scales need --act-block 0 or 256')
                y += (acc / sb) * L.scale[:, b].astype(dt)[None, :]
        return y

    def bl_prep(self, x):
        """bitllama2.c BitLinear input: x / (rms(x) * n) with n = len(x) (no eps), then absmax
        quantization with the reciprocal taken once and round half away from zero, no clamp.
        Returns (q, a)."""
        n = x.shape[-1]
        ms = self.rsum(x * x) / self.c(n)
        r = (self.c(1) / np.sqrt(ms)) / self.c(n)      # order of the reference runner
        xn = x * r[..., None]
        a = np.max(np.abs(xn), axis=-1, keepdims=True) / self.c(127)
        inv = self.c(1) / a
        q = round_half_away(xn * inv)
        return q, a

    def bl_linear(self, L, qa):
        q, a = qa
        acc = self.imatmul(q, L).astype(self.dt)
        return acc * (self.dt.type(L.scale) * a)

    def rope(self, x, pos):
        """x [T, nheads, hd]; pos [T]."""
        dt = self.dt
        m = self.m
        half = m.hd // 2
        if m.family == 'bitllama2c' and dt == np.float32:
            ang = pos.astype(np.float32)[:, None] * self.inv_freq[None, :]
        else:
            ang = pos.astype(dt)[:, None] * self.inv_freq.astype(dt)[None, :]
        cos = self.cos(ang)[:, None, :]
        sin = self.sin(ang)[:, None, :]
        out = np.empty_like(x)
        if m.rope == 'half':
            a, b = x[..., :half], x[..., half:]
            out[..., :half] = a * cos - b * sin
            out[..., half:] = b * cos + a * sin
        else:
            a, b = x[..., 0::2], x[..., 1::2]
            out[..., 0::2] = a * cos - b * sin
            out[..., 1::2] = a * sin + b * cos
        return out

    def attention(self, li, q, k, v):
        """q [T, nh, hd]; k, v [T, nkv, hd] appended to the cache; causal GQA."""
        m = self.m
        dt = self.dt
        if self.kv_f16:
            q, k, v = self.f16(q), self.f16(k), self.f16(v)
        if self.fa_f16:
            return self.attention_fa_f16(li, q, k, v)
        self.kc[li] = np.concatenate([self.kc[li], k])
        self.vc[li] = np.concatenate([self.vc[li], v])
        K, V = self.kc[li], self.vc[li]
        T = q.shape[0]
        S = K.shape[0]
        grp = m.nh // m.nkv
        out = np.empty((T, m.nh, m.hd), dtype=dt)
        qpos = np.arange(S - T, S)
        mask = np.arange(S)[None, :] > qpos[:, None]      # [T, S]
        scale = dt.type(math.sqrt(m.hd))
        for h in range(m.nh):
            kh = K[:, h // grp, :]
            vh = V[:, h // grp, :]
            if self.bl_seq:
                sc = np.cumsum(q[:, None, h, :] * kh[None, :, :], axis=-1, dtype=dt)[..., -1]
            else:
                sc = q[:, h, :] @ kh.T
            sc = sc / scale
            sc = np.where(mask, -np.inf, sc)
            mx = np.max(sc, axis=-1, keepdims=True)
            e = self.exp(sc - mx)
            p = e / self.rsum(e)[..., None]
            if self.bl_seq:
                o = np.cumsum(p[:, :, None] * vh[None, :, :], axis=1, dtype=dt)[:, -1, :]
            else:
                o = p @ vh
            out[:, h, :] = o
        return out

    def attention_fa_f16(self, li, q, k, v):
        """llama.cpp CPU flash attention: per query, keys in order, online softmax in fp32 with
        the weighted sum of V accumulated in an f16 vector (engine emulation only)."""
        m = self.m
        self.kc[li] = np.concatenate([self.kc[li], k])
        self.vc[li] = np.concatenate([self.vc[li], v])
        K = self.kc[li].astype(np.float32)
        V = self.vc[li].astype(np.float32)
        T = q.shape[0]
        S = K.shape[0]
        grp = m.nh // m.nkv
        f32 = np.float32
        scale = f32(1.0 / math.sqrt(m.hd))
        out = np.empty((T, m.nh, m.hd), dtype=self.dt)
        for t in range(T):
            for h in range(m.nh):
                qv = q[t, h].astype(f32)
                sc = (K[:S - T + t + 1, h // grp] @ qv).astype(f32) * scale
                ssum, mx = f32(0), f32(-np.inf)
                acc = np.zeros(m.hd, dtype=np.float16)
                for j, sj in enumerate(sc):
                    ms = vs = f32(1)
                    if sj > mx:
                        ms = f32(np.exp(np.float64(mx - sj)))
                        mx = sj
                        acc = (acc.astype(f32) * ms).astype(np.float16)
                    else:
                        vs = f32(np.exp(np.float64(sj - mx)))
                    acc = (acc.astype(f32) + V[j, h // grp] * vs).astype(np.float16)
                    ssum = ssum * ms + vs
                out[t, h] = acc.astype(f32) * (f32(1) / ssum)
        return out

    def act_fn(self, g, u):
        if self.m.act == 'relu2':
            r = np.maximum(g, self.c(0))
            return r * r * u
        one = self.c(1)
        return g * (one / (one + self.exp(-g))) * u

    def forward(self, tokens):
        """Process new tokens (appending to the KV cache); returns logits [T, V]."""
        m = self.m
        dt = self.dt
        tokens = np.asarray(tokens, dtype=np.int64)
        if np.any(tokens < 0) or np.any(tokens >= m.V):
            raise ValueError('token id out of range [0, %d)' % m.V)
        T = len(tokens)
        pos = np.arange(self.pos, self.pos + T)
        h = m.embed[tokens].astype(dt)
        bl = m.family == 'bitllama2c'
        for li, ly in enumerate(m.layers):
            if bl:
                qa = self.bl_prep(h)
                q, k, v = (self.bl_linear(ly[n], qa) for n in ('q', 'k', 'v'))
            else:
                x = self.rmsnorm(h, ly['attn_norm'], m.eps)
                q, k, v = (self.linear(ly[n], x) for n in ('q', 'k', 'v'))
            q = self.rope(q.reshape(T, m.nh, m.hd), pos)
            k = self.rope(k.reshape(T, m.nkv, m.hd), pos)
            v = v.reshape(T, m.nkv, m.hd)
            o = self.attention(li, q, k, v).reshape(T, m.nh * m.hd)
            if bl:
                h = h + self.bl_linear(ly['o'], self.bl_prep(o))
                qa = self.bl_prep(h)
                g = self.bl_linear(ly['gate'], qa)
                u = self.bl_linear(ly['up'], qa)
                mm = self.act_fn(g, u)
                h = h + self.bl_linear(ly['down'], self.bl_prep(mm))
            else:
                if ly['attn_sub_norm'] is not None:
                    o = self.rmsnorm(o, ly['attn_sub_norm'], m.eps)
                h = h + self.linear(ly['o'], o)
                x = self.rmsnorm(h, ly['ffn_norm'], m.eps)
                g = self.linear(ly['gate'], x)
                u = self.linear(ly['up'], x)
                mm = self.act_fn(g, u)
                if ly['ffn_sub_norm'] is not None:
                    mm = self.rmsnorm(mm, ly['ffn_sub_norm'], m.eps)
                h = h + self.linear(ly['down'], mm)
        h = self.rmsnorm(h, m.norm, m.eps)
        if self.f16_act:
            h = self.f16(h)
        head = m.head if m.head is not None else m.embed
        logits = np.empty((T, m.V), dtype=dt)
        step = 16384
        for b in range(0, m.V, step):
            w = head[b:b + step].astype(dt)
            if self.bl_seq:
                logits[:, b:b + step] = np.cumsum(h[:, None, :] * w[None, :, :], axis=-1, dtype=dt)[..., -1]
            else:
                logits[:, b:b + step] = h @ w.T
        self.pos += T
        return logits

    def greedy(self, prompt, steps):
        """llama2.c-style: feed the prompt one token at a time, then continue with argmax until
        `steps` positions in total or BOS(1) is produced (bitllama2c) / steps reached."""
        self.reset()
        out = list(prompt)
        tok = prompt[0]
        for p in range(steps):
            logits = self.forward([tok])[0]
            if p + 1 < len(prompt):
                tok = prompt[p + 1]
            else:
                tok = int(np.argmax(logits))
                if self.m.family == 'bitllama2c' and tok == 1:
                    break
                out.append(tok)
        return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('checkpoint', help='HF directory, .gguf file or bitllama2.c .bin')
    ap.add_argument('--tokens', required=True, help='comma-separated token ids')
    ap.add_argument('--out', help='write logits [T, vocab] to this .npy file')
    ap.add_argument('--print', action='store_true', help='print logits, one line per position')
    ap.add_argument('--dtype', choices=('float64', 'float32'), default='float64')
    ap.add_argument('--float-linear', choices=('auto', 'absmean', 'dense'), default='auto',
                    help='float (non-ternary-typed) linear weights: auto = GGUF exactly-ternary '
                         'values read as T*s, HF masters absmean-quantized; absmean; dense = '
                         'plain float matmul without activation quantization')
    ap.add_argument('--no-act-quant', action='store_true',
                    help='ternary weights times unquantized activations (fp reference graph)')
    ap.add_argument('--act-block', type=int, default=0,
                    help='activation quantization scale per block of this many elements '
                         '(0 = per row, the BitNet semantics; 256 approximates llama.cpp TQ)')
    ap.add_argument('--bitllama-low-first', action='store_true',
                    help='bitllama2.c: first element in the low bits of each byte')
    ap.add_argument('--seq-sums', action='store_true',
                    help='bitllama2.c: sequential (C loop order) sums, to mirror fp32 exactly')
    ap.add_argument('--emulate', choices=('none', 'bitnet.cpp', 'llama.cpp'), default='none',
                    help="mimic an engine's f16 KV cache / flash attention / activation "
                         "rounding (to check against its logits; not the reference semantics)")
    ap.add_argument('--generate', type=int, default=0,
                    help='greedy decoding up to this many positions; prints the ids')
    args = ap.parse_args(argv)
    toks = [int(t) for t in args.tokens.split(',') if t.strip() != '']
    if not toks:
        ap.error('--tokens is empty')
    try:
        model = load(args.checkpoint, args.float_linear, args.bitllama_low_first)
    except FormatError as e:
        print('oracle: error: %s' % e, file=sys.stderr)
        return 2
    r = Runner(model, np.float64 if args.dtype == 'float64' else np.float32,
               act_block=args.act_block, act_quant=not args.no_act_quant, bl_seq=args.seq_sums,
               emulate=args.emulate)
    if args.generate:
        ids = r.greedy(toks, args.generate)
        print(' '.join(str(t) for t in ids))
        return 0
    logits = r.forward(toks)
    if args.out:
        np.save(args.out, logits)
    if args.print or not args.out:
        for row in logits:
            print(' '.join('%.9g' % v for v in row))
    return 0


if __name__ == '__main__':
    sys.exit(main())
