//! The concurrent hash trie inside [`ReadMostlyMap`](super::ReadMostlyMap):
//! readers walk atomic pointers and take no lock; writers lock the one
//! node whose slot they change.
//!
//! The top level is an inline array of 16 root nodes, chosen by the lowest
//! 4 bits of the hash, which saves readers one pointer load; roots are never
//! pruned. Each node has 16 slots, chosen by the next 4 bits of the hash. A slot is empty, holds an inner node, or holds a
//! chain of entries: one entry, unless several keys share all 64 hash bits.
//! Entries never change once published; a new value replaces the entry.
//! An insert into a slot that holds another hash grows the trie below that
//! slot; a node left empty by a remove is pruned from its parent and marked
//! dead, and a writer that locks a dead node starts over.
//!
//! Every write to a node's slots, and to the chains hanging from them,
//! happens under that node's lock. Writers lock one node, except pruning,
//! which holds a node and then locks its parent: locks are only ever taken
//! child first, so they cannot deadlock. Replaced entries and pruned nodes
//! are retired to the map's collector and freed once no reader can see them.

#![allow(unsafe_code)]

use std::borrow::Borrow;
use std::marker::PhantomData;
use std::ops::ControlFlow;
use std::ptr;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use crossbeam_utils::CachePadded;

use crate::util::prefetch::prefetch;
use crate::util::reclaim::{Collector, Guard};
use crate::util::spare;
use crate::util::sync::{AtomicPtr, AtomicUsize, Mutex, MutexGuard};

/// Hash bits per level.
const BITS: u32 = 4;
/// Slots per inner node.
const FANOUT: usize = 1 << BITS;
/// The low pointer bit that marks a slot holding an inner node.
const INNER: usize = 1;

/// The key a write is about: owned by calls that may insert it, borrowed
/// by calls that only change or remove it.
pub(crate) enum KeyArg<'a, K, Q: ?Sized> {
    Owned(K),
    Borrowed(&'a Q),
}

impl<K: Borrow<Q>, Q: ?Sized> KeyArg<'_, K, Q> {
    fn get(&self) -> &Q {
        match self {
            Self::Owned(key) => key.borrow(),
            Self::Borrowed(key) => key,
        }
    }
}

/// What a write does to a key.
pub(crate) enum Change<V> {
    /// Leave it as it is.
    Keep,
    /// Give it this value (inserting the key if absent).
    Set(V),
    /// Remove it, if present.
    Remove,
}

struct Inner<K, V> {
    /// Tagged pointers: null, an `Entry` chain, or an `Inner` with [`INNER`] set.
    slots: [AtomicPtr<()>; FANOUT],
    /// Whether this node was pruned. Writers hold this lock while they
    /// change the slots.
    dead: Mutex<bool>,
    /// The node above, or null for the root. Never changes.
    parent: *const Inner<K, V>,
    /// Hash bits consumed above this node. Never changes.
    shift: u32,
    /// The slots own entries and nodes below.
    _owns: PhantomData<Box<Entry<K, V>>>,
}

struct Entry<K, V> {
    hash: u64,
    key: K,
    value: V,
    /// The next entry with the same full hash, or null.
    overflow: AtomicPtr<Entry<K, V>>,
}

