#!/usr/bin/env python3
"""Check KUnit results against the tests the sources declare.

usage: kunit-results.py RESULTS.json SOURCE.rs... [--doctests KERNEL_CRATE_FILE.rs...]
                        [--log TEST.LOG]

Every `#[test]` function of a `#[kunit_tests(suite)]` module in the given
sources must appear in the results and pass; a test that is missing (its
suite was not built, or the kernel crashed before reaching it) counts as a
failure.  Likewise every doctest of the given rust/kernel files, which
CONFIG_RUST_KERNEL_DOCTESTS turns into the tests
rust_doctests_kernel.rust_doctest_kernel_<path>_<n>.  With --log, the
kernel log of the run (kunit.py's test.log) must hold no report: a test
whose expectations hold while the kernel warns (a lockdep splat, SRCU
cleaned up under a reader) has still found a bug, and no test may reach
the live RNG's vmfork path: random.c logs each reseed it makes once the
CRNG is ready, which under UML it is before the first test runs.  Prints one line per test
and a closing `N passed, N failed`.  Exits 1 on any failure or missing test.
"""

import json
import re
import sys

from judge import judge

SUITE = re.compile(r"#\[(?:[\w:]*::)?kunit_tests\((\w+)\)\]")
TEST = re.compile(r"#\[test\]\s*(?:#\[[^\]]*\]\s*)*fn\s+(\w+)")


def declared(paths):
    """(suite, test) pairs declared in the sources, in source order."""
    tests = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        suites = list(SUITE.finditer(text))
        for i, m in enumerate(suites):
            end = suites[i + 1].start() if i + 1 < len(suites) else len(text)
            for t in TEST.finditer(text, m.end(), end):
                tests.append((m.group(1), t.group(1)))
    return tests


FENCE = re.compile(r"^\s*///\s*```")
REPORT = re.compile(r"WARNING: |BUG: |KASAN: |UBSAN: |Oops|possible (circular|recursive) locking|"
                    r"inconsistent lock state|suspicious RCU usage|INFO: task .* blocked|"
                    r"rcu: INFO: .* detected stalls|"
                    # A test reached the live RNG's vmfork path: at boot that reseeds the
                    # CRNG, discards every vDSO getrandom() state and runs the real chain.
                    r"crng reseeded due to virtual machine fork")


def doctests(paths):
    """(suite, test) pairs for the doctests of rust/kernel files, in order."""
    tests = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            fences = sum(1 for line in f if FENCE.match(line))
        rel = path.split("rust/kernel/", 1)[1]
        stem = re.sub(r"[^A-Za-z0-9]", "_", rel)
        tests += [("rust_doctests_kernel", f"rust_doctest_kernel_{stem}_{n}")
                  for n in range(fences // 2)]
    return tests


def reported(group, found):
    """Walk KernelCI JSON groups; map (suite, test) to its status."""
    for case in group.get("test_cases", []):
        found[(group["name"], case["name"])] = case["status"]
    for sub in group.get("sub_groups", []):
        reported(sub, found)
    return found


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    try:
        with open(sys.argv[1], encoding="utf-8") as f:
            results = reported(json.load(f), {})
    except (OSError, ValueError) as e:
        print(f"kunit-results: no usable results ({e})")
        results = {}

    args = sys.argv[2:]
    reports = []
    if "--log" in args:
        log = args[args.index("--log") + 1]
        args = args[:args.index("--log")] + args[args.index("--log") + 2:]
        try:
            with open(log, encoding="utf-8", errors="replace") as f:
                reports = [line.rstrip() for line in f if REPORT.search(line)]
        except OSError as e:
            reports = [f"no kernel log ({e})"]
    docs = args[args.index("--doctests") + 1:] if "--doctests" in args else []
    sources = args[:args.index("--doctests")] if "--doctests" in args else args
    expected = declared(sources) + doctests(docs)
    if not expected:
        sys.exit("kunit-results: the sources declare no KUnit test")

    names = [f"{suite}.{test}" for suite, test in expected]
    statuses = {f"{suite}.{test}": status for (suite, test), status in results.items()}
    # A failure in a suite that is not ours still fails the run.
    strangers = 0
    for name, status in sorted(statuses.items()):
        if name not in names and status != "PASS":
            strangers += 1
            print(f"  FAIL {name} ({status}, not one of ours)")
    for line in reports:
        print(f"  FAIL kernel log: {line}")
    sys.exit(judge("kunit", names, statuses, "PASS", strangers + len(reports)))


if __name__ == "__main__":
    main()
