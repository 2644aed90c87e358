//! A standard AGI program that keeps working after the caller hangs up.
//!
//! Asterisk tells a standard AGI program about a hangup only with SIGHUP
//! (nothing arrives on stdin), and SIGHUP's default action kills the
//! process, perhaps in the middle of its cleanup. `Channel::stdio()` catches
//! it: the program sees `is_hung_up()` and finishes its work with the
//! commands a dead channel still accepts (variables, AstDB, VERBOSE, EXEC).
//!
//! A hangup during a command ends that command first (`result=-1`, as a
//! missing file would), and Asterisk signals only after sending that reply:
//! so right after the failure the flag may not be set yet. The next command
//! settles it, since on a hung-up channel CHANNEL STATUS answers `511`.
//!
//! ```text
//! exten => 200,1,AGI(hangup_cleanup)
//! ```
//!
//! `--tokio` runs the same steps with the async client; `--no-sighup`
//! keeps SIGHUP's default action, to show what it does.

use agi_client::{Error, Options, aio, sync};
use agi_proto::command::Playback;
use agi_proto::{ChannelState, EscapeDigits};

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let options = Options {
        handle_sighup: !args.iter().any(|a| a == "--no-sighup"),
        ..Options::default()
    };
    if args.iter().any(|a| a == "--tokio") {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        return runtime.block_on(run_async(options));
    }
    run_sync(options)
}

fn run_sync(options: Options) -> Result<(), Error> {
    let mut chan = sync::Channel::stdio_with(options)?;
    chan.answer()?;
    let played = chan.stream_file("tt-monkeys", EscapeDigits::NONE);
    let status = chan.channel_status();
    report(played, status, chan.is_hung_up())?;
    if chan.is_hung_up() {
        // Allowed on a dead channel: record what happened.
        let mut cleanup = chan.set_variable("CLEANUP", "done");
        if cleanup.is_ok() {
            let call = chan.env().uniqueid().unwrap_or_default().to_string();
            cleanup = chan.database_put("calls", &call, "hung up");
        }
        cleaned_up(cleanup)?;
    }
    eprintln!("hung up: {}", chan.is_hung_up());
    Ok(())
}

async fn run_async(options: Options) -> Result<(), Error> {
    let mut chan = aio::Channel::stdio_with(options).await?;
    chan.answer().await?;
    let played = chan.stream_file("tt-monkeys", EscapeDigits::NONE).await;
    let status = chan.channel_status().await;
    report(played, status, chan.is_hung_up())?;
    if chan.is_hung_up() {
        // Allowed on a dead channel: record what happened.
        let mut cleanup = chan.set_variable("CLEANUP", "done").await;
        if cleanup.is_ok() {
            let call = chan.env().uniqueid().unwrap_or_default().to_string();
            cleanup = chan.database_put("calls", &call, "hung up").await;
        }
        cleaned_up(cleanup)?;
    }
    eprintln!("hung up: {}", chan.is_hung_up());
    Ok(())
}

/// What the prompt and the status check said, once the status has told
/// whether the channel is still there.
fn report(
    played: Result<Playback, Error>,
    status: Result<Option<ChannelState>, Error>,
    hung_up: bool,
) -> Result<(), Error> {
    match played {
        Ok(played) => eprintln!("played to sample {}", played.endpos),
        Err(e) if hung_up => eprintln!("caller hung up during the prompt ({e})"),
        Err(e) => return Err(e),
    }
    match status {
        Ok(state) => eprintln!("channel state {state:?}"),
        // 511, or the session closed (AGIEXITONHANGUP).
        Err(e) if e.is_hangup() => eprintln!("channel is gone"),
        Err(e) => return Err(e),
    }
    Ok(())
}

/// With `AGIEXITONHANGUP=yes` Asterisk closes the session at the hangup:
/// there is no cleanup to do through it, and that is no failure.
fn cleaned_up(cleanup: Result<(), Error>) -> Result<(), Error> {
    match cleanup {
        Err(e) if e.is_hangup() => {
            eprintln!("Asterisk closed the session: no cleanup through it");
            Ok(())
        }
        other => other,
    }
}
