//! A package as one byte string, for the `audit_package` target: records of
//! `[name length: u8][name][data length: u32 LE][data]`, package-relative names
//! (`manifest.json`, `ledgers/station-00003-m0.tgl`, …). `fuzz/pack_package.py` writes a
//! package directory in this form (the seeds). The mutator edits one file at a time (or drops,
//! copies or truncates one), so mutations stay within a package's structure instead of
//! breaking the container.

/// One file of a package.
pub struct File {
    pub name: Vec<u8>,
    pub data: Vec<u8>,
}

/// Reads the records; `None` if the bytes are not a sequence of whole records.
pub fn parse(mut bytes: &[u8]) -> Option<Vec<File>> {
    let mut files = Vec::new();
    while let Some((&n, rest)) = bytes.split_first() {
        let (name, rest) = rest.split_at_checked(n as usize)?;
        let (len, rest) = rest.split_at_checked(4)?;
        let len = u32::from_le_bytes(len.try_into().ok()?) as usize;
        let (data, rest) = rest.split_at_checked(len)?;
        files.push(File {
            name: name.to_vec(),
            data: data.to_vec(),
        });
        bytes = rest;
    }
    Some(files)
}

/// Writes the records (names longer than 255 bytes are cut).
pub fn write(files: &[File]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in files {
        let name = &f.name[..f.name.len().min(255)];
        out.push(name.len() as u8);
        out.extend_from_slice(name);
        out.extend_from_slice(&(f.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&f.data);
    }
    out
}

/// A small deterministic generator for the mutator's choices.
pub struct Choices(u64);

impl Choices {
    pub fn new(seed: u32) -> Choices {
        Choices(u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// Mutates one package: usually one file's bytes (through `mutate_bytes`, libFuzzer's own
/// mutator), sometimes the package's shape. Returns the new container, or `None` when the input
/// is not a container (the caller then mutates raw bytes).
pub fn mutate(
    input: &[u8],
    seed: u32,
    mutate_bytes: impl Fn(&mut [u8], usize, usize) -> usize,
) -> Option<Vec<u8>> {
    let mut files = parse(input)?;
    if files.is_empty() {
        return None;
    }
    let mut c = Choices::new(seed);
    let i = c.below(files.len());
    match c.below(20) {
        // drop a file
        0 if files.len() > 1 => {
            files.remove(i);
        }
        // one file's bytes copied over another's (a ledger swapped, heads replaced, …)
        1 => {
            let j = c.below(files.len());
            files[i].data = files[j].data.clone();
        }
        // a file truncated
        2 => {
            let keep = c.below(files[i].data.len() + 1);
            files[i].data.truncate(keep);
        }
        // a file renamed to another's name plus a suffix digit (a ledger of another machine)
        3 => {
            let j = c.below(files.len());
            let mut name = files[j].name.clone();
            if let Some(d) = name.iter().rposition(u8::is_ascii_digit) {
                name[d] = b'0' + c.below(10) as u8;
            }
            files[i].name = name;
        }
        // the usual case: mutate one file's bytes, leaving the manifest alone most of the time
        _ => {
            let mut k = i;
            if files[k].name == b"manifest.json" && c.below(8) != 0 {
                k = (k + 1) % files.len();
            }
            let data = &mut files[k].data;
            let len = data.len();
            let cap = len * 2 + 64;
            data.resize(cap, 0);
            let n = mutate_bytes(data, len, cap);
            data.truncate(n);
        }
    }
    Some(write(&files))
}
