//! How an environment block reaches a FastAGI server when the peer writes
//! it as Asterisk does: one `write` per line, with Nagle's algorithm on
//! (`res_agi` sets no `TCP_NODELAY` on its FastAGI socket). Each round a
//! peer thread connects over loopback and writes the block; the server side
//! accepts, waits `delay` (a server that is busy elsewhere), reads once
//! without blocking, then reads until the block's empty line.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// One round: bytes in the first (non-blocking) read, the reads that
/// brought bytes, and the time from the first read to the block's end.
pub struct Arrival {
    pub first: usize,
    pub reads: usize,
    pub rest: Duration,
}

/// `rounds` rounds of `env`, written a line at a time, read `delay` after
/// the accept.
pub fn run(env: &[u8], delay: Duration, rounds: usize) -> std::io::Result<Vec<Arrival>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let lines: Vec<Vec<u8>> = env
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    let mut arrivals = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let lines = lines.clone();
        let peer = std::thread::spawn(move || -> std::io::Result<()> {
            // Nagle stays on, as in Asterisk.
            let mut s = TcpStream::connect(addr)?;
            for line in &lines {
                s.write_all(line)?;
            }
            // Open until the server has read the block.
            let mut sink = [0u8; 1];
            let _ = s.read(&mut sink);
            Ok(())
        });
        let (mut conn, _) = listener.accept()?;
        std::thread::sleep(delay);
        let mut buf = vec![0u8; 64 * 1024];
        conn.set_nonblocking(true)?;
        let first = match conn.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => 0,
            Err(e) => return Err(e),
        };
        conn.set_nonblocking(false)?;
        let started = Instant::now();
        // Reads that brought bytes: an empty first one is not counted.
        let (mut total, mut reads) = (first, usize::from(first > 0));
        while !buf[..total].ends_with(b"\n\n") {
            let n = conn.read(&mut buf[total..])?;
            if n == 0 {
                return Err(ErrorKind::UnexpectedEof.into());
            }
            total += n;
            reads += 1;
        }
        arrivals.push(Arrival {
            first,
            reads,
            rest: started.elapsed(),
        });
        drop(conn);
        peer.join().expect("the peer thread")?;
    }
    Ok(arrivals)
}
