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
/// The job ran; its outcome is in the caller's frame.
const DONE: u8 = 2;
/// The job was dropped without running.
const ABANDONED: u8 = 3;

/// Has another thread run `task` with its `T`, waits until it has, and
/// returns what it returned: `None` if the job was dropped unrun.
///
/// `send` delivers the job (to the owner's queue) or gives it back.
pub(crate) fn run_elsewhere<T, F, R>(
    task: F,
    send: impl FnOnce(Job<T>) -> Result<(), Job<T>>,
) -> Option<R>
where
    F: FnOnce(&mut T) -> R + Send,
    R: Send,
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

    let mut meeting = Meeting {
        signal: Signal::new(),
        task: Some(task),
        outcome: None,
    };
    // Both threads reach the meeting through this one pointer (and
    // pointers made from it), never through the variable, whose use would
    // invalidate the other thread's pointers under Rust's aliasing rules.
    let shared = &raw mut meeting;
    let guard = AbortOnUnwind;
    // SAFETY: `meeting` stays in this frame, unmoved, until the wait below
    // returns, which is only once the job has told the signal; an
    // undelivered job is dropped (telling it) first.
    let job = unsafe { Job::new(shared) };
    if let Err(undelivered) = send(job) {
        drop(undelivered);
    }
    // SAFETY: `shared` points to `meeting`, alive in this frame; the signal
    // is only touched through atomics and the caller's `Thread` handle.
    unsafe { (*shared).signal.wait() };
    mem::forget(guard);
    // SAFETY: the job has run or was dropped: nothing else touches it now.
    unsafe { (*shared).outcome.take() }
}

/// Everything the other thread touches of a call, on one cache line where
/// it fits: the task, its outcome and the signal. Served by another core,
/// each line costs a cache miss; kept together, the owner pays one.
#[repr(C, align(64))]
struct Meeting<F, R> {
    signal: Signal,
    task: Option<F>,
    outcome: Option<R>,
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

    /// Whether the job has run or was abandoned.
    fn is_finished(&self) -> bool {
        self.state.load(Acquire) >= DONE
    }

    /// Waits until the job has run or was abandoned.
    ///
    /// Spins, then yields, then parks (see [`SPINS`]): a round trip to the
    /// owner takes well under a microsecond, far less than parking and
    /// being woken.
    fn wait(&self) {
        // Model checkers explore every spin as a schedule; there, park at once.
        #[cfg(not(any(racefree_loom, racefree_shuttle)))]
        {
            for _ in 0..SPINS {
                if self.is_finished() {
                    return;
                }
                std::hint::spin_loop();
            }
            for _ in 0..YIELDS {
                if self.is_finished() {
                    return;
                }
                thread::yield_now();
            }
        }
        // On failure the owner has already moved the state on from WAITING:
        // the Acquire there pairs with its Release, as `is_finished` does.
        if self
            .state
            .compare_exchange(WAITING, PARKED, Relaxed, Acquire)
            .is_ok()
        {
            while !self.is_finished() {
                thread::park();
            }
        }
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
    meeting: *mut (),
    call: unsafe fn(*mut (), &mut T),
    signal: *const Signal,
}

// SAFETY: the task is `Send` and its outcome `Send` (`Job::new` requires
// both), and the signal is only used through atomics and a `Thread`
// clone, which are `Sync`.
unsafe impl<T> Send for Job<T> {}

impl<T> Job<T> {
    /// A job that runs `meeting`'s task, stores its outcome there and then
    /// tells its signal.
    ///
    /// # Safety
    ///
    /// `meeting` points to a live meeting that the caller keeps in place
    /// (no return, unwind or move) until its signal's `wait` returns, which
    /// it must call unless the job is given back undelivered and dropped
    /// first; meanwhile the caller touches only the signal.
    unsafe fn new<F, R>(meeting: *mut Meeting<F, R>) -> Self
    where
        F: FnOnce(&mut T) -> R + Send,
        R: Send,
    {
        /// Runs the task of the `Meeting<F, R>` that `meeting` points to.
        ///
        /// # Safety
        ///
        /// `meeting` is the one given to `Job::new`, still in place.
        unsafe fn call<T, F: FnOnce(&mut T) -> R, R>(meeting: *mut (), target: &mut T) {
            let meeting = meeting.cast::<Meeting<F, R>>();
            // Field by field through the raw pointer, never `&mut Meeting`:
            // the caller reads the signal through a shared reference all
            // along, and a unique reference to the whole meeting would
            // overlap it (Miri reported it).
            // SAFETY: by `Job::new`'s contract the meeting is live, and only
            // this thread touches its task and outcome until the signal is
            // told.
            let task = unsafe { (*meeting).task.take() };
            let outcome = task.expect("a job runs once")(target);
            // SAFETY: as above.
            unsafe { (*meeting).outcome = Some(outcome) };
        }
        Self {
            // SAFETY: `meeting` is live (the contract above); this makes a
            // pointer to a field, with no reference in between.
            signal: unsafe { &raw const (*meeting).signal },
            meeting: meeting.cast(),
            call: call::<T, F, R>,
        }
    }

    /// Runs the job on `target` and tells its caller. If the task unwinds,
    /// the job is dropped on the way out and reports "abandoned".
    pub(crate) fn run(self, target: &mut T) {
        // SAFETY: the caller waits, so the meeting is live; a job runs once
        // because `run` takes it by value.
        unsafe { (self.call)(self.meeting, target) };
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
            let task = |counter: &mut u32| {
                *counter += 1;
                calls.add_one();
                7
            };
            let outcome = run_elsewhere(task, |job| requests.send(job).map_err(|e| e.0));
            assert_eq!(outcome, run.then_some(7));
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
