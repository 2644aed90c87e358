//! Parser throughput, as ratios against a floor measured in the same run.
//!
//! - `env/*`: one environment block (the captured standard and FastAGI
//!   blocks) parsed by agi-proto, by asterisk-rs-agi's `AgiRequest`, and the
//!   floor: splitting the same bytes into lines and name/value pairs with
//!   memchr, allocating nothing.
//! - `reply/*`: the replies of `commands-live.txt` (every reply form),
//!   parsed one by one; the same with asterisk-rs-agi's `AgiResponse`; and
//!   the floor: memchr for the LF and the first space.
//! - `encode/*`: typical commands written into a reused buffer.
//!
//! Run: `cargo bench --bench parse`.

use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use agi_proto::command::{Exec, GetData, GetVariable, SetVariable, StreamFile};
use agi_proto::{EscapeDigits, Frame, Limits, Status, encode_command, parse_env, parse_frame};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../shared/fixtures/transcripts/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The floor: lines and `name: value` pairs found with memchr, no parsing.
fn split_floor(block: &[u8]) -> usize {
    let mut pairs = 0;
    let mut at = 0;
    while let Some(lf) = memchr::memchr(b'\n', &block[at..]) {
        let line = &block[at..at + lf];
        at += lf + 1;
        if line.is_empty() {
            break;
        }
        if let Some(colon) = memchr::memchr(b':', line) {
            black_box((&line[..colon], &line[colon + 1..]));
            pairs += 1;
        }
    }
    pairs
}

/// asterisk-rs-agi parses from an async reader; reading a byte slice never
/// waits, so one poll with a no-op waker completes it without a runtime.
fn peer_env(block: &[u8]) -> usize {
    let mut reader = block;
    let fut = pin!(asterisk_rs_agi::AgiRequest::parse_from_reader(&mut reader));
    match fut.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok(req)) => req.channel().map_or(0, str::len),
        other => panic!(
            "peer parser did not complete: {:?}",
            other.map(|r| r.map(|_| ()))
        ),
    }
}

fn env(c: &mut Criterion) {
    for name in ["standard-env.txt", "fastagi-env.txt"] {
        let block = fixture(name);
        let lines = block.iter().filter(|&&b| b == b'\n').count() - 1;
        let mut g = c.benchmark_group(format!("env/{}", name.trim_end_matches("-env.txt")));
        g.throughput(Throughput::Bytes(block.len() as u64));
        g.bench_function("memchr-floor", |b| {
            b.iter(|| assert_eq!(split_floor(black_box(&block)), lines))
        });
        g.bench_function("agi-proto", |b| {
            b.iter(|| {
                let Status::Complete { value, consumed } = parse_env(black_box(&block)).unwrap()
                else {
                    panic!()
                };
                assert_eq!(consumed, block.len());
                black_box(value.channel());
            })
        });
        g.bench_function("asterisk-rs-agi", |b| {
            b.iter(|| assert!(peer_env(black_box(&block)) > 0))
        });
        g.finish();
    }
}

/// Every reply line of `commands-live.txt` but the multi-line usage blocks,
/// which the peer's line parser cannot take.
fn reply_lines() -> Vec<Vec<u8>> {
    let stream = fixture("raw/commands-live.in.raw");
    let (_, mut at) = parse_env(&stream).unwrap().complete().unwrap();
    let mut lines = Vec::new();
    while at < stream.len() {
        let (frame, used) = parse_frame(&stream[at..]).unwrap().complete().unwrap();
        if !matches!(frame, Frame::Usage(_)) {
            lines.push(stream[at..at + used].to_vec());
        }
        at += used;
    }
    lines
}

fn replies(c: &mut Criterion) {
    let lines = reply_lines();
    let strs: Vec<String> = lines
        .iter()
        .map(|l| String::from_utf8(l.clone()).unwrap())
        .collect();
    let mut g = c.benchmark_group("reply");
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.bench_function("memchr-floor", |b| {
        b.iter(|| {
            for l in &lines {
                let lf = memchr::memchr(b'\n', black_box(l)).unwrap();
                let sp = memchr::memchr(b' ', &l[..lf]).unwrap_or(lf);
                black_box((&l[..sp], &l[sp..lf]));
            }
        })
    });
    g.bench_function("agi-proto", |b| {
        b.iter(|| {
            for l in &lines {
                let Status::Complete { value, consumed } = parse_frame(black_box(l)).unwrap()
                else {
                    panic!()
                };
                assert_eq!(consumed, l.len());
                if let Frame::Reply(r) = value {
                    black_box(r.result_int());
                }
            }
        })
    });
    g.bench_function("asterisk-rs-agi", |b| {
        b.iter(|| {
            for l in &strs {
                // It refuses GET DATA's empty result; count, do not unwrap.
                black_box(asterisk_rs_agi::response::AgiResponse::parse(black_box(l)).is_ok());
            }
        })
    });
    g.finish();
}

fn encode(c: &mut Criterion) {
    let limits = Limits::default();
    let mut line = Vec::with_capacity(256);
    let mut g = c.benchmark_group("encode");
    g.throughput(Throughput::Elements(5));
    g.bench_function("agi-proto", |b| {
        b.iter(|| {
            line.clear();
            encode_command(
                black_box(&Exec::new("Dial", "SIP/bob,5")),
                &limits,
                &mut line,
            )
            .unwrap();
            encode_command(
                black_box(&GetVariable::new("DIALSTATUS")),
                &limits,
                &mut line,
            )
            .unwrap();
            encode_command(
                black_box(&SetVariable::new("GREETING", "say \"hi\" to me")),
                &limits,
                &mut line,
            )
            .unwrap();
            encode_command(
                black_box(&StreamFile::new("pbx-invalid", EscapeDigits::ANY)),
                &limits,
                &mut line,
            )
            .unwrap();
            encode_command(black_box(&GetData::new("enter-number")), &limits, &mut line).unwrap();
            assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 5);
        })
    });
    g.finish();
}

criterion_group!(benches, env, replies, encode);
criterion_main!(benches);
