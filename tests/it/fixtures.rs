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

pub use agi_client::testing::Record;

/// The records of a transcript, parsed by the crate's own reader.
pub fn records(name: &str) -> Vec<Record> {
    agi_client::testing::Transcript::parse(&read(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .records
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
    let t = agi_client::testing::Transcript {
        records: records.to_vec(),
    };
    if inbound {
        t.asterisk_bytes()
    } else {
        t.script_lines()
            .flat_map(|l| l.iter().copied().chain([b'\n']))
            .collect()
    }
}

/// The lines Asterisk sent, in order.
pub fn asterisk_lines(records: &[Record]) -> Vec<&[u8]> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Asterisk(l) => Some(l.as_slice()),
            _ => None,
        })
        .collect()
}
