//! Captured AGI traffic in the transcript format of the project's fixtures,
//! replayed by the fake: `< ` a line Asterisk sent, `> ` a line the script
//! sent, `! ` an event, `# ` a comment.

use super::fake::{Builder, FakeAsterisk};

/// One record of a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A line Asterisk sent, without its LF.
    Asterisk(Vec<u8>),
    /// A line the script sent, without its LF.
    Script(Vec<u8>),
    /// Something that is not wire data (`SIGHUP`, `EOF from Asterisk`…).
    Event(String),
}

/// A parsed transcript.
///
/// ```
/// use agi_client::testing::Transcript;
///
/// let t = Transcript::parse(b"< agi_request: x\n< \n> NOOP\n< 200 result=0\n! EOF from Asterisk\n")?;
/// assert_eq!(t.script_lines().count(), 1);
/// let asterisk = t.fake();
/// let mut chan = agi_client::sync::Channel::new(asterisk.clone(), asterisk.clone()).unwrap();
/// chan.noop().unwrap();
/// asterisk.finish();
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    /// The records, comments left out.
    pub records: Vec<Record>,
}

impl Transcript {
    /// Parses transcript bytes.
    ///
    /// # Errors
    /// The first line with an unknown prefix.
    pub fn parse(bytes: &[u8]) -> Result<Transcript, String> {
        let mut records = Vec::new();
        let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        for (n, line) in body.split(|&b| b == b'\n').enumerate() {
            let (prefix, payload) = line.split_at(2.min(line.len()));
            records.push(match prefix {
                b"< " => Record::Asterisk(payload.to_vec()),
                b"> " => Record::Script(payload.to_vec()),
                b"! " => Record::Event(String::from_utf8_lossy(payload).into_owned()),
                b"# " => continue,
                _ => {
                    return Err(format!(
                        "line {}: unknown record {:?}",
                        n + 1,
                        line.escape_ascii().to_string()
                    ));
                }
            });
        }
        Ok(Transcript { records })
    }

    /// The lines the script sent that reached Asterisk (a write that
    /// failed, noted by a `write failed` event, did not).
    pub fn script_lines(&self) -> impl Iterator<Item = &[u8]> {
        self.records
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match r {
                Record::Script(l) if !self.write_failed(i) => Some(l.as_slice()),
                _ => None,
            })
    }

    fn write_failed(&self, i: usize) -> bool {
        matches!(self.records.get(i + 1), Some(Record::Event(e)) if e.starts_with("write failed"))
    }

    /// The transcript in its text format, one record per line.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for r in &self.records {
            let (prefix, text) = match r {
                Record::Asterisk(l) => ("< ", String::from_utf8_lossy(l)),
                Record::Script(l) => ("> ", String::from_utf8_lossy(l)),
                Record::Event(e) => ("! ", e.as_str().into()),
            };
            out.push_str(prefix);
            out.push_str(&text);
            out.push('\n');
        }
        out
    }

    /// All bytes Asterisk sent, in order.
    pub fn asterisk_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for r in &self.records {
            if let Record::Asterisk(l) = r {
                out.extend_from_slice(l);
                out.push(b'\n');
            }
        }
        out
    }

    /// A fake that plays Asterisk's side: the environment, then for each
    /// script line the Asterisk lines that followed it. Lines Asterisk sent
    /// while the script was idle (`HANGUP`) are sent when reached; `EOF from
    /// Asterisk` closes. Signals cannot be replayed in memory.
    pub fn fake(&self) -> FakeAsterisk {
        let mut builder = FakeAsterisk::builder();
        let mut records = self.records.iter().enumerate().peekable();
        let mut env = Vec::new();
        for (_, r) in records.by_ref() {
            if let Record::Asterisk(l) = r {
                env.extend_from_slice(l);
                env.push(b'\n');
                if l.is_empty() {
                    break;
                }
            }
        }
        builder = builder.env_block(env);
        let mut pending: Option<(Vec<u8>, Vec<u8>)> = None;
        // Lines written after Asterisk closed get no reply: not expected.
        let mut closed = false;
        let flush =
            |builder: Builder, pending: &mut Option<(Vec<u8>, Vec<u8>)>| match pending.take() {
                Some((command, reply)) => builder.expect(command, reply),
                None => builder,
            };
        for (i, r) in records {
            match r {
                Record::Script(l) if !self.write_failed(i) && !closed => {
                    builder = flush(builder, &mut pending);
                    pending = Some((l.clone(), Vec::new()));
                }
                Record::Asterisk(l) if !closed => match pending.as_mut() {
                    Some((_, reply)) => {
                        reply.extend_from_slice(l);
                        reply.push(b'\n');
                    }
                    None => builder = builder.send(l),
                },
                Record::Event(e) if e.starts_with("EOF from Asterisk") => {
                    builder = flush(builder, &mut pending).close();
                    closed = true;
                }
                _ => {}
            }
        }
        flush(builder, &mut pending).build()
    }
}
