//! Building blocks shared by the maps.

pub(crate) mod huge_pages;
pub(crate) mod prefetch;
pub(crate) mod reader_slots;
pub(crate) mod reclaim;
pub(crate) mod reentry;
pub(crate) mod rendezvous;
pub(crate) mod rw_lock;
pub(crate) mod shrink;
pub(crate) mod spare;
pub(crate) mod sync;
