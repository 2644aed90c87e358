//! A FastAGI service with several scripts: routing by path, query-string
//! arguments, one handler per script, graceful shutdown on Ctrl-C or
//! SIGTERM.
//!
//! ```text
//! ; an IVR menu, prompts in French
//! exten => 500,1,AGI(agi://127.0.0.1:4574/ivr/menu?lang=fr)
//! ; look the caller up in AstDB before ringing anyone
//! exten => _X.,1,AGI(agi://127.0.0.1:4574/lookup)
//!  same => n,Dial(PJSIP/${EXTEN})
//! ```
//!
//! Run: `cargo run --example ivr_service -- 127.0.0.1:4574`.

use std::time::Duration;

use agi_client::Error;
use agi_client::server::{Overflow, Router, Server, ServerConfig, Session};

/// `ivr/menu[?lang=xx]`: "press 1 for sales, 2 for support"; the dialplan
/// continues where the caller chose.
async fn menu(mut s: Session) -> Result<(), Error> {
    if let Some(lang) = s.query().get("lang") {
        s.chan.set_variable("CHANNEL(language)", lang).await?;
    }
    s.chan.answer().await?;
    for _attempt in 0..3 {
        let input = s
            .chan
            .get_data("ivr-menu", Duration::from_secs(5), 1)
            .await?;
        let target = match input.digits.as_str() {
            "1" => "sales",
            "2" => "support",
            _ => {
                s.chan
                    .stream_file("option-is-invalid", agi_proto::EscapeDigits::NONE)
                    .await?;
                continue;
            }
        };
        // Continue in the dialplan at target,s,1.
        s.chan.set_context(target).await?;
        s.chan.set_extension("s").await?;
        return s.chan.set_priority("1").await;
    }
    s.chan
        .stream_file("goodbye", agi_proto::EscapeDigits::NONE)
        .await?;
    s.chan.hangup().await
}

/// `lookup`: names the caller from AstDB family `callers`, keyed by number.
async fn lookup(mut s: Session) -> Result<(), Error> {
    let number = s
        .chan
        .env()
        .callerid()
        .map(|v| v.to_string())
        .unwrap_or_default();
    if let Some(name) = s.chan.database_get("callers", &number).await? {
        s.chan
            .set_variable("CALLERID(name)", name.as_bytes())
            .await?;
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:4574".into());
    let router = Router::new()
        .route("ivr/menu", menu)
        .route("lookup", lookup);
    let config = ServerConfig {
        bind: bind
            .parse()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?,
        shutdown_grace: Duration::from_secs(10),
        // A call beyond 500 at once waits up to 3 s for a free session,
        // then goes on in the dialplan with AGISTATUS=FAILURE. Up to 500
        // such calls are held, a file descriptor each (more wait in the
        // kernel's queue, untimed until held): 1,000 and a few in all,
        // within the usual limit of 1,024 (raise it, `ulimit -n`, to serve
        // more).
        max_sessions: 500,
        backlog: 500,
        overflow: Overflow::WaitAtMost(Duration::from_secs(3)),
        ..ServerConfig::default()
    };
    let server = Server::bind(config, router).await?;
    let report = server.serve_until(stop_signal()).await;
    eprintln!(
        "stopped: {} calls finished, {} cut",
        report.finished, report.cut
    );
    Ok(())
}

/// Ctrl-C, or SIGTERM (what systemd and Kubernetes send to stop a service).
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
