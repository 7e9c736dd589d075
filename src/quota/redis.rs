//! Counter store in Redis, shared by every gateway instance pointing at it. One Lua script
//! checks all limits of all scopes and then takes everything (atomic in Redis); one settles.
//! Scripts run by EVALSHA, falling back to EVAL on NOSCRIPT (`redis::Script`). Every call is
//! bounded by a timeout; failures become `Denial::Unavailable` / `Err`, never a panic.
//!
//! Keys: `{prefix}{kind}:{id}:…` with the id percent-escaped (so `:` cannot collide):
//! `rpm` (ZSET id→time), `tpm:z` / `tpm:h` / `tpm:sum` (ZSET id→time, HASH id→tokens,
//! running total), `conc` (ZSET id→lease deadline), `b:d:20261126:res|spent`,
//! `b:m:202611:res|spent`, `b:t:res|spent`; one-shot flags under `{prefix}flag:…`.
//! Times are the callers' clocks (ms since the epoch): instances should run NTP.

use super::period::{WindowIds, parse_window, window_end, window_key, window_label};
use super::types::{
    BudgetCrossing, Demand, Denial, LimitName, Period, Reservation, Scope, ScopeKind, ScopeUsage,
};
use super::{CounterStore, check_size, epoch_ms};
use async_trait::async_trait;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Script, ScriptInvocation};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Characters escaped in ids and flags inside key names.
const KEY_ESCAPE: &AsciiSet = &CONTROLS.add(b':').add(b'%').add(b' ').add(b'{').add(b'}');

/// How long budget counters outlive their window (late settles still find them).
const BUDGET_MARGIN_SECS: u64 = 2 * 86_400;

/// Connection settings.
#[derive(Debug, Clone, Copy)]
pub struct RedisConfig {
    /// Longest a concurrency slot is held when its reservation is never settled (a crashed
    /// instance): the max request duration.
    pub lease: Duration,
    /// Bound on every Redis call (connecting included).
    pub timeout: Duration,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            lease: Duration::from_secs(600),
            timeout: Duration::from_millis(250),
        }
    }
}

/// The shared store. Cheap to clone (one multiplexed, auto-reconnecting connection).
#[derive(Clone)]
pub struct RedisStore {
    con: ConnectionManager,
    prefix: Arc<str>,
    cfg: RedisConfig,
    scripts: Arc<Scripts>,
}

struct Scripts {
    reserve: Script,
    settle: Script,
    usage: Script,
    seed: Script,
}

impl RedisStore {
    /// Connects (bounded by the default 250 ms timeout) and checks the server answers.
    pub async fn connect(url: &str, prefix: &str, lease: Duration) -> Result<Self, String> {
        let cfg = RedisConfig {
            lease,
            ..RedisConfig::default()
        };
        Self::connect_with(url, prefix, cfg).await
    }

    /// Like [`RedisStore::connect`] with explicit settings.
    pub async fn connect_with(url: &str, prefix: &str, cfg: RedisConfig) -> Result<Self, String> {
        let store = Self::open(url, prefix, cfg)?;
        let mut con = store.con.clone();
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut con);
        match tokio::time::timeout(cfg.timeout, ping).await {
            Ok(Ok(_)) => Ok(store),
            Ok(Err(e)) => Err(format!("redis: {e}")),
            Err(_) => Err(format!("redis: no answer within {:?}", cfg.timeout)),
        }
    }

    /// A store that connects on first use (the gateway can start while Redis is down;
    /// calls fail as `Unavailable` until it is back). Fails only on a malformed URL.
    pub fn open(url: &str, prefix: &str, cfg: RedisConfig) -> Result<Self, String> {
        // The URL may hold a password: never echo it.
        let client = redis::Client::open(url).map_err(|_| "invalid redis URL".to_string())?;
        let mcfg = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(cfg.timeout))
            .set_response_timeout(Some(cfg.timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        let con = ConnectionManager::new_lazy_with_config(client, mcfg)
            .map_err(|e| format!("redis: {e}"))?;
        let script =
            |body: &str| Script::new(&format!("{}\n{body}", include_str!("lua/common.lua")));
        Ok(RedisStore {
            con,
            prefix: Arc::from(prefix),
            cfg,
            scripts: Arc::new(Scripts {
                reserve: script(include_str!("lua/reserve.lua")),
                settle: script(include_str!("lua/settle.lua")),
                usage: script(include_str!("lua/usage.lua")),
                seed: Script::new(include_str!("lua/seed.lua")),
            }),
        })
    }

    /// `{prefix}{kind}:{escaped id}:`
    fn scope_base(&self, kind: ScopeKind, id: &str) -> String {
        format!(
            "{}{}:{}:",
            self.prefix,
            kind.as_str(),
            utf8_percent_encode(id, KEY_ESCAPE)
        )
    }

    fn budget_key(base: &str, period: Period, window: u32, which: &str) -> String {
        match period {
            Period::Daily => format!("{base}b:d:{window}:{which}"),
            Period::Monthly => format!("{base}b:m:{window}:{which}"),
            Period::Total => format!("{base}b:t:{which}"),
        }
    }

    /// The 11 keys of a scope, in the order the scripts expect (see lua/common.lua).
    fn push_keys(&self, inv: &mut ScriptInvocation<'_>, kind: ScopeKind, id: &str, w: WindowIds) {
        let base = self.scope_base(kind, id);
        for suffix in ["rpm", "tpm:z", "tpm:h", "tpm:sum", "conc"] {
            inv.key(format!("{base}{suffix}"));
        }
        for which in ["res", "spent"] {
            for p in Period::ALL {
                inv.key(Self::budget_key(&base, p, window_key(p, w), which));
            }
        }
    }

    async fn run<T: redis::FromRedisValue>(&self, inv: &ScriptInvocation<'_>) -> Result<T, String> {
        let mut con = self.con.clone();
        match tokio::time::timeout(self.cfg.timeout, inv.invoke_async(&mut con)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(format!("redis: {e}")),
            Err(_) => Err(format!("redis: no answer within {:?}", self.cfg.timeout)),
        }
    }
}

