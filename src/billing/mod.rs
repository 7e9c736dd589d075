//! Billing views for the HTTP layer: parsing the usage query parameters and rendering ledger
//! answers as JSON or CSV (`usage`), and `/v1/key/info` (`key_info`). Pure functions; the
//! HTTP layer queries [`crate::ledger::query::LedgerReader`] and writes what these return.
//!
//! Money in responses: `*_usd` fields are JSON **numbers written with exactly six decimals**
//! (`0.001234`), rendered from integer micro-dollars without floating point, so the text is
//! exact; CSV cost columns use the same decimal text.

pub mod key_info;
pub mod usage;

use crate::calendar::{date_start, next_day};
use crate::error::{ErrorKind, GatewayError};
use crate::ledger::query::{GroupBy, QueryError};
use bytes::Bytes;
use chrono::{Days, NaiveDate};
use percent_encoding::percent_decode_str;
use std::time::SystemTime;

pub use key_info::{KeyInfoInput, KeyUsageNow};

/// Days covered when neither `from` nor `to` is given (today included).
pub const DEFAULT_DAYS: u64 = 30;
/// Longest range one request may ask for, in days.
pub const MAX_DAYS: i64 = 366;

/// Response format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

/// A rendered response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub content_type: &'static str,
    pub body: Bytes,
}

/// Parsed `?from=&to=&format=&group_by=&team=|key=|model=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageQuery {
    /// First UTC day included.
    pub from: NaiveDate,
    /// Last UTC day included.
    pub to: NaiveDate,
    pub format: Format,
    /// For the grouped (admin) usage; `key` when absent.
    pub group_by: GroupBy,
    /// At most one of `team=`, `key=`, `model=`: only rows with that value.
    pub filter: Option<(GroupBy, String)>,
}

impl UsageQuery {
    /// Parses the query string (without `?`; `None` when there is none). `today` is the
    /// current UTC day ([`today`]). Defaults: the last [`DEFAULT_DAYS`] days including today,
    /// JSON, grouped by key. Unknown parameters are ignored; a repeated one is an error.
    /// Errors are 400 `invalid_request_error` naming the parameter.
    pub fn parse(query: Option<&str>, today: NaiveDate) -> Result<Self, GatewayError> {
        let mut from = None;
        let mut to = None;
        let mut format = None;
        let mut group_by = None;
        let mut filter: Option<(GroupBy, String)> = None;
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode(name, "query")?;
            let param: &'static str = match name.as_str() {
                "from" => "from",
                "to" => "to",
                "format" => "format",
                "group_by" => "group_by",
                "team" => "team",
                "key" => "key",
                "model" => "model",
                _ => continue,
            };
            let value = decode(value, param)?;
            let repeated =
                || GatewayError::bad_param(param, format!("`{param}` is given more than once"));
            match param {
                "from" if from.is_none() => from = Some(date(param, &value)?),
                "to" if to.is_none() => to = Some(date(param, &value)?),
                "format" if format.is_none() => {
                    format = Some(match value.as_str() {
                        "json" => Format::Json,
                        "csv" => Format::Csv,
                        _ => {
                            return Err(GatewayError::bad_param(
                                param,
                                "`format` must be json or csv",
                            ));
                        }
                    })
                }
                "group_by" if group_by.is_none() => {
                    group_by = Some(group(&value).ok_or_else(|| {
                        GatewayError::bad_param(param, "`group_by` must be team, key or model")
                    })?)
                }
                "team" | "key" | "model" if filter.is_none() => {
                    if value.is_empty() {
                        return Err(GatewayError::bad_param(
                            param,
                            format!("`{param}` is empty"),
                        ));
                    }
                    filter = group(param).map(|by| (by, value));
                }
                "team" | "key" | "model" => {
                    return Err(GatewayError::bad_param(
                        param,
                        "filter by at most one of `team`, `key` and `model`",
                    ));
                }
                _ => return Err(repeated()),
            }
        }
        let span = Days::new(DEFAULT_DAYS - 1);
        let (from, to) = match (from, to) {
            (Some(f), Some(t)) => (f, t),
            (Some(f), None) => (f, today),
            (None, Some(t)) => (t.checked_sub_days(span).unwrap_or(t), t),
            (None, None) => (today.checked_sub_days(span).unwrap_or(today), today),
        };
        if from > to {
            return Err(GatewayError::bad_param("from", "`from` is after `to`"));
        }
        if (to - from).num_days() >= MAX_DAYS {
            return Err(GatewayError::bad_param(
                "to",
                format!("the range is longer than {MAX_DAYS} days"),
            ));
        }
        Ok(Self {
            from,
            to,
            format: format.unwrap_or(Format::Json),
            group_by: group_by.unwrap_or(GroupBy::Key),
            filter,
        })
    }

    /// The half-open time range `[from 00:00 UTC, day after to 00:00 UTC)` for the ledger.
    pub fn range(&self) -> (SystemTime, SystemTime) {
        (date_start(self.from), date_start(next_day(self.to)))
    }
}

/// The current UTC day.
pub fn today() -> NaiveDate {
    crate::calendar::today()
}

/// The ledger reader for an HTTP answer: a 503 (details logged) when the store cannot be
/// opened.
pub async fn reader(
    cell: &crate::ledger::query::ReaderCell,
) -> Result<&std::sync::Arc<crate::ledger::query::LedgerReader>, GatewayError> {
    cell.get().await.map_err(|e| {
        log::error!("usage: cannot open the ledger for reading: {e}");
        GatewayError::new(
            503,
            crate::error::ErrorKind::Overloaded,
            "The usage ledger is unreachable right now; try again shortly.",
        )
        .with_retry_after(Some(1))
    })
}

/// The client-facing error for a failed ledger query; store details go to the log only.
pub fn query_error(e: &QueryError) -> GatewayError {
    match e {
        QueryError::Off => GatewayError::new(
            404,
            ErrorKind::NotFound,
            "usage is not available: the usage ledger is off on this gateway",
        )
        .with_code("ledger_off"),
        QueryError::Store(detail) => {
            log::error!("billing: ledger query failed: {detail}");
            GatewayError::new(
                500,
                ErrorKind::Internal,
                "the usage ledger could not be read",
            )
        }
    }
}

/// Micro-dollars as a decimal with six places: `1234567` → `1.234567`.
pub fn usd(micros: u64) -> String {
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

fn decode(raw: &str, param: &'static str) -> Result<String, GatewayError> {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| GatewayError::bad_param(param, format!("`{param}` is not valid UTF-8")))
}

fn date(param: &'static str, value: &str) -> Result<NaiveDate, GatewayError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .filter(|_| value.len() == 10)
        .ok_or_else(|| {
            GatewayError::bad_param(param, format!("`{param}` must be a date as YYYY-MM-DD"))
        })
}

fn group(value: &str) -> Option<GroupBy> {
    match value {
        "team" => Some(GroupBy::Team),
        "key" => Some(GroupBy::Key),
        "model" => Some(GroupBy::Model),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
