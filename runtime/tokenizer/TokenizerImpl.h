//===- TokenizerImpl.h - tokenizer internals shared by its files -*- C++
//-*-===//
//
// Internal to the tokenizer library.
//
//===----------------------------------------------------------------------===//

#ifndef TERNC_RUNTIME_TOKENIZER_TOKENIZERIMPL_H
#define TERNC_RUNTIME_TOKENIZER_TOKENIZERIMPL_H

#include "tokenizer/Tokenizer.h"

#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ternc::rt::detail {

/// The spec plus the tables encode/decode need; built once by fromSpec and
/// never changed, so the string views into `arena` stay valid.
struct TokenizerImpl {
  TokenizerSpec spec;

  /// Per token, the text it matches: raw bytes for byte-level BPE, the piece
  /// itself otherwise. Token i is arena[textStart[i], textStart[i + 1]).
  std::string arena;
  std::vector<uint32_t> textStart;
  /// Text -> id for the tokens that input text may produce (normal and
  /// user-defined ones; not control, unknown, unused or byte tokens).
  std::unordered_map<std::string_view, int32_t> textToId;
  /// Per byte value: the token standing for that byte (byte-level: the
  /// one-byte token; otherwise the <0xNN> fallback token), or -1.
  int32_t byteToken[256];
  /// Bpe with a merge list: (left << 32 | right) -> (rank, merged id).
  /// (mergesFromRanks looks the pair's text up in textToId instead.)
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> pairs;
  /// Non-byte-level: no token has a space right after a non-space, so no
  /// merge crosses such a point and the text can be merged word by word.
  bool cutBeforeSpaces = false;
  /// eot() resolved.
  int32_t eot = -1;
  /// The string that stands for a space in piece text ("▁" or " ").
  std::string_view space;

  std::string_view text(int32_t id) const {
    return std::string_view(arena).substr(textStart[id],
                                          textStart[id + 1] - textStart[id]);
  }
  int32_t lookup(std::string_view s) const {
    auto it = textToId.find(s);
    return it == textToId.end() ? -1 : it->second;
  }
};

/// Splits `text` into pre-tokens, appending their [begin, end) byte spans.
void preTokenize(PreTokenizer kind, std::string_view text,
                 std::vector<std::pair<size_t, size_t>> &spans);

/// Reusable buffers for the merge engines.
struct MergeScratch;

/// Byte-level or character BPE: merges the symbols `ids` (-1 never merges),
/// which spell `word` with byte lengths `lens`, by rank, in place.
void bpeMerge(const TokenizerImpl &t, std::string_view word,
              std::vector<int32_t> &ids, std::vector<uint32_t> &lens,
              MergeScratch &scratch);
void encodeBpe(const TokenizerImpl &t, std::string_view text,
               std::vector<int32_t> &out);
void encodeSentencePiece(const TokenizerImpl &t, std::string_view text,
                         std::vector<int32_t> &out);

/// Text with spaces spelled as `space` and, if asked, a leading space.
std::string escapeSpaces(std::string_view text, std::string_view space,
                         bool dummyPrefix);
/// The end of the segment of escaped text `esc` starting at `from`: the next
/// space after a non-space if t.cutBeforeSpaces, else the end; segments stay
/// below 2 GiB (cut at a character boundary) so spans fit 32 bits.
size_t segmentEnd(const TokenizerImpl &t, std::string_view esc, size_t from);
/// Appends the tokens of a character that no token matches: its bytes'
/// fallback tokens, else unk.
void appendByteFallback(const TokenizerImpl &t, std::string_view bytes,
                        std::vector<int32_t> &out);

/// "<0xNN>" -> NN, else -1.
int parseByteToken(std::string_view piece);

/// Error prefix helpers: "<name>: offset <N>: ".
std::string at(std::string_view name, uint64_t offset);

} // namespace ternc::rt::detail

#endif // TERNC_RUNTIME_TOKENIZER_TOKENIZERIMPL_H
