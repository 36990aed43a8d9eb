//! [`OwnedMap`]: one owner thread holds a plain map and serves requests.

#[cfg(feature = "async")]
mod asynchronous;

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::ops::ControlFlow;
use std::panic::{self, AssertUnwindSafe, RefUnwindSafe, UnwindSafe};
use std::sync::Arc;
use std::sync::atomic::Ordering::{Acquire, Release};

use crossbeam_utils::CachePadded;

use crate::util::reentry;
use crate::util::rendezvous::{Job, run_elsewhere};
use crate::util::shrink::shrunk_capacity;
use crate::util::sync::{AtomicUsize, Receiver, Sender, channel, thread};
use crate::{Action, ConcurrentMap, DefaultHashBuilder};

/// Go's "share memory by communicating": one thread owns a plain
/// `HashMap`, and every call is a request to it, served in order.
///
/// The map is the handle: [`Clone`] gives another handle to the *same* map
/// (as cloning an `Arc` or a channel's `Sender` does), cheap and `Send`, so
/// each thread or task can keep its own. When the last handle is dropped the
/// owner finishes every request already sent, drops the map and ends; the
/// drop waits for it, so no thread is left behind.
///
/// # When to use it
///
/// - **Many-key transactions.** [`with_map`](Self::with_map) runs any
///   closure on the owner with `&mut HashMap`: read three keys and write two
///   as one atomic step, with no lock ordering to get wrong.
/// - **State that must stay on one thread**, or work that should be
///   serialised anyway (an LRU order, a rate limiter's buckets).
/// - **Async services**: with the `async` feature, `*_async` calls (such
///   as `get_async` and `with_map_async`) wait without blocking a runtime
///   worker, on any executor.
///
/// It is the wrong choice for hot, read-mostly data: every call is a
/// round trip to one thread, and all calls queue behind each other. On a
/// 2-core machine a `get` took 280 to 350 ns (2.9 to 3.5 M calls a second
/// in all) at 1, 2 and 8 calling threads, against 360 to 520 ns for Go's
/// channel-owner map measured beside it (Go 1.19 and 1.24); a
/// [`LockedMap`](crate::LockedMap) lookup takes 12 ns on one thread and a
/// [`ReadMostlyMap`](crate::ReadMostlyMap) lookup scales with cores
/// (BENCHMARKS.md).
///
/// # How a call is served
///
/// The caller hands the owner a request that points into its own stack (no
/// allocation), then spins briefly, yields, and finally parks until the
/// owner has run it. The owner takes requests as they come and serves every
/// queued request in one wake-up before it waits again; it spins and yields
/// before it sleeps, so a steady stream of calls never waits for a wake-up.
///
/// # Consistency
///
/// Every call, including [`with_map`](Self::with_map), is linearizable:
/// the owner runs them one at a time.
/// [`for_each`](ConcurrentMap::for_each) copies the whole map on the owner
/// (one request, so it sees one atomic snapshot) and calls the callback on
/// the caller's thread, so the callback may call the map.
/// [`len`](ConcurrentMap::len) reads a count the owner publishes after each
/// call: no round trip, exact when no call is under way.
///
/// # Closures
///
/// Closures of `get_with`, `update`, `compute`, `get_or_insert_with`,
/// `retain` and `with_map` run once, on the owner thread, and every other
/// call waits while they run: keep them short. A panic in one is caught on
/// the owner and resumed in the caller; the owner keeps serving and the
/// key keeps its old value. A closure that calls back into the same map
/// would wait for itself; it panics with a message naming both operations
/// instead.
///
/// # Memory
///
/// Removed, replaced and cleared entries are dropped on the owner thread
/// before the call returns. The table shrinks by itself once it is less
/// than an eighth full, but not below the capacity the map was made with.
///
/// # Examples
///
/// ```
/// use racefree::{ConcurrentMap, OwnedMap};
/// use std::thread;
///
/// let balances = OwnedMap::new();
/// balances.insert("alice", 100);
/// balances.insert("bob", 0);
/// let handles: Vec<_> = (0..4)
///     .map(|_| {
///         let balances = balances.clone(); // another handle to the same map
///         thread::spawn(move || {
///             // A transfer touches two keys in one atomic step.
///             balances.with_map(|map| {
///                 *map.get_mut("alice").unwrap() -= 10;
///                 *map.get_mut("bob").unwrap() += 10;
///             });
///         })
///     })
///     .collect();
/// handles.into_iter().for_each(|h| h.join().unwrap());
/// assert_eq!(balances.get("alice"), Some(60));
/// assert_eq!(balances.get("bob"), Some(40));
/// ```
pub struct OwnedMap<K, V, S = DefaultHashBuilder> {
    shared: Arc<Shared<K, V, S>>,
}

