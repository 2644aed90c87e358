//! Running the workspace's examples as child processes, as Asterisk runs
//! AGI programs or as an admin runs a FastAGI service.

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agi_client::testing::FakeAsterisk;

use crate::voicemail_router::pump_tcp_with;

/// Examples are built by `cargo test` next to the test binaries.
pub fn example(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let path = dir.join("examples").join(name);
    if !path.exists() {
        // `cargo test` builds the examples, `cargo test --test it` does not.
        let profile = if dir.ends_with("release") {
            vec!["--release"]
        } else {
            vec![]
        };
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--example", name])
            .args(profile)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success(), "building example {name}");
    }
    path
}

/// Starts `command` as Asterisk runs an AGI program: stdin, stdout and
/// stderr piped.
pub fn spawn_agi(command: &mut Command) -> (Child, ChildStdin, BufReader<ChildStdout>) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    (child, stdin, stdout)
}

/// [`spawn_agi`], the environment block of fixture `env` already written.
pub fn agi_child(command: &mut Command, env: &str) -> (Child, ChildStdin, BufReader<ChildStdout>) {
    let (child, mut stdin, stdout) = spawn_agi(command);
    stdin.write_all(&crate::fixtures::read(env)).unwrap();
    (child, stdin, stdout)
}

/// Checks `done` every 10 ms for up to `limit`: whether it came true.
pub fn poll_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    loop {
        if done() {
            return true;
        }
        if started.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The child's exit status, if it exits within 5 s.
fn exits(child: &mut Child) -> Option<ExitStatus> {
    let mut status = None;
    poll_until(Duration::from_secs(5), || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    status
}

/// Waits up to 5 s for the program to exit; its status and stderr.
pub fn wait(mut child: Child) -> (ExitStatus, String) {
    let Some(status) = exits(&mut child) else {
        child.kill().unwrap();
        panic!("the AGI program did not exit");
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    (status, err)
}

/// A FastAGI service started on a free loopback port; killed when dropped.
pub struct Service {
    child: Child,
    pub addr: SocketAddr,
    /// Its stderr so far, read by a thread as it comes (a full pipe would
    /// block the service).
    log: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Service {
    /// Sends `signal` (a name for `kill -s`) and waits up to 5 s for the
    /// exit; its status and whole stderr.
    pub fn stop(mut self, signal: &str) -> (ExitStatus, String) {
        signal_process(self.child.id(), signal);
        let Some(status) = exits(&mut self.child) else {
            panic!("the service did not stop on SIG{signal}"); // killed on drop
        };
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        let log = self.log.lock().unwrap().clone();
        (status, log)
    }

    /// Whether the service still runs.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Its stderr so far, shared.
    pub fn log(&self) -> Arc<Mutex<String>> {
        Arc::clone(&self.log)
    }
}

/// `kill -s signal pid`, with the shell's own `kill`.
pub fn signal_process(pid: u32, signal: &str) {
    let status = Command::new("sh")
        .args(["-c", "kill -s $0 $1", signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -s {signal} {pid}");
}

/// Starts example `name` with `args`, then the address as last argument.
pub fn service(name: &str, args: &[&str]) -> Service {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut child = Command::new(example(name))
        .args(args)
        .arg(addr.to_string())
        // Its default log level, whatever the caller's environment says.
        .env_remove("VOICEMAIL_ROUTER_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let stderr = child.stderr.take().unwrap();
    let sink = Arc::clone(&log);
    let reader = std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
            let Ok(line) = line else { break };
            let mut log = sink.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
    let service = Service {
        child,
        addr,
        log,
        reader: Some(reader),
    };
    let started = poll_until(Duration::from_secs(3), || TcpStream::connect(addr).is_ok());
    assert!(started, "{name} did not start"); // `service` is killed and waited on drop
    service
}

/// Plays `fake` as the Asterisk of one call to `service` and stops the
/// service with `signal` before the reply to the first command: checks that
/// new calls are refused once the shutdown is logged, that the call then
/// finishes as `fake` expects, and that the service exits cleanly. Its
/// stderr.
pub fn stop_mid_call(mut service: Service, signal: &'static str, fake: FakeAsterisk) -> String {
    let addr = service.addr;
    let log = service.log();
    assert!(service.running());
    let mut service = Some(service);
    let mut stopping = None;
    pump_tcp_with(fake, addr, |_| {
        let Some(service) = service.take() else {
            return;
        };
        stopping = Some(std::thread::spawn(move || service.stop(signal)));
        // The server logs the start of its shutdown after closing its
        // listener.
        let shutting_down = || log.lock().unwrap().contains("shutting down");
        assert!(
            poll_until(Duration::from_secs(5), shutting_down),
            "no shutdown after SIG{signal}: {}",
            log.lock().unwrap()
        );
        assert!(TcpStream::connect(addr).is_err(), "new calls refused");
    });
    let (status, err) = stopping.expect("stopped mid-call").join().unwrap();
    assert!(status.success(), "{status}: {err}");
    err
}
