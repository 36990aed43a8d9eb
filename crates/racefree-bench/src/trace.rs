//! Cache traces: one request per line, `start_block num_blocks ignore
//! request_number` (the ARC traces' format), plain or `.xz`. A line
//! expands into `num_blocks` keys.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// The OLTP trace from Megiddo and Modha's ARC paper (FAST '03), as
/// redistributed with moka's `cache-trace` repository: 914,145 requests
/// over 186,880 blocks. Bundled so that the default run needs no files.
const OLTP: &[u8] = include_bytes!("../traces/OLTP.lis.xz");

/// The bundled OLTP trace's keys.
pub fn oltp() -> Vec<u64> {
    parse(xz2::read::XzDecoder::new(OLTP), "the bundled OLTP trace")
        .expect("the bundled trace parses")
}

/// Reads the trace at `path`, decompressing it if its name ends in `.xz`.
pub fn load(path: &Path) -> Result<Vec<u64>, String> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| format!("cannot read the trace {name}: {e}"))?;
    if path.extension().is_some_and(|ext| ext == "xz") {
        parse(xz2::read::XzDecoder::new(file), &name)
    } else {
        parse(file, &name)
    }
}

/// The keys of a trace; an error names the file, the line and the problem.
pub fn parse(reader: impl Read, name: &str) -> Result<Vec<u64>, String> {
    let mut keys = Vec::new();
    for (number, line) in BufReader::new(reader).lines().enumerate() {
        let line = line.map_err(|e| format!("cannot read the trace {name}: {e}"))?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let bad = || {
            format!(
                "{name}, line {}: `{line}` is not a request; each line needs four integers, \
                 `start_block num_blocks ignore request_number`",
                number + 1
            )
        };
        let [start, blocks, _, _] = fields[..] else {
            return Err(bad());
        };
        let (Ok(start), Ok(blocks)) = (start.parse::<u64>(), blocks.parse::<u64>()) else {
            return Err(bad());
        };
        keys.extend(start..start.saturating_add(blocks));
    }
    if keys.is_empty() {
        return Err(format!("the trace {name} has no requests"));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_blocks_and_names_a_bad_line() {
        assert_eq!(
            parse("5 2 0 0\n9 1 0 1\n".as_bytes(), "t").unwrap(),
            [5, 6, 9]
        );
        let error = parse("5 1 0 0\n5 one 0 1\n".as_bytes(), "t").unwrap_err();
        assert!(
            error.starts_with("t, line 2: `5 one 0 1` is not a request"),
            "{error}"
        );
        assert!(
            parse("".as_bytes(), "t")
                .unwrap_err()
                .contains("no requests")
        );
    }

    #[test]
    fn the_bundled_trace_has_its_published_size() {
        let keys = oltp();
        assert_eq!(keys.len(), 914_145);
        let distinct: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(distinct.len(), 186_880);
    }
}
