//! Heap allocations per relayed chunk in steady state, per provider kind (issue 6: the target
//! is zero). A stream translator is warmed up on a real transcript's preamble and a few
//! content deltas, then fed `N` more content-delta events one per chunk, each followed by what
//! `proxy::relay` does per chunk: `pending.split().freeze()` handed on and dropped.
//!
//! Counting uses `allocation-counter`, whose global allocator counts per thread only while
//! `measure` runs on that thread: the harness's other threads never pollute a figure. (The
//! crate is needed because `unsafe_code = "forbid"` rules out a hand-written `GlobalAlloc`.)
//!
//! The bounds are today's measured figures, so a regression fails; lower them when the
//! translators stop allocating. Run with `--nocapture` to see the per-chunk breakdown.

#[path = "../../benches/support/transcripts.rs"]
mod transcripts;

use allocation_counter::{AllocationInfo, measure};
use aws_smithy_eventstream::frame::read_message_from;
use bytes::{Bytes, BytesMut};
use switchyard::config::ProviderKind;
use switchyard::providers::{StreamState, StreamTranslator};
use switchyard::stream::SseParser;
use switchyard::stream::delta_count::DeltaCount;
use switchyard::translate::response::ChunkWriter;
use transcripts::{Steady, UPSTREAM_MODEL, ctx, steady_states};

/// Content deltas fed before counting starts (buffers reach their steady capacity).
const WARMUP: usize = 8;
/// Content deltas counted.
const N: u64 = 64;

/// Allocations per chunk measured today, per kind: (feed, split + freeze + drop).
///
/// Where they come from (see `framing_and_writer` for the measured part of the split):
/// * OpenAI pass-through: none.
/// * Anthropic: none. (Was 2 allocations, 15 B: serde copies `Option<Cow<str>>` fields even
///   with `#[serde(borrow)]`; `translate::borrow::opt_cow` now borrows them.)
/// * Gemini: none. (Was 4, 629 B: the same owned strings `text` and `modelVersion`, and the
///   `Vec`s of candidates and parts, now inline `SmallVec`s.)
/// * Bedrock, 11 (470 B): 8 in `aws_smithy_eventstream::frame::read_message_from` (the
///   header `Vec` and a copy of each of the 3 header names, 3 values and the payload, because
///   it reads through a CRC-computing `Buf` whose `copy_to_bytes` copies), 2 `to_owned`
///   header values in `BedrockStream::message` (`:message-type`, `:event-type`) and the owned
///   `Option<Cow<str>>` `delta.text`.
///
/// SSE framing, the chunk writer and the relay's text measure, `split().freeze()` and drop
/// allocate nothing.
fn bound(kind: ProviderKind) -> (u64, u64) {
    match kind {
        ProviderKind::OpenAi => (0, 0),
        ProviderKind::Anthropic => (0, 0),
        ProviderKind::Gemini => (0, 0),
        ProviderKind::Bedrock => (11, 0),
        other => panic!("no bound for {other:?}"),
    }
}

/// Allocations of the steady phase, split by step.
#[derive(Debug, Default)]
struct Counts {
    feed: AllocationInfo,
    handoff: AllocationInfo,
    total: AllocationInfo,
    output_bytes: usize,
}

/// Feeds one chunk and hands the pending output on as `proxy::relay` does (measuring its
/// generated text first, for billing a cut stream).
fn relay_chunk(t: &mut StreamTranslator, chunk: &[u8], pending: &mut BytesMut) -> usize {
    let state = t.feed(chunk, pending).expect("content delta translates");
    assert_eq!(state, StreamState::Open);
    let mut written = 0;
    if !pending.is_empty() {
        DeltaCount::default().add(pending);
        let bytes = pending.split().freeze();
        written = bytes.len();
        drop(bytes);
    }
    written
}

/// Warms a translator up on `s`, then counts `N` content-delta chunks.
fn count(s: &Steady) -> Counts {
    let mut t = StreamTranslator::new(s.kind, &ctx(), UPSTREAM_MODEL);
    // As `proxy::upstream` allocates it per request.
    let mut pending = BytesMut::with_capacity(4096);
    for ev in &s.preamble {
        t.feed(ev, &mut pending).expect("preamble translates");
        drop(pending.split().freeze());
    }
    for _ in 0..WARMUP {
        relay_chunk(&mut t, s.delta, &mut pending);
    }
    let mut c = Counts::default();
    let mut relayed = DeltaCount::default();
    c.total = measure(|| {
        for _ in 0..N {
            c.feed += measure(|| {
                t.feed(s.delta, &mut pending)
                    .expect("content delta translates");
            });
            c.handoff += measure(|| {
                relayed.add(&pending);
                let bytes = pending.split().freeze();
                c.output_bytes += bytes.len();
                drop(bytes);
            });
        }
    });
    // The translator still works after counting: each delta produced output.
    assert!(c.output_bytes > 0, "{}: no output", s.label);
    assert!(relayed.chars() > 0, "{}: no text measured", s.label);
    assert!(
        relay_chunk(&mut t, s.delta, &mut pending) > 0,
        "{}",
        s.label
    );
    c
}

