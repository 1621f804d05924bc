//! Lockstep SHA-256: one-block compressions of several independent messages at once.
//!
//! Owns the compression kernels the ledger uses and the choice between them: an interleaved
//! SHA-NI kernel (x86-64 `sha256rnds2`/`sha256msg1`/`sha256msg2`, selected at run time by
//! `is_x86_feature_detected!`, never by compile-time target flags) and the portable fallback
//! (sha2's `compress256`, one lane after the other) on every other CPU and architecture. Both give
//! byte-identical states; tests check them against each other, against sha2, against a scalar
//! FIPS 180-4 reference and against the FIPS known answers. Never allocates, never panics.
//!
//! Why lanes: one hash chain is a *latency* bound — each `sha256rnds2` needs the result of the
//! previous one, so a single chain leaves the SHA unit idle most of the time. Compressing `N`
//! independent blocks with their rounds interleaved fills that idle time: the ledger verifier
//! checks `N` stored links of one ledger at once (each link depends only on stored bytes), and
//! [`super::append_lanes`] advances `N` machines' chains by one ballot each.

/// SHA-256 initial hash value H(0) (FIPS 180-4 §5.3.3).
pub const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Lanes of the ledger's lockstep paths (the verifier, and [`super::append_lanes`] callers such as
/// `tamga bench`). Four: on an AMD EPYC with SHA-NI two lanes were slower on every lockstep figure
/// of `tamga bench`, and more than four gained nothing beyond noise on the bare kernel — each
/// lane keeps six 128-bit values live, so four already spill the sixteen XMM registers
/// (`docs/BENCHMARKS.md` §Ledger).
pub const LANES: usize = 4;

/// Which compression kernel runs. Invariant: `sha_ni` is true only if this CPU has SHA-NI,
/// SSE2, SSSE3 and SSE4.1 (checked at run time when the value is made).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backend {
    sha_ni: bool,
}

impl Backend {
    /// sha2's `compress256`, one lane after the other: runs everywhere.
    pub const PORTABLE: Backend = Backend { sha_ni: false };

    /// The fastest kernel this CPU supports.
    #[inline]
    pub fn detect() -> Backend {
        Backend::sha_ni().unwrap_or(Backend::PORTABLE)
    }

    /// The interleaved SHA-NI kernel, if this CPU has it.
    #[inline]
    pub fn sha_ni() -> Option<Backend> {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("sha")
                && std::arch::is_x86_feature_detected!("sse2")
                && std::arch::is_x86_feature_detected!("ssse3")
                && std::arch::is_x86_feature_detected!("sse4.1")
            {
                return Some(Backend { sha_ni: true });
            }
        }
        None
    }

    /// `"sha-ni"` or `"portable"`.
    pub fn name(self) -> &'static str {
        if self.sha_ni { "sha-ni" } else { "portable" }
    }

    /// Compresses `blocks[i]` into `states[i]` for every lane `i` (FIPS 180-4 §6.2.2, one block
    /// each). The lanes are independent; any `N` works, 1–4 are the useful ones.
    #[inline]
    #[allow(unsafe_code)] // the SHA-NI kernel, called only after run-time detection
    pub fn compress<const N: usize>(self, states: &mut [[u32; 8]; N], blocks: &[[u8; 64]; N]) {
        #[cfg(target_arch = "x86_64")]
        if self.sha_ni {
            // SAFETY: `sha_ni` is only true when `Backend::sha_ni` detected every feature the
            // kernel is compiled with, on this CPU.
            unsafe { shani::compress(states, blocks) };
            return;
        }
        for (state, block) in states.iter_mut().zip(blocks) {
            sha2::block_api::compress256(state, core::slice::from_ref(block));
        }
    }
}

/// What follows the previous hash in a ballot entry's hashed input (`docs/ledger-format.md`
/// §2.1): its sequence number and body. With the previous hash it fixes the entry's one block
/// (`hash::ballot_block`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct BallotTail {
    /// The entry's sequence number.
    pub seq: u64,
    /// The list chosen (or `LIST_NONE`).
    pub list: u8,
    /// The district candidate chosen (or `CANDIDATE_NONE`).
    pub candidate: u16,
}

