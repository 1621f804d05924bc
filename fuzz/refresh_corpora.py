#!/usr/bin/env python3
"""Refreshes the committed corpora (fuzz/corpora/TARGET/) from the working ones (fuzz/corpus/).

For each target: the inputs of the working corpus sorted by size (then name), every n-th kept
so that at most PER_TARGET are spread evenly over the sizes, and inputs skipped from the largest
down while the kept ones exceed MAX_BYTES. The old committed corpus of the target is replaced.
Standard library only. Usage: fuzz/refresh_corpora.py [TARGET...] (default: the targets whose
corpora tests/it/hostile_inputs.rs replays; verify_ledger's seeds are replayed by its own test).
"""

import os
import shutil
import sys

PER_TARGET = 150
MAX_BYTES = 300 * 1024
HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = ["scenario", "seats_csv", "forensics_csv", "protocols_csv", "aggregates_csv",
           "receipts_csv", "heads", "merge_part", "audit_package", "vvpat_csv", "rla_package", "honest_fit"]


def pick(paths):
    """Every n-th input by size, at most PER_TARGET, within MAX_BYTES."""
    sized = sorted((os.path.getsize(p), os.path.basename(p), p) for p in paths)
    if not sized:
        return []
    step = max(1, -(-len(sized) // PER_TARGET))
    chosen = sized[::step][:PER_TARGET]
    total = sum(s for s, _, _ in chosen)
    while chosen and total > MAX_BYTES:
        total -= chosen.pop()[0]
    return [p for _, _, p in chosen]


def main(targets):
    work = os.path.join(HERE, "corpus")
    kept = os.path.join(HERE, "corpora")
    targets = targets or TARGETS
    for t in targets:
        src = os.path.join(work, t)
        paths = [os.path.join(src, f) for f in os.listdir(src)]
        chosen = pick([p for p in paths if os.path.isfile(p)])
        if not chosen:
            print(f"{t}: the working corpus is empty; the committed one is kept", file=sys.stderr)
            continue
        dst = os.path.join(kept, t)
        tmp = dst + ".new"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        for p in chosen:
            shutil.copyfile(p, os.path.join(tmp, os.path.basename(p)))
        shutil.rmtree(dst, ignore_errors=True)
        os.rename(tmp, dst)
        size = sum(os.path.getsize(p) for p in chosen)
        print(f"{t}: {len(chosen)} of {len(paths)} inputs, {size} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
