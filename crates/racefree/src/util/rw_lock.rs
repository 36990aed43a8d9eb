//! The reader-writer lock on each of the lock-based maps' tables: like
//! parking_lot's, except that releasing the write lock is a plain store.
//!
//! Releasing parking_lot's write lock is a compare-and-swap, which on x86
//! is a full barrier: it waits until the call's own writes to the table,
//! often still missing the cache, have reached it. A plain store lets the
//! thread go on to its next call while they complete, so the cache misses
//! of one call overlap the next one's. Measured in alternating runs of
//! racefree-bench at 2^21 (the commit that brought this lock): at one
//! thread, ShardedMap's rapid-grow rose from 4.0 to 4.8 M ops/s to 5.0 to
//! 7.7 (exchange and read-heavy moved less than the noise); at 2 and 8
//! threads its lead over scc on exchange and rapid-grow went from 1.09 to
//! 1.43 to 1.17 to 1.35.
//!
//! A plain store cannot learn atomically whether a thread went to sleep
//! waiting for the lock: one that parks in the instant between the
//! releasing writer's check and its store is not woken. So every thread
//! that waits for a writer sleeps for at most [`RECHECK`] before it looks
//! again. The readers' count is a word of its own, changed only with
//! read-modify-writes, so a writer waiting for readers to leave is always
//! woken.
//!
//! Written here because no maintained crate offers a lock with this
//! release; the waiting is parking_lot_core's, and lock_api builds the
//! guards.

#![allow(unsafe_code)]
// Under a model checker the maps use the checker's lock; this one is
// compiled for its own model tests.
#![cfg_attr(any(racefree_loom, racefree_shuttle), allow(dead_code))]

#[cfg(not(any(racefree_loom, racefree_shuttle)))]
use std::time::{Duration, Instant};

use std::sync::atomic::Ordering::{Relaxed, Release, SeqCst};

use crate::util::sync::AtomicU32;
#[cfg(any(racefree_loom, racefree_shuttle))]
use crate::util::sync::thread;

/// In [`RawRwLock::writer`]: a writer holds the lock, or has claimed it and
/// waits for the readers to leave.
const WRITER: u32 = 1;
/// In [`RawRwLock::writer`]: a thread may be asleep until the writer
/// leaves.
const PARKED: u32 = 2;
/// In [`RawRwLock::writer`]: the writer may be asleep until the readers
/// leave.
const DRAINING: u32 = 4;

/// The longest a thread sleeps on a writer before it checks the lock again,
/// in case the wake-up was missed (see the module docs). Far longer than a
/// lock is held, unless its holder was preempted, which takes milliseconds.
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
const RECHECK: Duration = Duration::from_micros(200);

/// A reader-writer lock that prefers writers: a reader backs off while a
/// writer holds or has claimed the lock.
#[derive(Debug)]
pub(crate) struct RawRwLock {
    /// [`WRITER`], [`PARKED`] and [`DRAINING`].
    writer: AtomicU32,
    /// Readers holding the lock, and readers about to find that a writer
    /// holds it and leave.
    readers: AtomicU32,
}

/// A value behind a [`RawRwLock`].
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
pub(crate) type RwLock<T> = lock_api::RwLock<RawRwLock, T>;
/// Write access to a [`RwLock`]'s value.
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
pub(crate) type RwLockWriteGuard<'a, T> = lock_api::RwLockWriteGuard<'a, RawRwLock, T>;

impl RawRwLock {
    /// An unlocked lock, for the model tests (lock_api uses `INIT`).
    #[cfg(any(racefree_loom, racefree_shuttle))]
    fn new() -> Self {
        Self {
            writer: AtomicU32::new(0),
            readers: AtomicU32::new(0),
        }
    }

    /// Takes the lock for reading.
    #[inline]
    fn read(&self) {
        while !self.try_read() {
            self.wait_for_writer();
        }
    }

    /// Takes the lock for reading unless a writer holds it.
    ///
    /// `SeqCst` here and in [`write`](Self::write): a reader
    /// counts itself and then looks for a writer, a writer claims the lock
    /// and then looks for readers, and one of the two must see the other.
    #[inline]
    fn try_read(&self) -> bool {
        self.readers.fetch_add(1, SeqCst);
        loom_seq_cst();
        if self.writer.load(SeqCst) & WRITER == 0 {
            return true;
        }
        self.leave_as_reader();
        false
    }

