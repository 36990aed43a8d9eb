//! Linearizability of real concurrent runs: threads hammer a map over a few
//! keys, every call and return is recorded on a shared clock, and each
//! key's history is checked against the sequential contract of
//! SEMANTICS.md. Twice as many threads as cores (or more), so threads are
//! preempted inside operations.
//!
//! The checker is shown to work twice: it rejects hand-written
//! non-linearizable histories, and it catches the lost updates of a
//! deliberately broken map.

mod common;

use std::thread;

use common::key_model::{Input, KeyModel, Output, apply_contract, random_operation};
use common::linearizability::{Clock, Operation, check_per_key, is_linearizable};
use common::{Family, map_tests, new_map, xorshift};
use racefree::{ConcurrentMap, LockedMap};

map_tests!(histories_are_linearizable_under_oversubscription);

/// What the recording harness runs operations on.
trait Subject: Sync {
    fn apply(&self, key: u8, input: Input) -> Output;
}

/// Any racefree map, through the contract.
struct Real<M>(M);

impl<M: ConcurrentMap<u8, u8> + Sync> Subject for Real<M> {
    fn apply(&self, key: u8, input: Input) -> Output {
        apply_contract(&self.0, key, input)
    }
}

/// A map with the classic check-then-act bug: `update` and
/// `get_or_insert` read, then write in a second step.
struct CheckThenAct(LockedMap<u8, u8>);

impl Subject for CheckThenAct {
    fn apply(&self, key: u8, input: Input) -> Output {
        let map = &self.0;
        match input {
            Input::Update(d) => match map.get(&key) {
                Some(v) => {
                    thread::yield_now();
                    map.insert(key, v.wrapping_add(d));
                    Output::Flag(true)
                }
                None => Output::Flag(false),
            },
            Input::GetOrInsert(v) => match map.get(&key) {
                Some(existing) => Output::Pair(existing, true),
                None => {
                    thread::yield_now();
                    map.insert(key, v);
                    Output::Pair(v, false)
                }
            },
            other => apply_contract(map, key, other),
        }
    }
}

type History = Vec<(u8, Operation<Input, Output>)>;

/// Runs `threads` threads of `operations` random operations each over
/// `keys` and returns the recorded history.
fn record(
    subject: &impl Subject,
    threads: u64,
    operations: usize,
    keys: &[u8],
    seed: u64,
) -> History {
    let clock = Clock::default();
    thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let clock = &clock;
                s.spawn(move || {
                    let mut next = xorshift(seed ^ (t + 1));
                    (0..operations)
                        .map(|_| {
                            let (key, input) = random_operation(&mut next, keys);
                            (key, clock.record(input, |input| subject.apply(key, *input)))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

fn histories_are_linearizable_under_oversubscription<F: Family>() {
    for round in 0..20 {
        let map = Real(new_map::<F, u8, u8>());
        let history = record(&map, 8, 250, &[0, 1, 2], round);
        if let Err(violation) = check_per_key::<KeyModel, _>(history) {
            let mut ops = violation.operations;
            ops.sort_by_key(|op| op.call);
            panic!(
                "{} round {round}: key {} has no linearization:\n{ops:#?}",
                F::NAME,
                violation.key
            );
        }
    }
}

#[test]
fn the_checker_catches_a_check_then_act_map() {
    let caught = (0..200).any(|round| {
        let map = CheckThenAct(LockedMap::new());
        let history = record(&map, 8, 200, &[0], round);
        check_per_key::<KeyModel, _>(history).is_err()
    });
    assert!(
        caught,
        "200 rounds of a map that loses updates all passed the checker"
    );
}

/// An operation for hand-written histories.
fn op(call: u64, ret: u64, input: Input, output: Output) -> Operation<Input, Output> {
    Operation {
        call,
        ret,
        input,
        output,
    }
}

#[test]
fn the_checker_rejects_known_bad_histories() {
    use Input::*;
    use Output::*;
    let bad: [(&str, Vec<Operation<Input, Output>>); 4] = [
        (
            "a read after an insert returned misses it",
            vec![op(0, 1, Insert(1), Value(None)), op(2, 3, Get, Value(None))],
        ),
        (
            "two removes after one insert both find the value",
            vec![
                op(0, 1, Insert(1), Value(None)),
                op(2, 3, Remove, Value(Some(1))),
                op(4, 5, Remove, Value(Some(1))),
            ],
        ),
        (
            "two overlapping compare-and-swaps from the same value both succeed",
            vec![
                op(0, 1, Insert(0), Value(None)),
                op(2, 5, CompareAndSwap(0, 1), Flag(true)),
                op(3, 6, CompareAndSwap(0, 2), Flag(true)),
            ],
        ),
        (
            "two updates both succeed but only one increment is visible (a lost update)",
            vec![
                op(0, 1, Insert(0), Value(None)),
                op(2, 5, Update(1), Flag(true)),
                op(3, 6, Update(1), Flag(true)),
                op(7, 8, Get, Value(Some(1))),
            ],
        ),
    ];
    for (what, history) in bad {
        assert!(!is_linearizable::<KeyModel>(&history), "accepted: {what}");
    }
}

#[test]
fn the_checker_accepts_concurrent_histories_that_have_an_order() {
    use Input::*;
    use Output::*;
    let good: [(&str, Vec<Operation<Input, Output>>); 3] = [
        (
            "a read overlapping an insert may miss it",
            vec![op(0, 3, Insert(1), Value(None)), op(1, 2, Get, Value(None))],
        ),
        (
            "a read overlapping an insert may see it",
            vec![
                op(0, 3, Insert(1), Value(None)),
                op(1, 2, Get, Value(Some(1))),
            ],
        ),
        (
            "overlapping updates that both count",
            vec![
                op(0, 1, Insert(0), Value(None)),
                op(2, 5, Update(1), Flag(true)),
                op(3, 6, Update(1), Flag(true)),
                op(7, 8, Get, Value(Some(2))),
            ],
        ),
    ];
    for (what, history) in good {
        assert!(is_linearizable::<KeyModel>(&history), "rejected: {what}");
    }
}