impl Backend {
    /// The final states and digests of `N` ballot entries, entry `i` hashing `prev[i]` (the
    /// previous entry's hash as the eight words of its final state, as [`Chain`] keeps its head)
    /// and `tails[i]`: lane `i` equals compressing `hash::ballot_block_words(&prev[i], …)` from
    /// the IV. The blocks are built in registers from the words, never in memory: a block
    /// written a few bytes at a time and read back sixteen at a time stalls every load
    /// (store forwarding fails), which cost the lockstep paths about a third of their time.
    ///
    /// [`Chain`]: super::Chain
    #[inline]
    #[allow(unsafe_code)] // the SHA-NI kernel, called only after run-time detection
    pub(crate) fn ballot_states<const N: usize>(
        self,
        prev: &[[u32; 8]; N],
        tails: &[BallotTail; N],
    ) -> ([[u32; 8]; N], [[u8; 32]; N]) {
        #[cfg(target_arch = "x86_64")]
        if self.sha_ni {
            // SAFETY: `sha_ni` is only true when `Backend::sha_ni` detected every feature the
            // kernel is compiled with, on this CPU.
            return unsafe { shani::ballots_from_words(prev, tails) };
        }
        let blocks: [[u8; 64]; N] = core::array::from_fn(|i| {
            let t = tails[i];
            super::hash::ballot_block_words(
                &prev[i],
                super::Seq(t.seq),
                super::hash::ballot_body(t.list, t.candidate),
            )
        });
        portable_ballots(blocks)
    }

    /// [`Backend::ballot_states`] with each previous hash given as its 32 digest bytes (as a
    /// ledger file stores it): lane `i` equals compressing `hash::ballot_block(&prev[i], …)`.
    #[inline]
    #[allow(unsafe_code)] // the SHA-NI kernel, called only after run-time detection
    pub(crate) fn ballot_states_from_bytes<const N: usize>(
        self,
        prev: &[[u8; 32]; N],
        tails: &[BallotTail; N],
    ) -> ([[u32; 8]; N], [[u8; 32]; N]) {
        #[cfg(target_arch = "x86_64")]
        if self.sha_ni {
            // SAFETY: as in `ballot_states`.
            return unsafe { shani::ballots_from_bytes(prev, tails) };
        }
        let blocks: [[u8; 64]; N] = core::array::from_fn(|i| {
            let t = tails[i];
            super::hash::ballot_block(
                &super::EntryHash(prev[i]),
                super::Seq(t.seq),
                super::hash::ballot_body(t.list, t.candidate),
            )
        });
        portable_ballots(blocks)
    }
}

impl Backend {
    /// The RFC 6962 node hashes `SHA-256(0x01 ‖ left[i] ‖ right[i])` of `N` pairs (two blocks
    /// each), the children given as their 32 digest bytes: lane `i` equals
    /// `merkle::node_hash(left[i], right[i])`. Both blocks are built in registers from the
    /// children's words (see [`Backend::ballot_states`] for why).
    #[inline]
    #[allow(unsafe_code)] // the SHA-NI kernel, called only after run-time detection
    pub(crate) fn node_hashes<const N: usize>(
        self,
        left: [&[u8; 32]; N],
        right: [&[u8; 32]; N],
    ) -> [[u8; 32]; N] {
        #[cfg(target_arch = "x86_64")]
        if self.sha_ni {
            // SAFETY: as in `ballot_states`.
            return unsafe { shani::nodes(left, right) };
        }
        core::array::from_fn(|i| {
            super::merkle::node_hash_portable(
                &super::EntryHash(*left[i]),
                &super::EntryHash(*right[i]),
            )
            .0
        })
    }
}

/// sha2's kernel on each block from the IV: the states and their digests.
fn portable_ballots<const N: usize>(blocks: [[u8; 64]; N]) -> ([[u32; 8]; N], [[u8; 32]; N]) {
    let mut states = [SHA256_IV; N];
    let mut digests = [[0u8; 32]; N];
    for ((s, d), b) in states.iter_mut().zip(digests.iter_mut()).zip(&blocks) {
        sha2::block_api::compress256(s, core::slice::from_ref(b));
        *d = super::hash::digest(*s).0;
    }
    (states, digests)
}

