//! Zero-copy decoding of optional strings. serde borrows a `Cow<str>` field marked
//! `#[serde(borrow)]` from the input when the JSON string has no escapes, but not an
//! `Option<Cow<str>>`: that one is always copied. Streamed deltas are mostly such optional
//! fields, so `deserialize_with = "opt_cow"` keeps them borrowed (one allocation less per
//! field per chunk; escaped strings are still decoded into an owned value).

use serde::{Deserialize, Deserializer};
use std::borrow::Cow;

/// `Option<Cow<str>>` that borrows from the input when it can.
pub fn opt_cow<'de: 'a, 'a, D>(d: D) -> Result<Option<Cow<'a, str>>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    struct Borrowed<'b>(#[serde(borrow)] Cow<'b, str>);
    Ok(Option::<Borrowed<'a>>::deserialize(d)?.map(|b| b.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Delta<'a> {
        #[serde(borrow, default, deserialize_with = "opt_cow")]
        text: Option<Cow<'a, str>>,
    }

    /// Plain strings are borrowed, escaped ones decoded, absent or null ones are `None`.
    #[test]
    fn borrows_when_it_can() {
        let d: Delta<'_> =
            serde_json::from_str(r#"{"text":"plain"}"#).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(d.text, Some(Cow::Borrowed("plain"))));
        let d: Delta<'_> =
            serde_json::from_str(r#"{"text":"a\nb"}"#).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(d.text.as_deref(), Some("a\nb")));
        assert!(matches!(d.text, Some(Cow::Owned(_))));
        for absent in ["{}", r#"{"text":null}"#] {
            let d: Delta<'_> = serde_json::from_str(absent).unwrap_or_else(|e| panic!("{e}"));
            assert!(d.text.is_none());
        }
    }
}