/// A slot's content, for the lifetime of a guard.
enum Slot<'g, K, V> {
    Empty,
    Inner(&'g Inner<K, V>),
    Entry(&'g Entry<K, V>),
}

impl<K, V> Inner<K, V> {
    fn new(parent: *const Inner<K, V>, shift: u32) -> Self {
        Self {
            slots: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
            dead: Mutex::new(false),
            parent,
            shift,
            _owns: PhantomData,
        }
    }

    fn slot(&self, hash: u64) -> &AtomicPtr<()> {
        &self.slots[((hash >> self.shift) as usize) & (FANOUT - 1)]
    }

    /// Whether every slot is empty. Call under the lock.
    fn is_empty(&self) -> bool {
        self.slots.iter().all(|s| s.load(Relaxed).is_null())
    }
}

fn tag_inner<K, V>(node: *mut Inner<K, V>) -> *mut () {
    node.cast::<()>().map_addr(|a| a | INNER)
}

/// The inner node of a slot's pointer that has [`INNER`] set: the inverse
/// of [`tag_inner`], keeping the pointer's provenance.
fn untag_inner<K, V>(ptr: *mut ()) -> *mut Inner<K, V> {
    ptr.map_addr(|a| a & !INNER).cast()
}

/// Reads a slot's pointer.
///
/// # Safety
///
/// `ptr` was loaded from a slot under `_guard` (or under the slot's node
/// lock), so what it points to stays alive for the guard's life.
unsafe fn decode<'g, K, V>(ptr: *mut (), _guard: &'g Guard<'_>) -> Slot<'g, K, V> {
    if ptr.is_null() {
        Slot::Empty
    } else if ptr.addr() & INNER != 0 {
        // SAFETY: an inner node, alive for the guard's life.
        Slot::Inner(unsafe { &*untag_inner(ptr) })
    } else {
        // SAFETY: an entry, alive for the guard's life.
        Slot::Entry(unsafe { &*ptr.cast::<Entry<K, V>>() })
    }
}

/// The trie: roots that are never pruned, the collector that frees what
/// writers retire, and the entry count.
pub(crate) struct Trie<K, V> {
    roots: Box<[Inner<K, V>; FANOUT]>,
    collector: Collector,
    len: CachePadded<AtomicUsize>,
}

// SAFETY: the trie owns its keys and values, which other threads read
// (`Sync`) and may drop (`Send`); its raw pointers are to its own nodes.
unsafe impl<K: Send + Sync, V: Send + Sync> Send for Trie<K, V> {}
// SAFETY: as above; every shared mutation is atomic or under a node lock.
unsafe impl<K: Send + Sync, V: Send + Sync> Sync for Trie<K, V> {}

impl<K, V> Trie<K, V> {
    pub(crate) fn new() -> Self {
        Self {
            roots: Box::new(std::array::from_fn(|_| Inner::new(ptr::null(), BITS))),
            collector: Collector::new(size_of::<Entry<K, V>>()),
            len: CachePadded::new(AtomicUsize::new(0)),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Relaxed)
    }

    /// The root under which `hash` lives.
    fn root(&self, hash: u64) -> &Inner<K, V> {
        &self.roots[(hash as usize) & (FANOUT - 1)]
    }

    /// Runs `f` on `key`'s value, taking no lock and writing nothing shared.
    pub(crate) fn get<Q, R>(&self, hash: u64, key: &Q, f: impl FnOnce(&V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let guard = self.collector.enter();
        let mut node = self.root(hash);
        loop {
            let ptr = guard.protect(node.slot(hash), Acquire);
            // SAFETY: loaded under `guard`.
            match unsafe { decode::<K, V>(ptr, &guard) } {
                Slot::Empty => return None,
                Slot::Inner(inner) => node = inner,
                Slot::Entry(_) => {
                    let found = find(ptr.cast::<Entry<K, V>>(), hash, key, &guard).1;
                    // SAFETY: loaded under `guard`.
                    return unsafe { found.as_ref() }.map(|entry| f(&entry.value));
                }
            }
        }
    }

    /// Decides `key`'s fate with `decide`, which sees its current value and
    /// runs once, under the lock of the node that holds the key.
    ///
    /// # Panics
    ///
    /// If `decide` sets an absent key that is only borrowed (a caller bug),
    /// or if `decide` panics, in which case nothing changed.
    pub(crate) fn modify<Q, R>(
        &self,
        hash: u64,
        key: KeyArg<'_, K, Q>,
        decide: impl FnOnce(Option<&V>) -> (Change<V>, R),
    ) -> R
    where
        K: Borrow<Q> + Clone,
        Q: Eq + ?Sized,
    {
        // A key held in a root node needs no guard: roots are never freed,
        // and what a slot links to cannot be retired while its node's lock
        // is held. Only a descent below the roots needs one, held to the end.
        let mut descent = None;
        let (node, mut dead) = match self.lock_holder(hash, None) {
            Some(held) => held,
            None => {
                descent = Some(self.collector.enter());
                self.lock_holder(hash, descent.as_ref())
                    .expect("a guard may descend")
            }
        };
        let slot = node.slot(hash);
        let head = slot.load(Acquire);
        // Under the node's lock, which every writer of this slot holds, the
        // slot holds a chain or nothing (`lock_holder` checked).
        let (previous, found_ptr) = find(head.cast::<Entry<K, V>>(), hash, key.get(), &dead);
        // SAFETY: linked from the slot, read under its node's lock.
        let found = unsafe { found_ptr.as_ref() };
        let (change, result) = decide(found.map(|e| &e.value));
        let mut retired = false;
        match (change, found) {
            (Change::Keep, _) | (Change::Remove, None) => {}
            (Change::Set(value), Some(old)) => {
                // A call that owns its key stores it; others copy the old one.
                let key = match key {
                    KeyArg::Owned(key) => key,
                    KeyArg::Borrowed(_) => old.key.clone(),
                };
                let new = spare::boxed(Entry {
                    hash,
                    key,
                    value,
                    overflow: AtomicPtr::new(old.overflow.load(Relaxed)),
                });
                link(slot, previous, new);
                retired = true;
            }
            (Change::Set(value), None) => {
                let KeyArg::Owned(key) = key else {
                    unreachable!("only calls that own their key insert one")
                };
                let entry = spare::boxed(Entry {
                    hash,
                    key,
                    value,
                    overflow: AtomicPtr::new(ptr::null_mut()),
                });
                // SAFETY: `head` was read under the lock and is not an inner node.
                unsafe { insert(node, slot, head, entry) };
                self.len.fetch_add(1, Relaxed);
            }
            (Change::Remove, Some(old)) => {
                link(slot, previous, old.overflow.load(Relaxed));
                retired = true;
                self.len.fetch_sub(1, Relaxed);
                // Without a guard the node is a root, never pruned.
                if let Some(guard) = &descent {
                    dead = prune(node, dead, guard);
                }
            }
        }
        drop(dead);
        if retired {
            // SAFETY: unlinked above under the lock, by this call only, so
            // retired once, and not used again; retiring after unlocking
            // keeps the lock short.
            unsafe { self.collector.retire_spare(found_ptr) };
        }
        result
    }

    /// The live node whose slot holds `hash`, locked; `None` if that node
    /// is below the roots and there is no guard for the descent. Slots
    /// only ever change under their node's lock, so once it is held the
    /// slot is stable; if it grew or the node died meanwhile, start over.
    fn lock_holder<'g>(
        &'g self,
        hash: u64,
        guard: Option<&'g Guard<'_>>,
    ) -> Option<(&'g Inner<K, V>, MutexGuard<'g, bool>)> {
        loop {
            let mut node = self.root(hash);
            loop {
                let slot = node.slot(hash);
                let ptr = match guard {
                    Some(guard) => guard.protect(slot, Acquire),
                    None => slot.load(Acquire),
                };
                if ptr.addr() & INNER == 0 {
                    // A chain or nothing: start loading the entry the lock
                    // holder will compare (a hint; nothing is read).
                    prefetch(ptr.addr());
                    break;
                }
                guard?;
                // SAFETY: an inner node, loaded under `guard`.
                node = unsafe { &*untag_inner(ptr) };
            }
            let dead = node.dead.lock();
            let grew = node.slot(hash).load(Acquire).addr() & INNER != 0;
            if !*dead && !grew {
                return Some((node, dead));
            }
        }
    }

    /// Calls `f` on every entry, taking no lock: `f` may call the map.
    pub(crate) fn for_each(&self, f: &mut impl FnMut(&K, &V) -> ControlFlow<()>) {
        fn visit<K, V>(
            node: &Inner<K, V>,
            guard: &Guard<'_>,
            f: &mut impl FnMut(&K, &V) -> ControlFlow<()>,
        ) -> ControlFlow<()> {
            // Load every slot, then visit the used ones by a bit mask: a
            // branch per slot on whether it is empty goes at random, and
            // was often mispredicted.
            let slots: [*mut (); FANOUT] =
                std::array::from_fn(|i| guard.protect(&node.slots[i], Acquire));
            let mut used = slots
                .iter()
                .enumerate()
                .fold(0u32, |mask, (i, p)| mask | (u32::from(!p.is_null()) << i));
            while used != 0 {
                let ptr = slots[used.trailing_zeros() as usize];
                used &= used - 1;
                // SAFETY: loaded under `guard`.
                match unsafe { decode::<K, V>(ptr, guard) } {
                    Slot::Empty => {}
                    Slot::Inner(inner) => visit(inner, guard, f)?,
                    Slot::Entry(head) => {
                        let mut entry = Some(head);
                        while let Some(e) = entry {
                            f(&e.key, &e.value)?;
                            entry = next(e, guard);
                        }
                    }
                }
            }
            ControlFlow::Continue(())
        }
        let guard = self.collector.enter();
        let _ = self
            .roots
            .iter()
            .try_for_each(|root| visit(root, &guard, f));
    }

    /// Removes every entry for which `keep` is false, one node at a time,
    /// each under its lock, and prunes nodes left empty.
    pub(crate) fn retain(&self, keep: &mut impl FnMut(&K, &V) -> bool) {
        fn visit<K, V>(
            trie: &Trie<K, V>,
            node: &Inner<K, V>,
            guard: &Guard<'_>,
            keep: &mut impl FnMut(&K, &V) -> bool,
        ) {
            let mut children = Vec::new();
            {
                let dead = node.dead.lock();
                if *dead {
                    // Pruned, so empty: nothing to do.
                    return;
                }
                for slot in &node.slots {
                    let head = slot.load(Acquire);
                    // SAFETY: under the node's lock.
                    match unsafe { decode::<K, V>(head, guard) } {
                        Slot::Empty => {}
                        Slot::Inner(inner) => children.push(ptr::from_ref(inner)),
                        Slot::Entry(_) => trie.retain_chain(slot, head.cast(), guard, keep),
                    }
                }
                drop(prune(node, dead, guard));
            }
            for child in children {
                // SAFETY: `guard` keeps the child alive even if it is pruned.
                visit(trie, unsafe { &*child }, guard, keep);
            }
            // Children may have emptied this node: prune it if so.
            let dead = node.dead.lock();
            if !*dead {
                drop(prune(node, dead, guard));
            }
        }
        let guard = self.collector.enter();
        for root in self.roots.iter() {
            visit(self, root, &guard, keep);
        }
        // Bulk removal: free the entries as soon as readers allow, rather
        // than when later writes fill a batch.
        guard.flush();
    }

    /// Removes the entries of one chain that `keep` rejects. Call under
    /// the lock of the node that owns `slot`.
    fn retain_chain(
        &self,
        slot: &AtomicPtr<()>,
        head: *mut Entry<K, V>,
        guard: &Guard<'_>,
        keep: &mut impl FnMut(&K, &V) -> bool,
    ) {
        let mut previous: Option<&Entry<K, V>> = None;
        let mut entry = head;
        while !entry.is_null() {
            // SAFETY: loaded under `guard`.
            let e = unsafe { &*entry };
            let next = guard.protect(&e.overflow, Acquire);
            if keep(&e.key, &e.value) {
                previous = Some(e);
            } else {
                link(slot, previous, e.overflow.load(Relaxed));
                // SAFETY: unlinked above, under the lock, so retired once;
                // `next` was loaded before, so it is not used again.
                unsafe { self.collector.retire_spare(entry) };
                self.len.fetch_sub(1, Relaxed);
            }
            entry = next;
        }
    }
}

/// The entry after `entry` in its chain.
fn next<'g, K, V>(entry: &Entry<K, V>, guard: &'g Guard<'_>) -> Option<&'g Entry<K, V>> {
    let ptr = guard.protect(&entry.overflow, Acquire);
    // SAFETY: loaded under `guard`; entries live as long as it.
    (!ptr.is_null()).then(|| unsafe { &*ptr })
}

/// Where a key is in a chain: the entry before it (none if it is first or
/// absent), and its own entry as loaded (null if absent), which keeps the
/// provenance needed to retire it.
type Position<'g, K, V> = (Option<&'g Entry<K, V>>, *mut Entry<K, V>);