    /// Releases a read lock, or a reader's count that found a writer.
    #[inline]
    fn leave_as_reader(&self) {
        // `SeqCst`, against the writer's setting `DRAINING` and then
        // counting the readers (`wait_for_readers`): the last reader
        // either sees `DRAINING` or is seen gone.
        let last = self.readers.fetch_sub(1, SeqCst) == 1;
        loom_seq_cst();
        if last && self.writer.load(SeqCst) & DRAINING != 0 {
            self.wake_writer();
        }
    }

    /// Takes the lock for writing.
    #[inline]
    fn write(&self) {
        while !self.claim() {
            self.wait_for_writer();
        }
        loom_seq_cst();
        if self.readers.load(SeqCst) != 0 {
            self.wait_for_readers();
        }
    }

    /// Sets `WRITER` unless a writer holds the lock. Readers may still
    /// hold it.
    #[inline]
    fn claim(&self) -> bool {
        let writer = self.writer.load(Relaxed);
        writer & WRITER == 0
            && self
                .writer
                .compare_exchange(writer, writer | WRITER, SeqCst, Relaxed)
                .is_ok()
    }

    /// Releases the write lock.
    #[inline]
    fn unlock_write(&self) {
        let sleepers = self.writer.load(Relaxed) != WRITER;
        // A plain store: see the module docs, also for the sleeper it may
        // miss.
        self.writer.store(0, Release);
        if sleepers {
            self.wake_all();
        }
    }

    /// The address threads sleep on while a writer holds the lock.
    fn writer_key(&self) -> usize {
        std::ptr::from_ref(&self.writer).addr()
    }

    /// The address a writer sleeps on while readers leave.
    fn readers_key(&self) -> usize {
        std::ptr::from_ref(&self.readers).addr()
    }
}

/// Loom models `SeqCst` reads and writes as `Acquire` and `Release`
/// (tokio-rs/loom#180), which lets a reader and a writer miss each other
/// where the real order cannot; a `SeqCst` fence, which it does model,
/// stands in for the order between a read-modify-write and the check
/// after it. Nothing outside loom.
#[inline(always)]
fn loom_seq_cst() {
    #[cfg(racefree_loom)]
    loom::sync::atomic::fence(SeqCst);
}

/// Waiting, with parking_lot_core's spinning and parking.
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
impl RawRwLock {
    /// Returns once the writer is gone (or was, briefly).
    #[cold]
    fn wait_for_writer(&self) {
        let mut spin = parking_lot_core::SpinWait::new();
        while self.writer.load(Relaxed) & WRITER != 0 {
            if spin.spin() {
                continue;
            }
            self.writer.fetch_or(PARKED, Relaxed);
            sleep(
                self.writer_key(),
                || self.writer.load(Relaxed) & (WRITER | PARKED) == WRITER | PARKED,
                Some(Instant::now() + RECHECK),
            );
        }
    }

    /// Returns once the readers are gone; the writer holds `WRITER`.
    #[cold]
    fn wait_for_readers(&self) {
        let mut spin = parking_lot_core::SpinWait::new();
        while self.readers.load(SeqCst) != 0 {
            if spin.spin() {
                continue;
            }
            self.writer.fetch_or(DRAINING, SeqCst);
            // No time limit: the last reader to leave sees `DRAINING`
            // (see `leave_as_reader`).
            sleep(self.readers_key(), || self.readers.load(SeqCst) != 0, None);
        }
        self.writer.fetch_and(!DRAINING, Relaxed);
    }

    /// Wakes the writer waiting for the readers to leave.
    #[cold]
    fn wake_writer(&self) {
        wake(self.readers_key());
    }

    /// Wakes every thread waiting for the writer to leave.
    #[cold]
    fn wake_all(&self) {
        wake(self.writer_key());
    }
}

/// Sleeps on `key` if `validate` holds (checked under parking_lot_core's
/// queue lock, which `wake` takes too), until woken or `deadline`.
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
fn sleep(key: usize, validate: impl FnOnce() -> bool, deadline: Option<Instant>) {
    // SAFETY: the keys are a lock's own field addresses, which no other
    // parking_lot_core user parks on; the callbacks do not park or panic.
    unsafe {
        parking_lot_core::park(
            key,
            validate,
            || {},
            |_, _| {},
            parking_lot_core::DEFAULT_PARK_TOKEN,
            deadline,
        );
    }
}

/// Wakes every thread asleep on `key`.
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
fn wake(key: usize) {
    // SAFETY: as in `sleep`.
    unsafe {
        parking_lot_core::unpark_all(key, parking_lot_core::DEFAULT_UNPARK_TOKEN);
    }
}

