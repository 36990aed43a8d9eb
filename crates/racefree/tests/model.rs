//! Random operation sequences checked against a sequential model, for every
//! map: Go's `TestMapMatchesRWMutex` / `TestMapMatchesDeepCopy` (sequences
//! of 0 to 49 calls over the whole method set, keys of 0 to 3 letters)
//! rewritten with proptest, which also shrinks a failure to a minimal
//! sequence. Every result and the final contents must equal the model's.

mod common;

use std::collections::HashMap;
use std::ops::ControlFlow;

use common::{Family, map_tests, new_map};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use racefree::{Action, ConcurrentMap};

map_tests!(matches_sequential_model);

#[derive(Clone, Debug)]
enum Op {
    Get(String),
    GetWith(String),
    ContainsKey(String),
    Insert(String, u8),
    GetOrInsert(String, u8),
    GetOrInsertWith(String, u8),
    Remove(String),
    CompareAndSwap(String, u8, u8),
    CompareAndRemove(String, u8),
    Update(String, u8),
    Compute(String, u8),
    Retain(u8),
    Len,
    Clear,
    Snapshot,
}

fn key() -> impl Strategy<Value = String> {
    "[abc]{0,3}"
}

/// Small values, so compare-and-swap and compare-and-remove often match.
fn value() -> impl Strategy<Value = u8> {
    0..4u8
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        key().prop_map(Op::Get),
        key().prop_map(Op::GetWith),
        key().prop_map(Op::ContainsKey),
        (key(), value()).prop_map(|(k, v)| Op::Insert(k, v)),
        (key(), value()).prop_map(|(k, v)| Op::GetOrInsert(k, v)),
        (key(), value()).prop_map(|(k, v)| Op::GetOrInsertWith(k, v)),
        key().prop_map(Op::Remove),
        (key(), value(), value()).prop_map(|(k, c, n)| Op::CompareAndSwap(k, c, n)),
        (key(), value()).prop_map(|(k, c)| Op::CompareAndRemove(k, c)),
        (key(), value()).prop_map(|(k, d)| Op::Update(k, d)),
        (key(), 0..6u8).prop_map(|(k, c)| Op::Compute(k, c)),
        (1..4u8).prop_map(Op::Retain),
        Just(Op::Len),
        Just(Op::Clear),
        Just(Op::Snapshot),
    ]
}

/// What `compute` decides in both the map and the model, from `choice`.
fn decide(choice: u8, current: Option<&u8>) -> Action<u8> {
    match (choice % 3, current) {
        (0, _) => Action::Keep,
        (1, Some(v)) => Action::Set(v.wrapping_add(choice)),
        (1, None) => Action::Set(choice),
        _ => Action::Remove,
    }
}

/// Applies `op` to the map and returns its result, printed.
fn apply(map: &impl ConcurrentMap<String, u8>, op: &Op) -> String {
    match op.clone() {
        Op::Get(k) => format!("{:?}", map.get(&k)),
        Op::GetWith(k) => format!("{:?}", map.get_with(&k, |v| u32::from(*v) * 3)),
        Op::ContainsKey(k) => format!("{:?}", map.contains_key(&k)),
        Op::Insert(k, v) => format!("{:?}", map.insert(k, v)),
        Op::GetOrInsert(k, v) => format!("{:?}", map.get_or_insert(k, v)),
        Op::GetOrInsertWith(k, v) => format!("{:?}", map.get_or_insert_with(k, || v)),
        Op::Remove(k) => format!("{:?}", map.remove(&k)),
        Op::CompareAndSwap(k, c, n) => format!("{:?}", map.compare_and_swap(&k, &c, n)),
        Op::CompareAndRemove(k, c) => format!("{:?}", map.compare_and_remove(&k, &c)),
        Op::Update(k, d) => format!("{:?}", map.update(&k, |v| v.wrapping_add(d))),
        Op::Compute(k, c) => format!("{:?}", map.compute(k, |v| decide(c, v))),
        Op::Retain(m) => {
            map.retain(|k, v| (k.len() as u8 + v) % m != 0);
            String::new()
        }
        Op::Len => format!("{:?}", (map.len(), map.is_empty())),
        Op::Clear => {
            map.clear();
            String::new()
        }
        Op::Snapshot => {
            let mut seen = Vec::new();
            map.for_each(|k, v| {
                seen.push((k.clone(), *v));
                ControlFlow::Continue(())
            });
            seen.sort();
            format!("{seen:?}")
        }
    }
}

/// The same operation on a plain `HashMap`: the specification.
fn apply_model(model: &mut HashMap<String, u8>, op: &Op) -> String {
    match op.clone() {
        Op::Get(k) => format!("{:?}", model.get(&k).copied()),
        Op::GetWith(k) => format!("{:?}", model.get(&k).map(|v| u32::from(*v) * 3)),
        Op::ContainsKey(k) => format!("{:?}", model.contains_key(&k)),
        Op::Insert(k, v) => format!("{:?}", model.insert(k, v)),
        Op::GetOrInsert(k, v) | Op::GetOrInsertWith(k, v) => {
            let result = match model.get(&k) {
                Some(existing) => (*existing, true),
                None => (*model.entry(k).or_insert(v), false),
            };
            if matches!(op, Op::GetOrInsert(..)) {
                format!("{result:?}")
            } else {
                format!("{:?}", result.0)
            }
        }
        Op::Remove(k) => format!("{:?}", model.remove(&k)),
        Op::CompareAndSwap(k, c, n) => format!(
            "{:?}",
            match model.get_mut(&k) {
                Some(v) if *v == c => {
                    *v = n;
                    Ok(())
                }
                _ => Err(n),
            }
        ),
        Op::CompareAndRemove(k, c) => {
            let matched = model.get(&k) == Some(&c);
            if matched {
                model.remove(&k);
            }
            format!("{matched:?}")
        }
        Op::Update(k, d) => format!(
            "{:?}",
            model.get_mut(&k).map(|v| *v = v.wrapping_add(d)).is_some()
        ),
        Op::Compute(k, c) => {
            let previous = match decide(c, model.get(&k)) {
                Action::Keep => None,
                Action::Set(v) => model.insert(k, v),
                Action::Remove => model.remove(&k),
            };
            format!("{previous:?}")
        }
        Op::Retain(m) => {
            model.retain(|k, v| (k.len() as u8 + *v) % m != 0);
            String::new()
        }
        Op::Len => format!("{:?}", (model.len(), model.is_empty())),
        Op::Clear => {
            model.clear();
            String::new()
        }
        Op::Snapshot => {
            let mut seen: Vec<_> = model.iter().map(|(k, v)| (k.clone(), *v)).collect();
            seen.sort();
            format!("{seen:?}")
        }
    }
}

fn matches_sequential_model<F: Family>() {
    let mut runner = TestRunner::new(Config {
        cases: 512,
        ..Config::default()
    });
    runner
        .run(&prop::collection::vec(op(), 0..50), |ops| {
            let map = new_map::<F, String, u8>();
            let mut model = HashMap::new();
            for (step, op) in ops.iter().enumerate() {
                let got = apply(&map, op);
                let want = apply_model(&mut model, op);
                prop_assert_eq!(got, want, "step {} ({:?}) of {}", step, op, F::NAME);
            }
            prop_assert_eq!(map.snapshot(), model, "final contents of {}", F::NAME);
            Ok(())
        })
        .unwrap();
}
