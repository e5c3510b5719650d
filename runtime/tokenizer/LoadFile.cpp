//===- LoadFile.cpp - read a tokenizer file, detecting its format ---------===//

#include "TokenizerImpl.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace ternc::rt {

namespace {

namespace fs = std::filesystem;

bool readFile(const std::string &path, std::string &out, std::string *error) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) {
    if (error)
      *error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  out.clear();
  char buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0)
    out.append(buf, got);
  bool bad = std::ferror(f);
  std::fclose(f);
  if (bad) {
    if (error)
      *error = path + ": read error";
    return false;
  }
  return true;
}

// A first line "base64 rank", as in tiktoken files.
bool looksTiktoken(std::string_view b) {
  size_t eol = b.find('\n');
  std::string_view l = b.substr(0, eol);
  size_t sp = l.find(' ');
  if (sp == std::string_view::npos || sp == 0 || sp + 1 >= l.size())
    return false;
  for (size_t i = 0; i < sp; ++i) {
    char c = l[i];
    if (!std::isalnum(uint8_t(c)) && c != '+' && c != '/' && c != '=')
      return false;
  }
  for (size_t i = sp + 1; i < l.size(); ++i)
    if ((l[i] < '0' || l[i] > '9') && !(l[i] == '\r' && i + 1 == l.size()))
      return false;
  return true;
}

bool looksJson(std::string_view b) {
  size_t i = b.find_first_not_of(" \t\r\n");
  return i != std::string_view::npos && b[i] == '{';
}

std::optional<Tokenizer> fromJsonFile(const std::string &path,
                                      const std::string &bytes,
                                      std::string *error) {
  // tokenizer_config.json beside it names BOS and EOS.
  std::string config;
  fs::path cfg = fs::path(path).parent_path() / "tokenizer_config.json";
  std::error_code ec;
  if (fs::is_regular_file(cfg, ec) && !readFile(cfg.string(), config, error))
    return std::nullopt;
  return Tokenizer::fromHfJson(bytes, config, path, error);
}

} // namespace

std::optional<Tokenizer> Tokenizer::fromFile(const std::string &path,
                                             std::string *error) {
  std::error_code ec;
  std::string bytes;
  if (fs::is_directory(path, ec)) {
    fs::path dir(path);
    fs::path json = dir / "tokenizer.json";
    if (fs::is_regular_file(json, ec)) {
      if (!readFile(json.string(), bytes, error))
        return std::nullopt;
      return fromJsonFile(json.string(), bytes, error);
    }
    fs::path model = dir / "tokenizer.model";
    if (fs::is_regular_file(model, ec)) {
      if (!readFile(model.string(), bytes, error))
        return std::nullopt;
      // A SentencePiece protobuf model is not read; tokenizer.bin may be.
      if (looksTiktoken(bytes))
        return fromTiktoken(bytes, model.string(), error);
    }
    fs::path bin = dir / "tokenizer.bin";
    if (fs::is_regular_file(bin, ec)) {
      if (!readFile(bin.string(), bytes, error))
        return std::nullopt;
      return fromLlama2c(bytes, -1, bin.string(), error);
    }
    if (error)
      *error = path + ": no tokenizer.json, tiktoken tokenizer.model or "
                      "tokenizer.bin in this directory";
    return std::nullopt;
  }

  if (!readFile(path, bytes, error))
    return std::nullopt;
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), "GGUF", 4) == 0)
    return fromGgufBytes(bytes, path, error);
  if (looksJson(bytes))
    return fromJsonFile(path, bytes, error);
  if (looksTiktoken(bytes))
    return fromTiktoken(bytes, path, error);
  // SentencePiece's protobuf starts with field 1 (pieces), tag 0x0a.
  if (!bytes.empty() && bytes[0] == 0x0a && path.size() >= 6 &&
      path.compare(path.size() - 6, 6, ".model") == 0) {
    if (error)
      *error = path + ": SentencePiece protobuf models are not supported "
                      "(use tokenizer.bin, GGUF or tokenizer.json)";
    return std::nullopt;
  }
  return fromLlama2c(bytes, -1, path, error);
}

} // namespace ternc::rt
