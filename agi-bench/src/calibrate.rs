//! A yardstick for code footprint: 440 small functions, each its own code,
//! that `serve-raw --extra-code distinct` runs once per session: about 390
//! more distinct 64-byte lines of code per session (about as many as the
//! library's session runs beyond the ceiling's) and about 5,000 more
//! instructions. `--extra-code same` runs one of them 440 times: about 6,000
//! more instructions (measured; somewhat more than `distinct`), no more
//! lines. `benches/footprint.sh` measures both
//! (lines, instructions and CPU per session): the difference in CPU is what
//! those lines of code cost here. (More distinct code also means more branch
//! targets and pages: this measures distinct code, not cache lines alone.)

/// One function per `N`: const generics give each its own code without
/// writing 440 names.
#[inline(never)]
fn step<const N: u64>(x: u64) -> u64 {
    let y = x
        .wrapping_mul(0x9E37_79B9_7F4A_7C15 ^ N)
        .rotate_left((N % 63 + 1) as u32);
    (y ^ N.wrapping_mul(0x0123_4567))
        .wrapping_add(y >> 7)
        .wrapping_mul(N | 1)
}

/// Calls `step::<N>` for N = 0..440 (rows of 22), each call direct.
macro_rules! chain {
    ($x:ident; $($hi:literal)*; $lo:tt) => { $( chain!(@row $x; $hi; $lo); )* };
    (@row $x:ident; $hi:literal; ($($lo:literal)*)) => { $( $x = step::<{ $hi * 22 + $lo }>($x); )* };
}

/// 440 distinct functions, once each.
#[inline(never)]
pub fn distinct(mut x: u64) -> u64 {
    chain!(x; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19;
        (0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21));
    x
}

/// The same work through one function, 440 times.
#[inline(never)]
pub fn same(mut x: u64) -> u64 {
    for _ in 0..std::hint::black_box(440) {
        x = step::<7>(x);
    }
    x
}