/// Waiting under a model checker: a yield, which lets the checker run the
/// thread being waited for. A checker cannot model a sleep that ends by
/// itself, so the wake-ups are not checked here.
#[cfg(any(racefree_loom, racefree_shuttle))]
impl RawRwLock {
    fn wait_for_writer(&self) {
        while self.writer.load(Relaxed) & WRITER != 0 {
            thread::yield_now();
        }
    }

    fn wait_for_readers(&self) {
        while self.readers.load(SeqCst) != 0 {
            thread::yield_now();
        }
    }

    fn wake_writer(&self) {}

    fn wake_all(&self) {}
}

// SAFETY: `lock_exclusive` returns only to the one thread that set
// `WRITER` and then saw no reader; `lock_shared` only to threads that
// counted themselves and then saw no `WRITER`. The `SeqCst` order of those
// two steps on each side (see `try_read`) keeps a reader and a writer from
// both passing. The `Release` on leaving and `SeqCst` (which includes
// `Acquire`) on entering order the data between holders.
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
unsafe impl lock_api::RawRwLock for RawRwLock {
    #[allow(
        clippy::declare_interior_mutable_const,
        reason = "lock_api's initializer"
    )]
    const INIT: Self = Self {
        writer: AtomicU32::new(0),
        readers: AtomicU32::new(0),
    };
    type GuardMarker = lock_api::GuardSend;

    #[inline]
    fn lock_shared(&self) {
        self.read();
    }

    #[inline]
    fn try_lock_shared(&self) -> bool {
        self.try_read()
    }

    #[inline]
    unsafe fn unlock_shared(&self) {
        self.leave_as_reader();
    }

    #[inline]
    fn lock_exclusive(&self) {
        self.write();
    }

    #[inline]
    fn try_lock_exclusive(&self) -> bool {
        if !self.claim() {
            return false;
        }
        if self.readers.load(SeqCst) != 0 {
            self.unlock_write();
            return false;
        }
        true
    }

    #[inline]
    unsafe fn unlock_exclusive(&self) {
        self.unlock_write();
    }
}

/// Every interleaving of readers and writers, up to the preemption bound:
/// no reader overlaps a writer, no two writers overlap, and each sees the
/// writes of those before it (loom's cells check both).
#[cfg(all(test, racefree_loom))]
mod loom_tests {
    use std::sync::Arc;

    use loom::cell::UnsafeCell;

    use super::*;

    /// A count behind the lock.
    struct Locked {
        lock: RawRwLock,
        count: UnsafeCell<u32>,
    }

    // SAFETY: the count is only touched under the lock, which is what the
    // model checks.
    unsafe impl Sync for Locked {}

    impl Locked {
        fn add_one(&self) {
            self.lock.write();
            // SAFETY: the write lock is held.
            self.count.with_mut(|count| unsafe { *count += 1 });
            self.lock.unlock_write();
        }

        fn get(&self) -> u32 {
            self.lock.read();
            // SAFETY: a read lock is held.
            let count = self.count.with(|count| unsafe { *count });
            self.lock.leave_as_reader();
            count
        }
    }

    /// A spawned thread writes once while the main thread reads (or
    /// writes, if `main_writes`), then the main thread reads the total.
    fn model(main_writes: bool) {
        let mut builder = loom::model::Builder::new();
        // Every turn of a wait loop is a branch.
        builder.max_branches = 10_000;
        builder.check(move || {
            let locked = Arc::new(Locked {
                lock: RawRwLock::new(),
                count: UnsafeCell::new(0),
            });
            let writer = {
                let locked = Arc::clone(&locked);
                thread::spawn(move || locked.add_one())
            };
            if main_writes {
                locked.add_one();
            } else {
                let seen = locked.get();
                assert!(seen <= 1, "read {seen}");
            }
            writer.join().unwrap();
            assert_eq!(locked.get(), 1 + u32::from(main_writes));
        });
    }

    #[test]
    fn a_writer_and_a_reader() {
        model(false);
    }

    #[test]
    fn two_writers() {
        model(true);
    }
}

#[cfg(all(test, not(any(racefree_loom, racefree_shuttle))))]
mod tests {
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;

    use super::*;

    /// How long a test waits for a thread that should get the lock.
    const PATIENCE: Duration = Duration::from_secs(20);

