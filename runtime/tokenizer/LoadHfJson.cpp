//===- LoadHfJson.cpp - Hugging Face tokenizer.json (BPE) loader ----------===//
//
// Two kinds of BPE tokenizer.json are understood:
//  - byte-level (GPT-2, Llama 3): a ByteLevel pre-tokenizer or decoder, and
//    either GPT-2's regex (ByteLevel use_regex) or a Split with Llama 3's;
//  - Llama 2 style: normalizer Prepend("▁") + Replace(" ", "▁"), no
//    pre-tokenizer, byte_fallback; merged as characters of the whole text.
// Anything else is refused rather than tokenized differently from its
// reference.
//
//===----------------------------------------------------------------------===//

#include "Json.h"
#include "TokenizerImpl.h"
#include "Unicode.h"

#include <unordered_map>

namespace ternc::rt {

namespace {

constexpr std::string_view kMetaspace = "\xE2\x96\x81";
constexpr std::string_view kGpt2Regex =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|"
    "\\s+(?!\\S)|\\s+";

class HfReader {
public:
  HfReader(std::string_view name, std::string *error)
      : name_(name), error_(error) {}

  std::optional<Tokenizer> run(std::string_view json,
                               std::string_view configJson);

private:
  std::string name_;
  std::string *error_;