/// What the handles share: the way to the owner, and its published length.
struct Shared<K, V, S> {
    /// `None` only while the last handle is being dropped.
    requests: Option<Sender<Request<Table<K, V, S>>>>,
    len: Arc<CachePadded<AtomicUsize>>,
    owner: Option<thread::JoinHandle<()>>,
}

/// A request to the owner.
enum Request<T> {
    /// A synchronous call, waiting in its caller's frame.
    Borrowed(Job<T>),
    /// An async call, which may be cancelled, so it owns everything.
    #[cfg(feature = "async")]
    Owned(Box<dyn FnOnce(&mut T) + Send>),
}

/// What the owner thread holds.
struct Table<K, V, S> {
    map: HashMap<K, V, S>,
    len: Arc<CachePadded<AtomicUsize>>,
    /// The capacity the map was made with, below which removals do not
    /// shrink it.
    reserved: usize,
}

impl<K: Hash + Eq, V, S: BuildHasher> Table<K, V, S> {
    /// After each call: shrink a mostly empty table ([`shrunk_capacity`])
    /// and publish the length before the caller is told.
    fn settle(&mut self) {
        let len = self.map.len();
        if let Some(capacity) = shrunk_capacity(len, self.map.capacity(), self.reserved) {
            self.map.shrink_to(capacity);
        }
        self.len.store(len, Release);
    }

    /// `update` on the owner, for the blocking and async calls alike.
    fn update<Q>(&mut self, key: &Q, mut f: impl FnMut(&V) -> V) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        match self.map.get_mut(key) {
            Some(value) => {
                *value = f(value);
                true
            }
            None => false,
        }
    }

    /// `compute` on the owner, for the blocking and async calls alike.
    fn compute(&mut self, key: K, mut f: impl FnMut(Option<&V>) -> Action<V>) -> Option<V> {
        match f(self.map.get(&key)) {
            Action::Keep => None,
            Action::Set(value) => self.map.insert(key, value),
            Action::Remove => self.map.remove(&key),
        }
    }
}

/// The owner thread: serves requests until every handle is gone.
fn serve<K: Hash + Eq, V, S: BuildHasher>(
    mut table: Table<K, V, S>,
    requests: Receiver<Request<Table<K, V, S>>>,
) {
    while let Some(request) = next_request(&requests) {
        match request {
            Request::Borrowed(job) => job.run(&mut table),
            #[cfg(feature = "async")]
            Request::Owned(work) => work(&mut table),
        }
    }
}

/// The next request, or `None` once every handle is gone.
///
/// Queued requests are taken at once, so a busy owner serves a whole
/// batch per wake-up. An idle owner polls for a while (spinning, then
/// yielding) before it sleeps: callers usually come back within a
/// microsecond, and waking a sleeping thread takes several.
fn next_request<T>(requests: &Receiver<T>) -> Option<T> {
    // Model checkers explore every poll as a schedule; there, block at once.
    #[cfg(not(any(racefree_loom, racefree_shuttle)))]
    for attempt in 0..SPINS + YIELDS {
        use crossbeam_channel::TryRecvError;
        match requests.try_recv() {
            Ok(request) => return Some(request),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) if attempt < SPINS => std::hint::spin_loop(),
            Err(TryRecvError::Empty) => thread::yield_now(),
        }
    }
    requests.recv().ok()
}

/// How many times an idle owner polls with a pause, then with a yield,
/// before it sleeps. Yielding rather than spinning lets callers run when
/// they outnumber cores: with 8 callers on 2 cores, 2 000 spins gave 2.9 M
/// calls/s and 100 spins with yields 3.2 M (racefree-bench, LoadMostlyHits).
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
const SPINS: u32 = 100;
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
const YIELDS: u32 = 500;

