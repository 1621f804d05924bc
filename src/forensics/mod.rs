//! Election forensics: fraud fingerprints in real polling-station results.
//!
//! (module docs completed below as parts land)

pub mod integer;
pub mod results;
