#!/usr/bin/env python3
"""Independent verifier of a tamga ballot ledger (format version 1).

Written only from docs/ledger-format.md, with nothing but the Python standard library (hashlib's
SHA-256), to show that the document suffices to verify a tamga ledger.

usage: verify_ledger.py LEDGER [--heads HEADS_FILE] [--receipt CODE ...]

Prints one line per finding, then a summary line:
    clean: <n> ballots, head <hex>
or  findings: <k>
Exit status: 0 clean, 1 findings, 2 usage or I/O error.
"""

import hashlib
import struct
import sys

MAGIC = b"TAMGALDG"
VERSION = 1
TAG_GENESIS, TAG_BALLOT, TAG_CLOSE = 0x47, 0x42, 0x43
LIST_NONE, CANDIDATE_NONE = 0xFF, 0xFFFF
GENESIS_BODY = 61
BALLOT_BODY = 3
CLOSE_FIXED = 11
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def h(tag, prev, seq, body):
    return hashlib.sha256(bytes([tag]) + prev + struct.pack(">Q", seq) + body).digest()


def receipt(entry_hash):
    v = int.from_bytes(entry_hash[:5], "big")
    s = "".join(CROCKFORD[(v >> (5 * (7 - i))) & 31] for i in range(8))
    return s[:4] + "-" + s[4:]


def normalise_receipt(code):
    s = code.replace("-", "").upper().replace("O", "0").replace("I", "1").replace("L", "1")
    if len(s) != 8 or any(c not in CROCKFORD for c in s):
        raise ValueError(f"not a receipt code: {code!r}")
    return s[:4] + "-" + s[4:]


def parse_heads(text):
    """Returns (election_id, {(station, machine): (n_ballots, head)}) or raises ValueError."""
    if not text.endswith("\n"):
        raise ValueError("heads file: last line does not end with a newline")
    lines = text[:-1].split("\n")
    first = lines[0].split(" ")
    if len(first) != 3 or first[0] != "tamga-heads" or first[1] != "1":
        raise ValueError("heads file: first line must be 'tamga-heads 1 <election id>'")
    election = bytes.fromhex(first[2])
    heads, last = {}, None
    for n, line in enumerate(lines[1:], start=2):
        f = line.split(" ")
        if len(f) != 4 or len(f[3]) != 64 or f[3] != f[3].lower():
            raise ValueError(f"heads file line {n}: malformed")
        for x in f[:3]:
            if not x.isdigit() or (x != "0" and x.startswith("0")):
                raise ValueError(f"heads file line {n}: {x!r} is not a canonical decimal")
        key = (int(f[0]), int(f[1]))
        if last is not None and key <= last:
            raise ValueError(f"heads file line {n}: not sorted or duplicate")
        last = key
        heads[key] = (int(f[2]), bytes.fromhex(f[3]))
    return election, heads


