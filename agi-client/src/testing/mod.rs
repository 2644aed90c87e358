//! A scripted stand-in for Asterisk, for tests of AGI programs: no PBX, no
//! sockets, and the same fake serves the sync and async clients.
//!
//! The script lists the environment, then the commands the program must
//! send and what Asterisk answers. Commands are compared after Asterisk's
//! tokenizing, so `EXEC Dial "SIP/bob,5"` and `EXEC Dial SIP/bob,5` are the
//! same command. A program that sends something else fails the test with
//! both commands side by side.
//!
//! ```
//! use agi_client::sync::Channel;
//! use agi_client::testing::FakeAsterisk;
//!
//! let asterisk = FakeAsterisk::builder()
//!     .env("agi_request", "voicemail-router")
//!     .expect(r#"EXEC Dial "SIP/bob,5""#, "200 result=0")
//!     .hangup() // the caller hangs up
//!     .expect("GET VARIABLE DIALSTATUS", "511 Command Not Permitted on a dead channel or intercept routine")
//!     .build();
//! let mut chan = Channel::new(asterisk.clone(), asterisk.clone())?;
//! assert_eq!(chan.exec("Dial", "SIP/bob,5")?, 0);
//! assert!(chan.is_hung_up());
//! assert!(chan.get_variable("DIALSTATUS").unwrap_err().is_dead_channel());
//! asterisk.finish();
//! # Ok::<(), agi_client::Error>(())
//! ```

mod fake;
mod transcript;

pub use fake::{Builder, FakeAsterisk};
pub use transcript::{Record, Transcript};
