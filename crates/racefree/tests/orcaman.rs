//! Tests from `orcaman/concurrent-map`'s `concurrent_map_test.go`, rewritten
//! in Rust for every racefree map: the ideas are orcaman's, the code is not.
//! Their `Set`, `SetIfAbsent`, `Get`, `Has`, `Remove`, `RemoveCb`, `Pop`,
//! `Count`, `Clear`, `Items`, `Keys` and `Upsert` map to racefree's
//! `insert`, `get_or_insert`, `get`, `contains_key`, `remove`, `compute`,
//! `remove`, `len`, `clear`, `snapshot` and `compute`.

mod common;

use std::sync::mpsc;
use std::thread;

use common::{Family, map_tests, new_map};
use racefree::{Action, ConcurrentMap};

map_tests!(
    insert_and_count,
    insert_if_absent,
    get_has_remove_pop,
    remove_with_callback,
    upsert,
    items_keys_and_clear,
    keys_while_removing,
    two_threads_insert_500_each,
);

#[derive(Clone, Debug, PartialEq)]
struct Animal {
    name: String,
}

fn animal(name: &str) -> Animal {
    Animal {
        name: name.to_owned(),
    }
}

/// `TestMapCreation`, `TestInsert`, `TestCount`, `TestIsEmpty`.
fn insert_and_count<F: Family>() {
    let map = new_map::<F, String, Animal>();
    assert!(map.is_empty());
    assert_eq!(map.len(), 0);
    map.insert("elephant".into(), animal("elephant"));
    map.insert("monkey".into(), animal("monkey"));
    assert_eq!(map.len(), 2);
    for i in 0..100 {
        map.insert(i.to_string(), animal(&i.to_string()));
    }
    assert_eq!(map.len(), 102);
}

/// `TestInsertAbsent`: the second insert-if-absent does not overwrite.
fn insert_if_absent<F: Family>() {
    let map = new_map::<F, String, Animal>();
    map.get_or_insert("elephant".into(), animal("elephant"));
    let (existing, present) = map.get_or_insert("elephant".into(), animal("monkey"));
    assert!(present);
    assert_eq!(existing, animal("elephant"));
    assert_eq!(map.get("elephant"), Some(animal("elephant")));
}

/// `TestGet`, `TestHas`, `TestRemove`, `TestPop`.
fn get_has_remove_pop<F: Family>() {
    let map = new_map::<F, String, Animal>();
    assert_eq!(map.get("Money"), None, "missing values should return None");
    assert!(!map.contains_key("Money"));
    map.insert("elephant".into(), animal("elephant"));
    assert!(map.contains_key("elephant"));
    assert_eq!(map.get("elephant"), Some(animal("elephant")));
    assert_eq!(
        map.remove("elephant"),
        Some(animal("elephant")),
        "pop returns the value"
    );
    assert_eq!(map.len(), 0);
    assert_eq!(map.get("elephant"), None);
    assert_eq!(
        map.remove("noone"),
        None,
        "removing a missing key is a no-op"
    );
    assert_eq!(map.len(), 0);
}

/// `TestRemoveCb`: the callback sees whether the key exists and decides;
/// an absent key is never created.
fn remove_with_callback<F: Family>() {
    let map = new_map::<F, String, Animal>();
    map.insert("monkey".into(), animal("monkey"));
    map.insert("elephant".into(), animal("elephant"));
    let remove_if = |wanted: &'static str| {
        move |current: Option<&Animal>| match current {
            Some(a) if a.name == wanted => Action::Remove,
            _ => Action::Keep,
        }
    };
    // The callback declines: the key stays.
    assert_eq!(
        map.compute("monkey".into(), remove_if("no such animal")),
        None
    );
    assert!(map.contains_key("monkey"));
    // The callback agrees: the key goes, and its value comes back.
    assert_eq!(
        map.compute("elephant".into(), remove_if("elephant")),
        Some(animal("elephant"))
    );
    assert!(!map.contains_key("elephant"));
    // An absent key: the callback sees `None` and nothing is created.
    let mut saw_absent = false;
    map.compute("horse".into(), |current| {
        saw_absent = current.is_none();
        Action::Keep
    });
    assert!(
        saw_absent,
        "the callback must see that the key does not exist"
    );
    assert!(
        !map.contains_key("horse"),
        "an absent key must not be created"
    );
    assert_eq!(map.len(), 1);
}

/// `TestUpsert`: insert or merge with the existing value in one step.
fn upsert<F: Family>() {
    let map = new_map::<F, String, Vec<String>>();
    let append = |name: &'static str| {
        move |current: Option<&Vec<String>>| {
            let mut list = current.cloned().unwrap_or_default();
            list.push(name.to_owned());
            Action::Set(list)
        }
    };
    map.compute("zoo".into(), append("elephant"));
    map.compute("zoo".into(), append("whale"));
    map.compute("farm".into(), append("cow"));
    assert_eq!(map.get("zoo").unwrap(), ["elephant", "whale"]);
    assert_eq!(map.get("farm").unwrap(), ["cow"]);
}

/// `TestItems`, `TestKeys`, `TestClear`.
fn items_keys_and_clear<F: Family>() {
    let map = new_map::<F, String, Animal>();
    for i in 0..100 {
        map.insert(i.to_string(), animal(&i.to_string()));
    }
    let items = map.snapshot();
    assert_eq!(items.len(), 100);
    assert!(items.iter().all(|(k, v)| *k == v.name));
    let mut keys: Vec<u32> = items.keys().map(|k| k.parse().unwrap()).collect();
    keys.sort_unstable();
    assert_eq!(keys, (0..100).collect::<Vec<_>>());
    map.clear();
    assert_eq!(map.len(), 0);
}

/// `TestKeysWhenRemoving`: keys taken while other threads remove are all
/// real keys, and every key not being removed is among them.
fn keys_while_removing<F: Family>() {
    let map = new_map::<F, String, Animal>();
    for i in 0..100 {
        map.insert(i.to_string(), animal(&i.to_string()));
    }
    thread::scope(|s| {
        for i in 0..10 {
            let map = &map;
            s.spawn(move || map.remove(&i.to_string()));
        }
        let keys = map.snapshot();
        for i in 10..100 {
            assert!(
                keys.contains_key(&i.to_string()),
                "key {i} was never removed but is missing"
            );
        }
        assert!(keys.keys().all(|k| k.parse::<u32>().is_ok_and(|n| n < 100)));
    });
    assert_eq!(map.len(), 90);
}

/// `TestConcurrent`: two threads each insert 500 distinct keys and read
/// each back; all 1000 values 0..999 come back and the map holds 1000 keys.
fn two_threads_insert_500_each<F: Family>() {
    const ITERATIONS: u32 = 1000;
    let map = new_map::<F, String, u32>();
    let (sender, received) = mpsc::channel();
    thread::scope(|s| {
        for half in [0..ITERATIONS / 2, ITERATIONS / 2..ITERATIONS] {
            let (map, sender) = (&map, sender.clone());
            s.spawn(move || {
                for i in half {
                    map.insert(i.to_string(), i);
                    sender.send(map.get(&i.to_string()).unwrap()).unwrap();
                }
            });
        }
    });
    drop(sender);
    let mut values: Vec<u32> = received.iter().collect();
    values.sort_unstable();
    assert_eq!(map.len(), ITERATIONS as usize);
    assert_eq!(values, (0..ITERATIONS).collect::<Vec<_>>());
}
