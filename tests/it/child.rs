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
            .stderr(Stdio::null())
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
