//! Distinct lines of code a session runs, read from a callgrind profile.
//!
//! CPU time per session here follows how many distinct 64-byte lines of
//! code a session runs more than how many instructions (see
//! `calibrate.rs` and `benches/footprint.sh`): the kernel's work between
//! two system calls evicts them, and each is fetched again. Callgrind
//! records every instruction's execution count (`--dump-instr=yes`); a line
//! counts when some instruction on it ran at least once per session.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

/// Lines of code (64 bytes) run at least `sessions` times, per object file.
pub fn lines_per_object(
    profile: impl BufRead,
    sessions: u64,
) -> Result<BTreeMap<String, u64>, String> {
    let mut hottest: HashMap<(usize, u64), u64> = HashMap::new();
    let mut objects: Vec<String> = Vec::new();
    let mut object_ids: HashMap<String, usize> = HashMap::new();
    let mut object = 0usize;
    let mut positions = 1usize;
    let mut previous = 0u64;
    let mut skip_cost = false;
    for line in profile.lines() {
        let line = line.map_err(|e| e.to_string())?;
        if let Some(spec) = line.strip_prefix("positions:") {
            positions = spec.split_whitespace().count();
        } else if let Some(rest) = line.strip_prefix("ob=") {
            object = intern(rest, &mut objects, &mut object_ids);
        } else if let Some(rest) = line.strip_prefix("cob=") {
            // Names the callee's object; the next cost line is the caller's.
            intern(rest, &mut objects, &mut object_ids);
        } else if line.starts_with("calls=") {
            // The cost line that follows is the callee's inclusive cost.
            skip_cost = true;
        } else if line.starts_with(|c: char| c.is_ascii_digit() || "+-*".contains(c)) {
            let mut fields = line.split_whitespace();
            let address = position(fields.next().unwrap_or("*"), previous)?;
            previous = address;
            if std::mem::take(&mut skip_cost) {
                continue;
            }
            let count: u64 = fields
                .nth(positions - 1)
                .map_or(Ok(0), str::parse)
                .map_err(|e| format!("bad cost in {line:?}: {e}"))?;
            let hot = hottest.entry((object, address >> 6)).or_default();
            *hot = (*hot).max(count);
        }
    }
    let mut per = BTreeMap::new();
    for ((object, _), count) in hottest {
        if count >= sessions {
            *per.entry(objects.get(object).cloned().unwrap_or_default())
                .or_default() += 1;
        }
    }
    Ok(per)
}

/// `(id) name` defines an id, `(id)` reuses it.
fn intern(spec: &str, names: &mut Vec<String>, ids: &mut HashMap<String, usize>) -> usize {
    let (id, name) = match spec.split_once(')') {
        Some((id, name)) => (id.trim_start_matches('('), name.trim()),
        None => ("", spec.trim()),
    };
    if !name.is_empty() {
        names.push(name.to_owned());
        let index = names.len() - 1;
        ids.insert(id.to_owned(), index);
        return index;
    }
    ids.get(id).copied().unwrap_or(0)
}

/// An instruction address, absolute (`0x…`) or relative to the previous
/// one (`+n`, `-n`, `*`).
fn position(field: &str, previous: u64) -> Result<u64, String> {
    let number = |s: &str| match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    let bad = |e| format!("bad position {field:?}: {e}");
    Ok(match field.as_bytes().first() {
        Some(b'*') => previous,
        Some(b'+') => previous.wrapping_add(number(&field[1..]).map_err(bad)?),
        Some(b'-') => previous.wrapping_sub(number(&field[1..]).map_err(bad)?),
        _ => number(field).map_err(bad)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_run_often_enough_and_skips_inclusive_call_costs() {
        let profile = "\
positions: instr line
events: Ir
ob=(1) /bin/server
fn=(1) f
0x1000 10 5
+4 * 5
+60 11 5
+8 * 4
calls=5 0x2000 20
* 12 1000
ob=(2) /lib/libc.so
fn=(2) g
0x9000 1 7
ob=(1)
fn=(1)
0x10c0 13 5
";
        let per = lines_per_object(profile.as_bytes(), 5).unwrap();
        // 0x1000 and 0x1004: line 0x40; 0x1040 and 0x1048: line 0x41 (the
        // call's 1000 is inclusive, not counted); 0x10c0: line 0x43.
        assert_eq!(per.get("/bin/server"), Some(&3));
        assert_eq!(per.get("/lib/libc.so"), Some(&1));
        let per = lines_per_object(profile.as_bytes(), 6).unwrap();
        assert_eq!(per.get("/bin/server"), None);
        assert_eq!(per.get("/lib/libc.so"), Some(&1));
    }
}