/// Seconds a budget counter of `period` window `key` should live from `now`.
fn budget_ttl(period: Period, key: u32, now: SystemTime) -> u64 {
    match window_end(period, key) {
        Some(end) => end.duration_since(now).map(|d| d.as_secs()).unwrap_or(0) + BUDGET_MARGIN_SECS,
        None => 0,
    }
}

fn limit_arg(v: Option<u64>) -> i64 {
    v.map_or(-1, |v| i64::try_from(v).unwrap_or(i64::MAX))
}

#[async_trait]
impl CounterStore for RedisStore {
    async fn reserve(
        &self,
        scopes: &[Scope],
        demand: Demand,
        now: SystemTime,
    ) -> Result<Reservation, Denial> {
        let id = fastrand::u128(..);
        if scopes.iter().all(|s| s.limits.is_unlimited()) {
            return Ok(Reservation::empty(id, demand, now));
        }
        let mut limited: Vec<Scope> = Vec::with_capacity(scopes.len());
        for s in scopes {
            if !s.limits.is_unlimited() && !limited.iter().any(|l| l.kind == s.kind && l.id == s.id)
            {
                check_size(s, demand)?;
                limited.push(s.clone());
            }
        }
        let w = WindowIds::at(now);
        let ms = epoch_ms(now);
        let mut inv = self.scripts.reserve.prepare_invoke();
        for s in &limited {
            self.push_keys(&mut inv, s.kind, &s.id, w);
        }
        inv.arg(ms)
            .arg(format!("{id:032x}"))
            .arg(demand.tokens)
            .arg(demand.cost_micros)
            .arg(u64::try_from(self.cfg.lease.as_millis()).unwrap_or(u64::MAX))
            .arg(limited.len());
        for s in &limited {
            let l = &s.limits;
            inv.arg(limit_arg(l.rpm))
                .arg(limit_arg(l.tpm))
                .arg(limit_arg(l.max_concurrency));
            for p in Period::ALL {
                inv.arg(limit_arg(p.limit(l)));
            }
            inv.arg(budget_ttl(Period::Daily, w.day, now))
                .arg(budget_ttl(Period::Monthly, w.month, now));
        }
        let answer: Vec<i64> = self.run(&inv).await.map_err(Denial::Unavailable)?;
        let [i, code, limit, extra] = answer[..] else {
            return Ok(Reservation {
                id,
                scopes: limited,
                windows: w,
                tokens: demand.tokens,
                cost_micros: demand.cost_micros,
                at: now,
            });
        };
        let scope = usize::try_from(i - 1)
            .ok()
            .and_then(|i| limited.get(i))
            .ok_or_else(|| Denial::Unavailable("redis: unexpected script answer".into()))?;
        let (limit, extra) = (limit.max(0) as u64, extra.max(0) as u64);
        let rate = |name| Denial::Rate {
            scope: scope.kind,
            id: Arc::clone(&scope.id),
            limit: name,
            value: limit,
            retry_after: Duration::from_millis(extra),
        };
        let budget = |period: Period| Denial::Budget {
            scope: scope.kind,
            id: Arc::clone(&scope.id),
            period,
            limit_micros: limit,
            spent_micros: extra,
            resets_at: window_end(period, window_key(period, w)),
        };
        Err(match code {
            1 => rate(LimitName::Rpm),
            2 => rate(LimitName::Tpm),
            3 => rate(LimitName::Concurrency),
            4 => budget(Period::Daily),
            5 => budget(Period::Monthly),
            6 => budget(Period::Total),
            _ => Denial::Unavailable("redis: unexpected script answer".into()),
        })
    }

