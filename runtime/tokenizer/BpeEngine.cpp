//===- BpeEngine.cpp - rank-ordered BPE merges ----------------------------===//
//
// Symbols sit in a linked list; candidate pairs wait in a min-heap keyed by
// (rank, left position), so each merge costs O(log n) instead of a rescan of
// the word. Stale heap entries are recognised and dropped when popped.
//
//===----------------------------------------------------------------------===//

#include "TokenizerImpl.h"
#include "Unicode.h"

#include <algorithm>

namespace ternc::rt::detail {

struct MergeScratch {
  struct Node {
    int32_t id; // -1: never merges (no token), -2: merged away
    int32_t prev;
    int32_t next;
    uint32_t start; // byte span in the word
    uint32_t len;
  };
  struct Cand {
    int32_t rank;
    int32_t left;
    int32_t right;
    int32_t leftId;
    int32_t rightId;
    int32_t result;
  };
  std::vector<Node> nodes;
  std::vector<Cand> heap;
  std::vector<std::pair<size_t, size_t>> spans;
  std::vector<int32_t> ids;
  std::vector<uint32_t> lens;
};

namespace {

// Heap order: lowest rank first, then leftmost (std heaps are max-heaps).
bool later(const MergeScratch::Cand &a, const MergeScratch::Cand &b) {
  return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
}

void appendIds(const TokenizerImpl &t, const std::vector<int32_t> &ids,
               std::vector<int32_t> &out) {
  for (int32_t id : ids) {
    if (id < 0)
      id = t.spec.unk;
    if (id >= 0)
      out.push_back(id);
  }
}

} // namespace

void bpeMerge(const TokenizerImpl &t, std::string_view word,
              std::vector<int32_t> &ids, std::vector<uint32_t> &lens,
              MergeScratch &m) {
  const int32_t n = int32_t(ids.size());
  if (n < 2)
    return;
  m.nodes.resize(n);
  uint32_t start = 0;
  for (int32_t i = 0; i < n; ++i) {
    m.nodes[i] = {ids[i], i - 1, i + 1 < n ? i + 1 : -1, start, lens[i]};
    start += lens[i];
  }
  m.heap.clear();
  const bool byRank = t.spec.mergesFromRanks;

  auto consider = [&](int32_t l, int32_t r) {
    const MergeScratch::Node &a = m.nodes[l], &b = m.nodes[r];
    if (a.id < 0 || b.id < 0)
      return;
    int32_t rank, result;
    if (byRank) {
      // tiktoken: the pair's rank is that of its concatenation, which is
      // the contiguous text of both symbols.
      result = rank = t.lookup(word.substr(a.start, a.len + b.len));
      if (rank < 0)
        return;
    } else {
      auto it = t.pairs.find((uint64_t(uint32_t(a.id)) << 32) | uint32_t(b.id));
      if (it == t.pairs.end())
        return;
      rank = it->second.first;
      result = it->second.second;
    }
    m.heap.push_back({rank, l, r, a.id, b.id, result});
    std::push_heap(m.heap.begin(), m.heap.end(), later);
  };
  for (int32_t i = 0; i + 1 < n; ++i)
    consider(i, i + 1);

  while (!m.heap.empty()) {
    std::pop_heap(m.heap.begin(), m.heap.end(), later);
    MergeScratch::Cand c = m.heap.back();
    m.heap.pop_back();
    MergeScratch::Node &l = m.nodes[c.left];
    // Stale if either side changed since the pair was queued.
    if (l.id != c.leftId || l.next != c.right ||
        m.nodes[c.right].id != c.rightId)
      continue;
    MergeScratch::Node &r = m.nodes[c.right];
    l.id = c.result;
    l.len += r.len;
    l.next = r.next;
    if (r.next >= 0)
      m.nodes[r.next].prev = c.left;
    r.id = -2;
    if (l.prev >= 0)
      consider(l.prev, c.left);
    if (l.next >= 0)
      consider(c.left, l.next);
  }

  // Node 0 is never merged away (merges remove the right side).
  ids.clear();
  for (int32_t i = 0; i >= 0; i = m.nodes[i].next)
    ids.push_back(m.nodes[i].id);
}

void encodeBpe(const TokenizerImpl &t, std::string_view text,
               std::vector<int32_t> &out) {
  MergeScratch m;
  const TokenizerSpec &s = t.spec;
  if (!s.byteLevel) {
    // Character BPE (Llama 2-style tokenizer.json): the escaped text is
    // merged as one word (or word by word where no merge can cross);
    // characters without a token fall back to byte tokens.
    const std::string esc = escapeSpaces(text, t.space, s.addDummyPrefix);
    std::string_view all = esc;
    for (size_t b = 0, e; b < all.size(); b = e) {
      e = segmentEnd(t, all, b);
      std::string_view word = all.substr(b, e - b);
      m.ids.clear();
      m.lens.clear();
      for (size_t i = 0; i < word.size();) {
        uint32_t cp;
        size_t len = unicode::decodeUtf8(word, i, cp);
        int32_t id = t.lookup(word.substr(i, len));
        if (id >= 0) {
          m.ids.push_back(id);
          m.lens.push_back(uint32_t(len));
        } else {
          for (size_t k = i; k < i + len; ++k) {
            m.ids.push_back(t.byteToken[uint8_t(word[k])]);
            m.lens.push_back(1);
          }
        }
        i += len;
      }
      bpeMerge(t, word, m.ids, m.lens, m);
      appendIds(t, m.ids, out);
    }
    return;
  }

  preTokenize(s.pre, text, m.spans);
  for (auto [b, e] : m.spans) {
    std::string_view piece = text.substr(b, e - b);
    if (s.ignoreMerges) {
      // Llama 3: a pre-token that is a whole token is not merged.
      int32_t id = t.lookup(piece);
      if (id >= 0) {
        out.push_back(id);
        continue;
      }
    }
    m.ids.clear();
    for (char c : piece)
      m.ids.push_back(t.byteToken[uint8_t(c)]);
    m.lens.assign(piece.size(), 1);
    bpeMerge(t, piece, m.ids, m.lens, m);
    appendIds(t, m.ids, out);
  }
}

} // namespace ternc::rt::detail
