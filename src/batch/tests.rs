//! The batch loop against a recording sink, on paused time: batching by size, by time and by
//! pause; held items and back-pressure; flush requests, shutdown and the end.

use super::*;
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Start,
    Write(Vec<u32>),
    Finish(Vec<u32>),
    Flush,
}

/// Records every call; leaves the batch untouched (holds it) on the first `hold` writes.
#[derive(Clone, Default)]
struct Fake {
    log: Arc<parking_lot::Mutex<Vec<Event>>>,
    hold: Arc<AtomicUsize>,
}

impl Fake {
    fn events(&self) -> Vec<Event> {
        self.log.lock().clone()
    }

    /// The items written, batch by batch (finishes included).
    fn batches(&self) -> Vec<Vec<u32>> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Write(b) | Event::Finish(b) => Some(b),
                _ => None,
            })
            .collect()
    }

    fn flushes(&self) -> usize {
        self.events().iter().filter(|e| **e == Event::Flush).count()
    }
}

#[async_trait]
impl Sink for Fake {
    type Item = u32;

    async fn start(&mut self) {
        self.log.lock().push(Event::Start);
    }

    async fn write(&mut self, batch: &mut Vec<u32>) {
        if self
            .hold
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
        {
            return;
        }
        self.log.lock().push(Event::Write(std::mem::take(batch)));
    }

    /// Writes even what it would hold (a final attempt).
    async fn finish(&mut self, batch: &mut Vec<u32>) {
        self.log.lock().push(Event::Finish(std::mem::take(batch)));
    }

    async fn flush(&mut self) {
        self.log.lock().push(Event::Flush);
    }

    fn retry_in(&self) -> Duration {
        Duration::from_millis(50)
    }
}

thread_local! {
    static FULL: Cell<usize> = const { Cell::new(0) };
    static CLOSED: Cell<usize> = const { Cell::new(0) };
}

fn count(r: Rejected) {
    let c = match r {
        Rejected::Full => &FULL,
        Rejected::Closed => &CLOSED,
    };
    c.with(|c| c.set(c.get() + 1));
}

fn drops() -> (usize, usize) {
    (FULL.with(Cell::get), CLOSED.with(Cell::get))
}

const LINE: Policy = Policy {
    capacity: 100,
    max_batch: 10,
    linger: Duration::ZERO,
    pause: PAUSE,
    flush_every: None,
};

fn spawn(policy: Policy, fake: &Fake) -> (Queue<u32>, tokio::task::JoinHandle<()>) {
    let (queue, writer) = channel(policy, fake.clone(), count);
    let task = tokio::spawn(async move { writer.run(None).await });
    (queue, task)
}

async fn ms(n: u64) {
    tokio::time::sleep(Duration::from_millis(n)).await;
}

#[tokio::test(start_paused = true)]
async fn without_linger_items_are_written_once_taken_and_coalesce_during_the_pause() {
    let fake = Fake::default();
    let (q, _task) = spawn(LINE, &fake);
    assert!(q.record(1));
    ms(1).await;
    assert_eq!(fake.batches(), vec![vec![1]], "written as soon as taken");
    // The writer now pauses: these wait in the queue and come out as one batch.
    for i in 2..=4 {
        assert!(q.record(i));
        ms(2).await;
    }
    assert_eq!(q.len(), 3, "nobody takes them during the pause");
    ms(PAUSE.as_millis() as u64).await;
    assert_eq!(fake.batches(), vec![vec![1], vec![2, 3, 4]]);
    assert!(q.is_empty());
    assert_eq!(fake.events()[0], Event::Start);
}

#[tokio::test(start_paused = true)]
async fn with_linger_batches_by_size_and_by_time() {
    let fake = Fake::default();
    let policy = Policy {
        max_batch: 5,
        linger: Duration::from_millis(100),
        ..LINE
    };
    let (q, _task) = spawn(policy, &fake);
    for i in 0..7 {
        q.record(i);
    }
    ms(50).await;
    assert_eq!(
        fake.batches(),
        vec![vec![0, 1, 2, 3, 4]],
        "a full batch at once"
    );
    // The rest is taken after the pause (10 ms) and waits the linger from then.
    ms(50).await;
    assert_eq!(fake.batches().len(), 1, "the rest waits for the linger");
    ms(20).await;
    assert_eq!(fake.batches(), vec![vec![0, 1, 2, 3, 4], vec![5, 6]]);
}

#[tokio::test(start_paused = true)]
async fn a_trickle_does_not_postpone_the_batch() {
    let fake = Fake::default();
    let policy = Policy {
        max_batch: 500,
        linger: Duration::from_millis(100),
        ..LINE
    };
    let (q, _task) = spawn(policy, &fake);
    // One item every 30 ms: the first may wait 100 ms, not until 500 are pending.
    for i in 0..5 {
        q.record(i);
        ms(30).await;
    }
    assert_eq!(fake.batches(), vec![vec![0, 1, 2, 3]], "after 150 ms");
}