/// What keeps a chain's entries alive while it is walked.
trait Keeper {
    fn load<T>(&self, link: &AtomicPtr<T>) -> *mut T;
}

impl Keeper for Guard<'_> {
    fn load<T>(&self, link: &AtomicPtr<T>) -> *mut T {
        self.protect(link, Acquire)
    }
}

/// The lock of the node whose slot holds the chain: entries are unlinked,
/// and only then retired, under it.
impl Keeper for MutexGuard<'_, bool> {
    fn load<T>(&self, link: &AtomicPtr<T>) -> *mut T {
        link.load(Acquire)
    }
}

/// `key`'s position in the chain from `head` (which may be null), loaded
/// under `keeper`.
fn find<'g, K, V, Q>(
    head: *mut Entry<K, V>,
    hash: u64,
    key: &Q,
    keeper: &'g impl Keeper,
) -> Position<'g, K, V>
where
    K: Borrow<Q>,
    Q: Eq + ?Sized,
{
    let (mut previous, mut entry) = (None, head);
    while !entry.is_null() {
        // SAFETY: loaded under `keeper`; entries live as long as it.
        let e: &'g Entry<K, V> = unsafe { &*entry };
        if e.hash == hash && e.key.borrow() == key {
            return (previous, entry);
        }
        previous = Some(e);
        entry = keeper.load(&e.overflow);
    }
    (previous, ptr::null_mut())
}