  std::nullopt_t fail(const json::Value *v, const std::string &msg) {
    if (error_) {
      *error_ = name_ + ": ";
      if (v)
        *error_ += "offset " + std::to_string(v->offset) + ": ";
      *error_ += msg;
    }
    return std::nullopt;
  }
  static std::string typeOf(const json::Value *v) {
    const json::Value *t = v ? v->get("type") : nullptr;
    return t && t->isString() ? t->str : std::string();
  }
  // The pre-tokenizer steps: a Sequence's items, or the single step.
  static std::vector<const json::Value *> steps(const json::Value *v,
                                                const char *listKey) {
    std::vector<const json::Value *> out;
    if (!v || !v->isObject())
      return out;
    if (typeOf(v) == "Sequence") {
      if (const json::Value *l = v->get(listKey); l && l->isArray())
        for (const json::Value &i : l->items)
          out.push_back(&i);
    } else {
      out.push_back(v);
    }
    return out;
  }
};

// A special token given as "text" or {"content": "text"}.
std::string tokenText(const json::Value *v) {
  if (!v)
    return "";
  if (v->isString())
    return v->str;
  if (const json::Value *c = v->get("content"); c && c->isString())
    return c->str;
  return "";
}

std::optional<Tokenizer> HfReader::run(std::string_view text,
                                       std::string_view configJson) {
  std::string err;
  auto root = json::parse(text, &err);
  if (!root)
    return fail(nullptr, err);
  if (!root->isObject())
    return fail(&*root, "expected a JSON object");
  const json::Value *model = root->get("model");
  if (!model || !model->isObject())
    return fail(&*root, "key 'model': missing or not an object");
  const json::Value *type = model->get("type");
  if (type && (!type->isString() || type->str != "BPE"))
    return fail(type, "key 'model.type': unsupported model '" +
                          (type->isString() ? type->str : "?") +
                          "' (only BPE)");
  const json::Value *vocab = model->get("vocab");
  if (!vocab || !vocab->isObject())
    return fail(model, "key 'model.vocab': missing or not an object");
  const json::Value *added = root->get("added_tokens");
  if (added && added->kind != json::Value::Null && !added->isArray())
    return fail(added, "key 'added_tokens': expected an array");

  // Ids must be dense: the largest id is bounded by the number of entries.
  size_t entries = vocab->members.size() + (added ? added->items.size() : 0);
  auto checkId = [&](const json::Value *v, const char *what) -> int64_t {
    if (!v || v->kind != json::Value::Number || !v->isInt || v->integer < 0 ||
        uint64_t(v->integer) >= entries) {
      fail(v, std::string(what) + ": token id is not an integer in [0, " +
                  std::to_string(entries) + ")");
      return -1;
    }
    return v->integer;
  };
  int64_t maxId = -1;
  for (const auto &m : vocab->members) {
    int64_t id = checkId(&m.second, "key 'model.vocab'");
    if (id < 0)
      return std::nullopt;
    maxId = std::max(maxId, id);
  }
  if (added)
    for (const json::Value &a : added->items) {
      if (!a.isObject())
        return fail(&a, "key 'added_tokens': expected objects");
      int64_t id = checkId(a.get("id"), "key 'added_tokens'");
      if (id < 0)
        return std::nullopt;
      const json::Value *c = a.get("content");
      if (!c || !c->isString())
        return fail(&a, "key 'added_tokens': missing 'content' string");
      maxId = std::max(maxId, id);
    }
  if (maxId < 0)
    return fail(vocab, "key 'model.vocab': empty vocabulary");

  // Which flavour.
  const json::Value *pre = root->get("pre_tokenizer");
  const json::Value *norm = root->get("normalizer");
  TokenizerSpec s;
  s.model = TokenizerModel::Bpe;
  bool byteLevel = typeOf(root->get("decoder")) == "ByteLevel";
  bool sawSplit = false;
  bool metaspaceStep = false;
  for (const json::Value *st : steps(pre, "pretokenizers")) {
    std::string t = typeOf(st);
    if (t == "ByteLevel") {
      byteLevel = true;
      const json::Value *aps = st->get("add_prefix_space");
      if (aps && aps->kind == json::Value::Bool && aps->boolean)
        return fail(aps, "key 'pre_tokenizer': ByteLevel add_prefix_space "
                         "is not supported");
      const json::Value *re = st->get("use_regex");
      bool useRegex = !re || re->kind != json::Value::Bool || re->boolean;
      if (useRegex && !sawSplit)
        s.pre = PreTokenizer::Gpt2;
    } else if (t == "Split") {
      const json::Value *pat = st->get("pattern");
      const json::Value *re = pat ? pat->get("Regex") : nullptr;
      if (!re || !re->isString())
        return fail(st, "key 'pre_tokenizer': Split without a Regex pattern "
                        "is not supported");
      if (re->str.find("(?i:'s|'t|'re|'ve|'m|'ll|'d)") != std::string::npos &&
          re->str.find("\\p{N}{1,3}") != std::string::npos)
        s.pre = PreTokenizer::Llama3;
      else if (re->str == kGpt2Regex)
        s.pre = PreTokenizer::Gpt2;
      else
        return fail(re, "key 'pre_tokenizer': unsupported Split regex");
      sawSplit = true;
    } else if (t == "Metaspace") {
      // Newer Llama 2-style files: the space handling lives here.
      const json::Value *split = st->get("split");
      if (split && split->kind == json::Value::Bool && split->boolean)
        return fail(split, "key 'pre_tokenizer': Metaspace with split is not "
                           "supported");
      const json::Value *scheme = st->get("prepend_scheme");
      const json::Value *aps = st->get("add_prefix_space");
      metaspaceStep = true;
      s.addDummyPrefix =
          scheme && scheme->isString()
              ? scheme->str != "never"
              : !(aps && aps->kind == json::Value::Bool && !aps->boolean);
    } else if (!t.empty()) {
      return fail(st, "key 'pre_tokenizer': unsupported step '" + t + "'");
    }
  }
  bool metaspace = metaspaceStep;
  for (const json::Value *st : steps(norm, "normalizers")) {
    std::string t = typeOf(st);
    const json::Value *c = st->get("content");
    const json::Value *pp = st->get("prepend");
    if (t == "Prepend" && pp && pp->isString() && pp->str == kMetaspace) {
      s.addDummyPrefix = true;
    } else if (t == "Replace" && c && c->isString() && c->str == kMetaspace &&
               st->get("pattern") && st->get("pattern")->get("String") &&
               st->get("pattern")->get("String")->str == " ") {
      metaspace = true;
    } else if (!t.empty()) {
      return fail(st, "key 'normalizer': unsupported step '" + t + "'");
    }
  }
  if (byteLevel == metaspace)
    return fail(&*root, "neither a byte-level nor a Llama 2-style "
                        "(Replace ' ' -> U+2581) BPE tokenizer");
  s.byteLevel = byteLevel;
  s.metaspace = metaspace;
  if (byteLevel && s.pre == PreTokenizer::None)
    return fail(pre ? pre : &*root,
                "key 'pre_tokenizer': byte-level BPE without a known regex");

  // Vocabulary.
  const size_t n = size_t(maxId) + 1;
  s.pieces.resize(n);
  s.types.assign(n, TokenType::Normal);
  std::vector<bool> have(n);
  for (const auto &m : vocab->members) {
    size_t id = size_t(m.second.integer);
    if (have[id])
      return fail(&m.second, "key 'model.vocab': token id " +
                                 std::to_string(id) + " appears twice");
    have[id] = true;
    s.pieces[id] = m.first;
    if (metaspace && detail::parseByteToken(m.first) >= 0)
      s.types[id] = TokenType::Byte;
  }
  if (added)
    for (const json::Value &a : added->items) {
      size_t id = size_t(a.get("id")->integer);
      const std::string &content = a.get("content")->str;
      const json::Value *sp = a.get("special");
      bool special = sp && sp->kind == json::Value::Bool && sp->boolean;
      if (!have[id]) {
        // Added text is plain; a byte-level vocabulary spells it GPT-2's way
        // unless it is a special token, which is never matched in text.
        s.pieces[id] =
            byteLevel && !special ? unicode::toByteLevel(content) : content;
        have[id] = true;
      }
      s.types[id] = special ? TokenType::Control : TokenType::UserDefined;
    }
  for (size_t i = 0; i < n; ++i)
    if (!have[i])
      return fail(vocab, "key 'model.vocab': token id " + std::to_string(i) +
                             " is missing (ids must be dense)");

  // Merges.
  std::unordered_map<std::string_view, int32_t> ids;
  ids.reserve(n);
  for (size_t i = 0; i < n; ++i)
    ids.emplace(s.pieces[i], int32_t(i));
  const json::Value *merges = model->get("merges");
  if (!merges || !merges->isArray())
    return fail(model, "key 'model.merges': missing or not an array");
  s.merges.reserve(merges->items.size());
  for (size_t i = 0; i < merges->items.size(); ++i) {
    const json::Value &m = merges->items[i];
    std::string_view a, b;
    if (m.isString()) {
      size_t sp = m.str.find(' ');
      if (sp == std::string::npos || m.str.find(' ', sp + 1) != m.str.npos)
        return fail(&m, "key 'model.merges': merge " + std::to_string(i) +
                            " is not two pieces separated by one space");
      a = std::string_view(m.str).substr(0, sp);
      b = std::string_view(m.str).substr(sp + 1);
    } else if (m.isArray() && m.items.size() == 2 && m.items[0].isString() &&
               m.items[1].isString()) {
      a = m.items[0].str;
      b = m.items[1].str;
    } else {
      return fail(&m, "key 'model.merges': merge " + std::to_string(i) +
                          " is neither \"a b\" nor [a, b]");
    }
    auto ia = ids.find(a), ib = ids.find(b);
    if (ia == ids.end() || ib == ids.end())
      return fail(&m, "key 'model.merges': merge " + std::to_string(i) +
                          " names a piece that is not in the vocabulary");
    s.merges.emplace_back(ia->second, ib->second);
  }

  // ignore_merges is explicit in newer files; Llama 3's older ones lack it
  // but its reference (tiktoken) behaves so.
  const json::Value *im = model->get("ignore_merges");
  if (im && im->kind == json::Value::Bool)
    s.ignoreMerges = im->boolean;
  else
    s.ignoreMerges = s.pre == PreTokenizer::Llama3;

  auto idOf = [&](const std::string &t) -> int32_t {
    if (t.empty())
      return -1;
    auto it = ids.find(t);
    return it == ids.end() ? -1 : it->second;
  };
  s.unk = idOf(tokenText(model->get("unk_token")));

  // BOS/EOS: tokenizer_config.json when given, else the usual names.
  std::string bosText, eosText;
  if (!configJson.empty()) {
    auto cfg = json::parse(configJson, &err);
    if (!cfg)
      return fail(nullptr, "tokenizer_config.json: " + err);
    bosText = tokenText(cfg->get("bos_token"));
    eosText = tokenText(cfg->get("eos_token"));
  }
  for (const char *t : {"<|begin_of_text|>", "<s>", "<|endoftext|>"})
    if (bosText.empty() && idOf(t) >= 0)
      bosText = t;
  for (const char *t : {"<|end_of_text|>", "</s>", "<|endoftext|>"})
    if (eosText.empty() && idOf(t) >= 0)
      eosText = t;
  s.bos = idOf(bosText);
  s.eos = idOf(eosText);

  auto t = Tokenizer::fromSpec(std::move(s), &err);
  if (!t)
    return fail(nullptr, err);
  return t;
}

} // namespace

std::optional<Tokenizer> Tokenizer::fromHfJson(std::string_view json,
                                               std::string_view configJson,
                                               std::string_view name,
                                               std::string *error) {
  return HfReader(name, error).run(json, configJson);
}

} // namespace ternc::rt
