//! Bytes per entry, alone in its test binary: the measurement counts every
//! thread's allocations, so no other test may run beside it.

use clap::Parser;
use racefree_bench::adapter::MapKind;
use racefree_bench::cli::{Cli, run};
use tempfile::TempDir;

#[test]
fn memory_is_measured_for_every_map_including_their_own_threads() {
    let report = TempDir::new().unwrap();
    let args = format!(
        "racefree-bench --quiet --report {} --workloads exchange --capacity-log2 6 --ops 100 \
         --reps 1 --warmups 0 --threads 1 --memory-entries 100000 --growth-entries 0",
        report.path().display()
    );
    let table = run(
        &Cli::try_parse_from(args.split_whitespace()).unwrap(),
        "test",
    )
    .unwrap();
    // Rows of the memory table, not of the throughput tables above it.
    let table = &table[table.find("\nMemory:").expect("a memory section")..];
    for map in MapKind::ALL {
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!("| {} | ", map.label())))
            .unwrap_or_else(|| panic!("no memory row for {}:\n{table}", map.label()));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let per_entry: f64 = cells[2].parse().unwrap();
        let held_after: f64 = cells[3].parse().unwrap();
        // At least a key and a value each; at most a few allocations each.
        assert!((16.0..400.0).contains(&per_entry), "{row}");
        // Nothing is counted negative: frees on a map's own threads
        // (OwnedMap's owner) match allocations made there.
        assert!(held_after >= 0.0, "{row}");
    }
    // racefree's maps give memory back after mass removal; std's keeps it.
    // ReadMostlyMap keeps up to about 210 KiB per writing thread (removed
    // entries waiting for a batch, and freed blocks for reuse: its docs),
    // so the map must be large enough for that to be small beside std's.
    let held = |map: MapKind| -> f64 {
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!("| {} | ", map.label())))
            .unwrap();
        row.split('|').nth(3).unwrap().trim().parse().unwrap()
    };
    for map in [
        MapKind::Locked,
        MapKind::Sharded,
        MapKind::ReadMostly,
        MapKind::Owned,
    ] {
        assert!(
            held(map) * 10.0 < held(MapKind::StdRwLock),
            "{}: {}",
            map.label(),
            held(map)
        );
    }
}
