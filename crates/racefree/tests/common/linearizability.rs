//! A linearizability checker for histories recorded from real concurrent
//! runs: Wing & Gong's search with Lowe's memoisation of (linearized set,
//! state) pairs ("Testing for Linearizability", 2017), the algorithm Go's
//! porcupine implements. Written here because no well-kept Rust crate
//! offers it; `linearizability_checker.rs` proves it rejects known
//! non-linearizable histories.
//!
//! Map operations each touch one key, so a history is checked key by key
//! (P-compositionality): small searches instead of one huge one.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};

/// A sequential specification: what one key's state may do.
pub trait Model {
    /// The key's state, e.g. `Option<value>`.
    type State: Clone + Eq + Hash + Debug;
    /// An operation's arguments.
    type Input: Debug;
    /// An operation's result.
    type Output: Debug;
    /// The state before any operation.
    fn init() -> Self::State;
    /// The state after `input` if, from `state`, the sequential
    /// specification could return `output`; `None` if it could not.
    fn step(state: &Self::State, input: &Self::Input, output: &Self::Output)
    -> Option<Self::State>;
}

/// One completed operation: when it was called and returned on the shared
/// clock, what it was given and what it answered.
#[derive(Debug, Clone)]
pub struct Operation<I, O> {
    pub call: u64,
    pub ret: u64,
    pub input: I,
    pub output: O,
}

/// A logical clock shared by the recording threads. Ticks are totally
/// ordered and consistent with real time: if one operation returned before
/// another was called, its `ret` tick is smaller than the other's `call`.
#[derive(Debug, Default)]
pub struct Clock(AtomicU64);

impl Clock {
    pub fn tick(&self) -> u64 {
        self.0.fetch_add(1, Ordering::SeqCst)
    }

    /// Runs `f`, recording it as an operation with `input`.
    pub fn record<I, O>(&self, input: I, f: impl FnOnce(&I) -> O) -> Operation<I, O> {
        let call = self.tick();
        let output = f(&input);
        let ret = self.tick();
        Operation {
            call,
            ret,
            input,
            output,
        }
    }
}

/// An operation of model `M`.
pub type ModelOperation<M> = Operation<<M as Model>::Input, <M as Model>::Output>;

/// Why a history is not linearizable.
#[derive(Debug)]
pub struct Violation<I, O> {
    pub key: String,
    pub operations: Vec<Operation<I, O>>,
}

/// Checks every key's history; returns the first key whose history has no
/// linearization.
pub fn check_per_key<M, K>(
    history: Vec<(K, ModelOperation<M>)>,
) -> Result<(), Violation<M::Input, M::Output>>
where
    M: Model,
    K: Ord + Debug,
{
    let mut by_key: BTreeMap<K, Vec<ModelOperation<M>>> = BTreeMap::new();
    for (key, op) in history {
        by_key.entry(key).or_default().push(op);
    }
    for (key, operations) in by_key {
        if !is_linearizable::<M>(&operations) {
            return Err(Violation {
                key: format!("{key:?}"),
                operations,
            });
        }
    }
    Ok(())
}

/// Whether the operations, all on one object, have a linearization.
pub fn is_linearizable<M: Model>(operations: &[ModelOperation<M>]) -> bool {
    let mut order: Vec<usize> = (0..operations.len()).collect();
    order.sort_by_key(|&i| operations[i].call);
    let mut search = Search::<M> {
        operations,
        order,
        done: vec![0; operations.len().div_ceil(64)],
        seen: HashSet::new(),
    };
    search.from(&M::init(), operations.len())
}

struct Search<'a, M: Model> {
    operations: &'a [ModelOperation<M>],
    /// Operation indices by call time.
    order: Vec<usize>,
    /// Bitset of the operations linearized so far.
    done: Vec<u64>,
    /// (linearized set, state) pairs already shown to lead nowhere.
    seen: HashSet<(Vec<u64>, M::State)>,
}

impl<M: Model> Search<'_, M> {
    fn is_done(&self, i: usize) -> bool {
        self.done[i / 64] & (1 << (i % 64)) != 0
    }

    fn flip(&mut self, i: usize) {
        self.done[i / 64] ^= 1 << (i % 64);
    }

    /// Whether the operations not yet linearized (`remaining` of them) can
    /// be linearized from `state`.
    fn from(&mut self, state: &M::State, remaining: usize) -> bool {
        if remaining == 0 {
            return true;
        }
        if !self.seen.insert((self.done.clone(), state.clone())) {
            return false;
        }
        // An operation may go next only if it was called before every
        // remaining operation returned: none of them finished before it began.
        let first_return = (0..self.operations.len())
            .filter(|&i| !self.is_done(i))
            .map(|i| self.operations[i].ret)
            .min()
            .expect("remaining > 0");
        for position in 0..self.order.len() {
            let i = self.order[position];
            if self.operations[i].call > first_return {
                break;
            }
            if self.is_done(i) {
                continue;
            }
            let op = &self.operations[i];
            if let Some(next) = M::step(state, &op.input, &op.output) {
                self.flip(i);
                if self.from(&next, remaining - 1) {
                    return true;
                }
                self.flip(i);
            }
        }
        false
    }
}
