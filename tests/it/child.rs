//! Running the workspace's examples as child processes, as Asterisk runs
//! AGI programs or as an admin runs a FastAGI service.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// Waits up to 5 s for the program to exit; its status and stderr.
pub fn wait(mut child: Child) -> (ExitStatus, String) {
    for _ in 0..500 {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            return (status, err);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    panic!("the AGI program did not exit");
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
        for _ in 0..500 {
            if let Some(status) = self.child.try_wait().unwrap() {
                if let Some(reader) = self.reader.take() {
                    reader.join().unwrap();
                }
                let log = self.log.lock().unwrap().clone();
                return (status, log);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the service did not stop on SIG{signal}"); // killed on drop
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
    for _ in 0..300 {
        if TcpStream::connect(addr).is_ok() {
            return service;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{name} did not start"); // `service` is killed and waited on drop
}

/// One FastAGI call driven by hand, to hold it in flight across a stop.
pub struct HeldCall {
    reader: std::io::BufReader<TcpStream>,
    writer: TcpStream,
}

impl HeldCall {
    /// Connects and sends the environment block `env`.
    pub fn start(addr: SocketAddr, env: &[(&str, &str)]) -> HeldCall {
        use std::io::Write;
        let mut writer = TcpStream::connect(addr).unwrap();
        writer
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut block = String::new();
        for (name, value) in env {
            block.push_str(&format!("{name}: {value}\n"));
        }
        block.push('\n');
        writer.write_all(block.as_bytes()).unwrap();
        let reader = std::io::BufReader::new(writer.try_clone().unwrap());
        HeldCall { reader, writer }
    }

    /// Reads the next command, which must be `command`.
    pub fn expect(&mut self, command: &str) {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut self.reader, &mut line).unwrap();
        assert_eq!(line, format!("{command}\n"));
    }

    /// Answers the command read last.
    pub fn reply(&mut self, reply: &str) {
        use std::io::Write;
        self.writer
            .write_all(format!("{reply}\n").as_bytes())
            .unwrap();
    }

    /// Reads to the end of the stream: the server closed the call.
    pub fn ends(mut self) {
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut self.reader, &mut rest).unwrap();
        assert_eq!(rest, "", "nothing more after the last command");
    }
}

/// Stops `service` with `signal` while `call` waits for the reply to its
/// command, then lets `finish` complete the call; checks that new calls are
/// refused once the shutdown started and that the service exits cleanly.
/// Its stderr.
pub fn stop_mid_call(
    mut service: Service,
    signal: &'static str,
    mut call: HeldCall,
    finish: impl FnOnce(&mut HeldCall),
) -> String {
    let addr = service.addr;
    let log = service.log();
    assert!(service.running());
    let stopping = std::thread::spawn(move || service.stop(signal));
    // The server logs the start of its shutdown after closing its listener.
    let mut started = false;
    for _ in 0..500 {
        if log.lock().unwrap().contains("shutting down") {
            started = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        started,
        "no shutdown after SIG{signal}: {}",
        log.lock().unwrap()
    );
    assert!(TcpStream::connect(addr).is_err(), "new calls refused");
    finish(&mut call);
    call.ends();
    let (status, err) = stopping.join().unwrap();
    assert!(status.success(), "{status}: {err}");
    err
}
