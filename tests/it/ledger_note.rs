//! Signed checkpoints (`ledger::note`): Ed25519 against RFC 8032 §7.1's test vectors, and the
//! checkpoint vector of `docs/ledger-format.md` §10 byte for byte (its key id recomputed here
//! from the signed-note rule, its signature verified).

use sha2::{Digest, Sha256};
use tamga::ledger::EntryHash;
use tamga::ledger::note::{
    Checkpoint, base64, derive_signing_key, key_id, machine_origin, open_checkpoint, sign_note,
    unbase64, verifier_key,
};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// RFC 8032 §7.1, TEST 1–3: (secret key, public key, message, signature).
const RFC8032: [(&str, &str, &str, &str); 3] = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
];

#[test]
fn ed25519_reproduces_rfc8032_test_vectors() {
    use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
    for (sk, pk, msg, sig) in RFC8032 {
        let key = SigningKey::from_bytes(&hex(sk).try_into().unwrap());
        assert_eq!(key.verifying_key().to_bytes().to_vec(), hex(pk));
        let s = key.sign(&hex(msg));
        assert_eq!(s.to_bytes().to_vec(), hex(sig));
        let vk = VerifyingKey::from_bytes(&hex(pk).try_into().unwrap()).unwrap();
        let sig = Signature::from_bytes(&hex(sig).try_into().unwrap());
        assert!(vk.verify_strict(&hex(msg), &sig).is_ok());
        let mut other = hex(msg);
        other.push(0);
        assert!(vk.verify_strict(&other, &sig).is_err());
    }
}

/// The vector block of docs/ledger-format.md §10: `key = value` lines.
fn doc_vector() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ledger-format.md"),
    )
    .unwrap();
    let start = doc.find("<!-- checkpoint-vector:begin -->").unwrap();
    let end = doc.find("<!-- checkpoint-vector:end -->").unwrap();
    doc[start..end]
        .lines()
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn checkpoint_vector_is_reproduced_byte_for_byte() {
    let v = doc_vector();
    let get = |k: &str| {
        v.iter()
            .find(|(key, _)| key == k)
            .unwrap_or_else(|| panic!("{k} missing from the vector"))
            .1
            .clone()
    };
    let election_id: [u8; 32] = hex(&get("election_id")).try_into().unwrap();
    let key = derive_signing_key(get("seed").parse().unwrap(), "machine", 1001, 2);
    assert_eq!(to_hex(&key.to_bytes()), get("secret_key"));
    let public = key.verifying_key().to_bytes();
    assert_eq!(to_hex(&public), get("public_key"));
    let origin = machine_origin(&election_id, 1001, 2);
    assert_eq!(origin, get("origin"));
    // key id: SHA-256(name ‖ 0x0a ‖ 0x01 ‖ key)[..4], computed here from the rule
    let mut h = Sha256::new();
    h.update(origin.as_bytes());
    h.update([0x0a, 0x01]);
    h.update(public);
    let id = h.finalize();
    assert_eq!(key_id(&origin, &public), id[..4]);
    assert_eq!(to_hex(&id[..4]), get("key_id"));
    assert_eq!(verifier_key(&origin, &public), get("verifier_key"));
    let c = Checkpoint {
        origin: origin.clone(),
        size: get("size").parse().unwrap(),
        root: EntryHash(hex(&get("root")).try_into().unwrap()),
        head: Some(EntryHash(hex(&get("head")).try_into().unwrap())),
    };
    let body = c.body();
    assert_eq!(to_hex(body.as_bytes()), get("body_hex"));
    let note = sign_note(&body, &origin, &key);
    assert_eq!(to_hex(note.as_bytes()), get("note_hex"));
    // the signature line's payload is key id ‖ signature
    let line = note.lines().last().unwrap();
    let payload = unbase64(line.rsplit(' ').next().unwrap()).unwrap();
    assert_eq!(payload[..4], id[..4]);
    assert_eq!(to_hex(&payload[4..]), get("signature"));
    assert_eq!(base64(&payload), line.rsplit(' ').next().unwrap());
    assert_eq!(open_checkpoint(&note, &origin, &public).unwrap(), c);
}

fn to_hex(b: &[u8]) -> String {
    tamga::ledger::to_hex(b)
}

/// `tools/verify_ledger.py` on a ledger with the given extra arguments: (exit code, stdout).
fn python(args: &[&std::ffi::OsStr]) -> (i32, String) {
    let out = std::process::Command::new("python3")
        .arg(crate::common::root().join("tools/verify_ledger.py"))
        .args(args)
        .output()
        .expect("python3 must be installed: tools/verify_ledger.py is part of the test suite");
    (
        out.status.code().expect("python3 exited by signal"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn python_verifier_checks_a_simulated_machines_checkpoints_and_proofs() {
    use crate::common::{tamga, tutorial};
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("p");
    tamga()
        .arg("simulate")
        .arg(tutorial())
        .args(["--seed", "3", "--out"])
        .arg(&pkg)
        .assert()
        .success();
    let proofs = std::fs::read_to_string(pkg.join("proofs.csv")).unwrap();
    let row: Vec<&str> = proofs.lines().nth(1).unwrap().split(',').collect();
    let (station, machine): (u32, u32) = (row[0].parse().unwrap(), row[1].parse().unwrap());
    let election = std::fs::read_to_string(pkg.join("election.txt")).unwrap();
    let key = tamga::package::ElectionManifest::parse(&election)
        .unwrap()
        .machine_key(station, machine)
        .unwrap();
    let ledger = pkg
        .join("ledgers")
        .join(tamga::package::ledger_file_name(station, machine));
    let notes = pkg.join(tamga::package::checkpoints_file_name(station, machine));
    let key = to_hex(&key);
    let run = |notes: &std::path::Path, proofs: &std::path::Path| {
        python(&[
            ledger.as_os_str(),
            "--heads".as_ref(),
            pkg.join("heads.txt").as_os_str(),
            "--checkpoints".as_ref(),
            notes.as_os_str(),
            "--key".as_ref(),
            key.as_ref(),
            "--proofs".as_ref(),
            proofs.as_os_str(),
        ])
    };
    let (code, out) = run(&notes, &pkg.join("proofs.csv"));
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("clean: "), "{out}");
    // a checkpoint's size changed: its signature no longer verifies
    let text = std::fs::read_to_string(&notes).unwrap();
    let first_size = text.lines().nth(1).unwrap();
    let bad = text.replacen(
        &format!("\n{first_size}\n"),
        &format!("\n{}\n", first_size.parse::<u64>().unwrap() + 1),
        1,
    );
    let bad_notes = dir.path().join("bad.notes");
    std::fs::write(&bad_notes, bad).unwrap();
    let (code, out) = run(&bad_notes, &pkg.join("proofs.csv"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("CheckpointInvalid"), "{out}");
    // a proof pointing at another entry
    let mut f: Vec<String> = row.iter().map(|s| s.to_string()).collect();
    f[3] = (f[3].parse::<u64>().unwrap() + 1).to_string();
    let bad_proofs = dir.path().join("bad.csv");
    std::fs::write(
        &bad_proofs,
        format!("{}\n{}\n", proofs.lines().next().unwrap(), f.join(",")),
    )
    .unwrap();
    let (code, out) = run(&notes, &bad_proofs);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("ProofInvalid"), "{out}");
}
