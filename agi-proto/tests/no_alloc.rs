//! The hot paths never touch the heap: parsing an environment block or a
//! reply, and encoding a command into a buffer that has room.
//!
//! One test in its own binary, so no other test allocates while it counts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use agi_proto::command::{Exec, GetVariable, StreamFile};
use agi_proto::{EscapeDigits, Frame, Limits, encode_command, parse_env, parse_frame};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    f();
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

#[test]
fn parsing_and_encoding_do_not_allocate() {
    let block = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/transcripts/fastagi-env.txt"
    ))
    .unwrap();
    let replies: &[&[u8]] = &[
        b"200 result=1 (he said \"hi\" (ok) )()\n",
        b"200 result=0 endpos=3520\n",
        b"HANGUP\n",
        b"520-Invalid command syntax.  Proper usage follows:\nx\n520 End of proper usage.\n",
    ];

    // Sanity: the counter sees allocations at all.
    assert!(allocations_in(|| drop(std::hint::black_box(vec![1u8; 64]))) > 0);

    let n = allocations_in(|| {
        let (env, _) = parse_env(&block).unwrap().complete().unwrap();
        std::hint::black_box(env.channel());
        std::hint::black_box(env.args().count());
        std::hint::black_box(env.get("agi_network_script"));
    });
    assert_eq!(n, 0, "environment parsing allocated");

    let n = allocations_in(|| {
        for r in replies {
            let (frame, _) = parse_frame(r).unwrap().complete().unwrap();
            if let Frame::Reply(reply) = frame {
                std::hint::black_box((reply.data(), reply.field("endpos")));
            }
        }
    });
    assert_eq!(n, 0, "reply parsing allocated");

    let limits = Limits::default();
    let mut line = Vec::with_capacity(256);
    let n = allocations_in(|| {
        for _ in 0..3 {
            line.clear();
            encode_command(&Exec::new("Dial", "SIP/bob,5"), &limits, &mut line).unwrap();
            line.clear();
            encode_command(
                &StreamFile::new("pbx-invalid", EscapeDigits::ANY),
                &limits,
                &mut line,
            )
            .unwrap();
            line.clear();
            encode_command(&GetVariable::new("DIALSTATUS"), &limits, &mut line).unwrap();
        }
    });
    assert_eq!(n, 0, "encoding into a buffer with room allocated");
}
