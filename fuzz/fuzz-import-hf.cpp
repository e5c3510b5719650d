//===- fuzz-import-hf.cpp - the Hugging Face directory importer -----------===//
//
// Input: a little-endian u32 n, then n bytes of config.json, then
// model.safetensors (scripts/fuzz.sh builds seeds this way from the
// synthetic checkpoints). Both files are rewritten in a private directory on
// each run.
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include <cstring>
#include <fstream>

static std::string dir() {
  static std::string path = [] {
    char tmpl[] = "/tmp/ternc-fuzz-hf-XXXXXX";
    if (!mkdtemp(tmpl))
      ternc::fuzz::violated("mkdtemp failed");
    return std::string(tmpl);
  }();
  return path;
}

static void write(const std::string &path, const uint8_t *data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char *>(data), std::streamsize(size));
  if (!out)
    ternc::fuzz::violated("writing a file of the model directory failed");
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4)
    return 0;
  uint32_t n;
  std::memcpy(&n, data, 4);
  n = std::min<uint32_t>(n, uint32_t(size - 4));
  write(dir() + "/config.json", data + 4, n);
  write(dir() + "/model.safetensors", data + 4 + n, size - 4 - n);
  ternc::fuzz::exerciseModel(ternc::importHuggingFace(dir()));
  return 0;
}
