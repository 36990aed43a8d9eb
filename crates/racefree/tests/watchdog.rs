//! The watchdog that guards every re-entrancy test must itself catch a
//! hang: here a naive `RwLock<HashMap>` whose update callback locks the map
//! again, which deadlocks as dashmap users' code does.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use common::watchdog;

/// The pattern racefree exists to prevent: a callback run under the
/// map's write lock that touches the map.
fn naive_update(map: &RwLock<HashMap<u8, u8>>, key: u8, f: impl FnOnce(&u8) -> u8) {
    let mut guard = map.write().unwrap();
    if let Some(v) = guard.get_mut(&key) {
        *v = f(v);
    }
}

#[test]
#[should_panic(expected = "deadlocked or livelocked")]
fn the_watchdog_reports_a_relocking_callback() {
    let map = Arc::new(RwLock::new(HashMap::from([(1, 1)])));
    // The hung thread is left blocked; the test process exits regardless.
    watchdog(
        2,
        "a naive map re-locked from its own callback",
        move || {
            naive_update(&map, 1, |v| {
                let seen = map.read().unwrap().len();
                v + seen as u8
            });
        },
    );
}
