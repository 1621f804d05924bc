//! Value parsers for numeric options. Every numeric option takes negative numbers as values
//! (`allow_negative_numbers`), so `--runs -5` or `--receipt-rate -0.1` reaches a check that
//! says what is expected, instead of clap's "unexpected argument '-5'".

/// A whole number of zero or more that fits `T`: a negative number, a fraction or text is
/// refused with what to give instead.
pub fn whole<T: TryFrom<u64>>(s: &str) -> Result<T, String> {
    let t = s.trim();
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = t.strip_prefix('-')
        && rest.parse::<f64>().is_ok()
    {
        return Err("it is negative; give a whole number of zero or more".into());
    }
    if !digits(t) {
        return Err(if t.parse::<f64>().is_ok() {
            "it is not a whole number; give one such as 100".into()
        } else {
            "it is not a number; give a whole number such as 100".into()
        });
    }
    t.parse::<u64>()
        .ok()
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| format!("it is too large (at most {})", max::<T>()))
}

/// The largest `T` that a `u64` fits into.
fn max<T: TryFrom<u64>>() -> u64 {
    // binary search over the u64 range: T is one of u32, u64, usize
    let (mut lo, mut hi) = (0u64, u64::MAX);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if T::try_from(mid).is_ok() {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_and_what_is_refused() {
        assert_eq!(whole::<u32>("100"), Ok(100));
        assert_eq!(whole::<u64>(" 7 "), Ok(7));
        assert!(whole::<u32>("-5").unwrap_err().contains("negative"));
        assert!(whole::<u32>("-0.1").unwrap_err().contains("negative"));
        assert!(
            whole::<u32>("2.5")
                .unwrap_err()
                .contains("not a whole number")
        );
        assert!(whole::<u32>("ten").unwrap_err().contains("not a number"));
        assert!(whole::<u32>("").unwrap_err().contains("not a number"));
        assert_eq!(
            whole::<u32>("4294967296").unwrap_err(),
            "it is too large (at most 4294967295)"
        );
        assert!(
            whole::<u64>("99999999999999999999")
                .unwrap_err()
                .contains("too large")
        );
    }
}
