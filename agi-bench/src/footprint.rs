//! Distinct lines of code a session runs, from two callgrind profiles.
//!
//! CPU time per session here is consistent with how many distinct 64-byte
//! lines of code a session runs rather than how many instructions (see
//! `calibrate.rs` and `benches/footprint.sh`); the likely reason is that
//! the kernel's work between system calls evicts them and each is fetched
//! again. Callgrind records every instruction's execution count
//! (`--dump-instr=yes`). Two profiles of the same server, over N and over
//! 2N sessions, leave out start-up: a line counts when the executions of
//! some instruction on it grew by at least N between the two, that is, when
//! it ran at least once per session.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::BufRead;

/// Execution counts per instruction: per object file, per address.
pub type Counts = HashMap<String, HashMap<u64, u64>>;

/// Reads a callgrind profile made with `--dump-instr=yes`.
///
/// Costs of the same instruction in several places (callgrind writes one
/// per basic block, and blocks overlap where branches rejoin) are added up.
pub fn read_profile(profile: impl BufRead) -> Result<Counts, String> {
    let mut counts = Counts::new();
    let mut names: HashMap<String, String> = HashMap::new();
    let mut object = String::new();
    let mut positions = 0usize;
    let mut previous = 0u64;
    let mut skip_cost = false;
    for line in profile.lines() {
        let line = line.map_err(|e| e.to_string())?;
        if let Some(spec) = line.strip_prefix("positions:") {
            let columns: Vec<&str> = spec.split_whitespace().collect();
            if columns.first() != Some(&"instr") {
                return Err(format!(
                    "needs a profile made with --dump-instr=yes: {line:?}"
                ));
            }
            positions = columns.len();
        } else if let Some(spec) = line.strip_prefix("ob=") {
            object = name(spec, &mut names)?;
        } else if let Some(spec) = line.strip_prefix("cob=") {
            // Names the callee's object; the cost line that follows is the
            // caller's.
            name(spec, &mut names)?;
        } else if line.starts_with("calls=") {
            // The cost line that follows is the callee's inclusive cost.
            skip_cost = true;
        } else if line.starts_with(|c: char| c.is_ascii_digit() || "+-*".contains(c)) {
            if positions == 0 {
                return Err("cost line before the positions: header".into());
            }
            let mut fields = line.split_whitespace();
            let address = position(fields.next().unwrap_or("*"), previous)?;
            previous = address;
            if std::mem::take(&mut skip_cost) {
                continue;
            }
            // Trailing events that are zero may be left out.
            let count: u64 = fields
                .nth(positions - 1)
                .map_or(Ok(0), str::parse)
                .map_err(|e| format!("bad cost in {line:?}: {e}"))?;
            let per_address = match counts.get_mut(&object) {
                Some(per_address) => per_address,
                None => counts.entry(object.clone()).or_default(),
            };
            *per_address.entry(address).or_default() += count;
        }
    }
    Ok(counts)
}

/// Lines of code (64 bytes) per object file where some instruction ran at
/// least `sessions` times more in `more` than in `base`.
pub fn lines_per_object(base: &Counts, more: &Counts, sessions: u64) -> BTreeMap<String, u64> {
    let mut per = BTreeMap::new();
    for (object, counts) in more {
        let before = base.get(object);
        let lines: HashSet<u64> = counts
            .iter()
            .filter(|&(address, &count)| {
                let was = before.and_then(|b| b.get(address)).copied().unwrap_or(0);
                count.saturating_sub(was) >= sessions
            })
            .map(|(address, _)| address >> 6)
            .collect();
        if !lines.is_empty() {
            per.insert(object.clone(), lines.len() as u64);
        }
    }
    per
}

/// Instructions per session: what `more` ran beyond `base`, over `sessions`.
pub fn instructions_per_session(base: &Counts, more: &Counts, sessions: u64) -> u64 {
    let total = |counts: &Counts| counts.values().flat_map(HashMap::values).sum::<u64>();
    total(more).saturating_sub(total(base)) / sessions.max(1)
}

