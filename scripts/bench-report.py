#!/usr/bin/env python3
"""Put the tables of several benchmark runs side by side.

usage: bench-report.py OUT.md LABEL=DIR...

Each DIR holds a run's table.md (from scripts/bench.sh).  The runs come from
the same program, so their rows are the same: each output row gives a
figure and its reference once, then each run's ratio and verdict.  A run
that has no table yet is listed as missing.  Writes OUT.md and prints it.
"""
import os
import sys


def rows(path):
    """(figure, reference, ratio, target) per row of a bench table."""
    out = []
    with open(path) as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) != 5 or cells[0] in ("figure", "---"):
                continue
            figure, median, reference, ratio, target = cells
            ref_name = reference.split(":")[0] if reference else ""
            out.append(((figure, ref_name), median, ratio, target))
    return out


def main():
    out_path, runs = sys.argv[1], sys.argv[2:]
    tables, missing = [], []
    for run in runs:
        label, _, path = run.partition("=")
        table = os.path.join(path, "table.md")
        if os.path.exists(table) and os.path.getsize(table) > 0:
            tables.append((label, rows(table)))
        else:
            missing.append(label)
    lines = []
    if tables:
        head = "| figure | reference |" + "".join(
            f" {label}: median | ratio | target |" for label, _ in tables)
        lines += [head, "|---|---|" + "---|---|---|" * len(tables)]
        order = []
        for _, table in tables:
            for key, *_ in table:
                if key not in order:
                    order.append(key)
        for key in order:
            cells = [key[0], key[1]]
            for _, table in tables:
                match = [r for r in table if r[0] == key]
                cells += list(match[0][1:]) if match else ["-", "-", "-"]
            lines.append("| " + " | ".join(cells) + " |")
    for label in missing:
        lines.append(f"\n({label}: no run yet)")
    text = "\n".join(lines) + "\n"
    with open(out_path, "w") as f:
        f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
