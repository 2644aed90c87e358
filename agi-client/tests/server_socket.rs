//! The server's sockets: what the listener passes to accepted connections,
//! addresses on a dual-stack listener, and settings `bind` refuses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use agi_client::server::{BoxError, Router, Server, ServerConfig, Session};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

fn on(bind: IpAddr) -> ServerConfig {
    ServerConfig {
        bind: SocketAddr::new(bind, 0),
        ..ServerConfig::default()
    }
}

/// Serves `router` until the test ends; returns the address.
async fn serve(config: ServerConfig, router: Router) -> SocketAddr {
    let server = Server::bind(config, router).await.unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.serve_until(std::future::pending()));
    addr
}

/// One session of `script` from 127.0.0.1 to `port`: the first command
/// the server sends, answered, or `None` when it closes first.
async fn first_command(port: u16, script: &str) -> Option<String> {
    let stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port))
        .await
        .unwrap();
    let (r, mut w) = stream.into_split();
    let env = format!("agi_network: yes\nagi_network_script: {script}\nagi_uniqueid: 1.1\n\n");
    w.write_all(env.as_bytes()).await.unwrap();
    let mut line = String::new();
    let mut reader = BufReader::new(r);
    let read = reader.read_line(&mut line);
    let n = tokio::time::timeout(Duration::from_secs(3), read)
        .await
        .expect("the server answers or closes")
        .unwrap_or(0);
    if n == 0 {
        return None;
    }
    w.write_all(b"200 result=1\n").await.unwrap();
    Some(line.trim_end().to_owned())
}

/// Reports the accepted socket's keepalive settings in a VERBOSE command.
fn keepalive_reporter() -> Router {
    Router::new().route("ka", |mut s: Session| async move {
        use rustix::net::sockopt;
        let stream = s.chan.get_ref();
        let on = sockopt::socket_keepalive(stream)?;
        let idle = sockopt::tcp_keepidle(stream)?.as_secs();
        let every = sockopt::tcp_keepintvl(stream)?.as_secs();
        let probes = sockopt::tcp_keepcnt(stream)?;
        let report = format!("keepalive={on} idle={idle} every={every} probes={probes}");
        s.chan.verbose(&report).await?;
        Ok::<(), BoxError>(())
    })
}

/// Accepted connections get TCP keepalive from the listener (a dead peer
/// ends its session instead of holding its slot); `None` leaves it off.
#[tokio::test]
async fn sessions_inherit_tcp_keepalive() {
    let config = ServerConfig {
        keepalive: Some(Duration::from_secs(20)),
        ..on(Ipv4Addr::LOCALHOST.into())
    };
    let port = serve(config, keepalive_reporter()).await.port();
    assert_eq!(
        first_command(port, "ka").await.as_deref(),
        Some("VERBOSE \"keepalive=true idle=20 every=5 probes=4\"")
    );
    let config = ServerConfig {
        keepalive: None,
        ..on(Ipv4Addr::LOCALHOST.into())
    };
    let port = serve(config, keepalive_reporter()).await.port();
    let reply = first_command(port, "ka").await.unwrap();
    assert!(reply.starts_with("VERBOSE \"keepalive=false "), "{reply}");
}

/// On a dual-stack `[::]` listener an IPv4 peer arrives as
/// `::ffff:127.0.0.1`; the allow-list entry `127.0.0.1` still admits it,
/// so does `::ffff:127.0.0.1` on either listener, and a list without it
/// still refuses it.
#[tokio::test]
async fn allow_list_matches_ipv4_peers_on_a_dual_stack_listener() {
    let router = || Router::new().route("hi", |mut s: Session| async move { s.chan.noop().await });
    let allowed = ServerConfig {
        allow: Some(vec![Ipv4Addr::LOCALHOST.into()]),
        ..on(Ipv6Addr::UNSPECIFIED.into())
    };
    let Ok(server) = Server::bind(allowed, router()).await else {
        eprintln!("no IPv6 on this machine: dual-stack listener not tested");
        return;
    };
    let port = server.local_addr().unwrap().port();
    tokio::spawn(server.serve_until(std::future::pending()));
    assert_eq!(first_command(port, "hi").await.as_deref(), Some("NOOP"));

    // The list may name it in its mapped form too, on either listener.
    let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
    for bind in [
        IpAddr::from(Ipv6Addr::UNSPECIFIED),
        Ipv4Addr::LOCALHOST.into(),
    ] {
        let config = ServerConfig {
            allow: Some(vec![mapped]),
            ..on(bind)
        };
        let port = serve(config, router()).await.port();
        assert_eq!(
            first_command(port, "hi").await.as_deref(),
            Some("NOOP"),
            "{bind}"
        );
    }

    let refused = ServerConfig {
        allow: Some(vec!["10.1.2.3".parse().unwrap()]),
        ..on(Ipv6Addr::UNSPECIFIED.into())
    };
    let port = serve(refused, router()).await.port();
    assert_eq!(first_command(port, "hi").await, None);
}

/// A server that could never serve is refused at `bind`, not left to hang.
#[tokio::test]
async fn zero_max_sessions_is_refused() {
    let config = ServerConfig {
        max_sessions: 0,
        ..on(Ipv4Addr::LOCALHOST.into())
    };
    let err = Server::bind(config, Router::new()).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("max_sessions"), "{err}");
}
