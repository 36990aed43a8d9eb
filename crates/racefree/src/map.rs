//! The contract every racefree map implements.
//!
//! The operations are the union of what Go's `sync.Map`, Java's
//! `ConcurrentHashMap` and `orcaman/concurrent-map` promise, with names taken
//! from [`std::collections::HashMap`] where std has the operation.
//!
//! No method returns a guard or a reference into the map: values come out
//! by clone or by move, and anything that needs to look inside the map does
//! so in a closure. A caller therefore cannot hold a lock by accident, which
//! is how most deadlocks with sharded maps happen.
//!
//! Closures and their results must be [`Send`] because some maps run them on
//! another thread (a map owned by one thread that serves requests).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::ops::ControlFlow;

/// What a [`ConcurrentMap::compute`] closure decides for its key.
///
/// ```
/// use racefree::{Action, ConcurrentMap, LockedMap};
///
/// let seats = LockedMap::new();
/// seats.insert("row 1", 2u32);
/// // Book a seat; the row disappears when it is full.
/// let book = |free: Option<&u32>| match free {
///     Some(1) => Action::Remove,
///     Some(n) => Action::Set(n - 1),
///     None => Action::Keep,
/// };
/// seats.compute("row 1", book);
/// assert_eq!(seats.get("row 1"), Some(1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<V> {
    /// Leave the key as it is: absent stays absent, a value stays.
    Keep,
    /// Store this value, inserting the key if it was absent.
    Set(V),
    /// Remove the key if it was present.
    Remove,
}

/// The operations every racefree map supports, with the same meaning on
/// every map.
///
/// Each single-key operation is linearizable: it appears to take effect at
/// one instant between its call and its return. See each map's
/// "Consistency" section for what [`for_each`](Self::for_each) and
/// [`len`](Self::len) observe while other threads write.
///
/// # Closures
///
/// A closure passed to [`get_with`](Self::get_with), [`update`](Self::update),
/// [`compute`](Self::compute), [`get_or_insert_with`](Self::get_or_insert_with)
/// or [`retain`](Self::retain) may run while the map holds internal state for
/// that key. If such a closure calls back into the same map, the map either
/// serves the call or panics with a message naming the map and both
/// operations; it never hangs. A [`for_each`](Self::for_each) callback may
/// call any method of the same map.
///
/// A closure that panics leaves the map usable and the key with the value it
/// had before the call. Whether a closure can run more than once per call
/// (optimistic retry) is stated by each map; `get_or_insert_with` runs its
/// closure at most once per call on every map.
///
/// # Examples
///
/// Code written against the trait works with every map:
///
/// ```
/// use racefree::{ConcurrentMap, LockedMap, ShardedMap};
///
/// fn count_words(map: &impl ConcurrentMap<String, u64>, text: &str) {
///     for word in text.split_whitespace() {
///         map.compute(word.to_owned(), |n| racefree::Action::Set(n.map_or(1, |n| n + 1)));
///     }
/// }
///
/// let sharded = ShardedMap::new();
/// count_words(&sharded, "a rose is a rose");
/// assert_eq!(sharded.get("rose"), Some(2));
///
/// let locked = LockedMap::new();
/// count_words(&locked, "a rose is a rose");
/// assert_eq!(locked.snapshot(), sharded.snapshot());
/// ```
pub trait ConcurrentMap<K, V> {
    /// Runs `f` on the value for `key`, without cloning it, and returns what
    /// `f` returns; `None` if the key is absent.
    ///
    /// ```
    /// use racefree::{ConcurrentMap, ShardedMap};
    ///
    /// let map = ShardedMap::new();
    /// map.insert("fruits", vec!["apple", "pear"]);
    /// assert_eq!(map.get_with("fruits", |v| v.len()), Some(2));
    /// assert_eq!(map.get_with("vegetables", |v| v.len()), None);
    /// ```
    fn get_with<Q, R, F>(&self, key: &Q, f: F) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
        F: FnOnce(&V) -> R + Send,
        R: Send;

    /// Returns a clone of the value for `key`, or `None` if it is absent
    /// (Go `Load`, Java `get`).
    ///
    /// ```
    /// use racefree::{ConcurrentMap, ShardedMap};
    ///
    /// let map = ShardedMap::new();
    /// map.insert(1, "one");
    /// assert_eq!(map.get(&1), Some("one"));
    /// assert_eq!(map.get(&2), None);
    /// ```
    fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
        V: Clone + Send,
    {
        self.get_with(key, V::clone)
    }

