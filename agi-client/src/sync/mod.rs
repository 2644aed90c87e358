//! The blocking client, over `std::io`: for AGI programs in `agi-bin` (no
//! runtime needed) and blocking FastAGI connections.
//!
//! ```
//! use agi_client::sync::Channel;
//! use agi_client::testing::FakeAsterisk;
//!
//! let asterisk = FakeAsterisk::builder()
//!     .env("agi_request", "router")
//!     .env("agi_arg_1", "101")
//!     .expect("ANSWER", "200 result=0")
//!     .expect("GET VARIABLE DIALSTATUS", "200 result=1 (NOANSWER)")
//!     .build();
//! let mut chan = Channel::new(asterisk.clone(), asterisk.clone())?;
//! assert_eq!(chan.env().arg(1).unwrap(), "101");
//! chan.answer()?;
//! assert_eq!(chan.get_variable("DIALSTATUS")?.unwrap(), "NOANSWER");
//! asterisk.finish();
//! # Ok::<(), agi_client::Error>(())
//! ```

mod channel;
pub(crate) mod eagi;
mod stdio;

pub use channel::Channel;
pub use eagi::Audio;
pub use stdio::FdReader;
