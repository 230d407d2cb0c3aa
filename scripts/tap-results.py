#!/usr/bin/env python3
"""Check a kselftest run's TAP output against the tests the source declares.

usage: tap-results.py LABEL CONSOLE_LOG TEST_SOURCE.c

Every TEST(name) / TEST_F(fixture, name) of the source must appear as
`ok N name` in the log; a failed, skipped or missing test counts as a
failure (the tests run as root in the guest, so nothing should skip).
Prints one line per test and a closing `LABEL: N passed, N failed`.
"""

import re
import sys

from judge import judge

DECL = re.compile(r"^TEST(?:_F)?\(\s*(\w+)(?:\s*,\s*(\w+))?\s*\)", re.M)
RESULT = re.compile(r"^(not ok|ok) \d+ (\S+)(.*)$")


def main():
    label, log, source = sys.argv[1:4]
    with open(source, encoding="utf-8") as f:
        # The harness names a plain TEST() global.NAME.
        expected = [f"{a}.{b}" if b else f"global.{a}" for a, b in DECL.findall(f.read())]
    results = {}
    with open(log, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = RESULT.match(line.strip())
            if m:
                skipped = "# SKIP" in m.group(3)
                results[m.group(2)] = "SKIP" if skipped else m.group(1)
    sys.exit(judge(label, expected, results, "ok"))


if __name__ == "__main__":
    main()
