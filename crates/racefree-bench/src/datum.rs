//! The key and value types a benchmark can use: `u64` and short `String`s.

use std::fmt::Debug;
use std::hash::Hash;

/// A key or value type: every one is made from a number, so workloads are
/// written once for all types.
pub trait Datum: Hash + Eq + Clone + Send + Sync + Debug + 'static {
    /// The datum for `x`; different numbers give different data.
    fn from_number(x: u64) -> Self;

    /// Turns `self` into `from_number(x)` reusing its memory, so lookups
    /// with a `String` key do not allocate.
    fn set_number(&mut self, x: u64);

    /// A different datum of the same size: what an update stores.
    fn bumped(&self) -> Self;
}

impl Datum for u64 {
    fn from_number(x: u64) -> Self {
        x
    }
    fn set_number(&mut self, x: u64) {
        *self = x;
    }
    fn bumped(&self) -> Self {
        self.wrapping_add(1)
    }
}

/// 16 lowercase hex digits: a short key, as in a cache of ids.
fn hex(x: u64) -> [u8; 16] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    std::array::from_fn(|i| DIGITS[(x >> (60 - 4 * i) & 0xf) as usize])
}

impl Datum for String {
    fn from_number(x: u64) -> Self {
        let mut s = String::with_capacity(16);
        s.set_number(x);
        s
    }
    fn set_number(&mut self, x: u64) {
        self.clear();
        self.push_str(std::str::from_utf8(&hex(x)).expect("hex digits are ASCII"));
    }
    fn bumped(&self) -> Self {
        // Same length, different last digit.
        let mut s = self.clone();
        let last = s.pop().map_or('0', |c| if c == 'f' { '0' } else { 'f' });
        s.push(last);
        s
    }
}

/// A key or value type, as chosen on the command line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DataType {
    /// `u64`.
    #[default]
    U64,
    /// A 16-character `String` (a number in hex).
    String,
}

impl DataType {
    /// The Rust type's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::U64 => "u64",
            Self::String => "String",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_sixteen_hex_digits_and_distinct() {
        assert_eq!(String::from_number(0xab), "00000000000000ab");
        assert_eq!(String::from_number(u64::MAX), "ffffffffffffffff");
        let mut reused = String::from_number(1);
        reused.set_number(2);
        assert_eq!(reused, String::from_number(2));
        assert_ne!(reused.bumped(), reused);
        assert_eq!(reused.bumped().len(), 16);
    }
}
