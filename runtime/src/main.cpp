//===- main.cpp - the command line of a ternc-compiled program ------------===//
//
// Follows llama.cpp's habits: -p PROMPT -n N -t THREADS -c CTX --temp T
// --top-k K --top-p P --seed S, --bench. stdout carries exactly the prompt
// followed by the generated text; timings and diagnostics go to stderr.
//
//===----------------------------------------------------------------------===//

#include "Blob.h"
#include "CpuFeatures.h"
#include "Sampler.h"
#include "Session.h"
#include "ThreadPool.h"
#include "ternc/abi.h"
#include "tokenizer/Tokenizer.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

const uint8_t *ternc_weights = nullptr;

// The serialized tokenizer ternc embeds; absent when it had none.
extern "C" {
extern const char ternc_tokenizer[] __attribute__((weak));
extern const uint64_t ternc_tokenizer_size __attribute__((weak));
// What ternc compiled for (absent from objects of other compilers).
extern const char ternc_target_cpu[] __attribute__((weak));
extern const char ternc_target_features[] __attribute__((weak));
}

using namespace ternc::rt;

namespace {

struct Options {
  std::string prompt;
  bool havePromptIds = false;
  std::vector<int32_t> promptIds;
  int64_t tokens = 128;
  int threads = 1;
  int64_t context = 0;
  SamplerOptions sampler;
  bool bench = false;
  bool printIds = false;
  std::string weights;
  bool mapWeights = false;
  std::string dumpLogits, dumpPrefillLogits;
  bool interactive = false;
  std::string perplexityFile;
};

void usage(const char *prog) {
  std::printf(
      "usage: %s [options]\n\n"
      "  -p, --prompt TEXT     prompt (default: empty, start from BOS)\n"
      "  --prompt-ids IDS      prompt as token ids, e.g. \"1 403 407\" "
      "(BOS not added)\n"
      "  -n, --n-predict N     tokens to generate (default 128; stops early "
      "at end of text)\n"
      "  -c, --ctx-size N      context length (default and maximum: the "
      "compiled one)\n"
      "  -t, --threads N       threads (default 1)\n"
      "  --temp T              temperature; 0 is greedy (default 0.8)\n"
      "  --top-k K             keep the K most likely tokens; 0 is off "
      "(default 40)\n"
      "  --top-p P             keep the smallest set of mass P; 1 is off "
      "(default 0.95)\n"
      "  --seed S              sampling seed (default 0)\n"
      "  --print-ids           print token ids instead of text\n"
      "  -i, --interactive     chat: read messages from stdin (the Llama 3 "
      "chat format\n"
      "                        when the vocabulary has one; -p is then the "
      "system prompt)\n"
      "  --perplexity FILE     perplexity of the model on the text in FILE\n"
      "  --bench               measure prompt processing (pp128) and "
      "generation (tg64) speed\n"
      "  --weights FILE        weight file (default: embedded, else "
      "PROGRAM.weights)\n"
      "  --map-weights         map the weight file instead of reading it "
      "into huge pages\n"
      "                        (starts sooner, decodes slower)\n"
      "  --dump-logits FILE    feed the prompt one token at a time and write "
      "the logits\n"
      "                        after each as f32 [tokens][vocab] (for "
      "testing)\n"
      "  --dump-prefill-logits FILE\n"
      "                        feed the prompt in prefill chunks and write "
      "the logits\n"
      "                        after its last token as f32 [vocab] (for "
      "testing)\n"
      "  -h, --help            this text\n",
      prog);
}

[[noreturn]] void die(const std::string &msg) {
  std::fprintf(stderr, "error: %s\n", msg.c_str());
  std::exit(1);
}

int64_t parseInt(const char *flag, const char *v, int64_t lo, int64_t hi) {
  char *end = nullptr;
  errno = 0;
  long long x = std::strtoll(v, &end, 10);
  if (errno || !*v || *end || x < lo || x > hi)
    die(std::string(flag) + " needs an integer in [" + std::to_string(lo) +
        ", " + std::to_string(hi) + "], got '" + v + "'");
  return x;
}

float parseFloat(const char *flag, const char *v, float lo, float hi) {
  char *end = nullptr;
  float x = std::strtof(v, &end);
  if (!*v || *end || !(x >= lo && x <= hi))
    die(std::string(flag) + " needs a number in [" + std::to_string(lo) + ", " +
        std::to_string(hi) + "], got '" + v + "'");
  return x;
}

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char * {
      if (i + 1 >= argc)
        die(a + " needs a value");
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      usage(argv[0]);
      std::exit(0);
    } else if (a == "-p" || a == "--prompt") {
      o.prompt = value();
    } else if (a == "--prompt-ids") {
      o.havePromptIds = true;
      std::istringstream in(value());
      std::string tok;
      while (in >> tok)
        o.promptIds.push_back(
            int32_t(parseInt("--prompt-ids", tok.c_str(), 0, INT32_MAX)));
    } else if (a == "-n" || a == "--n-predict") {
      o.tokens = parseInt("-n", value(), 0, INT32_MAX);
    } else if (a == "-c" || a == "--ctx-size") {
      o.context = parseInt("-c", value(), 1, INT32_MAX);
    } else if (a == "-t" || a == "--threads") {
      o.threads = int(parseInt("-t", value(), 1, 1024));
    } else if (a == "--temp") {
      o.sampler.temperature = parseFloat("--temp", value(), 0.0f, 100.0f);
    } else if (a == "--top-k") {
      o.sampler.topK = int(parseInt("--top-k", value(), 0, INT32_MAX));
    } else if (a == "--top-p") {
      o.sampler.topP = parseFloat("--top-p", value(), 0.0f, 1.0f);
    } else if (a == "--seed") {
      o.sampler.seed = uint64_t(parseInt("--seed", value(), 0, INT64_MAX));
    } else if (a == "--print-ids") {
      o.printIds = true;
    } else if (a == "--bench") {
      o.bench = true;
    } else if (a == "--weights") {
      o.weights = value();
    } else if (a == "--map-weights") {
      o.mapWeights = true;
    } else if (a == "-i" || a == "--interactive") {
      o.interactive = true;
    } else if (a == "--perplexity") {
      o.perplexityFile = value();
    } else if (a == "--dump-logits") {
      o.dumpLogits = value();
    } else if (a == "--dump-prefill-logits") {
      o.dumpPrefillLogits = value();
    } else {
      die("unknown option '" + a + "' (see --help)");
    }
  }
  return o;
}

