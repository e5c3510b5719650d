//===- MappedStore.h - a weight store over mapped checkpoint files -*- C++
//-*-===//
//
// Both Hugging Face and GGUF checkpoints come down to named byte ranges of
// mapped files in some encoding. The importers describe each tensor (where,
// which encoding, which shape, which scale) and this store decodes rows on
// demand, with every range already checked against its file.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_IMPORT_MAPPEDSTORE_H
#define TERNC_IMPORT_MAPPEDSTORE_H

#include "ternc/Import/Safetensors.h"
#include "ternc/Import/WeightStore.h"

#include "llvm/Support/MemoryBuffer.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ternc {

class SafetensorsFile;

/// How a tensor's bytes encode its values.
enum class Encoding {
  F32,
  F16,
  BF16,
  /// ggml Q8_0: blocks of 32 as f16 d + 32 int8.
  Q8_0,
  /// HF packed ternary: U8 [N/4, K], T[i*N/4 + r, c] = ((P[r,c] >> 2i) & 3)-1.
  HfRowBlock,
  /// ggml TQ2_0 / TQ1_0 (blocks of 256 with an f16 scale each).
  TQ2_0,
  TQ1_0,
  /// bitnet.cpp I2_S: 128-element runs of 32 bytes + a 32-byte tail whose
  /// first 4 bytes are the f32 scale.
  I2_S,
};

const char *encodingName(Encoding e);

/// One tensor of a checkpoint.
struct MappedTensor {
  std::string name;
  /// The file it lives in (index into MappedStore::files).
  unsigned file = 0;
  Encoding encoding = Encoding::F32;
  /// Logical PyTorch-order shape ([N, K] for matrices).
  std::vector<int64_t> shape;
  const uint8_t *data = nullptr;
  uint64_t bytes = 0;
  /// File offset of the data, for messages.
  uint64_t offset = 0;
};

/// How a matrix stored in a float encoding becomes ternary.
enum class FloatTernary {
  /// Values are exactly T * s (a GGUF F16/F32 export of a ternary model):
  /// s = max|W|, T = W / s, which must be in {-1, 0, 1}.
  Exact,
  /// Master weights (`quantization_mode: online`): s = max(mean|W|, 1e-5),
  /// T = clamp(round_half_even(W / s), -1, 1).
  AbsMean,
};

/// A ternary matrix: codes in `codes`, scale from `scale` (a tensor of one
/// value) or from the codes' own blocks.
struct MappedTernary {
  MappedTensor codes;
  /// HfRowBlock: the weight_scale tensor; empty name otherwise.
  MappedTensor scale;
  /// HfRowBlock: the scale tensor holds 1/multiplier (`bitlinear`).
  bool inverseScale = false;
  FloatTernary floatMode = FloatTernary::Exact;
};

class MappedStore : public WeightStore {
public:
  /// Files the tensors point into; kept mapped for the store's lifetime.
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> files;
  /// Other owners of mapped data the tensors point into.
  std::vector<std::unique_ptr<SafetensorsFile>> owned;
  std::map<std::string, MappedTensor> denseTensors;
  std::map<std::string, MappedTernary> ternaries;
  std::string description;

  std::string describe() const override { return description; }
  llvm::Expected<std::unique_ptr<TernaryTensor>>
  ternary(llvm::StringRef name, int64_t rows, int64_t cols) const override;
  llvm::Expected<std::unique_ptr<DenseTensor>>
  dense(llvm::StringRef name, llvm::ArrayRef<int64_t> shape) const override;
  /// The encoding a dense tensor is stored in.
  std::optional<Encoding> denseEncoding(llvm::StringRef name) const;
  DenseType nativeType(llvm::StringRef name) const override;
  void release(llvm::StringRef name) const override;

  /// The file name of tensor `t`, for messages.
  std::string fileOf(const MappedTensor &t) const;
};

/// Element `i` of a float-encoded (F32, F16, BF16, Q8_0) array, as f32.
float decodeFloat(Encoding encoding, const uint8_t *data, int64_t i);

/// Drops the pages of [data, data + bytes) from the process (they stay in
/// the page cache); only whole pages inside the range are touched.
void releaseMappedRange(const uint8_t *data, uint64_t bytes);

/// Bytes a tensor of `encoding` and `shape` occupies, or an error naming
/// `what` when the shape does not fit the encoding's blocks.
llvm::Expected<uint64_t> encodedBytes(Encoding encoding,
                                      llvm::ArrayRef<int64_t> shape,
                                      llvm::StringRef what);

} // namespace ternc

#endif // TERNC_IMPORT_MAPPEDSTORE_H
