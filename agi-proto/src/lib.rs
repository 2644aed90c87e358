//! The Asterisk Gateway Interface (AGI) protocol without I/O: zero-copy,
//! incremental parsers for what Asterisk sends, and typed commands for what
//! a script sends back.
//!
//! Asterisk starts an AGI session by sending an environment block
//! (`agi_name: value` lines, then an empty line). The script then writes one
//! command per line and reads one reply per command. This crate turns those
//! bytes into typed values and typed commands into bytes; the `agi-client`
//! crate moves the bytes over stdin/stdout, TCP (FastAGI) or tokio.
//!
//! - [`parse_env`] / [`EnvDecoder`]: the environment block → [`Env`]
//!   (borrowed) or [`OwnedEnv`];
//! - [`parse_frame`] / [`FrameDecoder`]: a reply line or `520` block →
//!   [`Frame`];
//! - [`command`]: every AGI command as a struct implementing [`Command`];
//!   [`encode_command`] writes one line, quoted as Asterisk tokenizes;
//! - [`Exchange`]: the conversation rules of one command in flight.
//!
//! Parsers never allocate, never panic, and say [`Status::Partial`] when the
//! input stops inside a frame. The usual `200 result=<integer>[ text]`
//! reply is read in one pass; other lines are found with `memchr` and read
//! by `nom` grammars, some of their leaves hand-written for speed.
//!
//! ```
//! use agi_proto::command::{Command, Exec, GetVariable};
//! use agi_proto::{encode_command, parse_env, parse_frame, Exchange, Limits, Step};
//!
//! // What Asterisk sends first.
//! let wire = b"agi_request: voicemail-router\nagi_version: 22.5.2\nagi_arg_1: 101\n\n";
//! let (env, _) = parse_env(wire)?.complete().unwrap();
//! assert_eq!(env.arg(1).unwrap(), "101");
//! let limits = Limits { max_command: env.asterisk_version().command_limit(), ..Limits::default() };
//!
//! // A command, written once as a typed value.
//! let mut line = Vec::new();
//! encode_command(&Exec::new("Dial", "SIP/bob,5"), &limits, &mut line)?;
//! assert_eq!(line, b"EXEC Dial SIP/bob,5\n");
//!
//! // Its reply, read through the exchange rules.
//! let dialstatus = GetVariable::new("DIALSTATUS");
//! let (frame, _) = parse_frame(b"200 result=1 (NOANSWER)\n")?.complete().unwrap();
//! let Step::Done(outcome) = Exchange::new(&dialstatus).step(frame) else { unreachable!() };
//! assert_eq!(outcome?.unwrap(), "NOANSWER");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]

pub mod command;
mod encode;
mod env;
mod error;
mod exchange;
mod line;
mod reply;
mod status;
mod tokenize;
mod value;
mod version;

pub use command::Command;
pub use command::types::{ChannelState, Digit, EscapeDigits, InvalidDigit};
pub use encode::{ArgWriter, encode_command};
pub use env::{Env, EnvDecoder, EnvIndex, OwnedEnv, Var, parse_env};
pub use error::{EncodeError, Excerpt, Failure, ParseError, ParseErrorKind};
pub use exchange::{Exchange, Step};
pub use line::{Limits, check_eof};
pub use reply::{Frame, FrameDecoder, Reply, Usage, parse_frame};
pub use status::Status;
pub use tokenize::tokenize;
pub use value::Value;
pub use version::AsteriskVersion;
