//! How a shared-key workload picks its keys, and `--distribution` parsing.

use std::fmt;
use std::str::FromStr;

use rand::SeedableRng;
use rand::distr::{Distribution as _, Uniform};
use rand::rngs::SmallRng;
use rand_distr::Zipf;

/// Which keys of a key space the operations hit.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Distribution {
    /// Every key alike.
    #[default]
    Uniform,
    /// The key of rank `r` (from 1) is hit in proportion to `1 / r^s`: a
    /// few hot keys take most of the traffic, as in caches and counters.
    Zipf(f64),
}

impl Distribution {
    /// `count` key indexes below `keys`, drawn with a fixed `seed`.
    pub fn draws(self, keys: u64, count: usize, seed: u64) -> Vec<u64> {
        let mut rng = SmallRng::seed_from_u64(seed);
        match self {
            Self::Uniform => {
                let uniform = Uniform::new(0, keys).expect("a key space is never empty");
                (0..count).map(|_| uniform.sample(&mut rng)).collect()
            }
            Self::Zipf(s) => {
                let zipf = Zipf::new(keys as f64, s).expect("checked when parsed");
                // Ranks run from 1; the hottest key is index 0.
                (0..count)
                    .map(|_| zipf.sample(&mut rng) as u64 - 1)
                    .collect()
            }
        }
    }
}

impl FromStr for Distribution {
    type Err = String;

    /// Parses `uniform` or `zipf:S` with an exponent `S` of 0 or more.
    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "uniform" {
            return Ok(Self::Uniform);
        }
        let exponent = text.strip_prefix("zipf:").ok_or_else(|| {
            format!("unknown distribution `{text}`: use `uniform` or `zipf:S`, as in `zipf:0.99`")
        })?;
        match exponent.parse::<f64>() {
            Ok(s) if s.is_finite() && s >= 0.0 => Ok(Self::Zipf(s)),
            _ => Err(format!(
                "`{exponent}` is not a Zipf exponent: give a number of 0 or more, as in `zipf:0.99`"
            )),
        }
    }
}

impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Uniform => f.write_str("uniform"),
            Self::Zipf(s) => write!(f, "zipf:{s}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_with_a_reason() {
        assert_eq!("uniform".parse(), Ok(Distribution::Uniform));
        assert_eq!("zipf:1.2".parse(), Ok(Distribution::Zipf(1.2)));
        let bad = "zipf:-1".parse::<Distribution>().unwrap_err();
        assert!(bad.contains("`-1` is not a Zipf exponent"), "{bad}");
        let bad = "normal".parse::<Distribution>().unwrap_err();
        assert!(bad.contains("unknown distribution `normal`"), "{bad}");
    }

    #[test]
    fn zipf_draws_favour_the_first_keys() {
        let draws = Distribution::Zipf(1.0).draws(1000, 100_000, 1);
        assert!(draws.iter().all(|&d| d < 1000));
        let hottest = draws.iter().filter(|&&d| d == 0).count();
        let coldest = draws.iter().filter(|&&d| d == 999).count();
        // Key 1 of 1000 under s = 1 takes about 13 % of the draws.
        assert!((10_000..16_000).contains(&hottest), "{hottest}");
        assert!(coldest < 100, "{coldest}");
        let uniform = Distribution::Uniform.draws(10, 10_000, 1);
        assert!((0..10).all(|k| uniform.contains(&k)));
    }
}