def verify(data, heads=None, receipts=()):
    """Returns (findings, info). Mirrors docs/ledger-format.md, section Verification."""
    findings = []
    info = {"ballots": 0, "head": None}
    if len(data) >= 8 and data[:8] != MAGIC or len(data) < 8 and data != MAGIC[: len(data)]:
        return [f"BadMagic: file starts with {data[:8].hex()}"], info
    if len(data) < 10:
        return [f"Truncated: header needs 10 bytes, {len(data)} present"], info
    version = struct.unpack(">H", data[8:10])[0]
    if version != VERSION:
        return [f"UnsupportedVersion {version}"], info
    off, pos = 10, 0
    stored_prev = computed_prev = bytes(32)
    genesis = None
    counts_l = counts_c = None
    ballots = 0
    found_receipts = set()
    closed = False
    while True:
        if off == len(data):
            findings.append(f"MissingClose at byte {off}")
            break
        tag = data[off]
        if tag == TAG_GENESIS:
            body_len = GENESIS_BODY
        elif tag == TAG_BALLOT:
            body_len = BALLOT_BODY
        elif tag == TAG_CLOSE:
            if off + 9 + CLOSE_FIXED > len(data):
                findings.append(f"Truncated: close record at byte {off}")
                break
            nl = data[off + 9 + 8]
            nc = struct.unpack(">H", data[off + 9 + 9 : off + 9 + 11])[0]
            body_len = CLOSE_FIXED + 8 * (nl + 1) + 8 * (nc + 1)
        else:
            findings.append(f"UnknownTag 0x{tag:02x} at byte {off} (entry {pos})")
            break
        end = off + 9 + body_len + 32
        if end > len(data):
            findings.append(f"Truncated: record at byte {off} needs {end - off} bytes, {len(data) - off} remain")
            break
        seq = struct.unpack(">Q", data[off + 1 : off + 9])[0]
        body = data[off + 9 : off + 9 + body_len]
        stored = data[off + 9 + body_len : end]
        if seq != pos:
            findings.append(f"SequenceMismatch at entry {pos} (byte {off}): stored seq {seq}")
        if h(tag, stored_prev, seq, body) != stored:
            findings.append(f"BrokenLink at entry {pos} (byte {off})")
        computed = h(tag, computed_prev, pos, body)
        stored_prev, computed_prev = stored, computed
        if pos == 0:
            if tag != TAG_GENESIS:
                findings.append(f"MissingGenesis: first record has tag 0x{tag:02x}")
                counts_l, counts_c = [0] * 256, [0] * 65536
        if tag == TAG_GENESIS:
            if pos != 0:
                findings.append(f"UnexpectedGenesis at entry {pos} (byte {off})")
            else:
                gv = struct.unpack(">H", body[0:2])[0]
                if gv != VERSION:
                    findings.append(f"GenesisVersionMismatch: {gv}")
                genesis = {
                    "election": body[2:34],
                    "station": struct.unpack(">I", body[34:38])[0],
                    "machine": struct.unpack(">I", body[38:42])[0],
                    "n_lists": body[58],
                    "n_candidates": struct.unpack(">H", body[59:61])[0],
                }
                counts_l = [0] * (genesis["n_lists"] + 1)
                counts_c = [0] * (genesis["n_candidates"] + 1)
        elif tag == TAG_BALLOT:
            ballots += 1
            lst = body[0]
            cand = struct.unpack(">H", body[1:3])[0]
            nl, nc = len(counts_l) - 1, len(counts_c) - 1
            li = nl if lst == LIST_NONE else (lst if lst < nl else None)
            ci = nc if cand == CANDIDATE_NONE else (cand if cand < nc else None)
            if li is None or ci is None:
                findings.append(f"ChoiceOutOfRange at entry {pos} (byte {off}): list {lst} candidate {cand}")
            else:
                counts_l[li] += 1
                counts_c[ci] += 1
            found_receipts.add(receipt(computed))
        else:  # close
            closed = True
            n_rec = struct.unpack(">Q", body[0:8])[0]
            nl, nc = body[8], struct.unpack(">H", body[9:11])[0]
            words = [struct.unpack(">Q", body[i : i + 8])[0] for i in range(CLOSE_FIXED, len(body), 8)]
            if n_rec != ballots:
                findings.append(f"CloseCountMismatch: close commits {n_rec}, ledger holds {ballots}")
            if (nl, nc) != (len(counts_l) - 1, len(counts_c) - 1):
                findings.append("CloseShapeMismatch")
            else:
                if words[: nl + 1] != counts_l:
                    findings.append(f"CloseTotalsMismatch (lists): {words[:nl + 1]} vs recount {counts_l}")
                if words[nl + 1 :] != counts_c:
                    findings.append(f"CloseTotalsMismatch (candidates): {words[nl + 1:]} vs recount {counts_c}")
            info["head"] = computed
            if end != len(data):
                findings.append(f"TrailingData: {len(data) - end} bytes from byte {end}")
            break
        off = end
        pos += 1
    info["ballots"] = ballots
    if heads is not None:
        election, table = heads
        if genesis is None:
            findings.append("no genesis: cannot look up the published head")
        else:
            if genesis["election"] != election:
                findings.append("ElectionMismatch")
            pub = table.get((genesis["station"], genesis["machine"]))
            if pub is None:
                findings.append("no published head for this station and machine")
            else:
                if pub[0] != ballots:
                    findings.append(f"PublishedCountMismatch: published {pub[0]}, ledger holds {ballots}")
                if info["head"] != pub[1]:
                    got = info["head"].hex() if info["head"] else "(none)"
                    findings.append(f"HeadMismatch: recomputed {got}, published {pub[1].hex()}")
    for r in sorted(set(receipts)):
        if r not in found_receipts:
            findings.append(f"ReceiptNotFound {r}")
    if not closed:
        info["head"] = None
    return findings, info


def main(argv):
    args = argv[1:]
    if not args or args[0].startswith("-"):
        print(__doc__.strip().splitlines()[3], file=sys.stderr)
        return 2
    path, heads_path, receipts = args[0], None, []
    i = 1
    try:
        while i < len(args):
            if args[i] == "--heads" and i + 1 < len(args):
                heads_path = args[i + 1]
                i += 2
            elif args[i] == "--receipt" and i + 1 < len(args):
                receipts.append(normalise_receipt(args[i + 1]))
                i += 2
            else:
                raise ValueError(f"unexpected argument {args[i]!r}")
        with open(path, "rb") as f:
            data = f.read()
        heads = None
        if heads_path is not None:
            with open(heads_path, "r", encoding="ascii", newline="") as f:
                heads = parse_heads(f.read())
    except (OSError, ValueError) as e:
        print(f"verify_ledger.py: {e}", file=sys.stderr)
        return 2
    findings, info = verify(data, heads, receipts)
    for f in findings:
        print(f)
    if findings:
        print(f"findings: {len(findings)}")
        return 1
    print(f"clean: {info['ballots']} ballots, head {info['head'].hex()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
