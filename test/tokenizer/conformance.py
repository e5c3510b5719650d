#!/usr/bin/env python3
"""Tokenizer conformance: runs tern-tokenize on every case of a .inp file
and compares with the ids of the matching .out line.

usage: conformance.py TERN_TOKENIZE TOKENIZER INP OUT [--verbose]

Cases in INP end with a line "__ggml_vocab_test__" (the text is everything
before that line's newline); line k of OUT holds the ids of case k, without
BOS. Prints "N passed, M failed" and exits non-zero on any failure.
"""

import subprocess
import sys

SEP = b"\n__ggml_vocab_test__\n"


def read_cases(inp, out):
    with open(inp, "rb") as f:
        data = f.read()
    cases = data.split(SEP)
    # The file ends with the separator, leaving an empty tail.
    if cases and cases[-1] == b"":
        cases.pop()
    with open(out, "rb") as f:
        expected = f.read().split(b"\n")
    if expected and expected[-1] == b"":
        expected.pop()
    if len(cases) != len(expected):
        sys.exit("conformance.py: %d cases in %s but %d lines in %s"
                 % (len(cases), inp, len(expected), out))
    return [(c, [int(x) for x in e.split()]) for c, e in zip(cases, expected)]


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    verbose = "--verbose" in argv
    if len(args) != 4:
        sys.exit(__doc__)
    tool, tokenizer, inp, out = args
    passed = failed = 0
    for i, (text, want) in enumerate(read_cases(inp, out)):
        r = subprocess.run([tool, tokenizer], input=text,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0:
            failed += 1
            print("case %d: tern-tokenize failed (%d): %s"
                  % (i, r.returncode, r.stderr.decode(errors="replace").strip()))
            continue
        got = [int(x) for x in r.stdout.split()]
        if got == want:
            passed += 1
            if verbose:
                print("case %d: ok" % i)
        else:
            failed += 1
            print("case %d: FAIL %r\n  expected: %s\n  got:      %s"
                  % (i, text.decode("utf-8", errors="replace"),
                     " ".join(map(str, want)), " ".join(map(str, got))))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
