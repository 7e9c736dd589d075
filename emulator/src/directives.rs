//! Fault / behaviour directives, parsed from the model-name suffix (`model#k=v;k=v`) and the `x-emulator` header.
//!
//! Syntax: `key=value` items separated by `;` (spaces around items ignored). Header values override
//! model-name values; an unknown key or a malformed value is a 400 naming it. Flags (`thinking`,
//! `no_done`, `no_usage`, `spaced`) accept `1|true|yes|0|false|no` or no value. `reply` is `%XX`-decoded
//! (`+` stays a plus, `;` must be written `%3B`).

/// Default number of content tokens generated for the canned reply (all of its words).
pub const DEFAULT_TOKENS: usize = 11;
/// Default hold time of the `timeout` failure mode.
pub const DEFAULT_HANG_MS: u64 = 30_000;

/// The keys the emulator understands, listed in error messages.
const KNOWN_KEYS: &str = "status, retry_after, ttfb_ms, chunk_ms, tokens, split, drop_after, \
error_after, fail_first, fail_rate, fail_modes, hang_ms, tool, call, cache_read, cache_write, thinking, \
no_done, no_usage, reply, context_exceeded, slow_after, spaced";

/// One way a `fail_rate` failure can manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailMode {
    /// Answer with this HTTP status and the provider's error body.
    Status(u16),
    /// Hold the connection for `hang_ms` without answering, then close it.
    Timeout,
    /// Close the connection at once without answering.
    Refuse,
}

/// Everything a request asked the emulator to do differently.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Directives {
    pub status: Option<u16>,
    pub retry_after: Option<u64>,
    pub ttfb_ms: u64,
    pub chunk_ms: u64,
    pub tokens: Option<usize>,
    pub split: Option<usize>,
    pub drop_after: Option<usize>,
    pub error_after: Option<usize>,
    pub fail_first: Option<u64>,
    pub fail_rate: Option<f64>,
    /// Empty means `[Status(500)]`.
    pub fail_modes: Vec<FailMode>,
    pub hang_ms: Option<u64>,
    pub parallel_tools: bool,
    /// Name of the tool to call when it is offered (`call=Read`); otherwise the first tool.
    pub call: Option<String>,
    pub cache_read: u64,
    pub cache_write: u64,
    pub thinking: bool,
    pub no_done: bool,
    pub no_usage: bool,
    pub reply: Option<String>,
    /// Answer with the provider's context-window-exceeded error.
    pub context_exceeded: bool,
    /// `ttfb_ms` applies only after this many requests with the same model string (a target
    /// that becomes slow after a healthy baseline).
    pub slow_after: Option<u64>,
    /// OpenAI kind: write JSON the way Python's `json.dumps` does (`", "` and `": "`).
    pub spaced: bool,
}

/// Split `gpt-4o#status=429` into the reported model (`gpt-4o`) and the directive string.
pub fn split_model(model: &str) -> (&str, Option<&str>) {
    match model.split_once('#') {
        Some((base, spec)) => (base, Some(spec)),
        None => (model, None),
    }
}

impl Directives {
    /// Parse the model suffix first, then the header, so header values override model-name values.
    pub fn parse(model_spec: Option<&str>, header_spec: Option<&str>) -> Result<Self, String> {
        let mut d = Self::default();
        for spec in [model_spec, header_spec].into_iter().flatten() {
            d.apply_spec(spec)?;
        }
        Ok(d)
    }

    fn apply_spec(&mut self, spec: &str) -> Result<(), String> {
        for item in spec.split(';') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let (key, value) = item.split_once('=').unwrap_or((item, ""));
            self.apply(key.trim(), value)?;
        }
        Ok(())
    }

    fn apply(&mut self, key: &str, raw: &str) -> Result<(), String> {
        let v = raw.trim();
        match key {
            "status" => self.status = Some(status(key, v)?),
            "retry_after" => self.retry_after = Some(int(key, v)?),
            "ttfb_ms" => self.ttfb_ms = int(key, v)?,
            "chunk_ms" => self.chunk_ms = int(key, v)?,
            "tokens" => self.tokens = Some(int(key, v)?),
            "split" => {
                let n: usize = int(key, v)?;
                if n == 0 {
                    return Err(bad(key, v, "a positive integer"));
                }
                self.split = Some(n);
            }
            "drop_after" => self.drop_after = Some(int(key, v)?),
            "error_after" => self.error_after = Some(int(key, v)?),
            "fail_first" => self.fail_first = Some(int(key, v)?),
            "fail_rate" => match v.parse::<f64>() {
                Ok(p) if (0.0..=1.0).contains(&p) => self.fail_rate = Some(p),
                _ => return Err(bad(key, v, "a probability between 0 and 1")),
            },
            "fail_modes" => self.fail_modes = fail_modes(v)?,
            "hang_ms" => self.hang_ms = Some(int(key, v)?),
            "tool" => {
                self.parallel_tools = match v {
                    "parallel" => true,
                    "single" => false,
                    _ => return Err(bad(key, v, "`parallel` or `single`")),
                }
            }
            "call" if !v.is_empty() => self.call = Some(v.to_owned()),
            "cache_read" => self.cache_read = int(key, v)?,
            "cache_write" => self.cache_write = int(key, v)?,
            "thinking" => self.thinking = flag(key, v)?,
            "no_done" => self.no_done = flag(key, v)?,
            "no_usage" => self.no_usage = flag(key, v)?,
            "context_exceeded" => self.context_exceeded = flag(key, v)?,
            "slow_after" => self.slow_after = Some(int(key, v)?),
            "spaced" => self.spaced = flag(key, v)?,
            "reply" => self.reply = Some(percent_decode(raw).map_err(|e| bad(key, raw, &e))?),
            _ => {
                return Err(format!(
                    "switchyard-emulator: unknown directive `{key}` (known: {KNOWN_KEYS})"
                ));
            }
        }
        Ok(())
    }

    /// The failure modes of `fail_rate`, defaulting to a plain 500.
    pub fn modes(&self) -> &[FailMode] {
        if self.fail_modes.is_empty() {
            &[FailMode::Status(500)]
        } else {
            &self.fail_modes
        }
    }
}