#[cold]
#[inline(never)]
fn owner_gone() -> ! {
    panic!(
        "racefree::OwnedMap: the map's owner thread has stopped, so this call cannot be \
         served. The owner catches every panic of the closures it runs, so something else \
         brought it down: the first panic message printed says what."
    )
}

impl<K, V> OwnedMap<K, V>
where
    K: Hash + Eq + Send + 'static,
    V: Send + 'static,
{
    /// An empty map with the default hasher, and its owner thread.
    pub fn new() -> Self {
        Self::with_hasher(DefaultHashBuilder::default())
    }

    /// An empty map with room for `capacity` entries before it allocates.
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_capacity_and_hasher(capacity, DefaultHashBuilder::default())
    }
}

impl<K, V, S> OwnedMap<K, V, S>
where
    K: Hash + Eq + Send + 'static,
    V: Send + 'static,
    S: BuildHasher + Send + 'static,
{
    /// An empty map that hashes keys with `hasher`.
    pub fn with_hasher(hasher: S) -> Self {
        Self::with_capacity_and_hasher(0, hasher)
    }

    /// An empty map with room for `capacity` entries, hashing with `hasher`.
    ///
    /// # Panics
    ///
    /// If the operating system cannot start the owner thread.
    pub fn with_capacity_and_hasher(capacity: usize, hasher: S) -> Self {
        let (requests, inbox) = channel();
        let len = Arc::new(CachePadded::new(AtomicUsize::new(0)));
        let map = HashMap::with_capacity_and_hasher(capacity, hasher);
        let table = Table {
            reserved: map.capacity(),
            map,
            len: Arc::clone(&len),
        };
        let owner = spawn_owner(move || serve(table, inbox));
        Self {
            shared: Arc::new(Shared {
                requests: Some(requests),
                len,
                owner: Some(owner),
            }),
        }
    }

    /// The map's identity for the re-entrancy check: the same for every
    /// handle.
    fn id(&self) -> usize {
        Arc::as_ptr(&self.shared) as usize
    }

    /// Runs `f` on the owner thread with the table and returns its result,
    /// or resumes its panic here.
    fn call<R: Send>(
        &self,
        operation: &'static str,
        f: impl FnOnce(&mut Table<K, V, S>) -> R + Send,
    ) -> R {
        let id = self.id();
        reentry::check(id, "OwnedMap", operation);
        let task = move |table: &mut Table<K, V, S>| {
            let result = {
                let _scope = reentry::enter(id, operation);
                panic::catch_unwind(AssertUnwindSafe(|| f(&mut *table)))
            };
            table.settle();
            result
        };
        let outcome = run_elsewhere(task, |job| {
            self.requests()
                .send(Request::Borrowed(job))
                .map_err(|undelivered| match undelivered.0 {
                    Request::Borrowed(job) => job,
                    #[cfg(feature = "async")]
                    Request::Owned(_) => unreachable!("sent a borrowed job"),
                })
        });
        match outcome {
            Some(Ok(result)) => result,
            Some(Err(panic)) => panic::resume_unwind(panic),
            None => owner_gone(),
        }
    }

    /// Runs `f` on the owner thread with the map itself, as one atomic step,
    /// and returns its result: a transaction over any number of keys.
    ///
    /// Every other call waits while `f` runs. `f` must not call this map
    /// (it would wait for itself): that panics with a message instead.
    ///
    /// ```
    /// use racefree::{ConcurrentMap, OwnedMap};
    ///
    /// let stock = OwnedMap::new();
    /// stock.insert("apples", 3);
    /// // Take two apples only if there are two.
    /// let took = stock.with_map(|map| match map.get_mut("apples") {
    ///     Some(n) if *n >= 2 => {
    ///         *n -= 2;
    ///         true
    ///     }
    ///     _ => false,
    /// });
    /// assert!(took);
    /// assert_eq!(stock.get("apples"), Some(1));
    /// ```
    pub fn with_map<R: Send>(&self, f: impl FnOnce(&mut HashMap<K, V, S>) -> R + Send) -> R {
        self.call("with_map", |table| f(&mut table.map))
    }

    /// How many entries the table can hold before it grows.
    pub fn capacity(&self) -> usize {
        self.call("capacity", |table| table.map.capacity())
    }

    /// Shrinks the table as far as its entries allow.
    pub fn shrink_to_fit(&self) {
        self.call("shrink_to_fit", |table| table.map.shrink_to_fit());
    }

    /// The owner's queue.
    fn requests(&self) -> &Sender<Request<Table<K, V, S>>> {
        self.shared.requests.as_ref().expect("a live handle")
    }
}

