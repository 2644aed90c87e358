//! The routing tables: the seed's built-in default, or a TOML file whose
//! keys mirror the seed's Perl hashes. A file replaces the built-in tables
//! whole: list every route and mailbox you want.
//!
//! ```toml
//! [route.101]
//! chan = "PJSIP"        # channel technology: PJSIP, IAX2, Local, SIP (before Asterisk 21)…
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
    /// Channel technology: `PJSIP`, `IAX2`, `Local`, `SIP` (before
    /// Asterisk 21)…
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
    /// The seed scenario: Bob (101) and Peter (102), 5 s, `sales`. On
    /// PJSIP, where the seed had SIP: Asterisk 21 removed chan_sip, and a
    /// `Dial(SIP/…)` there never rings (every call would go to voicemail).
    pub fn seed() -> Tables {
        let route = |peer: &str| Route {
            chan: "PJSIP".into(),
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
            for (key, value, extra) in [
                ("chan", &r.chan, CHAN),
                ("peer", &r.peer, PEER),
                ("vm_context", &r.vm_context, NAME),
            ] {
                check(value, extra)
                    .map_err(|why| format!("line {at}: route {exten}: {key} {why}"))?;
            }
            check(&exten, EXTEN).map_err(|why| format!("line {at}: route extension {why}"))?;
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
            // The router opens a mailbox only for a feature code.
            if !code.starts_with('*') {
                return Err(format!(
                    "line {at}: mailbox {code}: the code must start with '*' (as *101)"
                ));
            }
            check(&code, EXTEN).map_err(|why| format!("line {at}: mailbox code {why}"))?;
            for (key, value) in [("vm_box", &m.vm_box), ("vm_context", &m.vm_context)] {
                check(value, NAME)
                    .map_err(|why| format!("line {at}: mailbox {code}: {key} {why}"))?;
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

/// Values go into dialplan arguments, which Asterisk splits on commas and
/// `|`, and where quotes, backslashes and brackets change the parsing (an
/// unbalanced `(` swallows Dial's timeout): only plain characters pass.
/// `extra` adds what a field may hold besides letters and digits (`@` for
/// a `Local` peer's context, `*` for a feature code…).
fn check(value: &str, extra: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    match value
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || extra.contains(c)))
    {
        Some(c) => Err(format!(
            "must hold only letters, digits and {extra:?}, not {c:?}"
        )),
        None => Ok(()),
    }
}

/// What each field may hold besides letters and digits.
const CHAN: &str = "";
const PEER: &str = "-_.@";
const NAME: &str = "-_";
const EXTEN: &str = "*#+-_";

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
