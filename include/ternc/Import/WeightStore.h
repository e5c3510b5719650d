//===- WeightStore.h - where weights come from ------------------*- C++ -*-===//
//
// The IR names weights; a WeightStore supplies them. Each importer (a
// safetensors store now; Hugging Face, GGUF and bitllama2.c checkpoints
// later) decodes its own on-disk format row by row, so the compiler reads
// the source bytes once and writes the target layout once, without ever
// holding a decoded copy of a whole model. This layer knows nothing of MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_IMPORT_WEIGHTSTORE_H
#define TERNC_IMPORT_WEIGHTSTORE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ternc {

class SafetensorsFile;

/// IEEE half and bfloat16 to float (exact).
float halfToFloat(uint16_t h);
float bf16ToFloat(uint16_t b);
/// Float to IEEE half and bfloat16, rounding to nearest even.
uint16_t floatToHalf(float f);
uint16_t floatToBf16(float f);

enum class ScaleKind { PerTensor, PerRow, PerBlock };

/// One ternary matrix [rows, cols] with its scales, decoded on demand.
class TernaryTensor {
public:
  virtual ~TernaryTensor();

  const std::string &name() const { return name_; }
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }

  /// Writes row `row` as values in {-1, 0, +1} to `out[0 .. cols)`. Errors
  /// name the tensor, row and column of an invalid code.
  virtual llvm::Error decodeRow(int64_t row, int8_t *out) const = 0;

  /// The scales, row-major: 1 (per tensor), rows (per row) or
  /// rows * (cols / group) (per block). All finite and non-zero.
  const std::vector<float> &scales() const { return scales_; }
  ScaleKind scaleKind() const { return scaleKind_; }
  /// G for per-block scales, 0 otherwise.
  int64_t groupSize() const { return groupSize_; }

protected:
  std::string name_;
  int64_t rows_ = 0, cols_ = 0;
  std::vector<float> scales_;
  ScaleKind scaleKind_ = ScaleKind::PerTensor;
  int64_t groupSize_ = 0;
};

/// A dense tensor (embedding, norm weights, LM head), read as f32.
class DenseTensor {
public:
  virtual ~DenseTensor();
  const std::string &name() const { return name_; }
  const std::vector<int64_t> &shape() const { return shape_; }
  int64_t numElements() const;
  /// Converts elements [first, first + count) to f32 in `out`. Errors name
  /// the tensor (e.g. a NaN where the format forbids one).
  virtual llvm::Error read(int64_t first, int64_t count, float *out) const = 0;

protected:
  std::string name_;
  std::vector<int64_t> shape_;
};

/// Element types a dense parameter can keep at run time.
enum class DenseType { F32, F16, BF16 };

class WeightStore {
public:
  virtual ~WeightStore();
  /// The checkpoint's own precision for dense tensor `name` (the default for
  /// embeddings and LM heads); F32 when unknown.
  virtual DenseType nativeType(llvm::StringRef name) const {
    return DenseType::F32;
  }
  /// A description of the store for messages (usually its path).
  virtual std::string describe() const = 0;
  /// The ternary matrix `name`, which the IR declares as [rows, cols].
  /// Errors name the store, the tensor and what disagrees.
  virtual llvm::Expected<std::unique_ptr<TernaryTensor>>
  ternary(llvm::StringRef name, int64_t rows, int64_t cols) const = 0;
  /// Says that tensor `name` has been read for good, so that a store over
  /// mapped files can drop its pages: compiling a model then needs memory
  /// for about one tensor at a time, not for the whole checkpoint.
  virtual void release(llvm::StringRef name) const {}
  /// The dense tensor `name`, which the IR declares with `shape`.
  virtual llvm::Expected<std::unique_ptr<DenseTensor>>
  dense(llvm::StringRef name, llvm::ArrayRef<int64_t> shape) const = 0;
};

/// A safetensors file holding, per weight NAME:
///   NAME        I8 [N, K] values in {-1, 0, 1}, or U8 [N, ceil(K/4)] 2-bit
///               codes (code = value + 1, element k in bits 2*(k%4));
///   NAME.scale  F32 [] or [1] (per tensor), [N] (per row) or [N, K/G]
///               (per block of G);
/// and per dense parameter NAME an F32, F16 or BF16 tensor of its shape.
class SafetensorsStore : public WeightStore {
public:
  static llvm::Expected<std::unique_ptr<SafetensorsStore>>
  open(llvm::StringRef path);
  explicit SafetensorsStore(std::unique_ptr<SafetensorsFile> file);
  ~SafetensorsStore() override;

  std::string describe() const override;
  llvm::Expected<std::unique_ptr<TernaryTensor>>
  ternary(llvm::StringRef name, int64_t rows, int64_t cols) const override;
  llvm::Expected<std::unique_ptr<DenseTensor>>
  dense(llvm::StringRef name, llvm::ArrayRef<int64_t> shape) const override;

private:
  std::unique_ptr<SafetensorsFile> file_;
};

} // namespace ternc

#endif // TERNC_IMPORT_WEIGHTSTORE_H
