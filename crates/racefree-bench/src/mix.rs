//! An operation mix, and `--mix` parsing.

use std::fmt;
use std::str::FromStr;

/// Percentages of each operation; they add up to 100.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mix {
    /// Reads of a live key.
    pub read: u8,
    /// Inserts of a fresh key.
    pub insert: u8,
    /// Removes of the thread's oldest live key.
    pub remove: u8,
    /// Updates of a live key (never inserts).
    pub update: u8,
    /// `get_or_insert` (Go `LoadOrStore`): of a live key every other
    /// time, which it must find, and of a fresh key otherwise, which it
    /// must store.
    pub get_or_insert: u8,
    /// `compare_and_swap` of a live key from its value, which must succeed.
    pub compare_and_swap: u8,
}

const NAMES: &str = "read, insert, remove, update, get_or_insert, compare_and_swap";

impl Mix {
    /// Each operation's name and share, in a fixed order.
    pub fn shares(&self) -> [(&'static str, u8); 6] {
        [
            ("read", self.read),
            ("insert", self.insert),
            ("remove", self.remove),
            ("update", self.update),
            ("get_or_insert", self.get_or_insert),
            ("compare_and_swap", self.compare_and_swap),
        ]
    }
}

impl FromStr for Mix {
    type Err = String;

    /// Parses `read=90,insert=5,remove=5,update=0`; operations left out are 0.
    fn from_str(text: &str) -> Result<Self, String> {
        let mut mix = Mix::default();
        let mut given: Vec<&str> = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, share) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` needs a percentage, as in `read=90`"))?;
            let (name, share) = (name.trim(), share.trim());
            let slot = match name {
                "read" => &mut mix.read,
                "insert" => &mut mix.insert,
                "remove" => &mut mix.remove,
                "update" => &mut mix.update,
                "get_or_insert" => &mut mix.get_or_insert,
                "compare_and_swap" => &mut mix.compare_and_swap,
                _ => {
                    return Err(format!(
                        "unknown operation `{name}`; the operations are {NAMES}"
                    ));
                }
            };
            if given.contains(&name) {
                return Err(format!("`{name}` is given twice"));
            }
            given.push(name);
            *slot = share
                .parse::<u8>()
                .ok()
                .filter(|&p| p <= 100)
                .ok_or_else(|| {
                    format!("`{name}={share}`: the percentage must be a whole number from 0 to 100")
                })?;
        }
        if given.is_empty() {
            return Err(format!(
                "the mix is empty; give percentages of {NAMES}, as in read=90,insert=5,remove=5"
            ));
        }
        let total: u32 = mix
            .shares()
            .iter()
            .map(|&(_, share)| u32::from(share))
            .sum();
        if total != 100 {
            return Err(format!("the percentages add up to {total}, not 100"));
        }
        Ok(mix)
    }
}

impl fmt::Display for Mix {
    /// The operations with a share, as `--mix` takes them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let given: Vec<String> = self
            .shares()
            .iter()
            .filter(|&&(_, share)| share > 0)
            .map(|(name, share)| format!("{name}={share}"))
            .collect();
        f.write_str(&given.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_mix_and_prints_it_back() {
        let mix: Mix = "read=90, insert=5,get_or_insert=3,compare_and_swap=2"
            .parse()
            .unwrap();
        assert_eq!(
            mix,
            Mix {
                read: 90,
                insert: 5,
                get_or_insert: 3,
                compare_and_swap: 2,
                ..Mix::default()
            }
        );
        assert_eq!(
            mix.to_string(),
            "read=90,insert=5,get_or_insert=3,compare_and_swap=2"
        );
        assert_eq!(mix.to_string().parse::<Mix>().unwrap(), mix);
    }

    #[test]
    fn bad_mixes_say_what_is_wrong() {
        for (text, says) in [
            ("read=90,insert=5", "add up to 95, not 100"),
            ("read=90,delete=10", "unknown operation `delete`"),
            ("read90", "`read90` needs a percentage"),
            ("read=x", "`read=x`: the percentage must be a whole number"),
            ("read=300", "from 0 to 100"),
            ("read=50,read=50", "`read` is given twice"),
            ("", "the mix is empty"),
        ] {
            let error = text.parse::<Mix>().unwrap_err();
            assert!(error.contains(says), "{text:?} gave {error:?}");
        }
    }
}
