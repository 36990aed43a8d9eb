//! Insert latency while a map grows from empty: a map that copies its
//! whole table when it grows makes the one insert that triggers the copy
//! wait for all of it, which throughput figures average away.

use std::time::Instant;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::adapter::{BenchMap, MapJob};
use crate::datum::Datum;
use crate::workload::scramble;

/// Percentiles of one map's insert latencies, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Growth {
    /// The median insert.
    pub p50: u64,
    /// 99 % of inserts took at most this.
    pub p99: u64,
    /// 99.9 % of inserts took at most this.
    pub p999: u64,
    /// The slowest insert.
    pub max: u64,
}

impl Growth {
    /// The figures in the order reports show them: p50, p99, p99.9, max.
    pub fn columns(&self) -> [u64; 4] {
        [self.p50, self.p99, self.p999, self.max]
    }
}

/// Inserts `entries` fresh keys into an empty map from one thread, timing
/// each insert alone (the key is built before the clock starts).
#[derive(Clone, Copy, Debug)]
pub struct Measure {
    /// How many entries the map grows to.
    pub entries: usize,
}

impl MapJob for Measure {
    type Output = Growth;

    fn threads(&self) -> usize {
        1
    }

    fn run<K: Datum, V: Datum, M: BenchMap<K, V>>(&self) -> Growth {
        // Three significant digits, from 1 ns to an hour.
        let mut latencies =
            Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).expect("valid bounds");
        let map = M::with_capacity(0);
        for i in 0..self.entries as u64 {
            let (key, value) = (K::from_number(scramble(i)), V::from_number(i));
            let start = Instant::now();
            let fresh = map.insert(key, value);
            let took = start.elapsed();
            assert!(fresh, "growth: fresh key {i} was present");
            latencies.saturating_record(took.as_nanos().try_into().unwrap_or(u64::MAX));
        }
        assert_eq!(map.size(), self.entries, "growth: entries lost");
        Growth {
            p50: latencies.value_at_quantile(0.5),
            p99: latencies.value_at_quantile(0.99),
            p999: latencies.value_at_quantile(0.999),
            max: latencies.max(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::StdRwLockMap;

    #[test]
    fn percentiles_are_ordered() {
        let growth = Measure { entries: 10_000 }.run::<u64, u64, StdRwLockMap<u64, u64>>();
        assert!(growth.p50 > 0, "{growth:?}");
        assert!(
            growth.p50 <= growth.p99 && growth.p99 <= growth.p999 && growth.p999 <= growth.max,
            "{growth:?}"
        );
    }
}