/// `(id) name` defines an id, `(id)` reuses one, a bare name is itself.
fn name(spec: &str, names: &mut HashMap<String, String>) -> Result<String, String> {
    let Some(rest) = spec.strip_prefix('(') else {
        return Ok(spec.trim().to_owned());
    };
    let (id, name) = rest
        .split_once(')')
        .ok_or_else(|| format!("bad name {spec:?}"))?;
    let name = name.trim();
    if name.is_empty() {
        return names
            .get(id)
            .cloned()
            .ok_or_else(|| format!("name ({id}) used before it is defined"));
    }
    names.insert(id.to_owned(), name.to_owned());
    Ok(name.to_owned())
}

/// An instruction address, absolute (`0x…` or decimal) or relative to the
/// previous one (`+n`, `-n`, `*`).
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

    const PROFILE: &str = "\
version: 1
positions: instr line
events: Ir
summary: 99
ob=(1) /bin/server
fn=(1) f
0x1000 10 5
+4 * 5
+16 11 3
-16 * 2
+60 11 5
+8 * 4
calls=5 0x2000 20
* 12 1000
cob=(2) /lib/libc.so
cfn=(2) g
calls=1 0x9000
* 12 1000
ob=(2)
fn=(2)
0x9000 1 7
0x9004 2
ob=(1)
fn=(1)
0x10c0 13 5
";

    fn read(profile: &str) -> Counts {
        read_profile(profile.as_bytes()).unwrap()
    }

    fn lines(base: &str, more: &str, sessions: u64) -> BTreeMap<String, u64> {
        lines_per_object(&read(base), &read(more), sessions)
    }

    #[test]
    fn counts_lines_run_often_enough() {
        let per = lines("", PROFILE, 5);
        // Line 0x40: 0x1000 (5) and 0x1004 (5, then +2 from a second block:
        // `-16` back to it, decimal). Line 0x41: 0x1040 (5); 0x1048 (4,
        // its call's 1000 inclusive, not counted). Line 0x43: 0x10c0.
        assert_eq!(per.get("/bin/server"), Some(&3));
        // libc named by `cob=` and reused by `ob=(2)`; 0x9004 has no cost.
        assert_eq!(per.get("/lib/libc.so"), Some(&1));
        // 0x1014 ran 3 times: its line (0x40) is already counted; at 6,
        // only 0x1004 (5 + 2) and libc's 7 remain.
        let per = lines("", PROFILE, 6);
        assert_eq!(per.get("/bin/server"), Some(&1));
        assert_eq!(per.get("/lib/libc.so"), Some(&1));
        assert_eq!(lines("", PROFILE, 8).len(), 0);
    }

    #[test]
    fn start_up_cancels_between_two_runs() {
        // The same profile as base: nothing grew.
        assert!(lines(PROFILE, PROFILE, 1).is_empty());
        // Only growth counts: 0x1000 grew by 5 (a line), 0x1040 by 2 (not),
        // 0x1080 ran 9 times in both (start-up, not).
        let base = "positions: instr\nob=/bin/s\n0x1000 5\n0x1040 5\n0x1080 9\n";
        let more = "positions: instr\nob=/bin/s\n0x1000 10\n0x1040 7\n0x1080 9\n";
        assert_eq!(lines(base, more, 5).get("/bin/s"), Some(&1));
        let (base, more) = (read(base), read(more));
        assert_eq!(instructions_per_session(&base, &more, 5), 1);
    }

    #[test]
    fn refuses_profiles_it_cannot_read() {
        assert!(read_profile("positions: line\n".as_bytes()).is_err());
        assert!(read_profile("positions: instr\nob=(3)\n".as_bytes()).is_err());
        assert!(read_profile("0x10 1\n".as_bytes()).is_err());
    }
}
