//! A standard AGI program that keeps working after the caller hangs up.
//!
//! Asterisk tells a standard AGI program about a hangup only with SIGHUP
//! (nothing arrives on stdin), and SIGHUP's default action kills the
//! process, perhaps in the middle of its cleanup. `Channel::stdio()` catches
//! it: the program sees `is_hung_up()` and finishes its work with the
//! commands a dead channel still accepts (variables, AstDB, VERBOSE, EXEC).
//!
//! ```text
//! exten => 200,1,AGI(hangup_cleanup)
//! ```
//!
//! `--no-sighup` keeps SIGHUP's default action, to show what it does.

use agi_client::sync::Channel;
use agi_client::{Error, Options};
use agi_proto::EscapeDigits;

fn main() -> Result<(), Error> {
    let handle_sighup = !std::env::args().any(|a| a == "--no-sighup");
    let mut chan = Channel::stdio_with(Options {
        handle_sighup,
        ..Options::default()
    })?;
    chan.answer()?;
    match chan.stream_file("tt-monkeys", EscapeDigits::NONE) {
        Ok(played) => eprintln!("played to sample {}", played.endpos),
        // -1 is also a missing file: the hangup flag tells them apart.
        Err(e) if chan.is_hung_up() => eprintln!("caller hung up during the prompt ({e})"),
        Err(e) => return Err(e),
    }
    if chan.is_hung_up() {
        // Allowed on a dead channel: record what happened.
        chan.set_variable("CLEANUP", "done")?;
        chan.database_put(
            "calls",
            chan.env()
                .uniqueid()
                .map(|v| v.to_string())
                .unwrap_or_default()
                .as_str(),
            "hung up",
        )?;
    }
    match chan.channel_status() {
        Ok(state) => eprintln!("channel state {state:?}"),
        Err(e) if e.is_dead_channel() => eprintln!("channel is gone"),
        Err(e) => return Err(e),
    }
    eprintln!("hung up: {}", chan.is_hung_up());
    Ok(())
}