    /// A thread that takes the lock (with `take`) while it is held (for
    /// writing or for reading), long enough to park, gets it once it is
    /// released.
    fn wakes_after(held_for_writing: bool, take: fn(&RwLock<u32>) -> u32) {
        use lock_api::RawRwLock as _;
        // Leaked, not scoped: a waiter that never wakes must fail the
        // test rather than hang it.
        let lock: &'static RwLock<u32> = Box::leak(Box::new(RwLock::new(0)));
        let (done, finished) = mpsc::channel();
        if held_for_writing {
            let mut guard = lock.write();
            *guard = 1;
            std::mem::forget(guard);
        } else {
            *lock.write() = 1;
            std::mem::forget(lock.read());
        }
        let waiter = thread::spawn(move || {
            let value = take(lock);
            done.send(()).unwrap();
            value
        });
        // The waiter spins for microseconds, then parks.
        thread::sleep(Duration::from_millis(50));
        assert!(finished.try_recv().is_err(), "took a lock that was held");
        // SAFETY: this thread holds the lock through the guard it forgot.
        unsafe {
            if held_for_writing {
                lock.raw().unlock_exclusive();
            } else {
                lock.raw().unlock_shared();
            }
        }
        finished
            .recv_timeout(PATIENCE)
            .expect("the waiter never woke");
        assert_eq!(waiter.join().unwrap(), 1);
    }

    #[test]
    fn a_reader_parked_on_a_writer_wakes() {
        wakes_after(true, |lock| *lock.read());
    }

    #[test]
    fn a_writer_parked_on_a_writer_wakes() {
        wakes_after(true, |lock| *lock.write());
    }

    /// The one wait with no time limit: a writer for the readers to leave.
    #[test]
    fn a_writer_parked_on_a_reader_wakes() {
        wakes_after(false, |lock| *lock.write());
    }

    /// Readers share the lock; a writer excludes everyone.
    #[test]
    fn readers_share_and_a_writer_excludes() {
        let lock = RwLock::new(());
        let first = lock.read();
        assert!(lock.try_read().is_some());
        assert!(lock.try_write().is_none());
        drop(first);
        let writer = lock.write();
        assert!(lock.try_read().is_none());
        assert!(lock.try_write().is_none());
        drop(writer);
        assert!(lock.try_write().is_some());
    }

    /// Writers on every core that never let go of the lock for long must
    /// not shut a reader out: the lock prefers writers and hands off to no
    /// one in particular, so the reader gets in only in the gaps. On 2
    /// cores, a one-shard ShardedMap with 1, 3 and 7 writers inserting
    /// without pause let a reader through 1.3 M, 330 000 and 127 000 times
    /// in 3 s, and no read waited more than 3.0 ms.
    #[test]
    fn a_reader_gets_through_writers_that_never_stop() {
        use std::sync::atomic::AtomicBool;
        // Leaked, not scoped, as in `wakes_after`.
        let lock: &'static RwLock<u64> = Box::leak(Box::new(RwLock::new(0)));
        let stop: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
        let writers: Vec<_> = (0..4 * thread::available_parallelism().map_or(2, |n| n.get()))
            .map(|_| {
                thread::spawn(move || {
                    while !stop.load(Relaxed) {
                        *lock.write() += 1;
                    }
                })
            })
            .collect();
        let (done, finished) = mpsc::channel();
        thread::spawn(move || {
            // Once the writers are at it.
            while *lock.read() == 0 {
                thread::yield_now();
            }
            for _ in 0..10_000 {
                std::hint::black_box(*lock.read());
            }
            done.send(()).unwrap();
        });
        finished
            .recv_timeout(PATIENCE)
            .expect("the reader was shut out");
        stop.store(true, Relaxed);
        for writer in writers {
            writer.join().unwrap();
        }
    }

    /// Oversubscribed: threads take turns on a pair that writers keep
    /// equal, and readers must never see them apart.
    #[test]
    fn readers_never_see_a_write_half_done() {
        let lock = RwLock::new((0u64, 0u64));
        let threads = 4 * thread::available_parallelism().map_or(2, |n| n.get());
        let rounds = 20_000;
        thread::scope(|s| {
            for t in 0..threads {
                let lock = &lock;
                s.spawn(move || {
                    for i in 0..rounds {
                        if (i + t) % 4 == 0 {
                            let mut pair = lock.write();
                            pair.0 += 1;
                            std::hint::black_box(&mut *pair);
                            pair.1 += 1;
                        } else {
                            let pair = lock.read();
                            assert_eq!(pair.0, pair.1);
                        }
                    }
                });
            }
        });
        let writes = (0..threads)
            .map(|t| (0..rounds).filter(|i| (i + t) % 4 == 0).count() as u64)
            .sum::<u64>();
        assert_eq!(*lock.read(), (writes, writes));
    }
}
