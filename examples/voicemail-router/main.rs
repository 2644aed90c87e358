//! The voicemail router: Bob (101) and Peter (102) call each other; if the
//! callee does not answer within 5 s the caller leaves a voicemail; `*101`
//! and `*102` open the mailboxes.
//!
//! ```text
//! voicemail-router [--config FILE] EXTEN       standard AGI, from agi-bin
//! voicemail-router --listen ADDR [--config FILE]  FastAGI service
//! voicemail-router --simulate [--config FILE]   play Asterisk, print the dialogues
//! ```
//!
//! Dialplan (standard AGI): `same => n,AGI(voicemail-router,${EXTEN})`;
//! FastAGI: `same => n,AGI(agi://HOST:4573/voicemail-router,${EXTEN})`.

mod call;
mod config;
mod simulate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use agi_client::server::{Router, Server, ServerConfig, Session};
use clap::Parser;

use crate::config::Tables;

/// Routes calls between Bob and Peter, with voicemail when nobody answers.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// TOML file replacing the built-in routing tables.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Serve FastAGI on ADDR (for example 127.0.0.1:4573) instead of
    /// running once as standard AGI.
    #[arg(long, value_name = "ADDR", conflicts_with_all = ["exten", "simulate"])]
    listen: Option<SocketAddr>,
    /// Play Asterisk in memory and print each scenario's AGI dialogue.
    #[arg(long, conflicts_with = "exten")]
    simulate: bool,
    /// The dialed extension (default: agi_arg_1, then agi_extension).
    exten: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Logs go to stderr: stdout is the AGI channel.
    let level = std::env::var("VOICEMAIL_ROUTER_LOG")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(tracing::Level::INFO);
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_ansi(false)
        .init();

    // No config given: the built-in tables, no parsing.
    let tables = match &args.config {
        Some(path) => match Tables::load(path) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("bad config, not starting: {e}");
                if !args.simulate && args.listen.is_none() {
                    tell_asterisk(&format!("voicemail-router: bad config, not starting: {e}"));
                }
                return ExitCode::from(2);
            }
        },
        None => Tables::seed(),
    };
    let result = if args.simulate {
        simulate::run(&tables)
    } else if let Some(addr) = args.listen {
        serve(addr, tables)
    } else {
        standard_agi(args.exten, &tables)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// One call over stdin/stdout, as Asterisk runs programs from agi-bin. No
/// async runtime; SIGHUP marks the call hung up instead of killing us.
fn standard_agi(exten: Option<String>, tables: &Tables) -> Result<(), String> {
    let mut chan =
        agi_client::sync::Channel::stdio().map_err(|e| format!("no AGI session: {e}"))?;
    let env = chan.env();
    let exten = exten
        .or_else(|| env.arg(1).or(env.extension()).map(|v| v.to_string()))
        .unwrap_or_default();
    match call::run_sync(&mut chan, &exten, tables) {
        Ok(end) => {
            log_end(&exten, end);
            Ok(())
        }
        Err(e) => {
            let msg = format!("call to {exten}: {e}");
            // Into Asterisk's log too, if the channel still takes it.
            let _ = log_in_asterisk(&mut chan, &format!("voicemail-router: {msg}"));
            Err(msg)
        }
    }
}

/// Logs how a call ended; a missing prompt is worth a warning.
fn log_end(exten: &str, end: call::End) {
    if end
        == (call::End::Invalid {
            prompt_played: false,
        })
    {
        tracing::warn!(%exten, "prompt pbx-invalid is missing");
    }
    tracing::info!(%exten, ?end, "call done");
}

/// Reports through Asterisk's log, where an admin looks (a daemonized
/// Asterisk sends its programs' stderr to /dev/null), when the failure
/// comes before the call: opens the session just for that.
fn tell_asterisk(msg: &str) {
    let options = agi_client::Options {
        env_timeout: Some(std::time::Duration::from_secs(2)),
        ..agi_client::Options::default()
    };
    if let Ok(mut chan) = agi_client::sync::Channel::stdio_with(options) {
        let _ = log_in_asterisk(&mut chan, msg);
    }
}

/// `Log(ERROR,…)` through EXEC: unlike VERBOSE, which only consoles see
/// by default, an error reaches the `messages` file of a stock
/// `logger.conf`.
fn log_in_asterisk<R: std::io::Read, W: std::io::Write>(
    chan: &mut agi_client::sync::Channel<R, W>,
    msg: &str,
) -> Result<i64, agi_client::Error> {
    chan.exec("Log", &format!("ERROR,{}", one_line(msg)))
}

/// `msg` on one line: the library refuses to send a line feed inside an
/// argument (it would start another command), and TOML's errors have some.
fn one_line(msg: &str) -> String {
    msg.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The FastAGI service: script path `voicemail-router`, extension in
/// `agi_arg_1`. Ctrl-C (or SIGTERM) drains the calls in flight.
fn serve(addr: SocketAddr, tables: Tables) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let tables = std::sync::Arc::new(tables);
        let router = Router::new().route("voicemail-router", move |mut s: Session| {
            let tables = std::sync::Arc::clone(&tables);
            async move {
                let env = s.chan.env();
                let exten = env
                    .arg(1)
                    .or(env.extension())
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                let end = call::run_async(&mut s.chan, &exten, &tables).await?;
                log_end(&exten, end);
                Ok::<_, agi_client::Error>(())
            }
        });
        let config = ServerConfig {
            bind: addr,
            ..ServerConfig::default()
        };
        let server = Server::bind(config, router)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let report = server.serve_until(shutdown_signal()).await;
        tracing::info!(finished = report.finished, cut = report.cut, "stopped");
        Ok(())
    })
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}
