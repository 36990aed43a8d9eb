//! Randomised schedule testing with shuttle's PCT scheduler: longer
//! operation sequences and more threads than loom can explore exhaustively,
//! each run's history checked for linearizability against the contract.
//!
//! Run with `.ci/run`, or by hand:
//! `RUSTFLAGS="--cfg racefree_shuttle" cargo test --release -p racefree --test shuttle`
//! (`RACEFREE_SHUTTLE_ITERATIONS` sets the schedules per workload).

#![cfg(racefree_shuttle)]

mod common;

use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use common::key_model::{Input, KeyModel, apply_contract, random_operation};
use common::linearizability::{Clock, check_per_key};
use common::{Family, map_tests, xorshift};
use racefree::{ConcurrentMap, ShardedMap};
use shuttle::thread;

/// No random seed: a failing schedule must replay the same way.
type Fixed = BuildHasherDefault<DefaultHasher>;

/// Two keys that `Fixed` puts in different shards of a two-shard map (the
/// loom suite checks this).
const KEYS: [u8; 2] = [0, 7];
const THREADS: u64 = 3;
const OPERATIONS: usize = 6;

fn iterations() -> usize {
    std::env::var("RACEFREE_SHUTTLE_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000)
}

/// The operations thread `t` runs in workload `seed`.
fn workload(seed: u64, t: u64) -> Vec<(u8, Input)> {
    let mut next = xorshift(seed * 31 + t + 1);
    (0..OPERATIONS)
        .map(|_| random_operation(&mut next, &KEYS))
        .collect()
}

/// Runs every workload under PCT against maps made by `make`.
fn check_map<M>(make: fn() -> M)
where
    M: ConcurrentMap<u8, u8> + Send + Sync + 'static,
{
    for seed in 0..4 {
        shuttle::check_pct(
            move || {
                let map = Arc::new(make());
                let clock = Arc::new(Clock::default());
                let threads: Vec<_> = (0..THREADS)
                    .map(|t| {
                        let (map, clock) = (Arc::clone(&map), Arc::clone(&clock));
                        thread::spawn(move || {
                            workload(seed, t)
                                .into_iter()
                                .map(|(key, input)| {
                                    (
                                        key,
                                        clock.record(input, |input| {
                                            apply_contract(&*map, key, *input)
                                        }),
                                    )
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                let history = threads
                    .into_iter()
                    .flat_map(|t| t.join().unwrap())
                    .collect();
                if let Err(violation) = check_per_key::<KeyModel, _>(history) {
                    panic!(
                        "workload {seed}: key {} has no linearization: {:#?}",
                        violation.key, violation.operations
                    );
                }
            },
            iterations(),
            3,
        );
    }
}

map_tests!(histories_are_linearizable_under_pct);

fn histories_are_linearizable_under_pct<F: Family>() {
    check_map(|| F::with_hasher::<u8, u8, Fixed>(Fixed::default()));
}

/// Two shards, with the two keys in different ones: operations on the two
/// keys take different locks.
#[test]
fn two_shard_histories_are_linearizable_under_pct() {
    check_map(|| {
        ShardedMap::<u8, u8, Fixed>::with_capacity_hasher_and_shards(0, Fixed::default(), 2)
    });
}