    /// Returns whether `key` is present (Java `containsKey`).
    ///
    /// ```
    /// use racefree::{ConcurrentMap, ShardedMap};
    ///
    /// let map = ShardedMap::new();
    /// map.insert("k", 1);
    /// assert!(map.contains_key("k"));
    /// assert!(!map.contains_key("x"));
    /// ```
    fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
    {
        self.get_with(key, |_| ()).is_some()
    }

    /// Stores `value` for `key` unconditionally and returns the previous
    /// value, if any (Go `Store` / `Swap`, Java `put`).
    ///
    /// ```
    /// use racefree::{ConcurrentMap, ShardedMap};
    ///
    /// let map = ShardedMap::new();
    /// assert_eq!(map.insert(7, 'a'), None);
    /// assert_eq!(map.insert(7, 'b'), Some('a'));
    /// ```
    fn insert(&self, key: K, value: V) -> Option<V>;

    /// Returns the existing value and `true` if `key` is present; otherwise
    /// stores `value` and returns it with `false` (Go `LoadOrStore`, Java
    /// `putIfAbsent`).
    ///
    /// ```
    /// use racefree::{ConcurrentMap, ShardedMap};
    ///
    /// let map = ShardedMap::new();
    /// assert_eq!(map.get_or_insert("k", 1), (1, false));
    /// assert_eq!(map.get_or_insert("k", 2), (1, true));
    /// ```
    fn get_or_insert(&self, key: K, value: V) -> (V, bool)
    where
        V: Clone;

    /// Returns the value for `key`, first storing `f()` if the key is absent
    /// (Java `computeIfAbsent`).
    ///
    /// `f` runs at most once per call, and only if the key is absent. When
    /// several threads race on one absent key, exactly one value is stored
    /// and every caller returns that value.
    ///
    /// ```
    /// use racefree::{ConcurrentMap, ShardedMap};
    ///
    /// let map = ShardedMap::new();
    /// assert_eq!(map.get_or_insert_with("k", || 10), 10);
    /// assert_eq!(map.get_or_insert_with("k", || unreachable!()), 10);
    /// ```
    fn get_or_insert_with<F>(&self, key: K, f: F) -> V
    where
        V: Clone,
        F: FnOnce() -> V + Send;

    /// Removes `key` and returns its value, if it was present (Go
    /// `LoadAndDelete`, Java `remove`).
    ///
    /// ```
    /// use racefree::{ConcurrentMap, ShardedMap};
    ///
    /// let map = ShardedMap::new();
    /// map.insert("k", 1);
    /// assert_eq!(map.remove("k"), Some(1));
    /// assert_eq!(map.remove("k"), None);
    /// ```
    fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized;

    /// Replaces the value for `key` with `new` only if the key is present
    /// and its value equals `current`; never inserts (Go `CompareAndSwap`,
    /// Java `replace(k, old, new)`).
    ///
    /// Returns `Err(new)`, handing the value back, when nothing was
    /// replaced.
    ///
    /// ```
    /// use racefree::{ConcurrentMap, ShardedMap};
    ///
    /// let map = ShardedMap::new();
    /// assert_eq!(map.compare_and_swap("k", &0, 1), Err(1)); // absent: not inserted
    /// map.insert("k", 0);
    /// assert_eq!(map.compare_and_swap("k", &0, 1), Ok(()));
    /// assert_eq!(map.compare_and_swap("k", &0, 2), Err(2)); // it is 1 now
    /// ```
    fn compare_and_swap<Q>(&self, key: &Q, current: &V, new: V) -> Result<(), V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
        V: PartialEq + Sync;

    /// Removes `key` only if it is present and its value equals `current`;
    /// returns whether it did (Go `CompareAndDelete`, Java `remove(k, v)`).
    ///
    /// ```
    /// use racefree::{ConcurrentMap, ShardedMap};
    ///
    /// let map = ShardedMap::new();
    /// map.insert("k", 1);
    /// assert!(!map.compare_and_remove("k", &2));
    /// assert!(map.compare_and_remove("k", &1));
    /// assert!(map.is_empty());
    /// ```
    fn compare_and_remove<Q>(&self, key: &Q, current: &V) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
        V: PartialEq + Sync;

    /// Atomically replaces the value of a present `key` with `f(&value)`;
    /// an absent key is left absent. Returns whether the key was present
    /// (Java `computeIfPresent`).
    ///
    /// ```
    /// use racefree::{ConcurrentMap, ShardedMap};
    ///
    /// let hits = ShardedMap::new();
    /// hits.insert("/", 1);
    /// assert!(hits.update("/", |n| n + 1));
    /// assert!(!hits.update("/missing", |n| n + 1));
    /// assert_eq!(hits.get("/"), Some(2));
    /// assert!(!hits.contains_key("/missing"));
    /// ```
    fn update<Q, F>(&self, key: &Q, f: F) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
        F: FnMut(&V) -> V + Send;

