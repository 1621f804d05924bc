#!/usr/bin/env python3
"""Independent verifier of a tamga ballot ledger (format version 1), its Merkle tree, its signed
checkpoints and receipts' inclusion proofs.

Written only from docs/ledger-format.md, with nothing but the Python standard library (hashlib's
SHA-256 and SHA-512, base64), to show that the document suffices to verify a tamga ledger.
Ed25519 verification is written here from RFC 8032's description (section 5.1.7).

usage: verify_ledger.py LEDGER [--heads HEADS_FILE] [--receipt CODE ...] [--checkpoints NOTES --key HEX] [--proofs PROOFS_CSV]

Prints one line per finding, then a summary line:
    clean: <n> ballots, head <hex>
or  findings: <k>
Exit status: 0 clean, 1 findings, 2 usage or I/O error.
"""

import base64
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


# --- RFC 8032 Ed25519 verification (section 5.1), twisted Edwards curve in extended coordinates ---
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % P
    bb = (y1 + x1) * (y2 + x2) % P
    cc = 2 * t1 * t2 * D % P
    dd = 2 * z1 * z2 % P
    e, f, g, hh = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % P, g * hh % P, f * g % P, e * hh % P)


def _mul(k, pt):
    q = (0, 1, 1, 0)
    while k:
        if k & 1:
            q = _add(q, pt)
        pt = _add(pt, pt)
        k >>= 1
    return q


