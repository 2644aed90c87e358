//! Playing Asterisk against a standard AGI program: spawn it as Asterisk
//! does (environment on stdin, commands on stdout), answer, wait for exit.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::script::{Workload, same_tokens};

/// Runs `sessions` router sessions of `program args…` with `parallel`
/// spawners; returns the session latencies (spawn to exit, µs) and errors.
pub fn run(
    program: &Path,
    args: &[String],
    parallel: usize,
    sessions: usize,
) -> (Histogram<u64>, u64, Duration) {
    let started = Instant::now();
    let per = sessions.div_ceil(parallel);
    let workers: Vec<_> = (0..parallel)
        .map(|_| {
            let (program, args) = (program.to_owned(), args.to_vec());
            std::thread::spawn(move || {
                let workload = Workload::router();
                let env = workload.env(false);
                let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
                let mut errors = 0;
                let mut scratch = Vec::new();
                for _ in 0..per {
                    let start = Instant::now();
                    match one(&program, &args, &workload, &env, &mut scratch) {
                        Ok(()) => {
                            let _ = hist.record(start.elapsed().as_micros() as u64);
                        }
                        Err(e) => {
                            errors += 1;
                            if errors <= 3 {
                                eprintln!("stdio session error: {e}");
                            }
                        }
                    }
                }
                (hist, errors)
            })
        })
        .collect();
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
    let mut errors = 0;
    for w in workers {
        let (h, e) = w.join().expect("worker");
        hist.add(&h).expect("same bounds");
        errors += e;
    }
    (hist, errors, started.elapsed())
}

fn one(
    program: &Path,
    args: &[String],
    workload: &Workload,
    env: &[u8],
    scratch: &mut Vec<u8>,
) -> Result<(), String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .env("VOICEMAIL_ROUTER_LOG", "error")
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("stdin")?;
    let mut stdout = BufReader::new(child.stdout.take().ok_or("stdout")?);
    stdin.write_all(env).map_err(|e| format!("env: {e}"))?;
    let mut line = Vec::with_capacity(128);
    for (i, step) in workload.steps.iter().enumerate() {
        line.clear();
        if stdout
            .read_until(b'\n', &mut line)
            .map_err(|e| e.to_string())?
            == 0
        {
            return Err(format!("exited before command {i}"));
        }
        if !same_tokens(
            line.strip_suffix(b"\n").unwrap_or(&line),
            &step.tokens,
            scratch,
        ) {
            return Err(format!(
                "command {i}: unexpected {:?}",
                String::from_utf8_lossy(&line)
            ));
        }
        // Standard AGI gets no HANGUP line: only the reply.
        let reply = step
            .reply
            .split_inclusive(|&b| b == b'\n')
            .next()
            .unwrap_or_default();
        stdin.write_all(reply).map_err(|e| format!("reply: {e}"))?;
    }
    drop(stdin);
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("exit status {status}"))
    }
}
