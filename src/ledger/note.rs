//! Signed checkpoints: a log's size, Merkle root and chain head, as text in the C2SP
//! `tlog-checkpoint` layout, signed with Ed25519 (RFC 8032) in the C2SP `signed-note` layout.
//!
//! **Owns**: the checkpoint body ([`Checkpoint::body`], [`Checkpoint::parse_body`]), the signed
//! note ([`sign_note`], [`open_note`], [`split_notes`]), key ids and verifier keys, standard
//! base64 ([`base64`], [`unbase64`]), and the derivation of simulated keys from the simulation
//! seed ([`derive_signing_key`]). Byte by byte in `docs/ledger-format.md` §10. **Never**: reads a
//! clock or randomness (keys are derived, signatures deterministic), panics on any note text.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::hash::{EntryHash, to_hex};

/// Signature type byte of Ed25519 in a signed note's key id and verifier key.
pub const ED25519_TYPE: u8 = 0x01;
/// The line prefix of a note signature: U+2014 EM DASH and a space.
pub const SIGNATURE_PREFIX: &str = "\u{2014} ";
/// Longest note read, in bytes (a checkpoint is under 300).
pub const MAX_NOTE_BYTES: usize = 4096;
/// Most signature lines read from one note.
pub const MAX_SIGNATURES: usize = 16;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 (RFC 4648 §4) with padding.
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let v = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(B64[(v >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 with padding; `None` for anything else (no whitespace, no
/// non-canonical trailing bits).
pub fn unbase64(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(4) {
        return None;
    }
    let val = |c: u8| B64.iter().position(|&x| x == c).map(|v| v as u32);
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    for (k, q) in b.chunks(4).enumerate() {
        let last = k + 1 == b.len() / 4;
        let pad = q.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut v = 0u32;
        for (i, &c) in q.iter().enumerate() {
            let d = if i >= 4 - pad { 0 } else { val(c)? };
            v = v << 6 | d;
        }
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        let n = 3 - pad;
        if bytes[n..].iter().any(|&x| x != 0) {
            return None;
        }
        out.extend_from_slice(&bytes[..n]);
    }
    Some(out)
}

/// The 4-byte key id of an Ed25519 key in a signed note: the first 4 bytes of
/// SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key).
pub fn key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519_TYPE]);
    h.update(public);
    let d: [u8; 32] = h.finalize().into();
    [d[0], d[1], d[2], d[3]]
}

/// The verifier key text `name+<key id hex>+<base64(0x01 ‖ public key)>`.
pub fn verifier_key(name: &str, public: &[u8; 32]) -> String {
    let mut k = vec![ED25519_TYPE];
    k.extend_from_slice(public);
    format!("{name}+{}+{}", to_hex(&key_id(name, public)), base64(&k))
}

/// A simulated signing key, derived from the simulation seed: the Ed25519 secret key (RFC 8032
/// §5.1.5's 32-byte seed) is SHA-256("tamga-key-v1" ‖ 0x00 ‖ role ‖ 0x00 ‖ u64 seed ‖ u32
/// station ‖ u32 machine). Anyone who knows the seed can sign: fine for a simulation, never for
/// an election.
pub fn derive_signing_key(seed: u64, role: &str, station: u32, machine: u32) -> SigningKey {
    let mut h = Sha256::new();
    h.update(b"tamga-key-v1\0");
    h.update(role.as_bytes());
    h.update([0]);
    h.update(seed.to_be_bytes());
    h.update(station.to_be_bytes());
    h.update(machine.to_be_bytes());
    SigningKey::from_bytes(&h.finalize().into())
}

/// What a checkpoint states about a log at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's unique name (first line; also the signing key's name).
    pub origin: String,
    /// Leaves (entries) in the tree.
    pub size: u64,
    /// Merkle root of those leaves.
    pub root: EntryHash,
    /// Extension line `head <hex>`: the chain hash of the last entry in the tree (a machine's
    /// log); `None` for logs without a chain (the commission's log of heads).
    pub head: Option<EntryHash>,
}

/// The origin of a machine's log: `tamga/<election id hex>/station/<s>/machine/<m>`.
pub fn machine_origin(election_id: &[u8; 32], station: u32, machine: u32) -> String {
    format!(
        "tamga/{}/station/{station}/machine/{machine}",
        to_hex(election_id)
    )
}

