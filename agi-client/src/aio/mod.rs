//! The async client, over tokio: FastAGI connections (TCP, Unix sockets),
//! standard AGI over Asterisk's pipes, in-memory streams, and EAGI audio.
//! Same commands and outcomes as [`crate::sync`]; every method is `async`.
//!
//! ```
//! use agi_client::aio::Channel;
//! use agi_client::testing::FakeAsterisk;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let asterisk = FakeAsterisk::builder()
//!     .env("agi_network", "yes")
//!     .env("agi_network_script", "ivr")
//!     .expect("STREAM FILE welcome \"\"", "200 result=0 endpos=8000")
//!     .build();
//! let mut chan = Channel::new(asterisk.clone()).await?;
//! assert_eq!(chan.env().network_script().unwrap(), "ivr");
//! let played = chan.stream_file("welcome", agi_proto::EscapeDigits::NONE).await?;
//! assert_eq!(played.endpos, 8000);
//! asterisk.finish();
//! # Ok::<(), agi_client::Error>(())
//! # }).unwrap();
//! ```

pub(crate) mod activity;
mod channel;
pub(crate) mod deadline;
mod eagi;
mod stdio;

pub use channel::Channel;
pub use eagi::Audio;
pub use stdio::Stdio;
