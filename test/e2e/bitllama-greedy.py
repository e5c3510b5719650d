#!/usr/bin/env python3
"""Greedy generations of a compiled bitllama2.c program against the
reference generations of the model's own runner (reference_greedy.txt).

usage: bitllama-greedy.py REFERENCE PROGRAM [RUNNER...]

For each case: the program runs with -p PROMPT --temp 0, once printing
token ids (which must equal BOS followed by the reference's greedy_ids) and
once printing text (which must start with the reference's `text:` line).
RUNNER (e.g. qemu-aarch64) is prepended to the command. Prints one line per
check and a closing "N passed, N failed"; exits non-zero on any failure.
"""
import subprocess
import sys


def cases(path):
    out, cur = [], {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                if cur:
                    out.append(cur)
                cur = {}
                continue
            key, _, value = line.partition(": ")
            if key in ("prompt", "text") and line.endswith(":"):
                key, value = line[:-1], ""
            cur[key] = value
    if cur:
        out.append(cur)
    return out


def main():
    ref, prog, runner = sys.argv[1], sys.argv[2], sys.argv[3:]
    passed = failed = 0
    for case in cases(ref):
        prompt = case["prompt"]
        want = [1] + [int(t) for t in case["greedy_ids"].split()]
        steps = int(case["steps"])
        base = runner + [prog, "-p", prompt, "--temp", "0", "-n", str(steps)]
        ids = subprocess.run(base + ["--print-ids"], capture_output=True,
                             text=True, check=True).stdout.split()
        got = [int(t) for t in ids][: len(want)]
        text = subprocess.run(base, capture_output=True, check=True).stdout
        text = text.decode("utf-8")
        for name, ok, detail in (
            ("ids", got == want,
             "first difference at %d" % next(
                 (i for i, (a, b) in enumerate(zip(got, want)) if a != b),
                 min(len(got), len(want)))),
            ("text", text.startswith(case["text"]), repr(text[:80])),
        ):
            if ok:
                passed += 1
                print("ok   %-5s %r" % (name, prompt))
            else:
                failed += 1
                print("FAIL %-5s %r: %s" % (name, prompt, detail))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
