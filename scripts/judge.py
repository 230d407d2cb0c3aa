"""Judge reported test results against the tests the sources declare.

Shared by kunit-results.py and tap-results.py: a declared test passes only
when it was reported with the passing status; a missing one fails.
"""


def judge(label, expected, results, passing, extra_failures=0):
    """Print one line per expected test and `LABEL: N passed, N failed`.

    `expected` lists test names in order, `results` maps names to reported
    statuses.  Returns the process exit status: 1 on any failure, or when
    nothing was expected.
    """
    passed = failed = 0
    for name in expected:
        status = results.get(name, "MISSING")
        ok = status == passing
        passed += ok
        failed += not ok
        print(f"  {'ok  ' if ok else 'FAIL'} {label}.{name}{'' if ok else ' (' + status + ')'}")
    failed += extra_failures
    print(f"{label}: {passed} passed, {failed} failed")
    return 1 if failed or not expected else 0