/// Points the link before an entry (the slot, or `previous`'s overflow)
/// at `to`. Call under the lock of the node that owns `slot`.
fn link<K, V>(slot: &AtomicPtr<()>, previous: Option<&Entry<K, V>>, to: *mut Entry<K, V>) {
    match previous {
        None => slot.store(to.cast(), Release),
        Some(previous) => previous.overflow.store(to, Release),
    }
}

/// Publishes `entry`, a new entry whose key is absent from `slot`'s chain.
///
/// # Safety
///
/// Under the lock of `node`, which owns `slot`; `head` is the slot's
/// content, read under that lock, and is not an inner node; `entry` came
/// from `Box::into_raw` and is not shared yet.
unsafe fn insert<K, V>(
    node: &Inner<K, V>,
    slot: &AtomicPtr<()>,
    head: *mut (),
    entry: *mut Entry<K, V>,
) {
    // SAFETY: not shared yet.
    let hash = unsafe { (*entry).hash };
    if head.is_null() {
        slot.store(entry.cast(), Release);
        return;
    }
    // SAFETY: a live entry, read under the lock.
    let head_hash = unsafe { (*head.cast::<Entry<K, V>>()).hash };
    if head_hash == hash {
        // All 64 bits collide: chain it in front.
        // SAFETY: `entry` is not published yet.
        unsafe { (*entry).overflow.store(head.cast(), Relaxed) };
        slot.store(entry.cast(), Release);
        return;
    }
    // Grow: new nodes below the slot until the two hashes part, built
    // privately, then published with one store. The old chain moves as
    // is, so readers holding it are unaffected.
    let top = Box::into_raw(Box::new(Inner::new(node, node.shift + BITS)));
    let mut bottom = top;
    loop {
        // SAFETY: `bottom` is one of the nodes built here, not yet shared.
        let inner = unsafe { &*bottom };
        let (old_slot, new_slot) = (inner.slot(head_hash), inner.slot(hash));
        if !ptr::eq(old_slot, new_slot) {
            old_slot.store(head, Relaxed);
            new_slot.store(entry.cast(), Relaxed);
            break;
        }
        let deeper = Box::into_raw(Box::new(Inner::new(bottom, inner.shift + BITS)));
        old_slot.store(tag_inner(deeper), Relaxed);
        bottom = deeper;
    }
    slot.store(tag_inner(top), Release);
}

