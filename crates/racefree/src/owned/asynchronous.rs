//! `async` variants of [`OwnedMap`]'s calls (feature `async`): the caller's
//! task waits for the owner's reply without blocking its runtime's thread.
//! They work with any executor.
//!
//! An async call may be cancelled (its future dropped) while the owner
//! still holds the request, so unlike a blocking call it cannot borrow from
//! the caller: its closure and arguments are owned (`'static`), and each
//! call allocates the request and a one-shot reply channel.

use std::panic::{self, AssertUnwindSafe};

use futures_channel::oneshot;

use super::{OwnedMap, Request, Table, owner_gone};
use crate::Action;
use crate::util::reentry;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};

impl<K, V, S> OwnedMap<K, V, S>
where
    K: Hash + Eq + Send + 'static,
    V: Send + 'static,
    S: BuildHasher + Send + 'static,
{
    /// Runs `f` on the owner thread with the table, or resumes its panic
    /// in the awaiting task. If the future is dropped first, the call
    /// still takes effect; only its result is lost.
    async fn call_async<R: Send + 'static>(
        &self,
        operation: &'static str,
        f: impl FnOnce(&mut Table<K, V, S>) -> R + Send + 'static,
    ) -> R {
        let id = self.id();
        reentry::check(id, "OwnedMap", operation);
        let (reply, answer) = oneshot::channel();
        let work = Box::new(move |table: &mut Table<K, V, S>| {
            let result = {
                let _scope = reentry::enter(id, operation);
                panic::catch_unwind(AssertUnwindSafe(|| f(&mut *table)))
            };
            table.settle();
            // The caller may have stopped waiting; the call still happened.
            let _ = reply.send(result);
        });
        if self.requests().send(Request::Owned(work)).is_err() {
            owner_gone();
        }
        match answer.await {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => panic::resume_unwind(panic),
            Err(oneshot::Canceled) => owner_gone(),
        }
    }

    /// [`with_map`](Self::with_map), awaited.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use racefree::OwnedMap;
    ///
    /// let counters = OwnedMap::<&str, u64>::new();
    /// let total = counters
    ///     .with_map_async(|map| {
    ///         *map.entry("hits").or_default() += 1;
    ///         map.values().sum::<u64>()
    ///     })
    ///     .await;
    /// assert_eq!(total, 1);
    /// # });
    /// ```
    pub async fn with_map_async<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut HashMap<K, V, S>) -> R + Send + 'static,
    ) -> R {
        self.call_async("with_map_async", |t| f(&mut t.map)).await
    }

    /// [`get`](crate::ConcurrentMap::get), awaited. Takes the key by value:
    /// the request must own it.
    pub async fn get_async(&self, key: K) -> Option<V>
    where
        V: Clone,
    {
        self.call_async("get_async", move |t| t.map.get(&key).cloned())
            .await
    }

    /// [`insert`](crate::ConcurrentMap::insert), awaited.
    pub async fn insert_async(&self, key: K, value: V) -> Option<V> {
        self.call_async("insert_async", move |t| t.map.insert(key, value))
            .await
    }

    /// [`remove`](crate::ConcurrentMap::remove), awaited.
    pub async fn remove_async(&self, key: K) -> Option<V> {
        self.call_async("remove_async", move |t| t.map.remove(&key))
            .await
    }

    /// [`get_or_insert_with`](crate::ConcurrentMap::get_or_insert_with),
    /// awaited: `f` runs on the owner, at most once, only if `key` is absent.
    pub async fn get_or_insert_with_async(
        &self,
        key: K,
        f: impl FnOnce() -> V + Send + 'static,
    ) -> V
    where
        V: Clone,
    {
        self.call_async("get_or_insert_with_async", move |t| {
            t.map.entry(key).or_insert_with(f).clone()
        })
        .await
    }

    /// [`update`](crate::ConcurrentMap::update), awaited.
    pub async fn update_async(&self, key: K, f: impl FnMut(&V) -> V + Send + 'static) -> bool {
        self.call_async("update_async", move |t| t.update(&key, f))
            .await
    }

    /// [`compute`](crate::ConcurrentMap::compute), awaited.
    pub async fn compute_async(
        &self,
        key: K,
        f: impl FnMut(Option<&V>) -> Action<V> + Send + 'static,
    ) -> Option<V> {
        self.call_async("compute_async", move |t| t.compute(key, f))
            .await
    }
}
