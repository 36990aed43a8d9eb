//! When a table that removals left mostly empty gives memory back: the
//! rule [`LockedTable`](crate::locked_table::LockedTable) and
//! [`OwnedMap`](crate::OwnedMap) share.

/// A table shrinks when it is less than one eighth full, to twice its
/// length. Growth doubles, so a table must lose three quarters of its
/// entries between two shrinks: the cost stays amortised O(1) per removal.
const SHRINK_BELOW: usize = 8;
/// Tables this small are never shrunk; it is not worth the rehash.
const MIN_SHRINK_CAPACITY: usize = 64;

/// The capacity to shrink a table of `len` entries and `capacity` to after
/// a removal, if it should shrink: never below `reserved`, the capacity it
/// was made with, since a caller who reserved room for a million entries
/// and removes a few while the table is still sparse expects to keep it
/// (std's maps never shrink by themselves at all).
#[inline]
pub(crate) fn shrunk_capacity(len: usize, capacity: usize, reserved: usize) -> Option<usize> {
    (capacity >= MIN_SHRINK_CAPACITY && len < capacity / SHRINK_BELOW && capacity > reserved)
        .then(|| (len * 2).max(reserved))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrinks_sparse_tables_to_twice_their_length_but_not_below_the_reservation() {
        assert_eq!(shrunk_capacity(10, 1000, 0), Some(20));
        assert_eq!(shrunk_capacity(200, 1000, 0), None, "a fifth full");
        assert_eq!(shrunk_capacity(1, 56, 0), None, "too small to bother");
        assert_eq!(shrunk_capacity(10, 1000, 500), Some(500));
        assert_eq!(shrunk_capacity(10, 1000, 1000), None);
    }
}
