//! In-memory log of the last requests (for test assertions), per-model stats and `fail_first` counters.

use std::collections::{BTreeMap, HashMap, VecDeque};

use bytes::Bytes;
use parking_lot::{Mutex, MutexGuard};
use serde::Serialize;
use serde_json::value::RawValue;

/// How many requests `GET /_emulator/requests` keeps.
pub const CAPACITY: usize = 512;

/// One recorded request.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub method: String,
    pub path: String,
    pub model: Option<String>,
    /// Lower-case names; repeated headers joined with `, `.
    pub headers: BTreeMap<String, String>,
    pub body: Bytes,
}

#[derive(Default)]
struct State {
    next_seq: u64,
    total: u64,
    entries: VecDeque<(u64, Entry)>,
    by_model: HashMap<String, u64>,
    fail_counts: HashMap<String, u64>,
}

/// Shared by all connections; a plain mutex is enough for a test tool.
pub struct Recorder {
    enabled: bool,
    state: Mutex<State>,
}

#[derive(Serialize)]
struct EntryOut<'a> {
    seq: u64,
    method: &'a str,
    path: &'a str,
    model: Option<&'a str>,
    headers: &'a BTreeMap<String, String>,
    body: Option<&'a RawValue>,
}

#[derive(Serialize)]
struct StatsOut<'a> {
    total: u64,
    by_model: BTreeMap<&'a str, u64>,
}

impl Recorder {
    /// A disabled recorder (`--no-record`) keeps no log and no stats, only `fail_first` counters.
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            state: Mutex::new(State::default()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    pub fn record(&self, entry: Entry) {
        if !self.enabled {
            return;
        }
        let mut s = self.lock();
        s.next_seq += 1;
        s.total += 1;
        if let Some(m) = &entry.model {
            if let Some(n) = s.by_model.get_mut(m) {
                *n += 1;
            } else {
                s.by_model.insert(m.clone(), 1);
            }
        }
        if s.entries.len() == CAPACITY {
            s.entries.pop_front();
        }
        let seq = s.next_seq;
        s.entries.push_back((seq, entry));
    }

    /// Count one more request for `key`; returns the new count (1 for the first request).
    pub fn bump_failure_counter(&self, key: &str) -> u64 {
        let mut s = self.lock();
        let n = s.fail_counts.entry(key.to_owned()).or_insert(0);
        *n += 1;
        *n
    }

    /// Forget the log, the stats and the `fail_first` counters.
    pub fn clear(&self) {
        *self.lock() = State::default();
    }

    /// `[{"seq","method","path","model","headers","body"}, ...]`, oldest first.
    pub fn requests_json(&self) -> Vec<u8> {
        let s = self.lock();
        let out: Vec<EntryOut> = s
            .entries
            .iter()
            .map(|(seq, e)| EntryOut {
                seq: *seq,
                method: &e.method,
                path: &e.path,
                model: e.model.as_deref(),
                headers: &e.headers,
                body: serde_json::from_slice::<&RawValue>(&e.body).ok(),
            })
            .collect();
        serde_json::to_vec(&out).unwrap_or_default()
    }

    /// `{"total":N,"by_model":{"model#directives":count}}`.
    pub fn stats_json(&self) -> Vec<u8> {
        let s = self.lock();
        let out = StatsOut {
            total: s.total,
            by_model: s.by_model.iter().map(|(k, v)| (k.as_str(), *v)).collect(),
        };
        serde_json::to_vec(&out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn entry(model: Option<&str>, body: &'static str) -> Entry {
        Entry {
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            model: model.map(str::to_owned),
            headers: BTreeMap::from([("x-a".to_string(), "1".to_string())]),
            body: Bytes::from_static(body.as_bytes()),
        }
    }

    #[test]
    fn keeps_last_entries_and_stats() {
        let r = Recorder::new(true);
        for _ in 0..CAPACITY + 3 {
            r.record(entry(Some("m#status=429"), r#"{"model":"m#status=429"}"#));
        }
        r.record(entry(None, "not json"));
        let v: Value = serde_json::from_slice(&r.requests_json()).unwrap();
        let list = v.as_array().unwrap();
        assert_eq!(list.len(), CAPACITY);
        assert_eq!(list[0]["seq"], 5);
        assert_eq!(list[CAPACITY - 2]["body"], json!({"model":"m#status=429"}));
        assert!(list[CAPACITY - 1]["body"].is_null() && list[CAPACITY - 1]["model"].is_null());
        let s: Value = serde_json::from_slice(&r.stats_json()).unwrap();
        assert_eq!(
            s,
            json!({"total": CAPACITY + 4, "by_model": {"m#status=429": CAPACITY + 3}})
        );
        assert_eq!(r.bump_failure_counter("k"), 1);
        assert_eq!(r.bump_failure_counter("k"), 2);
        r.clear();
        assert_eq!(r.bump_failure_counter("k"), 1);
        assert_eq!(r.requests_json(), b"[]");
    }

    #[test]
    fn disabled_records_nothing() {
        let r = Recorder::new(false);
        r.record(entry(Some("m"), "{}"));
        assert_eq!(r.requests_json(), b"[]");
        assert_eq!(r.bump_failure_counter("k"), 1);
    }
}