def _decode(b):
    """A point from its 32-byte encoding (RFC 8032 5.1.3), or None."""
    if len(b) != 32:
        return None
    y = int.from_bytes(b, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= P:
        return None
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    if v * x * x % P == u:
        pass
    elif v * x * x % P == (-u) % P:
        x = x * SQRT_M1 % P
    else:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = P - x
    return (x, y, 1, x * y % P)


def _encode(pt):
    x, y, z, _ = pt
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


_BY = 4 * pow(5, P - 2, P) % P
BASE = _decode(int.to_bytes(_BY, 32, "little"))


def ed25519_verify(public, message, signature):
    """RFC 8032 5.1.7: [S]B = R + [k]A, with S < L and A, R valid encodings."""
    if len(signature) != 64:
        return False
    a, r = _decode(public), _decode(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % L
    return _encode(_mul(s, BASE)) == _encode(_add(r, _mul(k, a)))


# --- section 9: the Merkle tree over the entries, RFC 6962 hashing ---
# A leaf's hash is the entry hash itself: its hashed input starts with the entry's tag byte
# (G, B or C), never 0x01, which separates leaves from nodes as RFC 6962's 0x00 prefix does.


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def roots_at(entries, sizes):
    """{size: root} of the tree over the entry hashes entries[0:size] for each wanted size."""
    want, out, peaks = set(sizes), {}, []  # peaks: (height, hash), largest first
    for n, e in enumerate(entries, start=1):
        hh, height = e, 0
        while peaks and peaks[-1][0] == height:
            hh = node_hash(peaks.pop()[1], hh)
            height += 1
        peaks.append((height, hh))
        if n in want:
            acc = peaks[-1][1]
            for _, p in reversed(peaks[:-1]):
                acc = node_hash(p, acc)
            out[n] = acc
    return out


def verify_inclusion(leaf, index, size, path, root):
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn & 1 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


# --- section 10: signed checkpoints ---
def split_notes(text):
    notes, cur, in_sigs = [], [], False
    for line in text.splitlines(keepends=True):
        if in_sigs and not line.startswith("\u2014 "):
            notes.append("".join(cur))
            cur, in_sigs = [], False
        if line == "\n":
            in_sigs = True
        cur.append(line)
    if cur:
        notes.append("".join(cur))
    return notes


def open_checkpoint(note, origin, public):
    """The checkpoint (size, root, head) if a signature by `origin` with `public` verifies."""
    body, sep, sigs = note.partition("\n\n")
    if not sep or not sigs.endswith("\n"):
        raise ValueError("malformed note")
    body += "\n"
    key_id = hashlib.sha256(origin.encode() + b"\n\x01" + public).digest()[:4]
    ok = False
    for line in sigs[:-1].split("\n"):
        if not line.startswith("\u2014 "):
            raise ValueError("malformed signature line")
        name, _, b64 = line[2:].partition(" ")
        raw = base64.b64decode(b64, validate=True)
        if name == origin and raw[:4] == key_id and ed25519_verify(public, body.encode(), raw[4:]):
            ok = True
    if not ok:
        raise ValueError("no valid signature by " + origin)
    lines = body[:-1].split("\n")
    if lines[0] != origin or len(lines) not in (3, 4):
        raise ValueError("not a checkpoint of " + origin)
    size = int(lines[1])
    root = base64.b64decode(lines[2], validate=True)
    head = bytes.fromhex(lines[3][5:]) if len(lines) == 4 and lines[3].startswith("head ") else None
    return size, root, head


def verify(data, heads=None, receipts=()):
    """Returns (findings, info). Mirrors docs/ledger-format.md, section Verification."""
    findings = []
    info = {"ballots": 0, "head": None, "entries": [], "genesis": None}
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
        info["entries"].append(computed)
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
    info["genesis"] = genesis
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


def check_log(info, notes_text, public, proofs_text):
    """Section 10: every checkpoint verifies and the ledger's tree has its root and head at its
    size; each proof (rows of this machine) leads to a signed root."""
    findings, g = [], info["genesis"]
    if g is None:
        return ["no genesis: cannot name the log"]
    origin = f"tamga/{g['election'].hex()}/station/{g['station']}/machine/{g['machine']}"
    signed = {}
    if notes_text is not None:
        for note in split_notes(notes_text):
            try:
                size, root, head = open_checkpoint(note, origin, public)
            except ValueError as e:
                findings.append(f"CheckpointInvalid: {e}")
                continue
            signed[size] = root
            roots = roots_at(info["entries"], [size])
            if size not in roots:
                findings.append(f"CheckpointBeyondLedger: signed size {size}, ledger has {len(info['entries'])} entries")
            elif roots[size] != root:
                findings.append(f"CheckpointRootMismatch at size {size}")
            elif head is not None and info["entries"][size - 1] != head:
                findings.append(f"CheckpointHeadMismatch at size {size}")
        if signed and max(signed) < len(info["entries"]):
            findings.append(f"UnsignedEntries: {len(info['entries']) - max(signed)} after the last checkpoint")
    if proofs_text is not None:
        for n, line in enumerate(proofs_text.splitlines()[1:], start=2):
            f = line.split(",")
            if len(f) != 7:
                findings.append(f"ProofMalformed line {n}")
                continue
            if (int(f[0]), int(f[1])) != (g["station"], g["machine"]):
                continue
            entry, eh, size = int(f[3]), bytes.fromhex(f[4]), int(f[5])
            path = [bytes.fromhex(x) for x in f[6].split(".")] if f[6] else []
            ok = (
                receipt(eh) == normalise_receipt(f[2])
                and size in signed
                and verify_inclusion(eh, entry, size, path, signed[size])
            )
            if not ok:
                findings.append(f"ProofInvalid line {n}: receipt {f[2]}")
    return findings


def main(argv):
    args = argv[1:]
    if not args or args[0].startswith("-"):
        print(__doc__.strip().splitlines()[3], file=sys.stderr)
        return 2
    path, heads_path, receipts = args[0], None, []
    notes_path = key_hex = proofs_path = None
    i = 1
    try:
        while i < len(args):
            if args[i] == "--heads" and i + 1 < len(args):
                heads_path = args[i + 1]
                i += 2
            elif args[i] == "--checkpoints" and i + 1 < len(args):
                notes_path = args[i + 1]
                i += 2
            elif args[i] == "--key" and i + 1 < len(args):
                key_hex = args[i + 1]
                i += 2
            elif args[i] == "--proofs" and i + 1 < len(args):
                proofs_path = args[i + 1]
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
        notes = proofs = public = None
        if notes_path is not None or proofs_path is not None:
            if key_hex is None or len(bytes.fromhex(key_hex)) != 32:
                raise ValueError("--checkpoints and --proofs need --key <the machine's 64-hex public key>")
            public = bytes.fromhex(key_hex)
        if notes_path is not None:
            with open(notes_path, "r", encoding="utf-8", newline="") as f:
                notes = f.read()
        if proofs_path is not None:
            with open(proofs_path, "r", encoding="ascii", newline="") as f:
                proofs = f.read()
    except (OSError, ValueError) as e:
        print(f"verify_ledger.py: {e}", file=sys.stderr)
        return 2
    findings, info = verify(data, heads, receipts)
    if public is not None:
        findings += check_log(info, notes, public, proofs)
    for f in findings:
        print(f)
    if findings:
        print(f"findings: {len(findings)}")
        return 1
    print(f"clean: {info['ballots']} ballots, head {info['head'].hex()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
