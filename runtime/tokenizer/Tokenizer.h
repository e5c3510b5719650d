//===- Tokenizer.h - SentencePiece and byte-level BPE tokenizers -*- C++
//-*-===//
//
// Plain C++17, no LLVM: part of the runtime that generated programs link, and
// of the compiler, which embeds a serialized tokenizer into those programs.
//
// Two flavours:
//  - SentencePiece (llama2.c tokenizer.bin, GGUF "llama"): the text gets a
//    dummy-prefix space, starts as one symbol per UTF-8 character, and the
//    adjacent pair whose concatenation is the highest-scoring token merges
//    first; characters left outside the vocabulary become <0xNN> tokens.
//  - byte-level BPE (GGUF "gpt2", tiktoken, HF tokenizer.json): the text is
//    split by the GPT-2 or Llama 3 pre-tokenizer, each piece starts as one
//    symbol per byte, and the adjacent pair of lowest merge rank merges first.
//    Pieces are spelled in GPT-2's byte-to-unicode alphabet (space = "Ġ").
// Special tokens in the text are never parsed: "<|eot_id|>" in the input is
// ordinary text. Use tokenId() to place special tokens.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_RUNTIME_TOKENIZER_TOKENIZER_H
#define TERNC_RUNTIME_TOKENIZER_TOKENIZER_H

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ternc::rt {

class GgufFile;

enum class TokenizerModel : uint8_t { SentencePiece = 1, Bpe = 2 };

enum class PreTokenizer : uint8_t {
  None = 0,   // the whole text is one piece
  Gpt2 = 1,   // GPT-2's regex
  Llama3 = 2, // Llama 3's regex
};

/// Token types, numbered as GGUF's tokenizer.ggml.token_type.
enum class TokenType : uint8_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
};

/// Everything that defines a tokenizer; loaders fill one, the serialized form
/// stores one, and Tokenizer::fromSpec checks it and builds the lookup tables.
struct TokenizerSpec {
  TokenizerModel model = TokenizerModel::SentencePiece;
  /// Bpe only: pieces are in GPT-2's byte-to-unicode spelling and text starts
  /// as bytes. Otherwise (SentencePiece, or a Llama 2-style BPE
  /// tokenizer.json) text starts as characters with <0xNN> byte fallback.
  bool byteLevel = false;
  PreTokenizer pre = PreTokenizer::None;
  /// Prepend a space to non-empty text (and strip it again after BOS when
  /// decoding).
  bool addDummyPrefix = false;
  /// Pieces spell the space as U+2581 "▁" (GGUF, HF); llama2.c uses ' '.
  bool metaspace = false;
  /// Bpe: a pre-token that is a whole token is emitted as is (Llama 3).
  bool ignoreMerges = false;
  /// Bpe without a merge list (tiktoken): a pair merges at the rank of its
  /// concatenation, the rank being the token id.
  bool mergesFromRanks = false;

  std::vector<std::string> pieces;
  /// SentencePiece: one score per token (empty = all zero).
  std::vector<float> scores;
  /// One type per token (empty = all Normal).
  std::vector<TokenType> types;
  /// Bpe: merge rules (left id, right id) in rank order.
  std::vector<std::pair<int32_t, int32_t>> merges;

  /// -1 when absent. eot -1 means: "<|eot_id|>" if present, else eos.
  int32_t bos = -1;
  int32_t eos = -1;
  int32_t eot = -1;
  int32_t unk = -1;
};

namespace detail {
struct TokenizerImpl;
} // namespace detail

class Tokenizer {
public:
  /// An empty tokenizer (no tokens); use a loader or fromSpec.
  Tokenizer();

  /// Token ids of `text`, with BOS first if `addBos` and the vocabulary has
  /// one.
  std::vector<int32_t> encode(std::string_view text, bool addBos) const;

  /// The bytes of token `id` for streaming output, `prev` being the token
  /// before it (-1 if none): SentencePiece drops the dummy-prefix space after
  /// BOS and turns <0xNN> into the byte; byte-level BPE maps the piece back
  /// to bytes. Control tokens (BOS, EOS, ...) and invalid ids give "".
  std::string decode(int32_t prev, int32_t id) const;
  /// All tokens of `ids` decoded in order.
  std::string decode(const std::vector<int32_t> &ids) const;

  int32_t bos() const;
  int32_t eos() const;
  /// End of turn: Llama 3's <|eot_id|> (128009) when present, else eos().
  int32_t eot() const;
  int32_t vocabSize() const;
  /// The id of the token spelled `piece` in the vocabulary (e.g.
  /// "<|eot_id|>"), or -1. A linear scan: meant for a few special tokens.
  int32_t tokenId(std::string_view piece) const;
  /// The vocabulary spelling of `id` ("" if out of range).
  const std::string &piece(int32_t id) const;
  TokenType tokenType(int32_t id) const;
  const TokenizerSpec &spec() const;

  /// Compact, versioned, checksummed binary form ("TTOK").
  std::string serialize() const;
  static std::optional<Tokenizer> deserialize(std::string_view bytes,
                                              std::string *error);

  /// Checks `spec` and builds the tokenizer.
  static std::optional<Tokenizer> fromSpec(TokenizerSpec spec,
                                           std::string *error);

  // Loaders. `name` (usually the path) prefixes error messages, which also
  // give the byte offset or the key at fault.

  /// llama2.c tokenizer.bin: i32 max_token_length, then per token f32 score,
  /// i32 length, bytes. `vocabSize` comes from the model header; -1 reads
  /// tokens to the end of the data.
  static std::optional<Tokenizer> fromLlama2c(std::string_view bytes,
                                              int32_t vocabSize,
                                              std::string_view name,
                                              std::string *error);
  /// GGUF metadata tokenizer.ggml.* ("llama" or "gpt2" models).
  static std::optional<Tokenizer> fromGguf(const GgufFile &file,
                                           std::string *error);
  static std::optional<Tokenizer> fromGgufBytes(std::string_view bytes,
                                                std::string_view name,
                                                std::string *error);
  /// Hugging Face tokenizer.json (model.type "BPE"). `configJson` is the
  /// optional tokenizer_config.json text (for bos_token / eos_token).
  static std::optional<Tokenizer> fromHfJson(std::string_view json,
                                             std::string_view configJson,
                                             std::string_view name,
                                             std::string *error);
  /// tiktoken text ranks ("base64 rank" per line) of Llama 3, plus its
  /// special tokens 128000..128255.
  static std::optional<Tokenizer> fromTiktoken(std::string_view text,
                                               std::string_view name,
                                               std::string *error);

  /// Loads `path`, detecting the format: GGUF, tokenizer.json, tiktoken
  /// text, llama2.c tokenizer.bin (read to end of file), or a directory
  /// holding tokenizer.json, tokenizer.model (tiktoken) or tokenizer.bin.
  static std::optional<Tokenizer> fromFile(const std::string &path,
                                           std::string *error);

private:
  explicit Tokenizer(std::shared_ptr<const detail::TokenizerImpl> impl)
      : impl_(std::move(impl)) {}
  // Immutable after construction, so copies share it.
  std::shared_ptr<const detail::TokenizerImpl> impl_;
};

} // namespace ternc::rt

#endif // TERNC_RUNTIME_TOKENIZER_TOKENIZER_H
