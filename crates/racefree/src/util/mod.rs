//! Building blocks shared by the maps.

pub(crate) mod reentry;
