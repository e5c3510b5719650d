//===- SpmEngine.cpp - score-driven SentencePiece-style merges ------------===//
//
// Symbols are byte spans of the escaped text, one UTF-8 character each at
// the start. The adjacent pair whose concatenation is the token of highest
// score merges first (ties: leftmost), as llama2.c does by rescanning; here a
// heap keeps it O(n log n), and the text is cut into words where no token can
// span the cut (see segmentEnd), which keeps heaps small. Spans left without
// a token become <0xNN> bytes.
//
//===----------------------------------------------------------------------===//

#include "TokenizerImpl.h"
#include "Unicode.h"

#include <algorithm>

namespace ternc::rt::detail {

namespace {

struct Sym {
  uint32_t start;
  uint32_t len; // 0: merged away
  int32_t prev;
  int32_t next;
};

struct Cand {
  float score;
  int32_t left;
  int32_t right;
  uint32_t len; // of the merged span, to spot stale entries
};

// Heap order: highest score first, then leftmost.
bool later(const Cand &a, const Cand &b) {
  return a.score != b.score ? a.score < b.score : a.left > b.left;
}

// Merges one segment of escaped text (below 2 GiB, so spans fit 32 bits).
void encodeEscaped(const TokenizerImpl &t, std::string_view esc,
                   std::vector<Sym> &syms, std::vector<Cand> &heap,
                   std::vector<int32_t> &out) {
  syms.clear();
  for (size_t i = 0; i < esc.size();) {
    uint32_t cp;
    size_t len = unicode::decodeUtf8(esc, i, cp);
    int32_t k = int32_t(syms.size());
    syms.push_back({uint32_t(i), uint32_t(len), k - 1, k + 1});
    i += len;
  }
  syms.back().next = -1;

  heap.clear();
  auto consider = [&](int32_t l, int32_t r) {
    uint32_t len = syms[l].len + syms[r].len;
    int32_t id = t.lookup(esc.substr(syms[l].start, len));
    if (id < 0)
      return;
    heap.push_back({t.spec.scores[id], l, r, len});
    std::push_heap(heap.begin(), heap.end(), later);
  };
  for (int32_t i = 0; i + 1 < int32_t(syms.size()); ++i)
    consider(i, i + 1);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    Cand c = heap.back();
    heap.pop_back();
    Sym &l = syms[c.left];
    // Stale if `l` was merged away or has grown; a different split of the
    // same span still makes the same token, so that entry stays good.
    if (l.len == 0 || l.next != c.right || l.len + syms[c.right].len != c.len)
      continue;
    Sym &r = syms[c.right];
    l.len = c.len;
    l.next = r.next;
    if (r.next >= 0)
      syms[r.next].prev = c.left;
    r.len = 0;
    if (l.prev >= 0)
      consider(l.prev, c.left);
    if (l.next >= 0)
      consider(c.left, l.next);
  }

  for (int32_t i = 0; i >= 0; i = syms[i].next) {
    std::string_view span = esc.substr(syms[i].start, syms[i].len);
    int32_t id = t.lookup(span);
    if (id >= 0)
      out.push_back(id);
    else
      appendByteFallback(t, span, out);
  }
}

} // namespace

void encodeSentencePiece(const TokenizerImpl &t, std::string_view text,
                         std::vector<int32_t> &out) {
  const std::string esc = escapeSpaces(text, t.space, t.spec.addDummyPrefix);
  std::string_view all = esc;
  std::vector<Sym> syms;
  std::vector<Cand> heap;
  for (size_t b = 0, e; b < all.size(); b = e) {
    e = segmentEnd(t, all, b);
    encodeEscaped(t, all.substr(b, e - b), syms, heap, out);
  }
}

} // namespace ternc::rt::detail