#[tokio::test(start_paused = true)]
async fn held_items_are_retried_and_a_full_hold_fills_the_queue() {
    let fake = Fake::default();
    fake.hold.store(3, Ordering::Release);
    let policy = Policy {
        capacity: 4,
        max_batch: 2,
        linger: Duration::from_millis(20),
        ..LINE
    };
    let (q, _task) = spawn(policy, &fake);
    let before = drops();
    q.record(1);
    q.record(2);
    ms(1).await;
    assert!(fake.batches().is_empty(), "held");
    // While two are held nothing more is taken: four fit in the queue, the fifth is dropped.
    for i in 3..=7 {
        q.record(i);
    }
    assert_eq!(q.len(), 4);
    assert_eq!(drops().0 - before.0, 1);
    // Refused at 0, 50 and 100 ms (retry_in is 50 ms), written at 150 ms; the next full
    // batch is written as soon as it is taken.
    ms(120).await;
    assert!(fake.batches().is_empty());
    ms(35).await;
    assert_eq!(fake.batches(), vec![vec![1, 2], vec![3, 4]]);
    ms(100).await;
    assert_eq!(
        fake.batches(),
        vec![vec![1, 2], vec![3, 4], vec![5, 6]],
        "7 was dropped"
    );
}

#[tokio::test(start_paused = true)]
async fn a_flush_request_finishes_everything_queued_before_it() {
    let fake = Fake::default();
    fake.hold.store(usize::MAX, Ordering::Release);
    let policy = Policy {
        linger: Duration::from_secs(60),
        ..LINE
    };
    let (q, _task) = spawn(policy, &fake);
    q.record(1);
    ms(1).await;
    q.record(2);
    q.record(3);
    q.flush(Duration::from_secs(1)).await;
    assert_eq!(
        fake.events(),
        vec![Event::Start, Event::Finish(vec![1, 2, 3]), Event::Flush],
        "finished (held items included) and flushed before the answer"
    );
    // The writer goes on.
    q.record(4);
    q.flush(Duration::from_secs(1)).await;
    assert_eq!(fake.batches().concat(), vec![1, 2, 3, 4]);
}

#[tokio::test(start_paused = true)]
async fn the_last_handle_dropped_finishes_and_ends_the_writer() {
    let fake = Fake::default();
    let policy = Policy {
        linger: Duration::from_secs(60),
        ..LINE
    };
    let (q, task) = spawn(policy, &fake);
    let q2 = q.clone();
    q.record(1);
    q2.record(2);
    drop(q);
    drop(q2);
    task.await.unwrap();
    assert_eq!(
        fake.events(),
        vec![Event::Start, Event::Finish(vec![1, 2]), Event::Flush]
    );
}

#[tokio::test(start_paused = true)]
async fn periodic_and_shutdown_flushes_keep_the_writer_running() {
    let fake = Fake::default();
    let policy = Policy {
        flush_every: Some(Duration::from_millis(100)),
        ..LINE
    };
    let (q, writer) = channel(policy, fake.clone(), count);
    let (tx, rx) = tokio::sync::watch::channel(false);
    let _task = tokio::spawn(async move { writer.run(Some(rx)).await });
    ms(250).await;
    assert_eq!(fake.flushes(), 2, "every 100 ms");
    tx.send(true).unwrap();
    ms(1).await;
    assert_eq!(fake.flushes(), 3, "when shutdown starts");
    q.record(9);
    ms(1).await;
    assert_eq!(
        fake.batches(),
        vec![vec![9]],
        "still writing after shutdown started"
    );
}

#[tokio::test]
async fn drops_are_counted_by_reason_and_an_off_queue_counts_nothing() {
    let fake = Fake::default();
    let (q, writer) = channel(LINE, fake, count);
    let before = drops();
    drop(writer);
    assert!(!q.record(1));
    assert_eq!(drops().1 - before.1, 1, "writer gone");

    let off = Queue::<u32>::off();
    assert!(!off.is_on() && !off.record(1) && off.is_empty());
    off.flush(Duration::from_millis(1)).await;
    assert_eq!(drops().1 - before.1, 1);
    assert_eq!(Rejected::Full.as_str(), "queue_full");
    assert_eq!(Rejected::Closed.as_str(), "closed");
}

#[tokio::test]
async fn run_twice_returns_at_once() {
    let fake = Fake::default();
    let (_q, writer) = channel(LINE, fake.clone(), count);
    let writer = Arc::new(writer);
    let w = writer.clone();
    let _task = tokio::spawn(async move { w.run(None).await });
    tokio::task::yield_now().await;
    tokio::time::timeout(Duration::from_secs(1), writer.run(None))
        .await
        .unwrap();
}