    async fn settle(
        &self,
        r: Reservation,
        tokens: u64,
        cost_micros: u64,
        now: SystemTime,
    ) -> Result<Vec<BudgetCrossing>, String> {
        if r.scopes.is_empty() {
            return Ok(Vec::new());
        }
        let mut inv = self.scripts.settle.prepare_invoke();
        for s in &r.scopes {
            self.push_keys(&mut inv, s.kind, &s.id, r.windows);
        }
        inv.arg(epoch_ms(now))
            .arg(format!("{:032x}", r.id))
            .arg(tokens)
            .arg(r.cost_micros)
            .arg(cost_micros)
            .arg(r.scopes.len());
        let mut expected = Vec::new();
        for s in &r.scopes {
            let l = &s.limits;
            inv.arg(u8::from(l.tpm.is_some()))
                .arg(u8::from(l.max_concurrency.is_some()));
            for p in Period::ALL {
                let limit = p.limit(l);
                inv.arg(limit_arg(limit));
                if let Some(limit) = limit {
                    expected.push((s, p, limit));
                }
            }
            inv.arg(budget_ttl(Period::Daily, r.windows.day, now).max(1))
                .arg(budget_ttl(Period::Monthly, r.windows.month, now).max(1));
        }
        let answer: Vec<i64> = self.run(&inv).await?;
        if answer.len() != expected.len() * 2 {
            return Err("redis: unexpected settle answer".into());
        }
        Ok(expected
            .into_iter()
            .zip(answer.chunks_exact(2))
            .map(|((s, period, limit), ba)| BudgetCrossing {
                scope: s.kind,
                id: Arc::clone(&s.id),
                period,
                window: window_label(period, window_key(period, r.windows)),
                limit_micros: limit,
                before_micros: ba[0].max(0) as u64,
                after_micros: ba[1].max(0) as u64,
            })
            .collect())
    }

    async fn usage(&self, scope: &Scope, now: SystemTime) -> Result<ScopeUsage, String> {
        let w = WindowIds::at(now);
        let mut inv = self.scripts.usage.prepare_invoke();
        self.push_keys(&mut inv, scope.kind, &scope.id, w);
        inv.arg(epoch_ms(now));
        let v: Vec<i64> = self.run(&inv).await?;
        let get = |i: usize| v.get(i).copied().unwrap_or(0).max(0) as u64;
        Ok(ScopeUsage {
            requests_in_window: get(0),
            tokens_in_window: get(1),
            in_flight: get(2),
            spent_daily: get(3),
            spent_monthly: get(4),
            spent_total: get(5),
            daily_resets_at: window_end(Period::Daily, w.day).unwrap_or(now),
            monthly_resets_at: window_end(Period::Monthly, w.month).unwrap_or(now),
        })
    }

    async fn claim_once(&self, flag: &str, ttl: Duration) -> Result<bool, String> {
        let key = format!(
            "{}flag:{}",
            self.prefix,
            utf8_percent_encode(flag, KEY_ESCAPE)
        );
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut con = self.con.clone();
        let mut cmd = redis::cmd("SET");
        cmd.arg(key).arg(1).arg("NX").arg("PX").arg(ms);
        let set = cmd.query_async::<Option<String>>(&mut con);
        match tokio::time::timeout(self.cfg.timeout, set).await {
            Ok(Ok(v)) => Ok(v.is_some()),
            Ok(Err(e)) => Err(format!("redis: {e}")),
            Err(_) => Err(format!("redis: no answer within {:?}", self.cfg.timeout)),
        }
    }

    async fn seed_spend(
        &self,
        kind: ScopeKind,
        id: &str,
        period: Period,
        window: &str,
        micros: u64,
    ) -> Result<(), String> {
        let key = parse_window(period, window)?;
        let base = self.scope_base(kind, id);
        let mut inv = self.scripts.seed.prepare_invoke();
        inv.key(Self::budget_key(&base, period, key, "res"))
            .key(Self::budget_key(&base, period, key, "spent"))
            .arg(micros)
            .arg(budget_ttl(period, key, SystemTime::now()));
        self.run::<i64>(&inv).await.map(|_| ())
    }
}
