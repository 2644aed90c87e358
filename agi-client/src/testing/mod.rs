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
//!     .expect(r#"EXEC Dial "PJSIP/bob,5""#, "200 result=0")
//!     .hangup() // the caller hangs up
//!     // Reading a variable still works on a dead channel; playing does not.
//!     .expect("GET VARIABLE DIALSTATUS", "200 result=1 (CANCEL)")
//!     .expect(r#"STREAM FILE vm-goodbye """#, "511 Command Not Permitted on a dead channel or intercept routine")
//!     .build();
//! let mut chan = Channel::new(asterisk.clone(), asterisk.clone())?;
//! assert_eq!(chan.exec("Dial", "PJSIP/bob,5")?, 0);
//! assert!(chan.is_hung_up());
//! assert_eq!(chan.get_variable("DIALSTATUS")?.unwrap(), "CANCEL");
//! let gone = chan.stream_file("vm-goodbye", agi_proto::EscapeDigits::NONE).unwrap_err();
//! assert!(gone.is_dead_channel());
//! asterisk.finish();
//! # Ok::<(), agi_client::Error>(())
//! ```

mod fake;
mod transcript;

pub use fake::{Builder, FakeAsterisk};
pub use transcript::{Record, Transcript};
