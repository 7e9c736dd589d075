//! Whitespace-tolerant key probes over the bytes of JSON events.
//!
//! The OpenAI pass-through looks at most chunks without parsing them: it only asks "is there a member
//! `key` whose value starts like this?". JSON allows whitespace around `:`, `,`, `[` and `{`,
//! so the probes find the quoted key, skip whitespace, require `:`, skip whitespace and return
//! the value's position. A quoted key cannot be mistaken for text inside a string value: quotes
//! inside strings are escaped, and a quote preceded by an odd number of backslashes is skipped.
//! An unescaped quote followed by `key"` and `:` can only open a member name.
//!
//! The probes are gates, not parsers: a member found here may belong to a nested object, so a
//! caller that needs the top-level value still parses the chunk.

use memchr::memmem;

/// JSON's insignificant whitespace.
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Index of the first non-whitespace byte at or after `at`.
pub fn skip_ws(data: &[u8], mut at: usize) -> usize {
    while data.get(at).copied().is_some_and(is_ws) {
        at += 1;
    }
    at
}

/// True when the byte at `at` is escaped (preceded by an odd run of backslashes).
pub fn escaped(data: &[u8], at: usize) -> bool {
    data[..at].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 1
}

/// Positions of the first byte of every value of a member named `quoted_key` (the key with
/// its quotes, e.g. `"usage"`).
pub fn values<'a>(data: &'a [u8], quoted_key: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    memmem::find_iter(data, quoted_key).filter_map(move |i| {
        if escaped(data, i) {
            return None;
        }
        let colon = skip_ws(data, i + quoted_key.len());
        (data.get(colon) == Some(&b':')).then(|| skip_ws(data, colon + 1))
    })
}

/// True when some member `quoted_key` exists, whatever its value.
pub fn has_key(data: &[u8], quoted_key: &[u8]) -> bool {
    values(data, quoted_key).next().is_some()
}

/// True when some member `quoted_key` has a value whose first byte is `first`.
pub fn value_starts(data: &[u8], quoted_key: &[u8], first: u8) -> bool {
    values(data, quoted_key).any(|v| data.get(v) == Some(&first))
}

/// True when some member `quoted_key` is a non-empty string.
pub fn non_empty_string(data: &[u8], quoted_key: &[u8]) -> bool {
    values(data, quoted_key)
        .any(|v| data.get(v) == Some(&b'"') && data.get(v + 1).is_some_and(|b| *b != b'"'))
}

/// True when some member `quoted_key` is an array whose first element starts with `first`
/// (`None`: the array is empty).
pub fn array_starts(data: &[u8], quoted_key: &[u8], first: Option<u8>) -> bool {
    values(data, quoted_key).any(|v| {
        data.get(v) == Some(&b'[') && {
            let inner = data.get(skip_ws(data, v + 1)).copied();
            match first {
                Some(b) => inner == Some(b),
                None => inner == Some(b']'),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys are found whatever the whitespace around the colon and inside brackets.
    #[test]
    fn whitespace_around_members() {
        for d in [
            r#"{"usage":{"a":1}}"#,
            r#"{ "usage" : { "a" : 1 } }"#,
            "{\"usage\"\n:\t\r\n{}}",
        ] {
            assert!(value_starts(d.as_bytes(), b"\"usage\"", b'{'), "{d}");
        }
        assert!(!value_starts(br#"{"usage": null}"#, b"\"usage\"", b'{'));
        assert!(array_starts(br#"{"choices": [ ]}"#, b"\"choices\"", None));
        assert!(!array_starts(
            br#"{"choices": [ {} ]}"#,
            b"\"choices\"",
            None
        ));
        assert!(array_starts(
            br#"{"tool_calls" : [ { "index": 0 } ]}"#,
            b"\"tool_calls\"",
            Some(b'{')
        ));
        assert!(non_empty_string(br#"{"content" :  "a"}"#, b"\"content\""));
        assert!(!non_empty_string(br#"{"content": ""}"#, b"\"content\""));
        assert!(!non_empty_string(br#"{"content": null}"#, b"\"content\""));
    }

    /// Key names inside string values are not members.
    #[test]
    fn strings_are_not_keys() {
        // A string value equal to the key name, followed by a separator, not a colon.
        assert!(!has_key(br#"{"content": "usage", "x": 1}"#, b"\"usage\""));
        // Escaped quotes inside a string.
        assert!(!has_key(
            br#"{"content":"say \"usage\": {}"}"#,
            b"\"usage\""
        ));
        // A key that merely ends in `"usage` after an escaped quote.
        assert!(!has_key(br#"{"a\"usage": {}}"#, b"\"usage\""));
        // An escaped backslash before a real quote: that quote does open a key.
        assert!(has_key(br#"{"a":"\\","usage":{}}"#, b"\"usage\""));
        // The key's name as a prefix of a longer key.
        assert!(!has_key(br#"{"usage_x": {}}"#, b"\"usage\""));
        assert!(!has_key(
            br#"{"content_filter_results": {}}"#,
            b"\"content\""
        ));
    }
}
