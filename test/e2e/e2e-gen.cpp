//===- e2e-gen.cpp - random ternary linear cases for end-to-end tests -----===//
//
// ternc-e2e-gen DIR SEED [M N K SCALE]
//
// Writes one test case into DIR:
//   case.mlir          tern.quantize + tern.linear entry points for M x K x N
//   store.safetensors  the weight store ternc reads (U8 codes or I8 values)
//   ref.bin            the inputs and the plain values for the harness's
//                      scalar reference: i64 M, N, K, scale kind, G; f32 x;
//                      i8 T; f32 scales
// Without explicit shapes, M, N, K and the scale granularity are drawn from
// SEED. Rows 0-2 of T are all 0, all +1 and all -1 (when N allows); row 0
// of x is all zeros (when M > 1), the last row mostly +-absmax.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace {

enum Scale : int64_t { PerTensor = 0, PerRow = 1, PerBlock = 2 };

[[noreturn]] void die(const std::string &msg) {
  std::fprintf(stderr, "ternc-e2e-gen: %s\n", msg.c_str());
  std::exit(1);
}

void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), bytes.size());
  if (!f)
    die("cannot write " + path);
}

template <typename T> void append(std::string &s, const T *p, size_t n) {
  s.append(reinterpret_cast<const char *>(p), n * sizeof(T));
}

struct Entry {
  std::string name, dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};

