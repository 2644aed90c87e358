//! Clients for the Asterisk Gateway Interface (AGI), built on the sans-I/O
//! core [`agi_proto`].
//!
//! - [`sync::Channel`]: blocking, over `std::io`: standard AGI programs in
//!   `agi-bin` ([`sync::Channel::stdio`], SIGHUP handled), blocking FastAGI
//!   ([`sync::Channel::tcp`]), EAGI audio ([`sync::Audio`]).
//! - `aio::Channel` (feature `tokio`): the same over tokio, on one duplex
//!   stream (a `TcpStream`, Asterisk's pipes with `aio::Channel::stdio`, or
//!   any two halves joined with `tokio::io::join`).
//! - `testing::FakeAsterisk` (feature `testing`): a scripted Asterisk for
//!   tests of both.
//!
//! Every AGI command is a struct in [`agi_proto::command`]; both channels
//! send any of them through one generic `send`, and offer one method per
//! command (`answer()`, `stream_file(..)`, `get_variable(..)`, `exec(..)`…)
//! generated from one table.
//!
//! ```no_run
//! // A standard AGI program: Asterisk runs it from agi-bin.
//! use agi_client::sync::Channel;
//!
//! fn main() -> Result<(), agi_client::Error> {
//!     let mut chan = Channel::stdio()?;
//!     let exten = chan.env().arg(1).map(|v| v.to_string()).unwrap_or_default();
//!     chan.verbose(&format!("called for {exten}"))?;
//!     // Dial returns -1 once the call is over (the caller hung up, or an
//!     // answered call ended): nothing is left to hang up then.
//!     if chan.exec("Dial", &format!("PJSIP/{exten},5"))? == -1 {
//!         return Ok(());
//!     }
//!     match chan.hangup() {
//!         // Refused with 511 if the caller left meanwhile: the same end.
//!         Err(e) if e.is_hangup() => Ok(()),
//!         other => other,
//!     }
//! }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]

mod commands;
mod core;
mod error;
mod options;
mod standard;
pub mod sync;

#[cfg(feature = "tokio")]
pub mod aio;
#[cfg(feature = "tokio")]
pub mod server;
#[cfg(feature = "testing")]
pub mod testing;

pub use agi_proto as proto;

/// The README's examples, compiled as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
pub use error::Error;
pub use options::Options;
