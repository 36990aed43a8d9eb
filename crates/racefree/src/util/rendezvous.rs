//! A call served by another thread while the caller waits: the request
//! borrows the caller's stack, so a call allocates nothing.
//!
//! [`OwnedMap`](crate::OwnedMap)'s callers send a [`Job`] to the owner
//! thread and wait on a [`Signal`] until it has run. The closure, its
//! result slot and the signal all live in the waiting caller's frame; the
//! owner reaches them through raw pointers. Written by hand because this
//! is the product: a boxed closure plus a one-shot reply channel costs two
//! allocations per call, freed on another thread, which is most of the
//! round trip the owner pattern is judged by.
//!
//! The rule that makes it sound: a caller does not leave the frame (return,
//! unwind, or move the closure or signal) before its signal reports the job
//! finished, and the owner touches nothing of the frame after reporting. A
//! job that is never run (the owner is gone, its queue dropped) reports
//! "abandoned" when dropped, so no caller waits forever.

#![allow(unsafe_code)]

use std::mem;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use super::sync::{AtomicU8, thread};

/// The caller spins or yields, and has not parked.
const WAITING: u8 = 0;
/// The caller has parked, or is about to: the owner must unpark it.
const PARKED: u8 = 1;
/// The job ran; its result is in the caller's frame.
const DONE: u8 = 2;
/// The job was dropped without running.
const ABANDONED: u8 = 3;

/// Has another thread run `work` with its `T`, and waits until it has.
///
/// `send` delivers the job (to the owner's queue) or gives it back.
/// Returns whether `work` ran: `false` if the job was dropped unrun.
pub(crate) fn run_elsewhere<T, F>(
    work: &mut F,
    send: impl FnOnce(Job<T>) -> Result<(), Job<T>>,
) -> bool
where
    F: FnMut(&mut T) + Send,
{
    /// Leaving this frame while the job is out would leave the other
    /// thread with dangling pointers; nothing here unwinds, but if it did,
    /// aborting is the only sound way out.
    struct AbortOnUnwind;
    impl Drop for AbortOnUnwind {
        fn drop(&mut self) {
            std::process::abort();
        }
    }

    let signal = Signal::new();
    let guard = AbortOnUnwind;
    // SAFETY: `work` is borrowed for this whole call and `signal` lives in
    // this frame; the wait below returns only once the job has told the
    // signal, and an undelivered job is dropped (telling it) first.
    let job = unsafe { Job::new(work, &signal) };
    if let Err(undelivered) = send(job) {
        drop(undelivered);
    }
    let ran = signal.wait();
    mem::forget(guard);
    ran
}

/// How many times a caller checks with a pause, then with a yield, before
/// it parks. Spinning covers a round trip to an idle owner (about 300 ns).
/// Yielding covers a wait behind other callers: it gives the core to the
/// owner when callers outnumber cores, where spinning would starve it,
/// and it keeps the owner from paying a wake-up (a system call) per reply,
/// which parked callers cost. Tuned with racefree-bench's LoadMostlyHits
/// at 1, 2 and 8 threads on 2 cores (BENCHMARKS.md).
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
const SPINS: u32 = 100;
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
const YIELDS: u32 = 1_000;

/// Where a caller waits for its job.
#[derive(Debug)]
struct Signal {
    state: AtomicU8,
    caller: thread::Thread,
}

impl Signal {
    /// A signal for the current thread to wait on.
    fn new() -> Self {
        Self {
            state: AtomicU8::new(WAITING),
            caller: thread::current(),
        }
    }

    /// Whether the job has finished: `Some(true)` if it ran, `Some(false)`
    /// if it was abandoned.
    fn finished(&self) -> Option<bool> {
        match self.state.load(Acquire) {
            DONE => Some(true),
            ABANDONED => Some(false),
            _ => None,
        }
    }

    /// Waits until the job has run (`true`) or was abandoned (`false`).
    ///
    /// Spins, then yields, then parks (see [`SPINS`]): a round trip to the
    /// owner takes well under a microsecond, far less than parking and
    /// being woken.
    fn wait(&self) -> bool {
        // Model checkers explore every spin as a schedule; there, park at once.
        #[cfg(not(any(racefree_loom, racefree_shuttle)))]
        {
            for _ in 0..SPINS {
                if let Some(ran) = self.finished() {
                    return ran;
                }
                std::hint::spin_loop();
            }
            for _ in 0..YIELDS {
                if let Some(ran) = self.finished() {
                    return ran;
                }
                thread::yield_now();
            }
        }
        if self
            .state
            .compare_exchange(WAITING, PARKED, Relaxed, Relaxed)
            .is_ok()
        {
            loop {
                thread::park();
                if let Some(ran) = self.finished() {
                    return ran;
                }
            }
        }
        self.finished()
            .expect("only the owner moves a signal on from WAITING")
    }
}