std::string safetensors(const std::vector<Entry> &entries) {
  std::string header = "{", data;
  for (const Entry &e : entries) {
    if (header.size() > 1)
      header += ",";
    header += "\"" + e.name + "\":{\"dtype\":\"" + e.dtype + "\",\"shape\":[";
    for (size_t i = 0; i < e.shape.size(); ++i)
      header += (i ? "," : "") + std::to_string(e.shape[i]);
    header += "],\"data_offsets\":[" + std::to_string(data.size()) + "," +
              std::to_string(data.size() + e.bytes.size()) + "]}";
    data += e.bytes;
  }
  header += "}";
  while (header.size() % 8)
    header += " ";
  std::string out;
  uint64_t n = header.size();
  append(out, &n, 1);
  return out + header + data;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 3 && argc != 7)
    die("usage: ternc-e2e-gen DIR SEED [M N K per_tensor|per_row|block:G]");
  std::string dir = argv[1];
  uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  std::mt19937_64 rng(seed);
  auto uniform = [&](int64_t lo, int64_t hi) {
    return lo + int64_t(rng() % uint64_t(hi - lo + 1));
  };

  int64_t m, n, k, scale, group = 0;
  if (argc == 7) {
    m = std::atoll(argv[3]);
    n = std::atoll(argv[4]);
    k = std::atoll(argv[5]);
    std::string s = argv[6];
    if (s == "per_tensor")
      scale = PerTensor;
    else if (s == "per_row")
      scale = PerRow;
    else if (s.rfind("block:", 0) == 0) {
      scale = PerBlock;
      group = std::atoll(s.c_str() + 6);
    } else
      die("unknown scale " + s);
    if (m < 1 || n < 1 || k < 1 ||
        (scale == PerBlock && (group < 1 || k % group)))
      die("bad shape");
  } else {
    // Shapes that are deliberately not multiples of 4, 16 or 32.
    m = uniform(0, 2) == 0 ? 1 : uniform(2, 64);
    n = uniform(1, 97);
    scale = uniform(0, 2);
    if (scale == PerBlock) {
      const int64_t groups[] = {32, 64, 96, 128, 256};
      group = groups[uniform(0, 4)];
      k = group * uniform(1, 5);
    } else {
      k = uniform(1, 700);
    }
  }

  // Weights: random ternary, with the special rows.
  std::vector<int8_t> t(n * k);
  for (auto &v : t)
    v = int8_t(int64_t(rng() % 3) - 1);
  for (int64_t c = 0; c < k; ++c) {
    if (n > 0)
      t[0 * k + c] = 0;
    if (n > 1)
      t[1 * k + c] = 1;
    if (n > 2)
      t[2 * k + c] = -1;
  }
  int64_t numScales = scale == PerTensor ? 1
                      : scale == PerRow  ? n
                                         : n * (k / group);
  std::vector<float> scales(numScales);
  std::uniform_real_distribution<float> sd(0.25f, 3.0f);
  for (auto &s : scales)
    s = sd(rng);

  // Activations: mixed magnitudes; row 0 all zero (when M > 1); the last
  // row quantizes to +-127 in its first three quarters (positive on even
  // seeds), so that the rows of all +1 and all -1 weights give the largest
  // partial sums the kernels' narrow accumulators must hold.
  std::vector<float> x(m * k);
  std::normal_distribution<float> xd(0.0f, 1.0f);
  for (int64_t r = 0; r < m; ++r) {
    float mag = r == 0 && m > 1 ? 0.0f : std::ldexp(1.0f, int(uniform(-6, 6)));
    for (int64_t c = 0; c < k; ++c)
      x[r * k + c] = mag * xd(rng);
    if (r == m - 1 && (m == 1 || r > 0))
      for (int64_t c = 0; c < k * 3 / 4; ++c)
        x[r * k + c] = seed % 2 ? -4.0f * mag : 4.0f * mag;
  }

  // The store: U8 codes on even seeds, I8 values on odd ones (both formats).
  Entry w{"w", "", {}, ""};
  if (seed % 2 == 0) {
    int64_t rowBytes = (k + 3) / 4;
    std::vector<uint8_t> codes(n * rowBytes, 0);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c)
        codes[r * rowBytes + c / 4] |= uint8_t(t[r * k + c] + 1)
                                       << (2 * (c % 4));
    w.dtype = "U8";
    w.shape = {n, rowBytes};
    append(w.bytes, codes.data(), codes.size());
  } else {
    w.dtype = "I8";
    w.shape = {n, k};
    append(w.bytes, t.data(), t.size());
  }
  Entry ws{"w.scale", "F32", {}, ""};
  ws.shape = scale == PerTensor ? std::vector<int64_t>{1}
             : scale == PerRow  ? std::vector<int64_t>{n}
                                : std::vector<int64_t>{n, k / group};
  append(ws.bytes, scales.data(), scales.size());
  writeFile(dir + "/store.safetensors", safetensors({w, ws}));

  std::string ref;
  int64_t hdr[5] = {m, n, k, scale, group};
  append(ref, hdr, 5);
  append(ref, x.data(), x.size());
  append(ref, t.data(), t.size());
  append(ref, scales.data(), scales.size());
  writeFile(dir + "/ref.bin", ref);

  std::string scaleStr = scale == PerTensor ? "per_tensor"
                         : scale == PerRow
                             ? "per_row"
                             : "block<" + std::to_string(group) + ">";
  auto mr = [&](int64_t a, int64_t b, const char *e) {
    return "memref<" + std::to_string(a) + "x" + std::to_string(b) + "x" + e +
           ">";
  };
  std::string xs = mr(m, k, "f32"), qs = mr(m, k, "i8"), ys = mr(m, n, "f32");
  std::string ss = "memref<" + std::to_string(m) + "xf32>";
  std::string mlir =
      "// Generated by ternc-e2e-gen " + std::to_string(seed) + "\n" +
      "tern.weight @w : !tern.ternary<" + std::to_string(n) + "x" +
      std::to_string(k) + ", " + scaleStr + ", canonical> from \"w\"\n" +
      "func.func @tern_quantize(%x: " + xs + ", %q: " + qs + ", %s: " + ss +
      ") {\n  tern.quantize %x into %q, %s : " + xs + ", " + qs + ", " + ss +
      "\n  return\n}\n" + "func.func @tern_linear(%q: " + qs + ", %s: " + ss +
      ", %y: " + ys + ") {\n  tern.linear @w(%q, %s) into %y : " + qs + ", " +
      ss + ", " + ys + "\n  return\n}\n";
  writeFile(dir + "/case.mlir", mlir);
  std::printf("case seed=%llu M=%lld N=%lld K=%lld scale=%s\n",
              (unsigned long long)seed, (long long)m, (long long)n,
              (long long)k, scaleStr.c_str());
  return 0;
}
