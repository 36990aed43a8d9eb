//! The contract, implemented once for every map built from
//! [`LockedTable`](crate::locked_table::LockedTable)s.
//!
//! A map opts in with `impl_lock_based_map!(TypeName)` after providing a
//! `hasher: S` field and two methods: `table_for(hash)`, the table that owns
//! a hash, and `tables()`, all of them. What differs between
//! [`LockedMap`](crate::LockedMap) and [`ShardedMap`](crate::ShardedMap) is
//! only how many tables there are.

macro_rules! impl_lock_based_map {
    ($map:ident) => {
        impl<K, V, S> $map<K, V, S> {
            /// The map's address: it identifies the map to the re-entrancy
            /// check while the map is borrowed, which it is for every call.
            #[inline]
            fn id(&self) -> usize {
                self as *const Self as usize
            }

            /// Refuses a call from inside one of this map's own closures.
            #[inline]
            fn check(&self, operation: &'static str) {
                $crate::util::reentry::check(self.id(), stringify!($map), operation);
            }

            /// How many entries the map can hold before it allocates.
            ///
            /// ```
            #[doc = concat!("use racefree::", stringify!($map), ";")]
            ///
            #[doc = concat!("let map: ", stringify!($map), "<u32, u32> = ", stringify!($map), "::with_capacity(1_000);")]
            /// assert!(map.capacity() >= 1_000);
            /// ```
            pub fn capacity(&self) -> usize {
                self.check("capacity");
                self.tables().map(|t| t.capacity()).sum()
            }

            /// The map's hasher.
            ///
            /// ```
            #[doc = concat!("use racefree::", stringify!($map), ";")]
            /// use std::hash::BuildHasher;
            ///
            #[doc = concat!("let map: ", stringify!($map), "<&str, u32> = ", stringify!($map), "::new();")]
            /// assert_eq!(map.hasher().hash_one("k"), map.hasher().hash_one("k"));
            /// ```
            pub fn hasher(&self) -> &S {
                &self.hasher
            }
        }

        impl<K, V, S> $map<K, V, S>
        where
            K: ::std::hash::Hash + Eq,
            S: ::std::hash::BuildHasher,
        {
            /// Marks this thread as running a closure of `operation` on this
            /// map, so that a call back into the map panics instead of
            /// deadlocking. Only operations that run user closures need it.
            #[inline]
            fn closure_scope(&self, operation: &'static str) -> $crate::util::reentry::Scope {
                $crate::util::reentry::enter(self.id(), operation)
            }

            /// [`check`](Self::check), then hash `key` and find its table.
            #[inline]
            fn locate<'a, Q: ::std::hash::Hash + ?Sized>(
                &'a self,
                operation: &'static str,
                key: &Q,
            ) -> (&'a $crate::locked_table::LockedTable<K, V>, u64) {
                self.check(operation);
                let hash = self.hasher.hash_one(key);
                (self.table_for(hash), hash)
            }

            /// Gives back memory the map no longer needs. Removals already
            /// shrink a table once it is less than an eighth full, down to
            /// the capacity the map was made with; this shrinks every table
            /// as far as its entries allow.
            ///
            /// ```
            #[doc = concat!("use racefree::{ConcurrentMap, ", stringify!($map), "};")]
            ///
            #[doc = concat!("let map: ", stringify!($map), "<u32, u32> = ", stringify!($map), "::with_capacity(10_000);")]
            /// map.insert(1, 1);
            /// map.shrink_to_fit();
            /// assert!(map.capacity() < 10_000);
            /// ```
            pub fn shrink_to_fit(&self) {
                self.check("shrink_to_fit");
                self.tables().for_each(|t| t.shrink_to_fit(&self.hasher));
            }
        }

        impl<K, V, S> $crate::ConcurrentMap<K, V> for $map<K, V, S>
        where
            K: ::std::hash::Hash + Eq,
            S: ::std::hash::BuildHasher,
        {
            fn get_with<Q, R, F>(&self, key: &Q, f: F) -> Option<R>
            where
                K: ::std::borrow::Borrow<Q>,
                Q: ::std::hash::Hash + Eq + Sync + ?Sized,
                F: FnOnce(&V) -> R + Send,
                R: Send,
            {
                let (table, hash) = self.locate("get_with", key);
                let _scope = self.closure_scope("get_with");
                table.get_with(hash, key, f)
            }

            fn get<Q>(&self, key: &Q) -> Option<V>
            where
                K: ::std::borrow::Borrow<Q>,
                Q: ::std::hash::Hash + Eq + Sync + ?Sized,
                V: Clone + Send,
            {
                // No closure scope: only the map's own code runs under the lock.
                let (table, hash) = self.locate("get", key);
                table.get_with(hash, key, V::clone)
            }

            fn contains_key<Q>(&self, key: &Q) -> bool
            where
                K: ::std::borrow::Borrow<Q>,
                Q: ::std::hash::Hash + Eq + Sync + ?Sized,
            {
                let (table, hash) = self.locate("contains_key", key);
                table.get_with(hash, key, |_| ()).is_some()
            }

            fn insert(&self, key: K, value: V) -> Option<V> {
                let (table, hash) = self.locate("insert", &key);
                table.insert(&self.hasher, hash, key, value)
            }

            fn get_or_insert(&self, key: K, value: V) -> (V, bool)
            where
                V: Clone,
            {
                let (table, hash) = self.locate("get_or_insert", &key);
                table.get_or_insert_with(&self.hasher, hash, key, || value)
            }

            fn get_or_insert_with<F>(&self, key: K, f: F) -> V
            where
                V: Clone,
                F: FnOnce() -> V + Send,
            {
                let (table, hash) = self.locate("get_or_insert_with", &key);
                let _scope = self.closure_scope("get_or_insert_with");
                table.get_or_insert_with(&self.hasher, hash, key, f).0
            }

            fn remove<Q>(&self, key: &Q) -> Option<V>
            where
                K: ::std::borrow::Borrow<Q>,
                Q: ::std::hash::Hash + Eq + Sync + ?Sized,
            {
                let (table, hash) = self.locate("remove", key);
                table.remove(&self.hasher, hash, key)
            }

            fn compare_and_swap<Q>(&self, key: &Q, current: &V, new: V) -> Result<(), V>
            where
                K: ::std::borrow::Borrow<Q>,
                Q: ::std::hash::Hash + Eq + Sync + ?Sized,
                V: PartialEq + Sync,
            {
                let (table, hash) = self.locate("compare_and_swap", key);
                table.compare_and_swap(hash, key, current, new)
            }

            fn compare_and_remove<Q>(&self, key: &Q, current: &V) -> bool
            where
                K: ::std::borrow::Borrow<Q>,
                Q: ::std::hash::Hash + Eq + Sync + ?Sized,
                V: PartialEq + Sync,
            {
                let (table, hash) = self.locate("compare_and_remove", key);
                table
                    .remove_if(&self.hasher, hash, key, |value| value == current)
                    .is_some()
            }

            fn update<Q, F>(&self, key: &Q, f: F) -> bool
            where
                K: ::std::borrow::Borrow<Q>,
                Q: ::std::hash::Hash + Eq + Sync + ?Sized,
                F: FnMut(&V) -> V + Send,
            {
                let (table, hash) = self.locate("update", key);
                let _scope = self.closure_scope("update");
                table.update(hash, key, f)
            }

            fn compute<F>(&self, key: K, f: F) -> Option<V>
            where
                F: FnMut(Option<&V>) -> $crate::Action<V> + Send,
            {
                let (table, hash) = self.locate("compute", &key);
                let _scope = self.closure_scope("compute");
                table.compute(&self.hasher, hash, key, f)
            }

            fn for_each<F>(&self, mut f: F)
            where
                K: Clone,
                V: Clone,
                F: FnMut(&K, &V) -> ::std::ops::ControlFlow<()> + Send,
            {
                // No scope: the callback runs with no lock held and may call the map.
                self.check("for_each");
                for table in self.tables() {
                    if table.for_each(&mut f).is_break() {
                        return;
                    }
                }
            }

            fn retain<F>(&self, mut f: F)
            where
                F: FnMut(&K, &V) -> bool + Send,
            {
                self.check("retain");
                let _scope = self.closure_scope("retain");
                self.tables().for_each(|t| t.retain(&self.hasher, &mut f));
            }

            fn len(&self) -> usize {
                self.tables().map(|t| t.len()).sum()
            }

            fn clear(&self) {
                self.check("clear");
                self.tables().for_each(|t| t.clear());
            }
        }

        impl<K, V, S> ::std::fmt::Debug for $map<K, V, S>
        where
            K: ::std::fmt::Debug,
            V: ::std::fmt::Debug,
        {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                // Inside one of this map's closures a table is locked by this
                // thread: show what can be shown without waiting for it.
                if $crate::util::reentry::is_active(self.id()) {
                    return f.write_str(concat!(stringify!($map), " { .. }"));
                }
                let mut entries = f.debug_map();
                self.tables().for_each(|t| t.debug_entries(&mut entries));
                entries.finish()
            }
        }

        // A panic in a closure leaves the map consistent (no poisoning), so
        // a map may be used across `catch_unwind`, as std's locks may.
        impl<K, V, S> ::std::panic::RefUnwindSafe for $map<K, V, S>
        where
            K: ::std::panic::RefUnwindSafe,
            V: ::std::panic::RefUnwindSafe,
            S: ::std::panic::RefUnwindSafe,
        {
        }

        impl<K, V, S> ::std::panic::UnwindSafe for $map<K, V, S>
        where
            K: ::std::panic::RefUnwindSafe,
            V: ::std::panic::RefUnwindSafe,
            S: ::std::panic::RefUnwindSafe,
        {
        }

        impl<K, V, S> Default for $map<K, V, S>
        where
            S: Default,
        {
            fn default() -> Self {
                Self::with_hasher(S::default())
            }
        }

        impl<K, V, S> FromIterator<(K, V)> for $map<K, V, S>
        where
            K: ::std::hash::Hash + Eq,
            S: ::std::hash::BuildHasher + Default,
        {
            fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
                let mut map = Self::default();
                map.extend(iter);
                map
            }
        }

        impl<K, V, S> Extend<(K, V)> for $map<K, V, S>
        where
            K: ::std::hash::Hash + Eq,
            S: ::std::hash::BuildHasher,
        {
            fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
                for (key, value) in iter {
                    $crate::ConcurrentMap::insert(&*self, key, value);
                }
            }
        }
    };
}

pub(crate) use impl_lock_based_map;