fn bad(key: &str, value: &str, expected: &str) -> String {
    format!("switchyard-emulator: directive `{key}` expects {expected}, got `{value}`")
}

fn int<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, String> {
    v.parse().map_err(|_| bad(key, v, "a non-negative integer"))
}

fn status(key: &str, v: &str) -> Result<u16, String> {
    match v.parse::<u16>() {
        Ok(s) if s == 200 || (400..=599).contains(&s) => Ok(s),
        _ => Err(bad(key, v, "200 or an HTTP status in 400..=599")),
    }
}

fn flag(key: &str, v: &str) -> Result<bool, String> {
    match v {
        "" | "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(bad(key, v, "1 or 0")),
    }
}

fn fail_modes(v: &str) -> Result<Vec<FailMode>, String> {
    let mut out = Vec::new();
    for m in v.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        out.push(match m {
            "timeout" => FailMode::Timeout,
            "refuse" => FailMode::Refuse,
            _ => FailMode::Status(status("fail_modes", m)?),
        });
    }
    if out.is_empty() {
        return Err(bad(
            "fail_modes",
            v,
            "a comma list of statuses, `timeout`, `refuse`",
        ));
    }
    Ok(out)
}

/// Decode `%XX` escapes; `+` stays a plus. The result must be UTF-8.
fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| "valid %XX escapes".to_string())?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "percent-escapes that decode to UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_model_name() {
        assert_eq!(split_model("gpt-4o"), ("gpt-4o", None));
        assert_eq!(
            split_model("gpt-4o#status=429;retry_after=2"),
            ("gpt-4o", Some("status=429;retry_after=2"))
        );
    }

    #[test]
    fn parses_all_keys() {
        let d = Directives::parse(
            Some("status=429; retry_after=2;ttfb_ms=500;chunk_ms=20;tokens=3;split=7;drop_after=4;error_after=0"),
            Some("fail_first=2;fail_rate=0.5;fail_modes=500,timeout,refuse,529;hang_ms=10;tool=parallel;cache_read=5;cache_write=6;thinking=1;no_done=1;no_usage;reply=a%20b+c%F0%9F%9A%80"),
        )
        .unwrap();
        assert_eq!(d.status, Some(429));
        assert_eq!(d.retry_after, Some(2));
        assert_eq!((d.ttfb_ms, d.chunk_ms), (500, 20));
        assert_eq!((d.tokens, d.split), (Some(3), Some(7)));
        assert_eq!((d.drop_after, d.error_after), (Some(4), Some(0)));
        assert_eq!((d.fail_first, d.fail_rate), (Some(2), Some(0.5)));
        assert_eq!(
            d.fail_modes,
            vec![
                FailMode::Status(500),
                FailMode::Timeout,
                FailMode::Refuse,
                FailMode::Status(529)
            ]
        );
        assert_eq!(d.hang_ms, Some(10));
        assert!(d.parallel_tools && d.thinking && d.no_done && d.no_usage);
        assert_eq!((d.cache_read, d.cache_write), (5, 6));
        assert_eq!(d.reply.as_deref(), Some("a b+c🚀"));
    }

    #[test]
    fn header_overrides_model() {
        let d = Directives::parse(Some("status=429;tokens=3"), Some("status=503")).unwrap();
        assert_eq!(d.status, Some(503));
        assert_eq!(d.tokens, Some(3));
    }

    #[test]
    fn rejects_unknown_and_bad_values() {
        let e = Directives::parse(Some("stauts=429"), None).unwrap_err();
        assert!(e.contains("unknown directive `stauts`"), "{e}");
        assert!(Directives::parse(Some("status=abc"), None).is_err());
        assert!(Directives::parse(Some("status=302"), None).is_err());
        assert!(Directives::parse(Some("split=0"), None).is_err());
        assert!(Directives::parse(Some("fail_rate=1.5"), None).is_err());
        assert!(Directives::parse(Some("fail_modes=oops"), None).is_err());
        assert!(Directives::parse(Some("reply=%zz"), None).is_err());
        assert!(Directives::parse(Some("reply=%ff"), None).is_err());
        assert!(Directives::parse(Some("tool=many"), None).is_err());
    }

    #[test]
    fn default_modes_is_500() {
        assert_eq!(Directives::default().modes(), &[FailMode::Status(500)]);
        assert_eq!(
            Directives::parse(Some(";;"), None).unwrap(),
            Directives::default()
        );
    }
}
