//! Stream translation cost per upstream event: a real transcript per provider kind (the golden
//! files under `tests/fixtures/`), cut into one chunk per event outside the timed loop, is fed
//! event by event to a fresh `StreamTranslator` (and a fresh 4 KiB pending buffer, as
//! `proxy::upstream` makes per request) exactly as `proxy::relay` does (the pending
//! output buffer is `split().freeze()`d and dropped after each chunk), then finished.
//! Throughput is in events, so criterion reports time per event. OpenAI is the pass-through
//! baseline. `steady_delta` times one content-delta event of a long answer on its own;
//! `delta_count` what the relay adds per chunk to measure the generated text it writes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // bench setup: a failed step aborts the run

#[path = "support/transcripts.rs"]
mod transcripts;

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use switchyard::providers::{StreamState, StreamTranslator};
use transcripts::{TRANSCRIPTS, UPSTREAM_MODEL, ctx, steady_states};

/// Relays one whole transcript as one request; returns the bytes written to the client.
fn relay(t: &transcripts::Transcript, events: &[&[u8]]) -> usize {
    let mut translator = StreamTranslator::new(t.kind, &ctx(), UPSTREAM_MODEL);
    // The pending buffer as `proxy::upstream` allocates it per request.
    let mut out = BytesMut::with_capacity(4096);
    let out = &mut out;
    let mut written = 0;
    for ev in events {
        let state = translator
            .feed(black_box(ev), out)
            .expect("transcript translates");
        if !out.is_empty() {
            written += black_box(out.split().freeze()).len();
        }
        if state == StreamState::Complete {
            return written;
        }
    }
    translator.finish(out).expect("transcript completes");
    written + out.split().freeze().len()
}

fn stream(c: &mut Criterion) {
    let mut g = c.benchmark_group("stream");
    for t in TRANSCRIPTS {
        let events = t.events();
        // The transcript must translate cleanly and produce output before it is timed.
        assert!(relay(t, &events) > 0, "{}", t.label);
        g.throughput(Throughput::Elements(events.len() as u64));
        g.bench_function(t.label, |b| b.iter(|| relay(t, &events)));
    }
    g.finish();
}

/// One content-delta event fed to a translator already past the preamble: the marginal cost
/// of one more token of a long answer.
fn steady(c: &mut Criterion) {
    let mut g = c.benchmark_group("steady_delta");
    g.throughput(Throughput::Elements(1));
    for s in steady_states() {
        let mut translator = StreamTranslator::new(s.kind, &ctx(), UPSTREAM_MODEL);
        let mut out = BytesMut::with_capacity(4096);
        for ev in s.preamble.iter().chain([&s.delta]) {
            translator.feed(ev, &mut out).expect("preamble translates");
            drop(out.split().freeze());
        }
        g.bench_function(s.label, |b| {
            b.iter(|| {
                let state = translator.feed(black_box(s.delta), &mut out);
                (state, black_box(out.split().freeze()).len())
            })
        });
    }
    g.finish();
}

/// What the relay adds per flushed chunk to bill a cut stream: measuring the generated text of
/// one translated content delta (`DeltaCount::add`).
fn delta_count(c: &mut Criterion) {
    let mut g = c.benchmark_group("delta_count");
    g.throughput(Throughput::Elements(1));
    for s in steady_states() {
        let mut translator = StreamTranslator::new(s.kind, &ctx(), UPSTREAM_MODEL);
        let mut out = BytesMut::with_capacity(4096);
        for ev in &s.preamble {
            translator.feed(ev, &mut out).expect("preamble translates");
            drop(out.split().freeze());
        }
        translator
            .feed(s.delta, &mut out)
            .expect("delta translates");
        let chunk = out.split().freeze();
        let mut count = switchyard::stream::delta_count::DeltaCount::default();
        count.add(&chunk);
        assert!(count.chars() > 0, "{}: {chunk:?}", s.label);
        g.bench_function(s.label, |b| b.iter(|| count.add(black_box(&chunk))));
    }
    g.finish();
}

criterion_group!(benches, stream, steady, delta_count);
criterion_main!(benches);