/// Allocations per chunk of the two public sub-steps of `feed`: framing (SSE parsing, or the
/// event-stream frame decoder for Bedrock) and writing the OpenAI content chunk. The rest of
/// `feed` is the provider event's JSON decoding and the state machine.
fn framing_and_writer(s: &Steady) -> (AllocationInfo, AllocationInfo) {
    let framing = if s.kind == ProviderKind::Bedrock {
        let frame = Bytes::from_static(s.delta);
        let decode = || drop(read_message_from(frame.clone()).expect("frame decodes"));
        decode();
        measure(|| (0..N).for_each(|_| decode()))
    } else {
        let mut sse = SseParser::new();
        let mut feed = || {
            sse.feed(s.delta);
            let mut events = 0;
            while sse.next_event().expect("event parses").is_some() {
                events += 1;
            }
            assert_eq!(events, 1, "{}", s.label);
        };
        (0..WARMUP).for_each(|_| feed());
        measure(|| (0..N).for_each(|_| feed()))
    };
    let mut writer = ChunkWriter::new("chatcmpl-req", 1_700_000_000, UPSTREAM_MODEL);
    let mut out = BytesMut::with_capacity(4096);
    let mut write = || {
        writer.content(&mut out, "Hello");
        drop(out.split().freeze());
    };
    (0..WARMUP).for_each(|_| write());
    (framing, measure(|| (0..N).for_each(|_| write())))
}

/// The counter is live on this thread (so a zero below cannot pass vacuously).
#[test]
fn counter_counts_this_thread() {
    let info = measure(|| drop(std::hint::black_box(Box::new(7u64))));
    assert_eq!(info.count_total, 1);
}

/// The transcripts are cut on event boundaries and lose nothing.
#[test]
fn transcripts_split_into_events() {
    for t in transcripts::TRANSCRIPTS {
        let events = t.events();
        assert!(!events.is_empty(), "{}", t.label);
        assert_eq!(events.concat(), t.bytes, "{}", t.label);
        if t.kind != ProviderKind::Bedrock {
            for e in &events {
                assert!(
                    e.ends_with(b"\n\n") || e.ends_with(b"\n\r\n"),
                    "{}: {e:?}",
                    t.label
                );
            }
        }
    }
    // Known event counts: Anthropic text, Bedrock text, Gemini's one-event tool call.
    assert_eq!(transcripts::transcript("anthropic/text").events().len(), 9);
    assert_eq!(transcripts::transcript("bedrock/text").events().len(), 6);
    assert_eq!(transcripts::transcript("gemini/tools").events().len(), 1);
}

/// Allocations per steady-state chunk stay at or below today's figures.
#[test]
fn steady_state_allocations_per_chunk() {
    let mut over = Vec::new();
    for s in steady_states() {
        let c = count(&s);
        let (framing, writer) = framing_and_writer(&s);
        let per = |i: &AllocationInfo| i.count_total as f64 / N as f64;
        eprintln!(
            "{:<10} allocations/chunk: {:.2} = feed {:.2} (framing {:.2}, writer {:.2}, \
             decode+state {:.2}) + split+freeze+drop {:.2}; bytes/chunk: {:.0}; output {} B/chunk",
            s.label,
            per(&c.total),
            per(&c.feed),
            per(&framing),
            per(&writer),
            (c.feed.count_total as f64 - (framing.count_total + writer.count_total) as f64)
                / N as f64,
            per(&c.handoff),
            c.total.bytes_total as f64 / N as f64,
            c.output_bytes as u64 / N,
        );
        assert_eq!(
            c.total.count_total,
            c.feed.count_total + c.handoff.count_total,
            "{}: allocations outside the two steps",
            s.label
        );
        let (feed, handoff) = bound(s.kind);
        if c.feed.count_total > feed * N || c.handoff.count_total > handoff * N {
            over.push(format!(
                "{}: feed {} > {feed}×{N} or handoff {} > {handoff}×{N}",
                s.label, c.feed.count_total, c.handoff.count_total
            ));
        }
    }
    assert!(over.is_empty(), "allocations per chunk grew: {over:?}");
}
