//! An operation mix, and `--mix` parsing.

use std::fmt;
use std::str::FromStr;

/// Percentages of each operation; they add up to 100.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mix {
    /// Reads of a live key.
    pub read: u8,
    /// Inserts of a fresh key.
    pub insert: u8,
    /// Removes of the thread's oldest live key.
    pub remove: u8,
    /// Updates of a live key (never inserts).
    pub update: u8,
}

const NAMES: &str = "read, insert, remove, update";

impl FromStr for Mix {
    type Err = String;

    /// Parses `read=90,insert=5,remove=5,update=0`; operations left out are 0.
    fn from_str(text: &str) -> Result<Self, String> {
        let mut mix = Mix {
            read: 0,
            insert: 0,
            remove: 0,
            update: 0,
        };
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
        let total = u32::from(mix.read)
            + u32::from(mix.insert)
            + u32::from(mix.remove)
            + u32::from(mix.update);
        if total != 100 {
            return Err(format!("the percentages add up to {total}, not 100"));
        }
        Ok(mix)
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "read={},insert={},remove={},update={}",
            self.read, self.insert, self.remove, self.update
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_mix_and_prints_it_back() {
        let mix: Mix = "read=90, insert=5,remove=5".parse().unwrap();
        assert_eq!(
            mix,
            Mix {
                read: 90,
                insert: 5,
                remove: 5,
                update: 0
            }
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