/// Tells the caller waiting on `signal` that its job is `outcome`.
///
/// # Safety
///
/// `signal` points to a live [`Signal`] that has not been told yet. Once
/// this returns, or even before, the caller may free it.
unsafe fn notify(signal: *const Signal, outcome: u8) {
    // SAFETY: the signal is live until its caller sees `outcome`, which
    // cannot happen before the compare-exchange below succeeds.
    let state = unsafe { &(*signal).state };
    if state
        .compare_exchange(WAITING, outcome, Release, Relaxed)
        .is_err()
    {
        // PARKED: the caller cannot leave before the store below, so its
        // thread handle can be cloned first; after the store only the
        // clone is used.
        // SAFETY: as above; the caller is still waiting.
        let caller = unsafe { (*signal).caller.clone() };
        state.store(outcome, Release);
        caller.unpark();
    }
}

/// A closure in a waiting caller's frame, to be run by another thread with
/// a `&mut T`.
pub(crate) struct Job<T> {
    work: *mut (),
    call: unsafe fn(*mut (), &mut T),
    signal: *const Signal,
}

// SAFETY: `work` is a `Send` closure (`Job::new` requires it) and `signal`
// is only used through atomics and a `Thread` clone, which are `Sync`.
unsafe impl<T> Send for Job<T> {}

impl<T> Job<T> {
    /// A job that runs `work` and then tells `signal`.
    ///
    /// # Safety
    ///
    /// The caller must keep `work` and `signal` in place (not return,
    /// unwind, or move them) until `signal.wait()` returns, and must call
    /// it, unless the job is given back undelivered and dropped first.
    unsafe fn new<F: FnMut(&mut T) + Send>(work: &mut F, signal: &Signal) -> Self {
        /// Calls the `F` that `work` points to.
        ///
        /// # Safety
        ///
        /// `work` is the `&mut F` given to `Job::new`, still in place.
        unsafe fn call<T, F: FnMut(&mut T)>(work: *mut (), target: &mut T) {
            // SAFETY: by `Job::new`'s contract the closure is live and only
            // this thread uses it until the signal is told.
            unsafe { (*work.cast::<F>())(target) }
        }
        Self {
            work: (work as *mut F).cast(),
            call: call::<T, F>,
            signal,
        }
    }

    /// Runs the job on `target` and tells its caller. If the closure
    /// unwinds, the job is dropped on the way out and reports "abandoned".
    pub(crate) fn run(self, target: &mut T) {
        // SAFETY: the caller waits, so the closure is live; a job runs once
        // because `run` takes it by value.
        unsafe { (self.call)(self.work, target) };
        let signal = self.signal;
        mem::forget(self);
        // SAFETY: not told yet: `run` and `drop` are the only places that
        // tell, and `forget` skipped the drop.
        unsafe { notify(signal, DONE) };
    }
}

impl<T> Drop for Job<T> {
    fn drop(&mut self) {
        // SAFETY: a job that was not run has not told its caller, who is
        // still waiting (or will wait) on the live signal.
        unsafe { notify(self.signal, ABANDONED) };
    }
}

impl<T> std::fmt::Debug for Job<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

/// Every interleaving of a caller and the thread that runs or drops its
/// job, including the caller parking before, during and after the run.
#[cfg(all(test, racefree_loom))]
mod loom_tests {
    use super::*;
    use crate::util::sync::channel;

    /// A count the job's closure keeps in the caller's frame.
    struct Calls(loom::cell::UnsafeCell<u32>);

    // SAFETY: the server and the caller take turns, ordered by the signal,
    // which is what the model checks.
    unsafe impl Sync for Calls {}

    impl Calls {
        /// On the server, while the caller waits.
        fn add_one(&self) {
            // SAFETY: only the server touches the count until the caller is told.
            self.0.with_mut(|calls| unsafe { *calls += 1 });
        }

        /// On the caller, once told.
        fn get(&self) -> u32 {
            // SAFETY: the server is done with the count.
            self.0.with(|calls| unsafe { *calls })
        }
    }

    /// A caller sends a job that adds one to the counter it is run with,
    /// while another thread either runs it (`run`) or drops it unrun.
    fn model(run: bool) {
        loom::model(move || {
            let (requests, inbox) = channel::<Job<u32>>();
            let server = loom::thread::spawn(move || {
                let mut counter = 0;
                let job = inbox.recv().expect("the caller sends one job");
                if run {
                    job.run(&mut counter);
                } else {
                    drop(job);
                }
                counter
            });
            // Written by the server, read by the caller: loom checks that
            // the signal orders the two.
            let calls = Calls(loom::cell::UnsafeCell::new(0));
            let mut work = |counter: &mut u32| {
                *counter += 1;
                calls.add_one();
            };
            let ran = run_elsewhere(&mut work, |job| requests.send(job).map_err(|e| e.0));
            assert_eq!(ran, run);
            assert_eq!(calls.get(), u32::from(run));
            assert_eq!(server.join().unwrap(), u32::from(run));
        });
    }

    #[test]
    fn a_job_that_runs_wakes_its_caller_once_done() {
        model(true);
    }

    #[test]
    fn a_job_dropped_unrun_wakes_its_caller() {
        model(false);
    }
}