double now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

/// Whether two descriptors write to the same file, pipe or terminal.
bool sameDestination(int a, int b) {
  struct stat sa, sb;
  return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

/// llama-bench style: pp128 then tg64, one machine-readable line each.
void bench(Session &s) {
  const ModelConfig &c = s.config();
  const int64_t pp = std::min<int64_t>(128, s.context() - 1);
  const int64_t tg = std::min<int64_t>(64, s.context() - pp);
  std::vector<int32_t> prompt(pp);
  for (int64_t i = 0; i < pp; ++i)
    prompt[i] = int32_t((i * 7919 + 13) % c.vocab);
  // One untimed run first, as llama-bench does (the peers' figures are
  // its): pp128 then times the model, not the first touch of the scratch
  // and value cache pages. The last token's logits are those a greedy
  // generation reads (a screened head's top row), as in tg64.
  s.reset();
  s.feed(prompt.data(), pp, 1);
  s.reset();
  double t0 = now();
  s.feed(prompt.data(), pp, 1);
  double t1 = now();
  std::printf("pp%lld %.2f\n", (long long)pp, double(pp) / (t1 - t0));
  s.reset();
  int32_t tok = c.bos;
  double t2 = now();
  Sampler greedy(SamplerOptions{0.0f, 0, 1.0f, 0});
  for (int64_t i = 0; i < tg; ++i)
    tok = greedy.sample(s.step(tok, 1), c.vocab, s.computedRows());
  double t3 = now();
  std::printf("tg%lld %.2f\n", (long long)tg, double(tg) / (t3 - t2));
  // Weight bytes read per decoded token: all of them, but for the rows of
  // a screened head that were not computed (the embedding row aside).
  double bytes = double(ternc_weights_size);
  if (s.screenedSteps()) {
    const double rows = double(s.screenedRows()) / double(s.screenedSteps());
    bytes -= (double(c.vocab) - rows) *
             double(ternc_config[TERNC_CONFIG_HEAD_ROW_BYTES]);
    std::fprintf(stderr, "screened LM head: %.1f of %lld rows a token\n", rows,
                 (long long)c.vocab);
  }
  std::printf("tg%lld-bytes %.0f\n", (long long)tg, bytes);
}

struct Generation {
  int64_t tokens = 0;
  bool contextFull = false;
};

/// Samples up to `limit` tokens after `logits`, feeding each back, until a
/// stop token or the end of the context. `emit` sees every kept token.
template <typename Emit>
Generation generate(Session &s, Sampler &sampler, const float *logits,
                    int64_t limit, std::vector<int32_t> stops, Emit emit) {
  Generation g;
  const int64_t vocab = s.config().vocab;
  while (g.tokens < limit) {
    int32_t next = sampler.sample(logits, vocab, s.computedRows());
    if (std::find(stops.begin(), stops.end(), next) != stops.end())
      break;
    ++g.tokens;
    emit(next);
    if (s.position() >= s.context()) {
      g.contextFull = true;
      break;
    }
    logits = s.step(next, sampler.logitsUsed());
  }
  return g;
}

/// -i: a conversation. With a Llama 3 vocabulary (BitNet 2B4T) turns use
/// the model's chat format, "Role: content<|eot_id|>"; other models simply
/// continue the text typed at each prompt.
void chat(Session &s, const Tokenizer &tok, Sampler &sampler,
          const Options &o) {
  const int32_t eot = tok.tokenId("<|eot_id|>");
  const bool chatFormat = eot >= 0;
  std::vector<int32_t> stops = {s.config().eos, tok.eos()};
  if (chatFormat)
    stops.push_back(eot);
  std::vector<int32_t> pending;
  auto append = [&](std::string_view text) {
    std::vector<int32_t> ids = tok.encode(text, /*addBos=*/false);
    pending.insert(pending.end(), ids.begin(), ids.end());
  };
  pending.push_back(tok.bos() >= 0 ? tok.bos() : s.config().bos);
  if (chatFormat && !o.prompt.empty()) {
    append("System: " + o.prompt);
    pending.push_back(eot);
  }
  // What a fresh context starts with (BOS and the system turn).
  const std::vector<int32_t> preamble = pending;
  std::fprintf(stderr, "interactive: type a message, an empty line or "
                       "end of input quits\n");
  std::string line;
  while (true) {
    std::fprintf(stderr, "> ");
    std::fflush(stderr);
    line.clear();
    int ch;
    while ((ch = std::fgetc(stdin)) != EOF && ch != '\n')
      line.push_back(char(ch));
    if (line.empty())
      break;
    if (chatFormat) {
      append("User: " + line);
      pending.push_back(eot);
      append("Assistant: ");
    } else {
      append(line);
      std::fputs(line.c_str(), stdout);
    }
    if (s.position() + int64_t(pending.size()) >= s.context()) {
      std::fprintf(stderr, "note: the context is full; starting over\n");
      s.reset();
      if (!pending.empty() && pending.front() == eot)
        pending.erase(pending.begin()); // the closed turn is gone
      pending.insert(pending.begin(), preamble.begin(), preamble.end());
      if (s.position() + int64_t(pending.size()) >= s.context())
        die("the message does not fit in the context");
    }
    const float *logits =
        s.feed(pending.data(), int64_t(pending.size()), sampler.logitsUsed());
    int32_t prev = pending.back();
    pending.clear();
    int32_t last = -1;
    generate(s, sampler, logits, o.tokens, stops, [&](int32_t next) {
      std::fputs(tok.decode(prev, next).c_str(), stdout);
      std::fflush(stdout);
      prev = last = next;
    });
    std::fputs("\n", stdout);
    // Close the assistant's turn so the next one starts cleanly.
    if (chatFormat)
      pending.push_back(eot);
    (void)last;
  }
}

/// --perplexity FILE: exp(mean negative log-likelihood) of the file's
/// tokens, in windows of the context length.
void perplexity(Session &s, const Tokenizer &tok, const std::string &path) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    die(path + ": cannot read: " + std::strerror(errno));
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    text.append(buf, n);
  std::fclose(f);
  std::vector<int32_t> ids = tok.encode(text, /*addBos=*/false);
  if (ids.size() < 2)
    die(path + ": needs at least two tokens of text");
  const int64_t vocab = s.config().vocab;
  const int64_t window = s.context();
  const int32_t bos = tok.bos() >= 0 ? tok.bos() : s.config().bos;
  double nll = 0.0;
  int64_t count = 0;
  for (size_t start = 0; start < ids.size(); start += size_t(window - 1)) {
    s.reset();
    const float *logits = s.step(bos);
    size_t end = std::min(ids.size(), start + size_t(window - 1));
    for (size_t i = start; i < end; ++i) {
      // log softmax of the observed token, in double.
      double mx = logits[0];
      for (int64_t v = 1; v < vocab; ++v)
        mx = std::max(mx, double(logits[v]));
      double sum = 0.0;
      for (int64_t v = 0; v < vocab; ++v)
        sum += std::exp(double(logits[v]) - mx);
      nll -= double(logits[ids[i]]) - mx - std::log(sum);
      ++count;
      if (i + 1 < end)
        logits = s.step(ids[i]);
    }
    std::fprintf(stderr, "[%zu/%zu] perplexity so far %.4f\n", end, ids.size(),
                 std::exp(nll / double(count)));
  }
  std::printf("perplexity %.4f over %lld tokens\n",
              std::exp(nll / double(count)), (long long)count);
}

} // namespace

