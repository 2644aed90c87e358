//! The second example service: an IVR menu with a query-string language and
//! an AstDB caller lookup, served over FastAGI on loopback.

use agi_client::testing::FakeAsterisk;

use crate::child::{service, stop_mid_call};
use crate::voicemail_router::pump_tcp;

fn call(addr: std::net::SocketAddr, script: &str, callerid: &str, steps: &[(&str, &str)]) {
    pump_tcp(fake_call(addr, script, callerid, steps), addr);
}

/// The Asterisk of one call to `script` from `callerid`, with its steps.
fn fake_call(
    addr: std::net::SocketAddr,
    script: &str,
    callerid: &str,
    steps: &[(&str, &str)],
) -> FakeAsterisk {
    let mut b = FakeAsterisk::builder()
        .env("agi_network", "yes")
        .env("agi_network_script", script)
        .env("agi_request", format!("agi://{addr}/{script}"))
        .env("agi_callerid", callerid)
        .env("agi_version", "22.6.0");
    for (command, reply) in steps {
        b = b.expect(command, reply);
    }
    b.close().build()
}

#[test]
fn menu_and_lookup_scripts() {
    let service = service("ivr_service", &[]);
    let addr = service.addr;
    call(
        addr,
        "ivr/menu?lang=fr",
        "102",
        &[
            ("SET VARIABLE CHANNEL(language) fr", "200 result=1"),
            ("ANSWER", "200 result=0"),
            ("GET DATA ivr-menu 5000 1", "200 result=7"),
            (
                "STREAM FILE option-is-invalid \"\"",
                "200 result=0 endpos=8000",
            ),
            ("GET DATA ivr-menu 5000 1", "200 result=2"),
            ("SET CONTEXT support", "200 result=0"),
            ("SET EXTENSION s", "200 result=0"),
            ("SET PRIORITY 1", "200 result=0"),
        ],
    );
    call(
        addr,
        "lookup",
        "102",
        &[
            ("DATABASE GET callers 102", "200 result=1 (Peter)"),
            ("SET VARIABLE CALLERID(name) Peter", "200 result=1"),
        ],
    );
    call(
        addr,
        "lookup",
        "555",
        &[("DATABASE GET callers 555", "200 result=0")],
    );
}

/// Ctrl-C (SIGINT) and SIGTERM stop the service gracefully: new calls are
/// refused, the call in flight finishes, and the exit reports it.
#[test]
fn stop_signals_let_the_call_in_flight_finish() {
    for signal in ["INT", "TERM"] {
        let service = service("ivr_service", &[]);
        let steps = [
            ("DATABASE GET callers 102", "200 result=1 (Peter)"),
            ("SET VARIABLE CALLERID(name) Peter", "200 result=1"),
        ];
        let fake = fake_call(service.addr, "lookup", "102", &steps);
        let err = stop_mid_call(service, signal, fake);
        assert!(
            err.contains("stopped: 1 calls finished, 0 cut"),
            "SIG{signal}: {err}"
        );
    }
}