/// Starts the owner thread.
fn spawn_owner(serve: impl FnOnce() + Send + 'static) -> thread::JoinHandle<()> {
    #[cfg(not(any(racefree_loom, racefree_shuttle)))]
    {
        thread::Builder::new()
            .name("racefree-owned-map".into())
            .spawn(serve)
            .unwrap_or_else(|e| panic!("racefree::OwnedMap: cannot start the owner thread: {e}"))
    }
    #[cfg(any(racefree_loom, racefree_shuttle))]
    thread::spawn(serve)
}

impl<K, V, S> Drop for Shared<K, V, S> {
    fn drop(&mut self) {
        // The owner ends once the last sender is gone and the queue is empty.
        drop(self.requests.take());
        let Some(owner) = self.owner.take() else {
            return;
        };
        // A value that holds the last handle may be dropped by the owner
        // itself; it cannot wait for its own end.
        if owner.thread().id() == thread::current().id() {
            return;
        }
        if let Err(panic) = owner.join() {
            if !thread::panicking() {
                panic::resume_unwind(panic);
            }
        }
    }
}

// A panic in a closure is caught on the owner and leaves the map
// consistent (no poisoning), so a handle may be used across `catch_unwind`.
impl<K: RefUnwindSafe, V: RefUnwindSafe, S: RefUnwindSafe> RefUnwindSafe for OwnedMap<K, V, S> {}
impl<K: RefUnwindSafe, V: RefUnwindSafe, S: RefUnwindSafe> UnwindSafe for OwnedMap<K, V, S> {}

impl<K, V, S> Clone for OwnedMap<K, V, S> {
    /// Another handle to the same map.
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<K, V, S> ConcurrentMap<K, V> for OwnedMap<K, V, S>
where
    K: Hash + Eq + Send + 'static,
    V: Send + 'static,
    S: BuildHasher + Send + 'static,
{
    fn get_with<Q, R, F>(&self, key: &Q, f: F) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
        F: FnOnce(&V) -> R + Send,
        R: Send,
    {
        self.call("get_with", |t| t.map.get(key).map(f))
    }

    fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
        V: Clone + Send,
    {
        self.call("get", |t| t.map.get(key).cloned())
    }

    fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
    {
        self.call("contains_key", |t| t.map.contains_key(key))
    }

    fn insert(&self, key: K, value: V) -> Option<V> {
        self.call("insert", |t| t.map.insert(key, value))
    }

    fn get_or_insert(&self, key: K, value: V) -> (V, bool)
    where
        V: Clone,
    {
        self.call("get_or_insert", |t| match t.map.get(&key) {
            Some(existing) => (existing.clone(), true),
            None => (t.map.entry(key).or_insert(value).clone(), false),
        })
    }

    fn get_or_insert_with<F>(&self, key: K, f: F) -> V
    where
        V: Clone,
        F: FnOnce() -> V + Send,
    {
        self.call("get_or_insert_with", |t| {
            t.map.entry(key).or_insert_with(f).clone()
        })
    }

    fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
    {
        self.call("remove", |t| t.map.remove(key))
    }

    fn compare_and_swap<Q>(&self, key: &Q, current: &V, new: V) -> Result<(), V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
        V: PartialEq + Sync,
    {
        self.call("compare_and_swap", |t| match t.map.get_mut(key) {
            Some(value) if value == current => {
                *value = new;
                Ok(())
            }
            _ => Err(new),
        })
    }

    fn compare_and_remove<Q>(&self, key: &Q, current: &V) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
        V: PartialEq + Sync,
    {
        self.call("compare_and_remove", |t| {
            let matches = t.map.get(key) == Some(current);
            if matches {
                t.map.remove(key);
            }
            matches
        })
    }

    fn update<Q, F>(&self, key: &Q, f: F) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
        F: FnMut(&V) -> V + Send,
    {
        self.call("update", |t| t.update(key, f))
    }

    fn compute<F>(&self, key: K, f: F) -> Option<V>
    where
        F: FnMut(Option<&V>) -> Action<V> + Send,
    {
        self.call("compute", |t| t.compute(key, f))
    }

    fn for_each<F>(&self, mut f: F)
    where
        K: Clone,
        V: Clone,
        F: FnMut(&K, &V) -> ControlFlow<()> + Send,
    {
        // Copied on the owner; the callback runs here and may call the map.
        let entries: Vec<(K, V)> = self.call("for_each", |t| {
            t.map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        });
        for (key, value) in &entries {
            if f(key, value).is_break() {
                return;
            }
        }
    }

    fn retain<F>(&self, mut f: F)
    where
        F: FnMut(&K, &V) -> bool + Send,
    {
        self.call("retain", |t| t.map.retain(|k, v| f(k, v)));
    }

    fn len(&self) -> usize {
        self.shared.len.load(Acquire)
    }

    fn clear(&self) {
        self.call("clear", |t| {
            t.map.clear();
            t.map.shrink_to_fit();
        });
    }
}

impl<K, V, S> fmt::Debug for OwnedMap<K, V, S>
where
    K: Hash + Eq + Send + fmt::Debug + 'static,
    V: Send + fmt::Debug + 'static,
    S: BuildHasher + Send + 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // On the owner, inside one of this map's closures, asking the owner
        // would wait for itself.
        if reentry::is_active(self.id()) {
            return f.write_str("OwnedMap { .. }");
        }
        let text = self.call("fmt", |t| format!("{:?}", t.map));
        f.write_str(&text)
    }
}

