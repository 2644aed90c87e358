//! Running the workspace's examples as child processes, as Asterisk runs
//! AGI programs or as an admin runs a FastAGI service.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
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
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Service {
    /// Sends `signal` (a `kill -s` name) and waits up to 5 s for the exit;
    /// its status and stderr.
    pub fn stop(mut self, signal: &str) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-s", signal, &pid]).status();
        assert!(sent.unwrap().success(), "kill -s {signal}");
        for _ in 0..500 {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut err = String::new();
                let stderr = self.child.stderr.as_mut().expect("stderr piped");
                std::io::Read::read_to_string(stderr, &mut err).unwrap();
                return (status, err);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the service did not stop on SIG{signal}"); // killed on drop
    }

    /// Whether the service still runs.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

/// Starts example `name` with `args`, then the address as last argument.
pub fn service(name: &str, args: &[&str]) -> Service {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let service = Service {
        child: Command::new(example(name))
            .args(args)
            .arg(addr.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // Read by `stop`; a service logs a few lines only.
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
        addr,
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
/// refused meanwhile and that the service exits cleanly. Its stderr.
pub fn stop_mid_call(
    mut service: Service,
    signal: &'static str,
    mut call: HeldCall,
    finish: impl FnOnce(&mut HeldCall),
) -> String {
    let addr = service.addr;
    assert!(service.running());
    let stopping = std::thread::spawn(move || service.stop(signal));
    // The listener closes as the shutdown starts.
    let mut refused = false;
    for _ in 0..200 {
        if TcpStream::connect(addr).is_err() {
            refused = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(refused, "new calls refused after SIG{signal}");
    finish(&mut call);
    call.ends();
    let (status, err) = stopping.join().unwrap();
    assert!(status.success(), "{status}: {err}");
    err
}
