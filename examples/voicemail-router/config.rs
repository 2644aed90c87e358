//! The routing tables: the seed's built-in default, or a TOML file whose
//! keys mirror the seed's Perl hashes.
//!
//! ```toml
//! [route.101]
//! chan = "SIP"          # channel technology: SIP, PJSIP, IAX2, Local…
//! peer = "bob"
//! maxwait = 5           # seconds
//! vm_context = "sales"
//!
//! [mailbox."*101"]
//! vm_box = "101"
//! vm_context = "sales"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

/// An extension that rings a peer, then falls back to its own mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Channel technology: `SIP`, `PJSIP`, `IAX2`, `Local`…
    pub chan: String,
    /// Peer (or `exten@context` for `Local`).
    pub peer: String,
    /// Seconds to ring before voicemail.
    pub maxwait: u32,
    /// Voicemail context of the route's mailbox (the extension itself).
    pub vm_context: String,
}

/// A feature code that opens a mailbox (`*101`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// Mailbox number.
    pub vm_box: String,
    /// Voicemail context.
    pub vm_context: String,
}

/// Both tables.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tables {
    /// Dialed extension → route.
    pub routes: BTreeMap<String, Route>,
    /// Feature code → mailbox.
    pub mailboxes: BTreeMap<String, Mailbox>,
}

impl Tables {
    /// The seed scenario: Bob (101) and Peter (102) on SIP, 5 s, `sales`.
    pub fn seed() -> Tables {
        let route = |peer: &str| Route {
            chan: "SIP".into(),
            peer: peer.into(),
            maxwait: 5,
            vm_context: "sales".into(),
        };
        let mailbox = |vm_box: &str| Mailbox {
            vm_box: vm_box.into(),
            vm_context: "sales".into(),
        };
        Tables {
            routes: [("101".into(), route("bob")), ("102".into(), route("peter"))].into(),
            mailboxes: [
                ("*101".into(), mailbox("101")),
                ("*102".into(), mailbox("102")),
            ]
            .into(),
        }
    }

    /// Reads a TOML file.
    ///
    /// # Errors
    /// A message naming the file, the line and the problem.
    pub fn load(path: &Path) -> Result<Tables, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Tables::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses TOML text; refuses unknown keys, wrong types, missing fields,
    /// `maxwait = 0` and values that would break a Dial string.
    pub fn parse(text: &str) -> Result<Tables, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let line = |span: std::ops::Range<usize>| {
            text[..span.start.min(text.len())].matches('\n').count() + 1
        };
        let mut tables = Tables::default();
        for (exten, entry) in file.route {
            let at = line(entry.span());
            let r = entry.into_inner();
            let maxwait = *r.maxwait.get_ref();
            if maxwait == 0 {
                let at = line(r.maxwait.span());
                return Err(format!(
                    "line {at}: route {exten}: maxwait must be at least 1 second"
                ));
            }
            for (key, value) in [
                ("chan", &r.chan),
                ("peer", &r.peer),
                ("vm_context", &r.vm_context),
            ] {
                check(value).map_err(|why| format!("line {at}: route {exten}: {key} {why}"))?;
            }
            check(&exten).map_err(|why| format!("line {at}: route extension {why}"))?;
            tables.routes.insert(
                exten,
                Route {
                    chan: r.chan,
                    peer: r.peer,
                    maxwait,
                    vm_context: r.vm_context,
                },
            );
        }
        for (code, entry) in file.mailbox {
            let at = line(entry.span());
            let m = entry.into_inner();
            for (key, value) in [("vm_box", &m.vm_box), ("vm_context", &m.vm_context)] {
                check(value).map_err(|why| format!("line {at}: mailbox {code}: {key} {why}"))?;
            }
            tables.mailboxes.insert(
                code,
                Mailbox {
                    vm_box: m.vm_box,
                    vm_context: m.vm_context,
                },
            );
        }
        Ok(tables)
    }
}

/// Values go into dialplan arguments split on commas: keep them plain.
fn check(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        Err("must not be empty")
    } else if value
        .chars()
        .any(|c| c == ',' || c == '|' || c.is_whitespace() || c.is_control())
    {
        Err("must not contain commas, spaces or control characters")
    } else {
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    route: BTreeMap<String, Spanned<RouteEntry>>,
    #[serde(default)]
    mailbox: BTreeMap<String, Spanned<MailboxEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteEntry {
    chan: String,
    peer: String,
    maxwait: Spanned<u32>,
    vm_context: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MailboxEntry {
    vm_box: String,
    vm_context: String,
}