impl<K, V, S> Default for OwnedMap<K, V, S>
where
    K: Hash + Eq + Send + 'static,
    V: Send + 'static,
    S: BuildHasher + Default + Send + 'static,
{
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

impl<K, V, S> FromIterator<(K, V)> for OwnedMap<K, V, S>
where
    K: Hash + Eq + Send + 'static,
    V: Send + 'static,
    S: BuildHasher + Default + Send + 'static,
{
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let map = Self::default();
        // One request: the owner takes the entries as a batch.
        let entries: Vec<(K, V)> = iter.into_iter().collect();
        map.with_map(|m| m.extend(entries));
        map
    }
}

impl<K, V, S> Extend<(K, V)> for OwnedMap<K, V, S>
where
    K: Hash + Eq + Send + 'static,
    V: Send + 'static,
    S: BuildHasher + Send + 'static,
{
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        let entries: Vec<(K, V)> = iter.into_iter().collect();
        self.with_map(|m| m.extend(entries));
    }
}

/// The owner-gone path, which the public API cannot reach: here the test
/// plays the owner.
#[cfg(all(test, not(any(racefree_loom, racefree_shuttle))))]
mod tests {
    use super::*;

    type TestTable = Table<u32, u32, DefaultHashBuilder>;

    /// A map whose requests go to the returned receiver instead of an owner.
    fn without_owner() -> (OwnedMap<u32, u32>, Receiver<Request<TestTable>>) {
        let (requests, inbox) = channel();
        let shared = Shared {
            requests: Some(requests),
            len: Arc::new(CachePadded::new(AtomicUsize::new(0))),
            owner: None,
        };
        let map = OwnedMap {
            shared: Arc::new(shared),
        };
        (map, inbox)
    }

    fn message_of(call: impl FnOnce() + UnwindSafe) -> String {
        let payload = panic::catch_unwind(call).expect_err("the call panics");
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default()
    }

    #[test]
    fn a_call_after_the_owner_is_gone_panics_with_the_reason() {
        let (map, inbox) = without_owner();
        drop(inbox);
        let message = message_of(|| _ = map.insert(1, 1));
        assert!(message.contains("owner thread has stopped"), "{message}");
    }

    #[test]
    fn a_call_queued_when_the_owner_dies_panics_instead_of_hanging() {
        let (map, inbox) = without_owner();
        let owner = thread::spawn(move || {
            // Takes the request and ends without serving it.
            drop(inbox.recv().expect("one request"));
        });
        let message = message_of(|| _ = map.get(&1));
        assert!(message.contains("owner thread has stopped"), "{message}");
        owner.join().unwrap();
    }
}
