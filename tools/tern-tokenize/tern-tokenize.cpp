//===- tern-tokenize.cpp - print the token ids of a text ------------------===//
//
// tern-tokenize FILE [TEXT]: loads the tokenizer of FILE and prints the ids
// of TEXT (stdin when absent), space-separated, newline-terminated. Used by
// the tokenizer conformance tests.
//
//===----------------------------------------------------------------------===//

#include "tokenizer/Tokenizer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

using ternc::rt::Tokenizer;

static void usage(FILE *out) {
  std::fputs(
      "usage: tern-tokenize [--bos] FILE [TEXT]\n"
      "       tern-tokenize --serialize OUT FILE\n"
      "\n"
      "Prints the token ids of TEXT (of stdin when TEXT is absent), "
      "space-separated,\n"
      "on one line. Special tokens in the text are not parsed.\n"
      "\n"
      "FILE is a GGUF file, a Hugging Face tokenizer.json, a tiktoken text\n"
      "tokenizer.model (Llama 3), a llama2.c tokenizer.bin, or a directory\n"
      "holding tokenizer.json, tokenizer.model or tokenizer.bin.\n"
      "\n"
      "  --bos             put the BOS token first\n"
      "  --serialize OUT   write the tokenizer in the compact form ternc "
      "embeds in\n"
      "                    programs to OUT, instead of tokenizing\n"
      "  --help            show this help\n",
      out);
}

int main(int argc, char **argv) {
  bool bos = false;
  std::string serializeTo;
  int i = 1;
  for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; ++i) {
    if (!std::strcmp(argv[i], "--")) {
      ++i;
      break;
    }
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    }
    if (!std::strcmp(argv[i], "--bos")) {
      bos = true;
      continue;
    }
    if (!std::strcmp(argv[i], "--serialize") && i + 1 < argc) {
      serializeTo = argv[++i];
      continue;
    }
    std::fprintf(stderr, "tern-tokenize: unknown option '%s'\n", argv[i]);
    usage(stderr);
    return 1;
  }
  if (argc - i < 1 || argc - i > 2) {
    usage(stderr);
    return 1;
  }
  std::string path = argv[i];
  std::string error;
  auto tok = Tokenizer::fromFile(path, &error);
  if (!tok) {
    std::fprintf(stderr, "tern-tokenize: %s\n", error.c_str());
    return 1;
  }
  if (!serializeTo.empty()) {
    if (argc - i != 1) {
      usage(stderr);
      return 1;
    }
    std::string bytes = tok->serialize();
    FILE *f = std::fopen(serializeTo.c_str(), "wb");
    bool ok =
        f && std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    if (f && std::fclose(f) != 0)
      ok = false;
    if (!ok) {
      std::fprintf(stderr, "tern-tokenize: %s: cannot write: %s\n",
                   serializeTo.c_str(), std::strerror(errno));
      std::remove(serializeTo.c_str());
      return 1;
    }
    return 0;
  }

  std::string text;
  if (argc - i == 2) {
    text = argv[i + 1];
  } else {
    char buf[1 << 16];
    size_t got;
    while ((got = std::fread(buf, 1, sizeof buf, stdin)) > 0)
      text.append(buf, got);
    if (std::ferror(stdin)) {
      std::fprintf(stderr, "tern-tokenize: error reading stdin\n");
      return 1;
    }
  }

  std::string out;
  for (int32_t id : tok->encode(text, bos)) {
    if (!out.empty())
      out += ' ';
    out += std::to_string(id);
  }
  out += '\n';
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}
