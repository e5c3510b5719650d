//===- LoadGguf.cpp - tokenizer from GGUF metadata ------------------------===//
//
// tokenizer.ggml.model "llama" is SentencePiece (pieces spell the space as
// U+2581, scores drive merges); "gpt2" is byte-level BPE with a merge list.
//
//===----------------------------------------------------------------------===//

#include "TokenizerImpl.h"
#include "gguf/Gguf.h"

#include <cmath>
#include <limits>

namespace ternc::rt {

namespace {

class GgufTokenizerReader {
public:
  GgufTokenizerReader(const GgufFile &f, std::string *error)
      : f_(f), error_(error) {}

  std::optional<Tokenizer> run();

private:
  const GgufFile &f_;
  std::string *error_;

  std::nullopt_t fail(const GgufValue *v, std::string_view key,
                      const std::string &msg) {
    if (error_) {
      *error_ = f_.fileName() + ": ";
      if (v)
        *error_ += "offset " + std::to_string(v->offset) + ": ";
      *error_ += "metadata key '" + std::string(key) + "': " + msg;
    }
    return std::nullopt;
  }
  // The array at `key` of `count` elements of a type accepted by `ok`.
  const GgufValue *array(std::string_view key, uint64_t count,
                         bool (*ok)(GgufType), const char *expected) {
    const GgufValue *v = f_.find(key);
    if (!v)
      return nullptr;
    if (!v->isArray() || !ok(v->elemType)) {
      fail(v, key,
           std::string("expected an array of ") + expected + ", got " +
               (v->isArray() ? "an array of " + ggufTypeName(v->elemType)
                             : ggufTypeName(v->type)));
      bad_ = true;
      return nullptr;
    }
    if (count != 0 && v->count != count) {
      fail(v, key,
           std::to_string(v->count) + " elements, expected " +
               std::to_string(count) + " (one per token)");
      bad_ = true;
      return nullptr;
    }
    return v;
  }
  // An optional token id at `key`: true if absent or valid.
  bool tokenId(std::string_view key, size_t n, int32_t &out) {
    const GgufValue *v = f_.find(key);
    if (!v)
      return true;
    auto id = v->asSigned();
    if (!id) {
      fail(v, key, "expected an integer, got " + ggufTypeName(v->type));
      return false;
    }
    // Some writers store -1 (also as u32) for "none".
    if (*id == -1 || (v->type == GgufType::UInt32 && *id == 0xFFFFFFFF))
      return true;
    if (*id < 0 || uint64_t(*id) >= n) {
      fail(v, key,
           "token id " + std::to_string(*id) +
               " is outside the vocabulary of " + std::to_string(n));
      return false;
    }
    out = int32_t(*id);
    return true;
  }
  bool bad_ = false;
};

std::optional<Tokenizer> GgufTokenizerReader::run() {
  const GgufValue *model = f_.find("tokenizer.ggml.model");
  if (!model)
    return fail(nullptr, "tokenizer.ggml.model",
                "missing: the file has no tokenizer");
  if (!model->isString())
    return fail(model, "tokenizer.ggml.model",
                "expected a string, got " + ggufTypeName(model->type));
  TokenizerSpec s;
  if (model->str == "llama") {
    s.model = TokenizerModel::SentencePiece;
    s.metaspace = true;
    s.addDummyPrefix = true;
  } else if (model->str == "gpt2") {
    s.model = TokenizerModel::Bpe;
    s.byteLevel = true;
  } else {
    return fail(model, "tokenizer.ggml.model",
                "unsupported tokenizer model '" + std::string(model->str) +
                    "' (expected 'llama' or 'gpt2')");
  }

  auto isString = [](GgufType t) { return t == GgufType::String; };
  auto isFloat = [](GgufType t) {
    return t == GgufType::Float32 || t == GgufType::Float64;
  };
  auto isInt = [](GgufType t) {
    return t == GgufType::Int32 || t == GgufType::UInt32 ||
           t == GgufType::Int8 || t == GgufType::UInt8 ||
           t == GgufType::Int16 || t == GgufType::UInt16 ||
           t == GgufType::Int64 || t == GgufType::UInt64;
  };

  const char *kTokens = "tokenizer.ggml.tokens";
  const GgufValue *tokens = array(kTokens, 0, isString, "strings");
  if (bad_)
    return std::nullopt;
  if (!tokens)
    return fail(nullptr, kTokens, "missing");
  const uint64_t n = tokens->count;
  if (n == 0 || n >= uint64_t(std::numeric_limits<int32_t>::max()))
    return fail(tokens, kTokens,
                "vocabulary of " + std::to_string(n) + " tokens");
  s.pieces.reserve(n);
  for (std::string_view p : tokens->strings)
    s.pieces.emplace_back(p);

  const char *kScores = "tokenizer.ggml.scores";
  if (const GgufValue *v = array(kScores, n, isFloat, "floats")) {
    s.scores.resize(n);
    for (uint64_t i = 0; i < n; ++i) {
      double d = *v->at(i).asFloat();
      if (std::isnan(d))
        return fail(v, kScores,
                    "score of token " + std::to_string(i) + " is NaN");
      s.scores[i] = float(d);
    }
  }
  if (bad_)
    return std::nullopt;
  // BPE needs no scores.
  if (s.model == TokenizerModel::Bpe)
    s.scores.clear();

  const char *kTypes = "tokenizer.ggml.token_type";
  if (const GgufValue *v = array(kTypes, n, isInt, "integers")) {
    s.types.resize(n);
    for (uint64_t i = 0; i < n; ++i) {
      auto t = v->at(i).asSigned();
      if (!t || *t < 0 || *t > int64_t(TokenType::Byte))
        return fail(v, kTypes,
                    "token " + std::to_string(i) + " has invalid type " +
                        (t ? std::to_string(*t) : std::string("?")));
      s.types[i] = TokenType(*t);
    }
  }
  if (bad_)
    return std::nullopt;

  if (s.model == TokenizerModel::Bpe) {
    const char *kMerges = "tokenizer.ggml.merges";
    const GgufValue *v = array(kMerges, 0, isString, "strings");
    if (bad_)
      return std::nullopt;
    if (!v)
      return fail(nullptr, kMerges, "missing (needed by the gpt2 model)");
    // Pieces are in GPT-2 spelling, which has no plain space, so a merge is
    // exactly "left right".
    std::unordered_map<std::string_view, int32_t> ids;
    ids.reserve(n);
    for (uint64_t i = 0; i < n; ++i)
      ids.emplace(tokens->strings[i], int32_t(i));
    s.merges.reserve(v->count);
    for (uint64_t i = 0; i < v->count; ++i) {
      std::string_view m = v->strings[i];
      size_t sp = m.find(' ');
      if (sp == std::string_view::npos || m.find(' ', sp + 1) != m.npos)
        return fail(v, kMerges,
                    "merge " + std::to_string(i) + " '" + std::string(m) +
                        "' is not two pieces separated by one space");
      auto a = ids.find(m.substr(0, sp)), b = ids.find(m.substr(sp + 1));
      if (a == ids.end() || b == ids.end())
        return fail(v, kMerges,
                    "merge " + std::to_string(i) + " '" + std::string(m) +
                        "' names a piece that is not in the vocabulary");
      s.merges.emplace_back(a->second, b->second);
    }

    const char *kPre = "tokenizer.ggml.pre";
    const GgufValue *pre = f_.find(kPre);
    if (pre && !pre->isString())
      return fail(pre, kPre,
                  "expected a string, got " + ggufTypeName(pre->type));
    std::string_view p = pre ? pre->str : std::string_view();
    if (p == "llama-bpe" || p == "llama3" || p == "llama-v3") {
      s.pre = PreTokenizer::Llama3;
    } else if (p == "gpt2" || p == "gpt-2" || p == "default") {
      s.pre = PreTokenizer::Gpt2;
    } else if (!pre) {
      // The official BitNet b1.58 2B4T GGUF has no `pre` key but is the
      // Llama 3 vocabulary (128256 tokens); only that size says so. Smaller
      // gpt2 vocabularies get GPT-2's own regex.
      s.pre = n >= 128000 ? PreTokenizer::Llama3 : PreTokenizer::Gpt2;
    } else {
      return fail(pre, kPre,
                  "unsupported pre-tokenizer '" + std::string(p) +
                      "' (supported: llama-bpe, llama3, gpt2, default)");
    }
    // Llama 3 emits a pre-token that is a whole token without merging.
    s.ignoreMerges = s.pre == PreTokenizer::Llama3;
  } else {
    const char *kPrefix = "tokenizer.ggml.add_space_prefix";
    if (const GgufValue *v = f_.find(kPrefix)) {
      if (!v->asBool())
        return fail(v, kPrefix,
                    "expected a bool, got " + ggufTypeName(v->type));
      s.addDummyPrefix = *v->asBool();
    }
  }

  if (!tokenId("tokenizer.ggml.bos_token_id", n, s.bos) ||
      !tokenId("tokenizer.ggml.eos_token_id", n, s.eos) ||
      !tokenId("tokenizer.ggml.eot_token_id", n, s.eot) ||
      !tokenId("tokenizer.ggml.unknown_token_id", n, s.unk))
    return std::nullopt;

  std::string err;
  auto t = Tokenizer::fromSpec(std::move(s), &err);
  if (!t && error_)
    *error_ = f_.fileName() + ": " + err;
  return t;
}

} // namespace

std::optional<Tokenizer> Tokenizer::fromGguf(const GgufFile &file,
                                             std::string *error) {
  return GgufTokenizerReader(file, error).run();
}

std::optional<Tokenizer> Tokenizer::fromGgufBytes(std::string_view bytes,
                                                  std::string_view name,
                                                  std::string *error) {
  auto f = GgufFile::parse(bytes.data(), bytes.size(), name, error);
  if (!f)
    return std::nullopt;
  return fromGguf(*f, error);
}

} // namespace ternc::rt
