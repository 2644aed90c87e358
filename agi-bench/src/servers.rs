//! The programs under test: a FastAGI server built on agi-client, the
//! no-library ceilings (a hand-written server and a hand-written standard
//! AGI program that speak the same scripts), all single-threaded.

use std::io::{BufRead, Write};
use std::net::SocketAddr;

use agi_client::server::{Router, Server, ServerConfig, Session};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The library server: the router's and the chatty script's sessions
/// through `agi_client::server` and `aio::Channel`.
pub fn serve_lib(addr: SocketAddr) {
    // The chatty script's names and values, made once as the ceiling's
    // script is: the handler's own formatting is not the library's cost.
    let chatty: &'static [(String, String)] = Vec::leak(
        (0..20)
            .map(|i| (format!("V{i}"), format!("value {i}")))
            .collect(),
    );
    runtime().block_on(async {
        let router = Router::new()
            .route("voicemail-router", |mut s: Session| async move {
                router_script(&mut s.chan).await
            })
            .route("chatty", move |mut s: Session| async move {
                for (name, value) in chatty {
                    s.chan.set_variable(name, value.as_str()).await?;
                    s.chan.get_variable(name).await?;
                }
                s.chan.hangup().await
            });
        let config = ServerConfig {
            bind: addr,
            ..ServerConfig::default()
        };
        let server = Server::bind(config, router).await.expect("bind");
        server.serve_until(std::future::pending()).await;
    });
}

/// The async channel alone on a bare accept loop: no router, session
/// tracking, environment deadline or handler box. Between the ceiling and
/// the library server, it shows what the channel costs and what the server
/// around it adds. Router script only.
pub fn serve_chan(addr: SocketAddr) {
    runtime().block_on(async move {
        let listener = listen(addr);
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let options = agi_client::Options {
                    env_timeout: None,
                    handle_sighup: false,
                    ..agi_client::Options::default()
                };
                let Ok(mut chan) = agi_client::aio::Channel::tcp(stream, options).await else {
                    return;
                };
                let _ = router_script(&mut chan).await;
            });
        }
    });
}

/// The voicemail router's four round trips, as both library servers run
/// them.
async fn router_script(
    chan: &mut agi_client::aio::Channel<tokio::net::TcpStream>,
) -> Result<(), agi_client::Error> {
    chan.exec("Dial", "PJSIP/bob,5").await?;
    let status = chan.get_variable("DIALSTATUS").await?;
    let mailbox = if status.as_deref() == Some(b"BUSY") {
        "101@sales,b"
    } else {
        "101@sales,u"
    };
    chan.exec("VoiceMail", mailbox).await?;
    chan.hangup().await
}

fn listen(addr: SocketAddr) -> tokio::net::TcpListener {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_reuseaddr(true).expect("reuseaddr");
    socket.bind(addr).expect("bind");
    socket.listen(4096).expect("listen")
}

/// The ceiling: the same scripts written straight to the socket, no
/// parsing beyond finding line ends.
pub fn serve_raw(addr: SocketAddr, extra_code: Option<fn(u64) -> u64>) {
    let router: Vec<u8> = b"EXEC Dial \"PJSIP/bob,5\"\nGET VARIABLE DIALSTATUS\nEXEC VoiceMail \"101@sales,u\"\nHANGUP\n".to_vec();
    let mut chatty = Vec::new();
    for i in 0..20 {
        chatty.extend_from_slice(
            format!("SET VARIABLE V{i} \"value {i}\"\nGET VARIABLE V{i}\n").as_bytes(),
        );
    }
    chatty.extend_from_slice(b"HANGUP\n");
    let scripts: &'static [Vec<u8>; 2] = Box::leak(Box::new([router, chatty]));
    runtime().block_on(async move {
        let listener = listen(addr);
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let _ = stream.set_nodelay(true);
                let mut buf = [0u8; 4096];
                let mut have = 0;
                // The environment: up to the empty line.
                let env_end = loop {
                    match stream.read(&mut buf[have..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => have += n,
                    }
                    if let Some(i) = buf[..have].windows(2).position(|w| w == b"\n\n") {
                        break i + 2;
                    }
                    if have == buf.len() {
                        return;
                    }
                };
                let chatty = buf[..env_end].windows(6).any(|w| w == b"chatty");
                if let Some(extra) = extra_code {
                    std::hint::black_box(extra(std::hint::black_box(env_end as u64)));
                }
                let script = &scripts[usize::from(chatty)];
                let mut pos = env_end;
                for line in script.split_inclusive(|&b| b == b'\n') {
                    if stream.write_all(line).await.is_err() {
                        return;
                    }
                    // One reply line.
                    loop {
                        if let Some(i) = buf[pos..have].iter().position(|&b| b == b'\n') {
                            pos += i + 1;
                            break;
                        }
                        if pos == have {
                            (pos, have) = (0, 0);
                        }
                        match stream.read(&mut buf[have..]).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => have += n,
                        }
                    }
                }
            });
        }
    });
}

/// The ceiling for standard AGI: read the environment, send the router's
/// four commands, read four replies, exit.
pub fn raw_agi() {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::stdout().lock();
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
            return;
        }
        if line == b"\n" {
            break;
        }
    }
    for cmd in [
        &b"EXEC Dial \"PJSIP/bob,5\"\n"[..],
        b"GET VARIABLE DIALSTATUS\n",
        b"EXEC VoiceMail \"101@sales,u\"\n",
        b"HANGUP\n",
    ] {
        if out.write_all(cmd).and_then(|()| out.flush()).is_err() {
            return;
        }
        line.clear();
        if input.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
            return;
        }
    }
}
