#!/usr/bin/env python3
"""Writes an election package directory (made by `tamga simulate`) as one file in the
`audit_package` fuzz target's container form (fuzz/fuzz_targets/pack.rs): records of
[name length: u8][name][data length: u32 LE][data]. `truth/` is left out (audit never reads it).

Usage: fuzz/pack_package.py PACKAGE_DIR OUT_FILE
"""
import os
import struct
import sys


def main():
    src, out = sys.argv[1], sys.argv[2]
    records = []
    for root, _dirs, files in os.walk(src):
        for name in sorted(files):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src).replace(os.sep, "/")
            if rel.startswith("truth/"):
                continue
            with open(path, "rb") as f:
                data = f.read()
            records.append((rel.encode(), data))
    records.sort()
    with open(out, "wb") as f:
        for name, data in records:
            f.write(bytes([len(name)]) + name + struct.pack("<I", len(data)) + data)


if __name__ == "__main__":
    main()