int main(int argc, char **argv) {
  Options o = parse(argc, argv);
  // Before any generated code runs: on a CPU without one of the extensions
  // the program was compiled for it would die of SIGILL.
  if (ternc_target_features) {
    std::vector<std::string> missing =
        missingCpuFeatures(ternc_target_features);
    if (!missing.empty()) {
      std::string list;
      for (const std::string &f : missing)
        list += (list.empty() ? "" : ", ") + f;
      die(std::string("this program was compiled for the CPU '") +
          (ternc_target_cpu ? ternc_target_cpu : "?") +
          "' and uses instructions this CPU lacks (" + list +
          "): compile it again with ternc --cpu=native, or name this "
          "machine's CPU with --cpu");
    }
    std::string amx = enableAmx(ternc_target_features);
    if (!amx.empty())
      die("this program uses AMX tiles, which the kernel does not grant (" +
          amx + "): compile it again with ternc --features=-amx-tile");
  }
  // The program itself, wherever it was found (argv[0] may be a bare name
  // looked up in PATH): its weights sit beside it.
  std::string self = argv[0];
  {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0)
      self.assign(buf, size_t(n));
  }
  // Threads first: the weight file's checksum is computed on them.
  if (std::string why = setThreadCount(o.threads); !why.empty())
    die(why);
  // The session and -c before the weights: their errors come without the
  // wait for the weight file.
  Session s(o.context);
  const ModelConfig &c = s.config();
  if (!s.ok())
    die("cannot allocate the KV cache (" +
        std::to_string(2 * c.layers * c.context * c.kvDim * 4 >> 20) +
        " MiB for a context of " + std::to_string(c.context) +
        " tokens; ternc --context N compiles a shorter one)");
  if (o.context > c.context)
    die("-c " + std::to_string(o.context) +
        ": this program was compiled for a context of at most " +
        std::to_string(c.context) + " tokens (ternc --context N sets it)");
  Blob blob;
  std::string error;
  if (!blob.open(o.weights, self, o.mapWeights, error))
    die(error);
  ternc_weights = blob.data();

  if (o.bench) {
    bench(s);
    return 0;
  }

  std::optional<Tokenizer> tokenizer;
  if (&ternc_tokenizer_size && ternc_tokenizer) {
    std::string tokError;
    tokenizer = Tokenizer::deserialize(
        std::string_view(ternc_tokenizer, size_t(ternc_tokenizer_size)),
        &tokError);
    if (!tokenizer)
      die("the embedded tokenizer is corrupt: " + tokError);
  }

  if (!o.perplexityFile.empty()) {
    if (!tokenizer)
      die("--perplexity needs a tokenizer, and this program was compiled "
          "without one");
    perplexity(s, *tokenizer, o.perplexityFile);
    return 0;
  }

  std::vector<int32_t> prompt;
  if (o.havePromptIds) {
    prompt = o.promptIds;
  } else if (tokenizer) {
    prompt = tokenizer->encode(o.prompt, /*addBos=*/true);
  } else {
    if (!o.prompt.empty())
      die("text prompts need a tokenizer, and this program was compiled "
          "without one; use --prompt-ids");
    prompt = {c.bos};
  }
  if (prompt.empty())
    prompt = {c.bos};
  for (int32_t id : prompt)
    if (id < 0 || id >= c.vocab)
      die("token id " + std::to_string(id) + " is outside the vocabulary [0, " +
          std::to_string(c.vocab) + ")");
  if (int64_t(prompt.size()) >= s.context())
    die("the prompt has " + std::to_string(prompt.size()) +
        " tokens; the context holds " + std::to_string(s.context()));
  if (!o.dumpLogits.empty()) {
    FILE *f = std::fopen(o.dumpLogits.c_str(), "wb");
    if (!f)
      die(o.dumpLogits + ": cannot write: " + std::strerror(errno));
    for (int32_t id : prompt)
      if (std::fwrite(s.step(id), sizeof(float), size_t(c.vocab), f) !=
          size_t(c.vocab))
        die(o.dumpLogits + ": write failed");
    if (std::fclose(f) != 0)
      die(o.dumpLogits + ": write failed");
    return 0;
  }
  if (!o.dumpPrefillLogits.empty()) {
    const std::string &path = o.dumpPrefillLogits;
    FILE *f = std::fopen(path.c_str(), "wb");
    if (!f)
      die(path + ": cannot write: " + std::strerror(errno));
    const float *logits = s.feed(prompt.data(), int64_t(prompt.size()));
    const bool written = std::fwrite(logits, sizeof(float), size_t(c.vocab),
                                     f) == size_t(c.vocab);
    if (std::fclose(f) != 0 || !written) {
      std::remove(path.c_str());
      die(path + ": write failed");
    }
    return 0;
  }

  // Without a tokenizer the program can only speak in token ids.
  if (!tokenizer)
    o.printIds = true;
  const bool text = tokenizer && !o.printIds;
  Sampler sampler(o.sampler);
  if (o.interactive) {
    if (!tokenizer)
      die("-i needs a tokenizer, and this program was compiled without one");
    chat(s, *tokenizer, sampler, o);
    return 0;
  }
  // Whether the text written so far ends a line (see the timings below).
  bool lineEnded = true;
  auto writeText = [&](const std::string &t) {
    std::fputs(t.c_str(), stdout);
    if (!t.empty())
      lineEnded = t.back() == '\n';
  };
  if (o.printIds)
    for (size_t i = 0; i < prompt.size(); ++i)
      std::printf("%s%d", i ? " " : "", prompt[i]);
  else if (text)
    writeText(o.havePromptIds ? tokenizer->decode(prompt) : o.prompt);

  double t0 = now();
  const float *logits =
      s.feed(prompt.data(), int64_t(prompt.size()), sampler.logitsUsed());
  double t1 = now();
  int32_t prev = prompt.back();
  Generation g =
      generate(s, sampler, logits, o.tokens, {c.eos}, [&](int32_t next) {
        if (o.printIds)
          std::printf(" %d", next);
        else if (text)
          writeText(tokenizer->decode(prev, next));
        prev = next;
        std::fflush(stdout);
      });
  double t2 = now();
  if (o.printIds)
    std::printf("\n");
  std::fflush(stdout);
  // stdout stays exactly the text; where stderr goes to the same place (a
  // terminal, or 2>&1), the timings start on a line of their own.
  if (text && !lineEnded && sameDestination(STDOUT_FILENO, STDERR_FILENO))
    std::fputc('\n', stderr);
  if (g.contextFull)
    std::fprintf(stderr,
                 "note: stopped at the end of the %lld-token "
                 "context\n",
                 (long long)s.context());
  std::fprintf(stderr,
               "prompt: %zu tokens in %.3f s (%.1f tok/s); generated %lld "
               "tokens in %.3f s (%.1f tok/s)\n",
               prompt.size(), t1 - t0, double(prompt.size()) / (t1 - t0),
               (long long)g.tokens, t2 - t1,
               g.tokens ? double(g.tokens) / (t2 - t1) : 0.0);
  return 0;
}