/// Prunes `node` if it is empty and not the root, then its parent if that
/// is left empty, and so on up; returns the lock of the last node looked
/// at. Locks are taken child first: the only order any writer uses.
fn prune<'g, K, V>(
    mut node: &'g Inner<K, V>,
    mut lock: MutexGuard<'g, bool>,
    guard: &Guard<'_>,
) -> MutexGuard<'g, bool> {
    while !node.parent.is_null() && node.is_empty() {
        // SAFETY: a live node's parent is live: it is pruned only once
        // empty, and it holds this node.
        let parent = unsafe { &*node.parent };
        let parent_lock = parent.dead.lock();
        *lock = true;
        // The slot's own pointer, not one made from `node`: retiring it
        // frees the box, which needs the provenance `Box::into_raw` gave.
        let (slot, pointer) = parent
            .slots
            .iter()
            .find_map(|s| {
                let p = s.load(Relaxed);
                (p.addr() & !INNER == ptr::from_ref(node).addr()).then_some((s, p))
            })
            .expect("a live node is in its parent");
        slot.store(ptr::null_mut(), Release);
        drop(lock);
        // SAFETY: unlinked above under both locks, and marked dead, so no
        // writer will use it and it is retired once.
        unsafe { guard.retire(untag_inner::<K, V>(pointer)) };
        node = parent;
        lock = parent_lock;
    }
    lock
}

impl<K, V> Drop for Trie<K, V> {
    fn drop(&mut self) {
        /// Frees everything below `node`.
        ///
        /// # Safety
        ///
        /// Nothing else uses the trie.
        unsafe fn free_below<K, V>(node: &Inner<K, V>) {
            for slot in &node.slots {
                let ptr = slot.load(Relaxed);
                if ptr.is_null() {
                    continue;
                }
                if ptr.addr() & INNER != 0 {
                    let inner = untag_inner::<K, V>(ptr);
                    // SAFETY: owned by the trie, used by nothing else.
                    unsafe {
                        free_below(&*inner);
                        drop(Box::from_raw(inner));
                    }
                } else {
                    let mut entry = ptr.cast::<Entry<K, V>>();
                    while !entry.is_null() {
                        // SAFETY: as above; each entry is in one chain once.
                        let owned = unsafe { Box::from_raw(entry) };
                        entry = owned.overflow.load(Relaxed);
                    }
                }
            }
        }
        for root in self.roots.iter() {
            // SAFETY: `&mut self`. What writers retired is freed by the collector.
            unsafe { free_below(root) };
        }
    }
}
