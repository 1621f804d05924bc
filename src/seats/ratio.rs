//! Exact non-negative fractions for thresholds and divisors, and their parsing from `7%`,
//! `0.07` or `7/100`. Never uses floating point.

use super::SeatError;
use serde::Serialize;
use std::fmt;

/// An exact non-negative share `num/den`, `den > 0`. [`Ratio::parse`] returns it in lowest
/// terms; a `Ratio` built by hand need not be reduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Ratio {
    pub num: u64,
    pub den: u64,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Ratio {
    /// `num/den` in lowest terms; `den` must be > 0.
    pub fn new(num: u64, den: u64) -> Result<Ratio, SeatError> {
        if den == 0 {
            return Err(SeatError::BadRatio {
                input: format!("{num}/{den}"),
                reason: "the denominator is 0",
            });
        }
        let g = gcd(num, den).max(1);
        Ok(Ratio {
            num: num / g,
            den: den / g,
        })
    }

    /// Parses `7%`, `4.5%`, `0.07`, `1.4` or `7/100` (surrounding spaces allowed). No signs, no
    /// exponents; at most 17 digits after the decimal point.
    pub fn parse(s: &str) -> Result<Ratio, SeatError> {
        let bad = |reason| SeatError::BadRatio {
            input: s.to_string(),
            reason,
        };
        let t = s.trim();
        if t.is_empty() {
            return Err(bad("it is empty"));
        }
        if let Some(pct) = t.strip_suffix('%') {
            let (num, den) = decimal(pct.trim_end()).map_err(bad)?;
            let den = den
                .checked_mul(100)
                .ok_or_else(|| bad("it has too many digits"))?;
            return Ratio::new(num, den);
        }
        if let Some((a, b)) = t.split_once('/') {
            let num = integer(a.trim()).map_err(bad)?;
            let den = integer(b.trim()).map_err(bad)?;
            if den == 0 {
                return Err(bad("the denominator is 0"));
            }
            return Ratio::new(num, den);
        }
        let (num, den) = decimal(t).map_err(bad)?;
        Ratio::new(num, den)
    }

    /// The share as a percentage when it has at most 6 decimals (`7%`, `4.5%`), else the
    /// fraction (`1/3`).
    pub fn percent(&self) -> String {
        let (num, den) = (u128::from(self.num), u128::from(self.den));
        for k in 0..=6u32 {
            let scaled = num * 100 * 10u128.pow(k);
            if den != 0 && scaled.is_multiple_of(den) {
                let v = scaled / den;
                let p = 10u128.pow(k);
                return if k == 0 {
                    format!("{v}%")
                } else {
                    let frac = format!("{:0width$}", v % p, width = k as usize);
                    format!("{}.{}%", v / p, frac.trim_end_matches('0'))
                };
            }
        }
        self.to_string()
    }

    /// True when the share is at most 1 (100 %).
    pub fn at_most_one(&self) -> bool {
        self.num <= self.den
    }
}

fn integer(s: &str) -> Result<u64, &'static str> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err("expected digits only");
    }
    s.parse::<u64>().map_err(|_| "the number is too large")
}

/// `12.345` → (12345, 1000).
fn decimal(s: &str) -> Result<(u64, u64), &'static str> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() {
        return Err("there is no number");
    }
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(
            "only digits and one decimal point are allowed (no signs, letters or exponents)",
        );
    }
    if frac.len() > 17 {
        return Err("it has too many digits after the decimal point");
    }
    let den = 10u64.pow(frac.len() as u32);
    let i: u64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| "the number is too large")?
    };
    let f: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| "the number is too large")?
    };
    let num = i
        .checked_mul(den)
        .and_then(|x| x.checked_add(f))
        .ok_or("the number is too large")?;
    Ok((num, den))
}

impl fmt::Display for Ratio {
    /// `7/100`, or the whole number when the denominator is 1.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_spellings_to_the_same_ratio() {
        let r = Ratio { num: 7, den: 100 };
        assert_eq!(Ratio::parse("7%").unwrap(), r);
        assert_eq!(Ratio::parse("0.07").unwrap(), r);
        assert_eq!(Ratio::parse(" 7/100 ").unwrap(), r);
        assert_eq!(Ratio::parse("14/200").unwrap(), r);
        assert_eq!(Ratio::parse("4.5%").unwrap(), Ratio { num: 9, den: 200 });
        assert_eq!(Ratio::parse("1.4").unwrap(), Ratio { num: 7, den: 5 });
        assert_eq!(Ratio::parse(".5").unwrap(), Ratio { num: 1, den: 2 });
        assert_eq!(Ratio::parse("0").unwrap(), Ratio { num: 0, den: 1 });
        assert_eq!(Ratio::parse("7%").unwrap().percent(), "7%");
        assert_eq!(Ratio::parse("0.045").unwrap().percent(), "4.5%");
        assert_eq!(Ratio::parse("1/3").unwrap().percent(), "1/3");
    }

    #[test]
    fn rejects_junk_with_a_reason() {
        for s in [
            "",
            "%",
            "-5%",
            "abc",
            "7/0",
            "1e-2",
            ".",
            "5/x",
            "0.123456789012345678",
        ] {
            match Ratio::parse(s) {
                Err(SeatError::BadRatio { input, .. }) => assert_eq!(input, s),
                other => panic!("{s:?} gave {other:?}"),
            }
        }
    }
}
