//! A configuration map read by many threads while it is changed at run
//! time: the Go playbook's global config store, and the case
//! `ReadMostlyMap` is for (its reads take no lock).
//!
//! Readers take a setting by value (`get` clones an `Arc<str>`, a pointer
//! copy), so no reader ever holds a lock while it works. The updater
//! publishes a new version of a setting with `compare_and_swap`, so two
//! updaters that read the same version cannot overwrite each other's work
//! (the lost update of check-then-act).
//!
//! `cargo run --example live_config` runs readers and an updater for a
//! moment and prints what the readers saw.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::thread;

use racefree::{ConcurrentMap, ReadMostlyMap};

/// A setting's value: `version:payload`, shared without copying the text.
type Setting = Arc<str>;

fn version_of(setting: &Setting) -> u64 {
    setting
        .split(':')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("every setting starts with its version")
}

/// The settings a service starts with.
fn initial_config() -> ReadMostlyMap<&'static str, Setting> {
    [
        ("log_level", "0:info"),
        ("rate_limit", "0:100"),
        ("feature.search", "0:off"),
    ]
    .into_iter()
    .map(|(k, v)| (k, Setting::from(v)))
    .collect()
}

/// Bumps `key` to the next version with `payload`, retrying if another
/// updater got there first. Returns the version it published.
fn publish(config: &ReadMostlyMap<&'static str, Setting>, key: &'static str, payload: &str) -> u64 {
    loop {
        let current = config.get(key).expect("settings are never removed");
        let next = version_of(&current) + 1;
        let new = Setting::from(format!("{next}:{payload}"));
        if config.compare_and_swap(key, &current, new).is_ok() {
            return next;
        }
    }
}

/// Runs `readers` reader threads and `updaters` updater threads, each
/// updater publishing `updates` versions of every setting. Returns the
/// number of reads done. Panics if a reader ever sees a setting go back to
/// an older version.
fn run(readers: usize, updaters: usize, updates: u64) -> u64 {
    let config = initial_config();
    let keys: Vec<&'static str> = config.snapshot().into_keys().collect();
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        let reader_threads: Vec<_> = (0..readers)
            .map(|_| {
                let (config, keys, done) = (&config, &keys, &done);
                s.spawn(move || {
                    let mut newest_seen = vec![0; keys.len()];
                    let mut reads = 0;
                    loop {
                        // Read once more after `done`, so every reader reads.
                        let last_pass = done.load(Relaxed);
                        for (key, newest) in keys.iter().zip(&mut newest_seen) {
                            let version = version_of(&config.get(key).unwrap());
                            assert!(
                                version >= *newest,
                                "{key} went back from version {newest} to {version}"
                            );
                            *newest = version;
                            reads += 1;
                        }
                        if last_pass {
                            return reads;
                        }
                    }
                })
            })
            .collect();
        thread::scope(|u| {
            for updater in 0..updaters {
                let (config, keys) = (&config, &keys);
                u.spawn(move || {
                    for round in 0..updates {
                        for key in keys {
                            publish(config, key, &format!("updater {updater} round {round}"));
                        }
                    }
                });
            }
        });
        done.store(true, Relaxed);
        // No update was lost: every setting moved once per publish.
        for key in &keys {
            let expected = updaters as u64 * updates;
            assert_eq!(
                version_of(&config.get(key).unwrap()),
                expected,
                "{key}: an update was lost"
            );
        }
        reader_threads.into_iter().map(|t| t.join().unwrap()).sum()
    })
}

fn main() {
    let reads = run(4, 2, 1_000);
    println!(
        "4 readers made {reads} reads while 2 updaters published 2000 versions of each setting"
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn readers_never_see_a_setting_go_back_and_no_update_is_lost() {
        // More threads than cores, so threads are preempted mid-operation.
        let reads = super::run(6, 3, 300);
        assert!(
            reads >= 6 * 3,
            "every reader reads every setting at least once"
        );
    }
}
