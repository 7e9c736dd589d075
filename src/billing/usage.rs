//! Usage reports as JSON or CSV: one key's usage by day and model (`/v1/usage`) and usage
//! grouped by team, key or model (the admin usage API).
//!
//! CSV is RFC 4180 (header line, fields with commas, quotes or line breaks quoted, quotes
//! doubled, CRLF line ends). Text fields a client can choose (model names) that begin with
//! `=`, `+`, `-`, `@`, tab or CR get a leading `'` so spreadsheets do not run them as formulas.

use super::{Format, Rendered, UsageQuery, usd};
use crate::error::GatewayError;
use crate::ledger::query::{GroupRow, UsageRow};
use bytes::Bytes;
use serde::{Serialize, Serializer};

/// Micro-dollars serialized as a JSON number with six decimals (exact text, no float).
#[derive(Debug, Clone, Copy)]
pub struct Usd(pub u64);

impl Serialize for Usd {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw = serde_json::value::RawValue::from_string(usd(self.0))
            .map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

#[derive(Serialize)]
struct KeyReport<'a> {
    object: &'static str,
    key: &'a str,
    from: String,
    to: String,
    data: Vec<KeyLine<'a>>,
    total_cost_usd: Usd,
}

#[derive(Serialize)]
struct KeyLine<'a> {
    day: &'a str,
    model: &'a str,
    requests: u64,
    prompt_tokens: u64,
    completion_tokens: u64,
    cached_tokens: u64,
    reasoning_tokens: u64,
    cost_usd: Usd,
}

#[derive(Serialize)]
struct GroupReport<'a> {
    object: &'static str,
    group_by: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    filter: Option<Filter<'a>>,
    from: String,
    to: String,
    data: Vec<GroupLine<'a>>,
    total_cost_usd: Usd,
}

#[derive(Serialize)]
struct Filter<'a> {
    field: &'static str,
    value: &'a str,
}

#[derive(Serialize)]
struct GroupLine<'a> {
    /// `null` for requests without a team / key / model.
    group: Option<&'a str>,
    requests: u64,
    errors: u64,
    prompt_tokens: u64,
    completion_tokens: u64,
    cost_usd: Usd,
}

/// One key's usage (`rows` from `LedgerReader::key_usage`) in `q.format`.
pub fn key_usage(
    key_id: &str,
    q: &UsageQuery,
    rows: &[UsageRow],
) -> Result<Rendered, GatewayError> {
    let total = rows
        .iter()
        .fold(0u64, |t, r| t.saturating_add(r.cost_micros));
    match q.format {
        Format::Json => json(&KeyReport {
            object: "list",
            key: key_id,
            from: q.from.to_string(),
            to: q.to.to_string(),
            data: rows
                .iter()
                .map(|r| KeyLine {
                    day: &r.day,
                    model: &r.model,
                    requests: r.requests,
                    prompt_tokens: r.prompt_tokens,
                    completion_tokens: r.completion_tokens,
                    cached_tokens: r.cached_tokens,
                    reasoning_tokens: r.reasoning_tokens,
                    cost_usd: Usd(r.cost_micros),
                })
                .collect(),
            total_cost_usd: Usd(total),
        }),
        Format::Csv => csv(
            &[
                "day",
                "model",
                "requests",
                "prompt_tokens",
                "completion_tokens",
                "cached_tokens",
                "reasoning_tokens",
                "cost_usd",
            ],
            rows.iter().map(|r| {
                vec![
                    r.day.clone(),
                    cell(&r.model),
                    r.requests.to_string(),
                    r.prompt_tokens.to_string(),
                    r.completion_tokens.to_string(),
                    r.cached_tokens.to_string(),
                    r.reasoning_tokens.to_string(),
                    usd(r.cost_micros),
                ]
            }),
        ),
    }
}

/// Grouped usage (`rows` from `LedgerReader::grouped_usage`) in `q.format`. The CSV's first
/// column is named after the grouping (`team`, `key` or `model`); missing groups are empty.
pub fn grouped_usage(q: &UsageQuery, rows: &[GroupRow]) -> Result<Rendered, GatewayError> {
    let total = rows
        .iter()
        .fold(0u64, |t, r| t.saturating_add(r.cost_micros));
    match q.format {
        Format::Json => json(&GroupReport {
            object: "list",
            group_by: q.group_by.as_str(),
            filter: q.filter.as_ref().map(|(by, v)| Filter {
                field: by.as_str(),
                value: v,
            }),
            from: q.from.to_string(),
            to: q.to.to_string(),
            data: rows
                .iter()
                .map(|r| GroupLine {
                    group: r.group.as_deref(),
                    requests: r.requests,
                    errors: r.errors,
                    prompt_tokens: r.prompt_tokens,
                    completion_tokens: r.completion_tokens,
                    cost_usd: Usd(r.cost_micros),
                })
                .collect(),
            total_cost_usd: Usd(total),
        }),
        Format::Csv => csv(
            &[
                q.group_by.as_str(),
                "requests",
                "errors",
                "prompt_tokens",
                "completion_tokens",
                "cost_usd",
            ],
            rows.iter().map(|r| {
                vec![
                    cell(r.group.as_deref().unwrap_or("")),
                    r.requests.to_string(),
                    r.errors.to_string(),
                    r.prompt_tokens.to_string(),
                    r.completion_tokens.to_string(),
                    usd(r.cost_micros),
                ]
            }),
        ),
    }
}

fn json<T: Serialize>(report: &T) -> Result<Rendered, GatewayError> {
    let body = serde_json::to_vec(report).map_err(|e| {
        log::error!("billing: cannot render a usage report: {e}");
        GatewayError::internal()
    })?;
    Ok(Rendered {
        content_type: "application/json",
        body: Bytes::from(body),
    })
}

fn csv(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<Rendered, GatewayError> {
    let failed = |e: &dyn std::fmt::Display| {
        log::error!("billing: cannot render a CSV report: {e}");
        GatewayError::internal()
    };
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(Vec::new());
    w.write_record(header).map_err(|e| failed(&e))?;
    for row in rows {
        w.write_record(&row).map_err(|e| failed(&e))?;
    }
    let body = w.into_inner().map_err(|e| failed(&e))?;
    Ok(Rendered {
        content_type: "text/csv; charset=utf-8",
        body: Bytes::from(body),
    })
}

/// A client-chosen text cell, defused against spreadsheet formula injection.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}
