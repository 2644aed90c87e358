//! Sync and async clients for the Asterisk Gateway Interface, built on
//! [`agi_proto`].
//!
//! Not written yet: this crate currently only re-exports the protocol core so
//! that the workspace layout is in place. See the project's open issues.
//!
//! ```
//! let reply = agi_client::proto::parse_frame(b"200 result=0\n").unwrap();
//! assert!(reply.is_complete());
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use agi_proto as proto;
