//! Reading the transcript files: `< ` what Asterisk sent, `> ` what the
//! script sent, `! ` events, `# ` comments.

use std::path::PathBuf;

/// `../shared/fixtures/transcripts`, beside the workspace.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/transcripts")
}

pub fn read(name: &str) -> Vec<u8> {
    let path = dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A line Asterisk sent (without LF).
    In(Vec<u8>),
    /// A line the script sent (without LF).
    Out(Vec<u8>),
    /// A non-wire event.
    Event(String),
}

pub fn records(name: &str) -> Vec<Record> {
    let bytes = read(name);
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if lines.last() == Some(&&b""[..]) {
        lines.pop();
    }
    lines
        .into_iter()
        .filter_map(|line| {
            let (prefix, payload) = line.split_at(2.min(line.len()));
            match prefix {
                b"< " => Some(Record::In(payload.to_vec())),
                b"> " => Some(Record::Out(payload.to_vec())),
                b"! " => Some(Record::Event(String::from_utf8_lossy(payload).into_owned())),
                b"# " => None,
                other => panic!(
                    "{name}: unknown record prefix {:?}",
                    other.escape_ascii().to_string()
                ),
            }
        })
        .collect()
}

/// Every transcript (`*.txt` but the README and the `*-env.txt` blocks).
pub fn transcript_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .expect("../shared/fixtures/transcripts exists")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".txt") && !n.ends_with("-env.txt"))
        .collect();
    names.sort();
    names
}

pub fn env_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with("-env.txt"))
        .collect();
    names.sort();
    names
}

/// The bytes of one direction, as the `raw/` files hold them.
pub fn joined(records: &[Record], inbound: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, r) in records.iter().enumerate() {
        // A line whose write failed never reached the wire.
        let failed =
            matches!(records.get(i + 1), Some(Record::Event(e)) if e.starts_with("write failed"));
        match (r, inbound) {
            (Record::Out(_), false) if failed => {}
            (Record::In(l), true) | (Record::Out(l), false) => {
                out.extend_from_slice(l);
                out.push(b'\n');
            }
            _ => {}
        }
    }
    out
}
