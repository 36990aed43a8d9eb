//! A ledger kept by one owner thread: the Go playbook's "share memory by
//! communicating", with `OwnedMap`.
//!
//! Transfers touch two accounts and must never be seen half done. With
//! `OwnedMap::with_map` each transfer is one closure run on the owner
//! thread, so it is atomic with no lock ordering to get right. Async tasks
//! (a tokio runtime's) and plain threads share the same ledger: tasks await
//! `with_map_async` without blocking their runtime, threads call
//! `with_map`.
//!
//! `cargo run --example ledger` runs transfers from both and audits the
//! total as they go.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::thread;

use racefree::{ConcurrentMap, OwnedMap};

const ACCOUNTS: u32 = 16;
const OPENING_BALANCE: i64 = 1_000;

/// Moves `amount` from `from` to `to` if `from` can pay; whether it did.
fn transfer<S: BuildHasher>(
    ledger: &mut HashMap<u32, i64, S>,
    from: u32,
    to: u32,
    amount: i64,
) -> bool {
    let balance = ledger.get(&from).copied().unwrap_or(0);
    if from == to || balance < amount {
        return false;
    }
    *ledger.entry(from).or_default() -= amount;
    *ledger.entry(to).or_default() += amount;
    true
}

/// Runs `tasks` async tasks and `threads` threads, each making `transfers`
/// transfers, while an auditor checks the total. Returns the transfers made.
fn run(tasks: u32, threads: u32, transfers: u32) -> u32 {
    let ledger: OwnedMap<u32, i64> = (0..ACCOUNTS).map(|a| (a, OPENING_BALANCE)).collect();
    let total = i64::from(ACCOUNTS) * OPENING_BALANCE;
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let made = thread::scope(|s| {
        let auditor = s.spawn(|| {
            for _ in 0..200 {
                let seen: i64 = ledger.with_map(|accounts| accounts.values().sum());
                assert_eq!(seen, total, "the auditor saw a transfer half done");
            }
        });
        let threads: Vec<_> = (0..threads)
            .map(|t| {
                let ledger = ledger.clone();
                s.spawn(move || {
                    (0..transfers)
                        .filter(|i| {
                            let (from, to) = ((t + i) % ACCOUNTS, (t * 5 + i * 3) % ACCOUNTS);
                            ledger.with_map(|m| transfer(m, from, to, 7))
                        })
                        .count() as u32
                })
            })
            .collect();
        let by_tasks: u32 = runtime.block_on(async {
            let handles: Vec<_> = (0..tasks)
                .map(|t| {
                    let ledger = ledger.clone();
                    tokio::spawn(async move {
                        let mut made = 0;
                        for i in 0..transfers {
                            let (from, to) = ((t * 3 + i) % ACCOUNTS, (t + i * 7) % ACCOUNTS);
                            made += u32::from(
                                ledger
                                    .with_map_async(move |m| transfer(m, from, to, 11))
                                    .await,
                            );
                        }
                        made
                    })
                })
                .collect();
            let mut made = 0;
            for handle in handles {
                made += handle.await.expect("a task finished");
            }
            made
        });
        auditor.join().expect("the auditor finished");
        by_tasks
            + threads
                .into_iter()
                .map(|h| h.join().expect("a thread finished"))
                .sum::<u32>()
    });
    assert_eq!(ledger.with_map(|m| m.values().sum::<i64>()), total);
    assert_eq!(ledger.len(), ACCOUNTS as usize);
    made
}

fn main() {
    let made = run(8, 4, 10_000);
    println!("{made} transfers made; the total never changed");
}

#[cfg(test)]
mod tests {
    #[test]
    fn transfers_from_tasks_and_threads_never_show_half_done() {
        assert!(super::run(4, 2, 500) > 0);
    }
}