/// [`Backend::compress`] with the fastest kernel this CPU supports.
#[inline]
pub fn compress_lanes<const N: usize>(states: &mut [[u32; 8]; N], blocks: &[[u8; 64]; N]) {
    Backend::detect().compress(states, blocks)
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)] // intrinsics; every caller checks the CPU first
mod shani {
    use core::arch::x86_64::*;

    /// Round constants K (FIPS 180-4 §4.2.2).
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];

    /// Compresses one block per lane into `states` (see [`rounds`]).
    ///
    /// # Safety
    /// The CPU must support SHA, SSE2, SSSE3 and SSE4.1.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    pub(super) unsafe fn compress<const N: usize>(
        states: &mut [[u32; 8]; N],
        blocks: &[[u8; 64]; N],
    ) {
        let zero = _mm_setzero_si128();
        let mut input = [(zero, zero); N];
        for (i, s) in input.iter_mut().zip(states.iter()) {
            *i = (
                load(&[s[0], s[1], s[2], s[3]]),
                load(&[s[4], s[5], s[6], s[7]]),
            );
        }
        for (state, (dcba, hgfe)) in states.iter_mut().zip(rounds(input, blocks)) {
            let (lo, hi) = (store(dcba), store(hgfe));
            *state = [lo[0], lo[1], lo[2], lo[3], hi[0], hi[1], hi[2], hi[3]];
        }
    }

    /// Ballot entries from the IV, their previous hashes as state words (see
    /// [`super::Backend::ballot_states`]).
    ///
    /// # Safety
    /// The CPU must support SHA, SSE2, SSSE3 and SSE4.1.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    pub(super) unsafe fn ballots_from_words<const N: usize>(
        prev: &[[u32; 8]; N],
        tails: &[super::BallotTail; N],
    ) -> ([[u32; 8]; N], [[u8; 32]; N]) {
        let zero = _mm_setzero_si128();
        let mut p = [(zero, zero); N];
        for (p, w) in p.iter_mut().zip(prev) {
            *p = state_registers(w);
        }
        ballots(p, tails)
    }

    /// Ballot entries from the IV, their previous hashes as digest bytes (see
    /// [`super::Backend::ballot_states_from_bytes`]).
    ///
    /// # Safety
    /// The CPU must support SHA, SSE2, SSSE3 and SSE4.1.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    pub(super) unsafe fn ballots_from_bytes<const N: usize>(
        prev: &[[u8; 32]; N],
        tails: &[super::BallotTail; N],
    ) -> ([[u32; 8]; N], [[u8; 32]; N]) {
        let zero = _mm_setzero_si128();
        let mut p = [(zero, zero); N];
        for (p, b) in p.iter_mut().zip(prev) {
            *p = digest_words(b);
        }
        ballots(p, tails)
    }

    /// RFC 6962 node hashes (see [`super::Backend::node_hashes`]). The message
    /// `0x01 ‖ L ‖ R` (65 bytes) is two blocks; big-endian word by word, with `l0..l7` and
    /// `r0..r7` the children's words: `W0 = 0x01 << 24 | l0 >> 8`, `Wi = l(i−1) << 24 | li >> 8`
    /// for `i` in 1–7, `W8 = l7 << 24 | r0 >> 8`, `W(8+i) = r(i−1) << 24 | ri >> 8` for `i` in
    /// 1–7; then `r7 << 24 | 0x80 << 16`, fourteen zero words and `W15 = 520` (bits).
    ///
    /// # Safety
    /// The CPU must support SHA, SSE2, SSSE3 and SSE4.1.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    pub(super) unsafe fn nodes<const N: usize>(
        left: [&[u8; 32]; N],
        right: [&[u8; 32]; N],
    ) -> [[u8; 32]; N] {
        let zero = _mm_setzero_si128();
        let mut first = [[zero; 4]; N];
        let mut second = [[zero; 4]; N];
        for l in 0..N {
            [first[l], second[l]] = node_registers(left[l], right[l]);
        }
        let mid = rounds_words([iv(); N], first);
        let out = rounds_words(mid, second);
        let mut digests = [[0u8; 32]; N];
        for (d, state) in digests.iter_mut().zip(out) {
            store_digest(d, state);
        }
        digests
    }

    /// The ballot blocks' message words built in registers from the previous hashes' words
    /// `(p0..p3, p4..p7)` and the tails, compressed from the IV. The block is
    /// `0x42 ‖ prev ‖ seq ‖ list ‖ candidate ‖ 0x80 ‖ 0… ‖ 352` (bits), so, big-endian word by
    /// word: `W0 = 0x42 << 24 | p0 >> 8`, `Wi = p(i−1) << 24 | pi >> 8` for `i` in 1–7,
    /// `W8 = p7 << 24 | seq >> 40`, `W9 = seq >> 8`, `W10 = seq << 24 | list << 16 | candidate`,
    /// `W11 = 0x8000_0000`, `W12..W14 = 0`, `W15 = 352`.
    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn ballots<const N: usize>(
        prev: [(__m128i, __m128i); N],
        tails: &[super::BallotTail; N],
    ) -> ([[u32; 8]; N], [[u8; 32]; N]) {
        let zero = _mm_setzero_si128();
        let mut w = [[zero; 4]; N];
        for l in 0..N {
            w[l] = ballot_words(prev[l], tails[l]);
        }
        let out = rounds_words([iv(); N], w);
        let mut states = [[0u32; 8]; N];
        let mut digests = [[0u8; 32]; N];
        for l in 0..N {
            store_state(&mut states[l], out[l]);
            store_digest(&mut digests[l], out[l]);
        }
        (states, digests)
    }

    /// A ballot block's message words (see [`ballots`]) from the previous hash's words.
    #[inline]
    #[target_feature(enable = "sse2,ssse3")]
    fn ballot_words((p0, p1): (__m128i, __m128i), t: super::BallotTail) -> [__m128i; 4] {
        let tag = _mm_set_epi32(i32::from(crate::ledger::TAG_BALLOT), 0, 0, 0);
        let w3 = _mm_set_epi32(
            (super::super::hash::BALLOT_HASH_INPUT_LEN * 8) as i32,
            0,
            0,
            0,
        );
        let w8 = (t.seq >> 40) as u32;
        let w9 = (t.seq >> 8) as u32;
        let w10 = ((t.seq as u32) << 24) | (u32::from(t.list) << 16) | u32::from(t.candidate);
        let tail = _mm_set_epi32(i32::MIN, w10 as i32, w9 as i32, w8 as i32);
        [
            shifted(p0, tag),
            shifted(p1, p0),
            _mm_or_si128(tail, _mm_slli_epi32::<24>(_mm_srli_si128::<12>(p1))),
            w3,
        ]
    }

    /// The node's two blocks' message words in registers (see [`nodes`]).
    #[inline]
    #[target_feature(enable = "sse2,ssse3")]
    fn node_registers(left: &[u8; 32], right: &[u8; 32]) -> [[__m128i; 4]; 2] {
        let zero = _mm_setzero_si128();
        let tag = _mm_set_epi32(i32::from(crate::ledger::merkle::NODE_PREFIX), 0, 0, 0);
        let pad = _mm_set_epi32(0, 0, 0, 0x80 << 16);
        let len = _mm_set_epi32(65 * 8, 0, 0, 0);
        let (l0, l1) = digest_words(left);
        let (r0, r1) = digest_words(right);
        [
            [
                shifted(l0, tag),
                shifted(l1, l0),
                shifted(r0, l1),
                shifted(r1, r0),
            ],
            [
                _mm_or_si128(pad, _mm_slli_epi32::<24>(_mm_srli_si128::<12>(r1))),
                zero,
                zero,
                len,
            ],
        ]
    }

    /// A state's eight words as the registers `(DCBA, HGFE)`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn state_registers(s: &[u32; 8]) -> (__m128i, __m128i) {
        let (lo, hi) = s.as_chunks::<4>().0.split_at(1);
        (load(&lo[0]), load(&hi[0]))
    }

    /// Stores `(DCBA, HGFE)` as a state's eight words.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn store_state(out: &mut [u32; 8], (dcba, hgfe): (__m128i, __m128i)) {
        let (lo, hi) = out.as_chunks_mut::<4>().0.split_at_mut(1);
        store_into(&mut lo[0], dcba);
        store_into(&mut hi[0], hgfe);
    }

    /// The IV as the registers `(DCBA, HGFE)`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn iv() -> (__m128i, __m128i) {
        let [a, b, c, d, e, f, g, h] = super::SHA256_IV;
        (load(&[a, b, c, d]), load(&[e, f, g, h]))
    }

    /// Byte-swaps each 32-bit word (big-endian bytes ↔ words).
    #[inline]
    #[target_feature(enable = "ssse3")]
    fn bswap(v: __m128i) -> __m128i {
        _mm_shuffle_epi8(
            v,
            _mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203),
        )
    }

    /// A digest's 32 bytes as its eight words `(w0..w3, w4..w7)`.
    #[inline]
    #[target_feature(enable = "ssse3")]
    fn digest_words(b: &[u8; 32]) -> (__m128i, __m128i) {
        let (halves, _) = b.as_chunks::<16>();
        (bswap(load_bytes(&halves[0])), bswap(load_bytes(&halves[1])))
    }

    /// A final state `(DCBA, HGFE)` stored as its digest's 32 bytes, sixteen at a time.
    #[inline]
    #[target_feature(enable = "ssse3")]
    fn store_digest(out: &mut [u8; 32], (dcba, hgfe): (__m128i, __m128i)) {
        let (lo, hi) = out.as_chunks_mut::<16>().0.split_at_mut(1);
        store_bytes(&mut lo[0], bswap(dcba));
        store_bytes(&mut hi[0], bswap(hgfe));
    }

    /// The words `w` shifted down by one byte across words, the byte shifted in at the top of
    /// word 0 being the low byte of `before`'s word 3: `wi >> 8 | w(i−1) << 24`.
    #[inline]
    #[target_feature(enable = "ssse3")]
    fn shifted(v: __m128i, before: __m128i) -> __m128i {
        _mm_or_si128(
            _mm_srli_epi32::<8>(v),
            _mm_slli_epi32::<24>(_mm_alignr_epi8::<12>(v, before)),
        )
    }

    /// One block per lane compressed into its state, given and returned as the registers
    /// `(DCBA, HGFE)` (words 0–3 and 4–7, word 0 in the lowest element), with the rounds of all
    /// lanes interleaved — four rounds of every lane at a time, so that the lanes'
    /// `sha256rnds2` latencies overlap.
    ///
    /// Inside, the state is kept as the two registers the SHA extensions use, `ABEF` and `CDGH`
    /// (A in the highest element); message words are big-endian, so each 16-byte quarter of a
    /// block is byte-swapped per 32-bit word on load.
    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn rounds<const N: usize>(
        states: [(__m128i, __m128i); N],
        blocks: &[[u8; 64]; N],
    ) -> [(__m128i, __m128i); N] {
        let zero = _mm_setzero_si128();
        let mut w = [[zero; 4]; N];
        for l in 0..N {
            let (quarters, _) = blocks[l].as_chunks::<16>();
            for (wq, bytes) in w[l].iter_mut().zip(quarters) {
                *wq = bswap(load_bytes(bytes));
            }
        }
        rounds_words(states, w)
    }

    /// [`rounds`] with each lane's sixteen message words given as four registers (word `4q + i`
    /// in element `i` of register `q`).
    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn rounds_words<const N: usize>(
        states: [(__m128i, __m128i); N],
        mut w: [[__m128i; 4]; N],
    ) -> [(__m128i, __m128i); N] {
        let zero = _mm_setzero_si128();
        let mut abef = [zero; N];
        let mut cdgh = [zero; N];
        for l in 0..N {
            let (dcba, hgfe) = states[l];
            let cdab = _mm_shuffle_epi32::<0xB1>(dcba);
            let efgh = _mm_shuffle_epi32::<0x1B>(hgfe);
            abef[l] = _mm_alignr_epi8::<8>(cdab, efgh);
            cdgh[l] = _mm_blend_epi16::<0xF0>(efgh, cdab);
        }
        let (abef_in, cdgh_in) = (abef, cdgh);

        // Four rounds of every lane with message words `w[l][$q]` (rounds 4·$g … 4·$g + 3);
        // with `$next`, also the schedule's next four words into `w[l][$q]`:
        // W[t..t+4] = σ1-part(σ0-part(W[t−16..]) + W[t−7..]) — msg1, alignr, add, msg2.
        macro_rules! rounds {
            ($g:literal, $q:literal) => {{
                let k = load(&[K[4 * $g], K[4 * $g + 1], K[4 * $g + 2], K[4 * $g + 3]]);
                for l in 0..N {
                    let m = _mm_add_epi32(w[l][$q], k);
                    cdgh[l] = _mm_sha256rnds2_epu32(cdgh[l], abef[l], m);
                    abef[l] = _mm_sha256rnds2_epu32(abef[l], cdgh[l], _mm_shuffle_epi32::<0x0E>(m));
                }
            }};
            ($g:literal, $q:literal, next) => {{
                rounds!($g, $q);
                for l in 0..N {
                    let (w0, w1, w2, w3) = (
                        w[l][$q],
                        w[l][($q + 1) % 4],
                        w[l][($q + 2) % 4],
                        w[l][($q + 3) % 4],
                    );
                    let t =
                        _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8::<4>(w3, w2));
                    w[l][$q] = _mm_sha256msg2_epu32(t, w3);
                }
            }};
        }
        rounds!(0, 0, next);
        rounds!(1, 1, next);
        rounds!(2, 2, next);
        rounds!(3, 3, next);
        rounds!(4, 0, next);
        rounds!(5, 1, next);
        rounds!(6, 2, next);
        rounds!(7, 3, next);
        rounds!(8, 0, next);
        rounds!(9, 1, next);
        rounds!(10, 2, next);
        rounds!(11, 3, next);
        rounds!(12, 0);
        rounds!(13, 1);
        rounds!(14, 2);
        rounds!(15, 3);

        let mut out = [(zero, zero); N];
        for l in 0..N {
            let abef = _mm_add_epi32(abef[l], abef_in[l]);
            let cdgh = _mm_add_epi32(cdgh[l], cdgh_in[l]);
            let feba = _mm_shuffle_epi32::<0x1B>(abef);
            let dchg = _mm_shuffle_epi32::<0xB1>(cdgh);
            let dcba = _mm_blend_epi16::<0xF0>(feba, dchg);
            let hgfe = _mm_alignr_epi8::<8>(dchg, feba);
            out[l] = (dcba, hgfe);
        }
        out
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn load(v: &[u32; 4]) -> __m128i {
        // SAFETY: `v` is 16 readable bytes; `loadu` has no alignment requirement.
        unsafe { _mm_loadu_si128(v.as_ptr().cast()) }
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn load_bytes(v: &[u8; 16]) -> __m128i {
        // SAFETY: `v` is 16 readable bytes; `loadu` has no alignment requirement.
        unsafe { _mm_loadu_si128(v.as_ptr().cast()) }
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn store_into(out: &mut [u32; 4], v: __m128i) {
        // SAFETY: `out` is 16 writable bytes; `storeu` has no alignment requirement.
        unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), v) };
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn store_bytes(out: &mut [u8; 16], v: __m128i) {
        // SAFETY: `out` is 16 writable bytes; `storeu` has no alignment requirement.
        unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), v) };
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn store(v: __m128i) -> [u32; 4] {
        let mut out = [0u32; 4];
        // SAFETY: `out` is 16 writable bytes; `storeu` has no alignment requirement.
        unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), v) };
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// FIPS 180-4 §6.2.2 written out plainly, independent of sha2 and of any CPU extension.
    fn reference_compress(state: &mut [u32; 8], block: &[u8; 64]) {
        const K: [u32; 64] = [
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
            0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
            0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
            0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
            0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
            0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
            0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
            0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
            0xc67178f2,
        ];
        let mut w = [0u32; 64];
        for t in 0..16 {
            w[t] = u32::from_be_bytes(block[4 * t..4 * t + 4].try_into().unwrap());
        }
        for t in 16..64 {
            let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
            let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16]
                .wrapping_add(s0)
                .wrapping_add(w[t - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
        for t in 0..64 {
            let t1 = h
                .wrapping_add(e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25))
                .wrapping_add((e & f) ^ (!e & g))
                .wrapping_add(K[t])
                .wrapping_add(w[t]);
            let t2 = (a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22))
                .wrapping_add((a & b) ^ (a & c) ^ (b & c));
            (h, g, f, e, d, c, b, a) = (g, f, e, d.wrapping_add(t1), c, b, a, t1.wrapping_add(t2));
        }
        for (s, v) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
            *s = s.wrapping_add(v);
        }
    }

    /// The padded blocks of a message (FIPS 180-4 §5.1.1).
    fn pad(msg: &[u8]) -> Vec<[u8; 64]> {
        let mut m = msg.to_vec();
        m.push(0x80);
        while m.len() % 64 != 56 {
            m.push(0);
        }
        m.extend_from_slice(&((msg.len() as u64) * 8).to_be_bytes());
        m.chunks_exact(64).map(|c| c.try_into().unwrap()).collect()
    }

    fn backends() -> Vec<Backend> {
        let mut b = vec![Backend::PORTABLE];
        b.extend(Backend::sha_ni());
        b
    }

    /// FIPS 180-4 / NIST CSVS examples: "abc", the 448-bit message (two blocks) and "".
    #[test]
    fn known_answers_on_every_backend_and_lane() {
        let cases: [(&[u8], [u32; 8]); 3] = [
            (
                b"abc",
                [
                    0xba7816bf, 0x8f01cfea, 0x414140de, 0x5dae2223, 0xb00361a3, 0x96177a9c,
                    0xb410ff61, 0xf20015ad,
                ],
            ),
            (
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                [
                    0x248d6a61, 0xd20638b8, 0xe5c02693, 0x0c3e6039, 0xa33ce459, 0x64ff2167,
                    0xf6ecedd4, 0x19db06c1,
                ],
            ),
            (
                b"",
                [
                    0xe3b0c442, 0x98fc1c14, 0x9afbf4c8, 0x996fb924, 0x27ae41e4, 0x649b934c,
                    0xa495991b, 0x7852b855,
                ],
            ),
        ];
        for backend in backends() {
            for (msg, want) in cases {
                let blocks = pad(msg);
                // the same message in each of 3 lanes, the other lanes carrying other messages
                let mut states = [SHA256_IV; 3];
                for b in &blocks {
                    backend.compress(&mut states, &[*b, [0x11; 64], *b]);
                }
                assert_eq!(states[0], want, "{} {:?}", backend.name(), msg);
                assert_eq!(states[2], want, "{} {:?}", backend.name(), msg);
                let mut one = [SHA256_IV];
                for b in &blocks {
                    backend.compress(&mut one, &[*b]);
                }
                assert_eq!(one[0], want, "{} {:?}", backend.name(), msg);
            }
        }
    }

    #[test]
    fn detect_prefers_sha_ni_where_present() {
        let d = Backend::detect();
        assert_eq!(d == Backend::PORTABLE, Backend::sha_ni().is_none());
        assert_eq!(Backend::PORTABLE.name(), "portable");
    }

    fn check_lanes<const N: usize>(states: [[u32; 8]; N], blocks: [[u8; 64]; N]) {
        let mut want = states;
        for (s, b) in want.iter_mut().zip(&blocks) {
            reference_compress(s, b);
        }
        let mut sha2 = states;
        for (s, b) in sha2.iter_mut().zip(&blocks) {
            sha2::block_api::compress256(s, &[*b]);
        }
        assert_eq!(sha2, want);
        for backend in backends() {
            let mut got = states;
            backend.compress(&mut got, &blocks);
            assert_eq!(got, want, "{}", backend.name());
        }
        let mut got = states;
        compress_lanes(&mut got, &blocks);
        assert_eq!(got, want);
    }

    fn block() -> impl Strategy<Value = [u8; 64]> {
        prop::array::uniform32(any::<u8>())
            .prop_flat_map(|a| prop::array::uniform32(any::<u8>()).prop_map(move |b| (a, b)))
            .prop_map(|(a, b)| core::array::from_fn(|i| if i < 32 { a[i] } else { b[i - 32] }))
    }

    /// The ballot kernels against the streaming SHA-256 of the entry's 44 bytes
    /// (`docs/ledger-format.md` §2.1), built here byte by byte, on every backend and lane count.
    fn check_ballots<const N: usize>(prev: [[u8; 32]; N], tails: [BallotTail; N]) {
        use sha2::Digest;
        let want: [[u8; 32]; N] = core::array::from_fn(|i| {
            let t = tails[i];
            let mut msg = vec![crate::ledger::TAG_BALLOT];
            msg.extend_from_slice(&prev[i]);
            msg.extend_from_slice(&t.seq.to_be_bytes());
            msg.push(t.list);
            msg.extend_from_slice(&t.candidate.to_be_bytes());
            assert_eq!(msg.len(), 44);
            sha2::Sha256::digest(&msg).into()
        });
        let words: [[u32; 8]; N] =
            core::array::from_fn(|i| super::super::hash::words(&crate::ledger::EntryHash(prev[i])));
        for backend in backends() {
            let (states, digests) = backend.ballot_states(&words, &tails);
            assert_eq!(digests, want, "{} from words", backend.name());
            for (s, d) in states.iter().zip(&digests) {
                assert_eq!(super::super::hash::digest(*s).0, *d, "{}", backend.name());
            }
            let (states_b, digests_b) = backend.ballot_states_from_bytes(&prev, &tails);
            assert_eq!(digests_b, want, "{} from bytes", backend.name());
            assert_eq!(states_b, states, "{}", backend.name());
        }
    }

    /// The node kernel against the streaming SHA-256 of `0x01 ‖ left ‖ right`.
    fn check_nodes<const N: usize>(left: [[u8; 32]; N], right: [[u8; 32]; N]) {
        use sha2::Digest;
        let want: [[u8; 32]; N] = core::array::from_fn(|i| {
            let mut h = sha2::Sha256::new();
            h.update([0x01]);
            h.update(left[i]);
            h.update(right[i]);
            h.finalize().into()
        });
        for backend in backends() {
            let got = backend.node_hashes(left.each_ref(), right.each_ref());
            assert_eq!(got, want, "{}", backend.name());
        }
    }

    fn tail() -> impl Strategy<Value = BallotTail> {
        (any::<u64>(), any::<u8>(), any::<u16>()).prop_map(|(seq, list, candidate)| BallotTail {
            seq,
            list,
            candidate,
        })
    }

    proptest! {
        #[test]
        fn ballot_kernels_hash_the_entry_bytes(
            prev in prop::array::uniform4(prop::array::uniform32(any::<u8>())),
            tails in prop::array::uniform4(tail()),
        ) {
            check_ballots::<1>([prev[0]], [tails[0]]);
            check_ballots::<3>([prev[0], prev[1], prev[2]], [tails[0], tails[1], tails[2]]);
            check_ballots::<LANES>(
                core::array::from_fn(|i| prev[i % 4]),
                core::array::from_fn(|i| tails[i % 4]),
            );
        }

        #[test]
        fn node_kernel_hashes_the_node_bytes(
            left in prop::array::uniform4(prop::array::uniform32(any::<u8>())),
            right in prop::array::uniform4(prop::array::uniform32(any::<u8>())),
        ) {
            check_nodes::<1>([left[0]], [right[0]]);
            check_nodes::<LANES>(
                core::array::from_fn(|i| left[i % 4]),
                core::array::from_fn(|i| right[i % 4]),
            );
        }

        #[test]
        fn lanes_equal_reference_and_sha2(
            states in prop::array::uniform4(prop::array::uniform8(any::<u32>())),
            blocks in prop::array::uniform4(block()),
        ) {
            check_lanes::<1>([states[0]], [blocks[0]]);
            check_lanes::<2>([states[0], states[1]], [blocks[0], blocks[1]]);
            check_lanes::<3>([states[0], states[1], states[2]], [blocks[0], blocks[1], blocks[2]]);
            check_lanes::<4>(states, blocks);
            check_lanes::<LANES>(
                core::array::from_fn(|i| states[i % 4]),
                core::array::from_fn(|i| blocks[i % 4]),
            );
        }
    }
}