    /// Atomically decides the fate of `key` from its current value (`None`
    /// if absent): keep it, set a new value, or remove it (Java `compute` /
    /// `merge`). Returns the previous value when `f` replaced or removed it.
    ///
    /// ```
    /// use racefree::{Action, ConcurrentMap, ShardedMap};
    ///
    /// let stock = ShardedMap::new();
    /// // Take one item; the key disappears when the last one goes.
    /// let take = |n: Option<&u32>| match n {
    ///     Some(1) => Action::Remove,
    ///     Some(n) => Action::Set(n - 1),
    ///     None => Action::Keep,
    /// };
    /// stock.insert("pen", 2);
    /// assert_eq!(stock.compute("pen", take), Some(2));
    /// assert_eq!(stock.compute("pen", take), Some(1));
    /// assert!(!stock.contains_key("pen"));
    /// ```
    fn compute<F>(&self, key: K, f: F) -> Option<V>
    where
        F: FnMut(Option<&V>) -> Action<V> + Send;

    /// Calls `f` for every entry until it returns [`ControlFlow::Break`]
    /// (Go `Range`, Java `forEach`).
    ///
    /// Every key present for the whole call is visited exactly once and no
    /// key twice; a key inserted or removed during the call may or may not
    /// be visited. The value seen is one the key held at some instant during
    /// the call. `f` may call any method of the same map, including inserts
    /// and removes.
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// use racefree::{ConcurrentMap, ShardedMap};
    ///
    /// let map: ShardedMap<u32, u32> = (0..10).map(|i| (i, i * i)).collect();
    /// let mut sum = 0;
    /// map.for_each(|_, v| {
    ///     sum += v;
    ///     ControlFlow::Continue(())
    /// });
    /// assert_eq!(sum, 285);
    /// ```
    fn for_each<F>(&self, f: F)
    where
        K: Clone,
        V: Clone,
        F: FnMut(&K, &V) -> ControlFlow<()> + Send;

    /// Keeps only the entries for which `f` returns `true`.
    ///
    /// ```
    /// use racefree::{ConcurrentMap, ShardedMap};
    ///
    /// let map: ShardedMap<u32, u32> = (0..10).map(|i| (i, i)).collect();
    /// map.retain(|k, _| k % 2 == 0);
    /// assert_eq!(map.len(), 5);
    /// ```
    fn retain<F>(&self, f: F)
    where
        F: FnMut(&K, &V) -> bool + Send;

    /// The number of entries. Exact when no other thread writes; see the
    /// map's "Consistency" section for what it reports otherwise.
    ///
    /// ```
    /// use racefree::{ConcurrentMap, ShardedMap};
    ///
    /// let map = ShardedMap::new();
    /// map.insert("a", 1);
    /// map.insert("b", 2);
    /// assert_eq!(map.len(), 2);
    /// ```
    fn len(&self) -> usize;

    /// Whether the map has no entries, in the sense of [`len`](Self::len).
    ///
    /// ```
    /// use racefree::{ConcurrentMap, ShardedMap};
    ///
    /// let map: ShardedMap<u8, u8> = ShardedMap::new();
    /// assert!(map.is_empty());
    /// ```
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every entry.
    ///
    /// ```
    /// use racefree::{ConcurrentMap, ShardedMap};
    ///
    /// let map: ShardedMap<u32, u32> = (0..10).map(|i| (i, i)).collect();
    /// map.clear();
    /// assert!(map.is_empty());
    /// ```
    fn clear(&self);

    /// A copy of the contents, with the guarantees of
    /// [`for_each`](Self::for_each) (orcaman `Items()`).
    ///
    /// ```
    /// use racefree::{ConcurrentMap, ShardedMap};
    ///
    /// let map = ShardedMap::new();
    /// map.insert("a", 1);
    /// assert_eq!(map.snapshot(), [("a", 1)].into());
    /// ```
    fn snapshot(&self) -> HashMap<K, V>
    where
        K: Clone + Hash + Eq + Send,
        V: Clone + Send,
    {
        let mut copy = HashMap::with_capacity(self.len());
        self.for_each(|k, v| {
            copy.insert(k.clone(), v.clone());
            ControlFlow::Continue(())
        });
        copy
    }
}
