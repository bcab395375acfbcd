#!/usr/bin/env python3
"""Sums a `twiggy top -f csv` listing by crate: which crates the wasm's code and data come from.
Debug sections and the name section are left out (they are not shipped)."""
import collections, csv, re, sys

rows = csv.DictReader(open(sys.argv[1]))
by_crate = collections.Counter()
for row in rows:
    name, size = row["Name"], int(row["ShallowSize"])
    if name.startswith("custom section") or "function names" in name:
        continue
    match = re.search(r"([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::", name)
    if match:
        key = match.group(1)
    elif name.startswith("data segment"):
        key = "(data: strings, tables)"
    else:
        key = "(unnamed: " + re.sub(r"\d+", "N", name)[:30] + ")"
    by_crate[key] += size
total = sum(by_crate.values())
for crate, size in by_crate.most_common(int(sys.argv[2]) if len(sys.argv) > 2 else 20):
    print(f"  {size:9d} B {100 * size / total:5.1f}%  {crate}")
print(f"  {total:9d} B total code and data, before wasm-opt")