/// The origin of the commission's log of machine heads: `tamga/<election id hex>/heads`.
pub fn heads_origin(election_id: &[u8; 32]) -> String {
    format!("tamga/{}/heads", to_hex(election_id))
}

/// Why a note or checkpoint is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// Not the layout of a signed note or checkpoint.
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    /// No signature by the expected key.
    #[error("no signature by {0}")]
    Unsigned(String),
    /// A signature by the expected key id that does not verify.
    #[error("the signature by {0} does not verify")]
    BadSignature(String),
    /// The checkpoint's origin is not the expected one.
    #[error("the checkpoint is for another log")]
    Origin,
}

impl Checkpoint {
    /// The note text: `origin\n size\n base64(root)\n [head <hex>\n]`.
    pub fn body(&self) -> String {
        let mut s = format!("{}\n{}\n{}\n", self.origin, self.size, base64(&self.root.0));
        if let Some(h) = &self.head {
            s.push_str(&format!("head {}\n", h.to_hex()));
        }
        s
    }

    /// Reads a checkpoint body strictly (canonical decimal size, 32-byte root, at most the one
    /// known extension line).
    pub fn parse_body(text: &str) -> Result<Checkpoint, NoteError> {
        let Some(lines) = text.strip_suffix('\n') else {
            return Err(NoteError::Malformed("the text does not end with a newline"));
        };
        let lines: Vec<&str> = lines.split('\n').collect();
        if !(3..=4).contains(&lines.len()) {
            return Err(NoteError::Malformed("a checkpoint has 3 or 4 lines"));
        }
        let origin = lines[0];
        if origin.is_empty() || origin.contains(' ') || origin.contains('+') {
            return Err(NoteError::Malformed(
                "the origin is empty or has a space or +",
            ));
        }
        let s = lines[1];
        if s.is_empty()
            || !s.bytes().all(|b| b.is_ascii_digit())
            || (s.len() > 1 && s.starts_with('0'))
        {
            return Err(NoteError::Malformed("the size is not a canonical decimal"));
        }
        let size: u64 = s
            .parse()
            .map_err(|_| NoteError::Malformed("the size is too large"))?;
        let root = unbase64(lines[2])
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or(NoteError::Malformed("the root is not 32 bytes of base64"))?;
        let head = match lines.get(3) {
            None => None,
            Some(l) => Some(
                l.strip_prefix("head ")
                    .filter(|h| !h.bytes().any(|b| b.is_ascii_uppercase()))
                    .and_then(EntryHash::from_hex)
                    .ok_or(NoteError::Malformed("the 4th line is not `head <64 hex>`"))?,
            ),
        };
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root: EntryHash(root),
            head,
        })
    }
}

/// Signs a note text (which must end with `\n`): the text, an empty line, and one signature line
/// `— <name> <base64(key id ‖ signature)>\n`. The key's name is `name`.
pub fn sign_note(text: &str, name: &str, key: &SigningKey) -> String {
    let sig = key.sign(text.as_bytes());
    let mut b = key_id(name, key.verifying_key().as_bytes()).to_vec();
    b.extend_from_slice(&sig.to_bytes());
    format!("{text}\n{SIGNATURE_PREFIX}{name} {}\n", base64(&b))
}

