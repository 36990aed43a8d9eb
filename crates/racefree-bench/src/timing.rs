//! Timing work spread over threads.

use std::panic;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

/// Runs `work(t, prepare(t))` on threads `0..threads`, each preparing first
/// and then starting together, and returns the time from the first thread's
/// start to the last thread's finish, with what each thread's work returned.
///
/// Each thread reads the clock itself: a coordinating thread that reads it
/// after releasing the others may be scheduled only once they are done, on
/// an oversubscribed machine, and would measure nothing.
pub fn time_threads<S, R: Send>(
    threads: usize,
    prepare: impl Fn(usize) -> S + Sync,
    work: impl Fn(usize, S) -> R + Sync,
) -> (Duration, Vec<R>) {
    let start = Barrier::new(threads);
    let spans: Vec<(Instant, Instant, R)> = thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (prepare, work, start) = (&prepare, &work, &start);
                s.spawn(move || {
                    let state = prepare(t);
                    start.wait();
                    let began = Instant::now();
                    let result = work(t, state);
                    (began, Instant::now(), result)
                })
            })
            .collect();
        // Re-raise a thread's panic with its own message.
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| panic::resume_unwind(e)))
            .collect()
    });
    let first = spans
        .iter()
        .map(|span| span.0)
        .min()
        .expect("at least one thread");
    let last = spans
        .iter()
        .map(|span| span.1)
        .max()
        .expect("at least one thread");
    (last - first, spans.into_iter().map(|span| span.2).collect())
}
