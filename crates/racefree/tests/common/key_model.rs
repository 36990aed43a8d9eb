//! The sequential contract of one key of a map, as a [`Model`] for the
//! linearizability checker, and a way to apply its operations to any map.

use racefree::{Action, ConcurrentMap};

use super::linearizability::Model;

/// An operation on one key, with its arguments.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Input {
    Get,
    Insert(u8),
    Remove,
    GetOrInsert(u8),
    CompareAndSwap(u8, u8),
    CompareAndRemove(u8),
    /// Add this much to a present value.
    Update(u8),
    /// Absent: set 1. Present: remove when odd, else add one.
    Compute,
}

/// What an operation answered.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Output {
    Value(Option<u8>),
    Pair(u8, bool),
    Flag(bool),
}

/// The sequential contract for one key, whose state is its value.
pub struct KeyModel;

pub fn compute_action(current: Option<&u8>) -> Action<u8> {
    match current {
        None => Action::Set(1),
        Some(v) if v % 2 == 1 => Action::Remove,
        Some(v) => Action::Set(v + 1),
    }
}

impl Model for KeyModel {
    type State = Option<u8>;
    type Input = Input;
    type Output = Output;

    fn init() -> Option<u8> {
        None
    }

    fn step(state: &Option<u8>, input: &Input, output: &Output) -> Option<Option<u8>> {
        let state = *state;
        let (expected, next) = match *input {
            Input::Get => (Output::Value(state), state),
            Input::Insert(v) => (Output::Value(state), Some(v)),
            Input::Remove => (Output::Value(state), None),
            Input::GetOrInsert(v) => match state {
                Some(existing) => (Output::Pair(existing, true), state),
                None => (Output::Pair(v, false), Some(v)),
            },
            Input::CompareAndSwap(current, new) => match state == Some(current) {
                true => (Output::Flag(true), Some(new)),
                false => (Output::Flag(false), state),
            },
            Input::CompareAndRemove(current) => match state == Some(current) {
                true => (Output::Flag(true), None),
                false => (Output::Flag(false), state),
            },
            Input::Update(delta) => match state {
                Some(v) => (Output::Flag(true), Some(v.wrapping_add(delta))),
                None => (Output::Flag(false), None),
            },
            Input::Compute => match compute_action(state.as_ref()) {
                Action::Keep => (Output::Value(None), state),
                Action::Set(v) => (Output::Value(state), Some(v)),
                Action::Remove => (Output::Value(state), None),
            },
        };
        (expected == *output).then_some(next)
    }
}

/// Applies `input` to `key` through the contract.
pub fn apply_contract(map: &impl ConcurrentMap<u8, u8>, key: u8, input: Input) -> Output {
    match input {
        Input::Get => Output::Value(map.get(&key)),
        Input::Insert(v) => Output::Value(map.insert(key, v)),
        Input::Remove => Output::Value(map.remove(&key)),
        Input::GetOrInsert(v) => {
            let (value, present) = map.get_or_insert(key, v);
            Output::Pair(value, present)
        }
        Input::CompareAndSwap(c, n) => Output::Flag(map.compare_and_swap(&key, &c, n).is_ok()),
        Input::CompareAndRemove(c) => Output::Flag(map.compare_and_remove(&key, &c)),
        Input::Update(d) => Output::Flag(map.update(&key, |v| v.wrapping_add(d))),
        Input::Compute => Output::Value(map.compute(key, compute_action)),
    }
}

/// A random operation on one of `keys`, drawn from `next`, with small values
/// so that compare-and-swap and compare-and-remove often match.
pub fn random_operation(next: &mut impl FnMut() -> u64, keys: &[u8]) -> (u8, Input) {
    let mut small = |n: u64| (next() % n) as u8;
    let key = keys[usize::from(small(keys.len() as u64))];
    let (a, b) = (small(3), small(3));
    let input = match small(8) {
        0 => Input::Get,
        1 => Input::Insert(a),
        2 => Input::Remove,
        3 => Input::GetOrInsert(a),
        4 => Input::CompareAndSwap(a, b),
        5 => Input::CompareAndRemove(a),
        6 => Input::Update(1),
        _ => Input::Compute,
    };
    (key, input)
}
