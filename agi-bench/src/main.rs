//! `agi-bench`: a load generator that plays Asterisk, and the programs it
//! measures. See `benches/load.sh` for the full comparison run.
//!
//! ```text
//! agi-bench serve-lib ADDR              FastAGI server on agi-client (router + chatty scripts)
//! agi-bench serve-raw ADDR [--extra-code distinct|same]
//!                                       hand-written server, no library (the ceiling)
//! agi-bench serve-chan ADDR             aio::Channel on a bare accept loop (router script only)
//! agi-bench raw-agi                     hand-written standard AGI router program (the ceiling)
//! agi-bench fastagi ADDR --workload router|chatty --conns C --seconds S [--sessions N] [--pid PID] [--env-split]
//! agi-bench idle ADDR --conns N --pid PID
//! agi-bench stdio --parallel P --sessions N -- PROGRAM [ARGS…]
//! agi-bench footprint BASE_PROFILE PROFILE --sessions N
//! agi-bench env-arrival [--delay-us US] [--rounds N]
//!                                       how a block written as Asterisk writes it arrives
//! agi-bench --exit-after SECS …          any of the above, ended after SECS (for PGO training)
//! ```

mod arrival;
mod calibrate;
mod footprint;
mod load;
mod procfs;
mod script;
mod servers;
mod stdio;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Plays Asterisk against FastAGI servers and standard AGI programs")]
struct Cli {
    /// Exit (status 0) after this many seconds, whatever is running: a
    /// profile-instrumented build writes its profile only at a normal exit,
    /// and the servers otherwise run until killed (see `benches/pgo.sh`).
    #[arg(long, global = true, value_name = "SECS")]
    exit_after: Option<f64>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// FastAGI server built on agi-client.
    ServeLib { addr: SocketAddr },
    /// Hand-written FastAGI server without the library (the ceiling).
    ServeRaw {
        addr: SocketAddr,
        /// Also run 440 distinct small functions once per session
        /// (`distinct`), or one of them 440 times (`same`: a few more
        /// instructions, no more lines): what code footprint costs (see
        /// `calibrate.rs`).
        #[arg(long)]
        extra_code: Option<ExtraCode>,
    },
    /// The async channel alone on a bare accept loop (router script only).
    ServeChan { addr: SocketAddr },
    /// Hand-written standard AGI program without the library (the ceiling).
    RawAgi,
    /// Load a FastAGI server.
    Fastagi {
        addr: SocketAddr,
        #[arg(long, default_value = "router")]
        workload: String,
        #[arg(long, default_value_t = 16)]
        conns: usize,
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Stop after this many sessions (for instruction counts).
        #[arg(long)]
        sessions: Option<u64>,
        /// The server's pid, for its CPU time and RSS.
        #[arg(long)]
        pid: Option<u32>,
        /// Label for the result line.
        #[arg(long, default_value = "server")]
        label: String,
        /// Send the environment's first line at once and the rest a turn of
        /// the event loop later: the server finds the block incomplete when
        /// it accepts, as with a real Asterisk (see `env-arrival`).
        #[arg(long)]
        env_split: bool,
    },
    /// Memory of idle sessions.
    Idle {
        addr: SocketAddr,
        #[arg(long, default_value_t = 1000)]
        conns: usize,
        #[arg(long)]
        pid: u32,
        #[arg(long, default_value = "server")]
        label: String,
    },
    /// Load a standard AGI program (router workload).
    Stdio {
        #[arg(long, default_value_t = 2)]
        parallel: usize,
        #[arg(long, default_value_t = 500)]
        sessions: usize,
        #[arg(long, default_value = "program")]
        label: String,
        program: PathBuf,
        args: Vec<String>,
    },
    /// How the router's environment block arrives when written a line at a
    /// time with Nagle on, as Asterisk writes it: the first read's bytes,
    /// the reads in all, and the time the rest took (see `arrival.rs`).
    EnvArrival {
        /// Wait this long after the accept before the first read.
        #[arg(long, default_value_t = 0)]
        delay_us: u64,
        #[arg(long, default_value_t = 10)]
        rounds: usize,
    },
    /// Distinct 64-byte lines of code run per session, from two callgrind
    /// profiles (`--dump-instr=yes`) of the same server over N and over 2N
    /// sessions; and instructions per session.
    Footprint {
        base: PathBuf,
        profile: PathBuf,
        /// N: the second profile's sessions minus the first's.
        #[arg(long)]
        sessions: u64,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExtraCode {
    Distinct,
    Same,
}

fn pct(h: &hdrhistogram::Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

fn main() {
    let cli = Cli::parse();
    if let Some(secs) = cli.exit_after {
        let after = std::time::Duration::try_from_secs_f64(secs).unwrap_or_else(|e| {
            eprintln!("--exit-after {secs}: {e}");
            std::process::exit(2)
        });
        std::thread::spawn(move || {
            std::thread::sleep(after);
            std::process::exit(0)
        });
    }
    match cli.cmd {
        Cmd::ServeLib { addr } => servers::serve_lib(addr),
        Cmd::ServeRaw { addr, extra_code } => servers::serve_raw(
            addr,
            extra_code.map(|e| match e {
                ExtraCode::Distinct => calibrate::distinct as fn(u64) -> u64,
                ExtraCode::Same => calibrate::same,
            }),
        ),
        Cmd::ServeChan { addr } => servers::serve_chan(addr),
        Cmd::RawAgi => servers::raw_agi(),
        Cmd::Fastagi {
            addr,
            workload,
            conns,
            seconds,
            sessions,
            pid,
            label,
            env_split,
        } => {
            let w = script::Workload::by_name(&workload)
                .unwrap_or_else(|| panic!("unknown workload {workload}"));
            let arrival = if env_split {
                load::EnvArrival::Split
            } else {
                load::EnvArrival::AtOnce
            };
            let r = load::run(addr, w, arrival, conns, seconds, sessions, pid);
            let rate = r.sessions as f64 / r.elapsed.as_secs_f64();
            let cpu_us = r
                .server_cpu
                .map_or(f64::NAN, |c| c * 1e6 / r.sessions.max(1) as f64);
            let (rss, hwm) = r.server_rss.unwrap_or((0, 0));
            println!(
                "{label:<12} {workload:<7} conns={conns:<5} sessions/s={rate:>9.0} p50={:.2}ms p99={:.2}ms p999={:.2}ms cmd_p99={:.3}ms errors={} server_cpu/session={cpu_us:.1}us rss={}KiB peak={}KiB loadgen_cpu={:.0}%",
                pct(&r.session, 0.5),
                pct(&r.session, 0.99),
                pct(&r.session, 0.999),
                pct(&r.command, 0.99),
                r.errors,
                rss,
                hwm,
                r.own_cpu.unwrap_or(0.0) * 100.0 / r.elapsed.as_secs_f64(),
            );
        }
        Cmd::Idle {
            addr,
            conns,
            pid,
            label,
        } => {
            let (before, during) = load::idle(addr, conns, pid);
            let per = (during.saturating_sub(before)) as f64 * 1024.0 / conns as f64;
            println!(
                "{label:<12} idle conns={conns} rss_before={before}KiB rss_open={during}KiB per_session={:.1}KiB",
                per / 1024.0
            );
        }
        Cmd::Stdio {
            parallel,
            sessions,
            label,
            program,
            args,
        } => {
            let (h, errors, elapsed) = stdio::run(&program, &args, parallel, sessions);
            println!(
                "{label:<18} stdio parallel={parallel} sessions={} p50={:.3}ms p99={:.3}ms errors={errors} sessions/s={:.0}",
                h.len(),
                pct(&h, 0.5),
                pct(&h, 0.99),
                h.len() as f64 / elapsed.as_secs_f64()
            );
        }
        Cmd::EnvArrival { delay_us, rounds } => {
            let env = script::Workload::router().env(true);
            let delay = std::time::Duration::from_micros(delay_us);
            let arrivals =
                arrival::run(&env, delay, rounds).unwrap_or_else(|e| panic!("env-arrival: {e}"));
            let shown: Vec<String> = arrivals
                .iter()
                .map(|a| format!("{}/{}", a.first, a.reads))
                .collect();
            let rest_us = arrivals
                .iter()
                .map(|a| a.rest.as_secs_f64() * 1e6)
                .fold(0.0, f64::max);
            println!(
                "env-arrival block={}B delay={delay_us}us first_read_bytes/reads: {} rest_max={rest_us:.0}us",
                env.len(),
                shown.join(" ")
            );
        }
        Cmd::Footprint {
            base,
            profile,
            sessions,
        } => {
            let read = |path: &PathBuf| {
                let file =
                    std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                footprint::read_profile(std::io::BufReader::new(file))
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            };
            let (base, more) = (read(&base), read(&profile));
            let per = footprint::lines_per_object(&base, &more, sessions);
            let total: u64 = per.values().sum();
            let instructions = footprint::instructions_per_session(&base, &more, sessions);
            let objects: Vec<String> = per.iter().map(|(o, n)| format!("{o}={n}")).collect();
            println!(
                "code_lines/session={total} instructions/session={instructions} {}",
                objects.join(" ")
            );
        }
    }
}
