//! A wrong map for tests: it drops every 16th insert while reporting it
//! stored, so the workloads' checks can be shown to catch a map that
//! loses data.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::adapter::{BenchMap, StdRwLockMap};

/// `RwLock<HashMap>` that silently loses every 16th insert.
pub(crate) struct LossyMap {
    inner: StdRwLockMap<u64, u64>,
    inserts: AtomicU64,
}

impl BenchMap<u64, u64> for LossyMap {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            inner: BenchMap::with_capacity(capacity),
            inserts: AtomicU64::new(0),
        }
    }
    fn get<R: Send>(&self, key: &u64, read: impl FnOnce(&u64) -> R + Send) -> Option<R> {
        self.inner.get(key, read)
    }
    fn insert(&self, key: u64, value: u64) -> bool {
        if self.inserts.fetch_add(1, Ordering::Relaxed) % 16 == 15 {
            return self.inner.get(&key, |_| ()).is_none();
        }
        self.inner.insert(key, value)
    }
    fn remove(&self, key: &u64) -> bool {
        self.inner.remove(key)
    }
    fn update(&self, key: &u64, f: impl Fn(&u64) -> u64 + Send + Sync) -> bool {
        self.inner.update(key, f)
    }
    fn get_or_insert(&self, key: u64, value: u64) -> bool {
        self.inner.get_or_insert(key, value)
    }
    fn compare_and_swap(&self, key: &u64, current: &u64, new: u64) -> bool {
        self.inner.compare_and_swap(key, current, new)
    }
    fn count_entries(&self) -> usize {
        self.inner.count_entries()
    }
    fn first_key(&self) -> Option<u64> {
        self.inner.first_key()
    }
    fn size(&self) -> usize {
        self.inner.size()
    }
}