/// Opens a signed note: returns its text if a signature line by `name` with `public`'s key id
/// verifies (RFC 8032 strict verification). Other signature lines (e.g. witnesses' cosignatures)
/// are allowed and ignored.
pub fn open_note<'a>(note: &'a str, name: &str, public: &[u8; 32]) -> Result<&'a str, NoteError> {
    if note.len() > MAX_NOTE_BYTES {
        return Err(NoteError::Malformed("the note is longer than 4096 bytes"));
    }
    let Some(split) = note.find("\n\n") else {
        return Err(NoteError::Malformed("no empty line before the signatures"));
    };
    let text = &note[..split + 1];
    let sigs = &note[split + 2..];
    let Some(sigs) = sigs.strip_suffix('\n') else {
        return Err(NoteError::Malformed(
            "the signatures do not end with a newline",
        ));
    };
    let key = VerifyingKey::from_bytes(public)
        .map_err(|_| NoteError::Malformed("the public key is not an Ed25519 point"))?;
    let id = key_id(name, public);
    let mut found = false;
    for (i, line) in sigs.split('\n').enumerate() {
        if i >= MAX_SIGNATURES {
            return Err(NoteError::Malformed("more than 16 signature lines"));
        }
        let Some(rest) = line.strip_prefix(SIGNATURE_PREFIX) else {
            return Err(NoteError::Malformed(
                "a signature line does not start with `— `",
            ));
        };
        let Some((who, b64)) = rest.split_once(' ') else {
            return Err(NoteError::Malformed("a signature line has no signature"));
        };
        let Some(raw) = unbase64(b64) else {
            return Err(NoteError::Malformed("a signature is not base64"));
        };
        if who != name || raw.len() != 68 || raw[..4] != id {
            continue;
        }
        found = true;
        let sig = Signature::from_bytes(&raw[4..].try_into().unwrap_or([0; 64]));
        if key.verify_strict(text.as_bytes(), &sig).is_ok() {
            return Ok(text);
        }
    }
    if found {
        Err(NoteError::BadSignature(name.to_string()))
    } else {
        Err(NoteError::Unsigned(name.to_string()))
    }
}

/// Opens a signed checkpoint of the log named `origin`, signed by `public` under that name.
pub fn open_checkpoint(
    note: &str,
    origin: &str,
    public: &[u8; 32],
) -> Result<Checkpoint, NoteError> {
    let text = open_note(note, origin, public)?;
    let c = Checkpoint::parse_body(text)?;
    if c.origin != origin {
        return Err(NoteError::Origin);
    }
    Ok(c)
}

/// Splits a file of consecutive signed notes (each: text, empty line, signature lines) into
/// notes. A note's text never starts with `— `, so the next note starts at the first line after
/// a signature block that is not a signature line. At most `max` notes; `None` if there are more.
pub fn split_notes(file: &str, max: usize) -> Option<Vec<&str>> {
    let mut notes = Vec::new();
    let mut start = 0;
    let mut in_sigs = false;
    let mut pos = 0;
    for line in file.split_inclusive('\n') {
        if in_sigs && !line.starts_with(SIGNATURE_PREFIX) {
            notes.push(&file[start..pos]);
            if notes.len() > max {
                return None;
            }
            start = pos;
            in_sigs = false;
        }
        if line == "\n" {
            in_sigs = true;
        }
        pos += line.len();
    }
    if start < file.len() {
        notes.push(&file[start..]);
    }
    (notes.len() <= max).then_some(notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip_and_rejects() {
        for n in 0..40 {
            let b: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(unbase64(&base64(&b)).unwrap(), b);
        }
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"fo"), "Zm8=");
        for bad in ["Zm8", "Zm9=", "Z===", "Zm 8", "Zg==Zg==", "Zh=="] {
            assert!(unbase64(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn signed_checkpoint_round_trip_and_tampering() {
        let key = derive_signing_key(1, "machine", 3, 0);
        let public = key.verifying_key().to_bytes();
        let origin = machine_origin(&[7; 32], 3, 0);
        let c = Checkpoint {
            origin: origin.clone(),
            size: 130,
            root: EntryHash([9; 32]),
            head: Some(EntryHash([4; 32])),
        };
        let note = sign_note(&c.body(), &origin, &key);
        assert_eq!(open_checkpoint(&note, &origin, &public).unwrap(), c);
        // a changed size, another key, another origin
        let forged = note.replacen("\n130\n", "\n131\n", 1);
        assert_eq!(
            open_checkpoint(&forged, &origin, &public),
            Err(NoteError::BadSignature(origin.clone()))
        );
        let other = derive_signing_key(2, "machine", 3, 0)
            .verifying_key()
            .to_bytes();
        assert!(matches!(
            open_checkpoint(&note, &origin, &other),
            Err(NoteError::Unsigned(_))
        ));
        // two notes in one file split back
        let two = format!("{note}{note}");
        assert_eq!(split_notes(&two, 5).unwrap(), vec![&note[..], &note[..]]);
        assert!(split_notes(&two, 1).is_none());
        for junk in ["", "\n\n", "a\n\n— a b\n", "\u{2014} x\n\n"] {
            assert!(open_note(junk, "a", &public).is_err());
        }
    }
}
