//! Message content pieces the block-based translators (Anthropic, Bedrock, Gemini) share:
//! non-empty text pieces, user parts (text and images) and image URL parsing.

use crate::error::GatewayError;
use crate::translate::request::{Content, ContentPart};
use std::borrow::Cow;

/// Non-empty text pieces of a message (text and refusal parts); other part types are a 400.
pub fn texts<'a>(
    content: Option<&'a Content<'a>>,
    i: usize,
) -> Result<Vec<Cow<'a, str>>, GatewayError> {
    match content {
        None => Ok(Vec::new()),
        Some(Content::Text(t)) => Ok(if t.is_empty() {
            Vec::new()
        } else {
            vec![Cow::Borrowed(t.as_ref())]
        }),
        Some(Content::Parts(parts)) => {
            let mut out = Vec::with_capacity(parts.len());
            for (j, p) in parts.iter().enumerate() {
                match (p.kind.as_ref(), &p.text, &p.refusal) {
                    ("text", Some(t), _) | ("refusal", _, Some(t)) if !t.is_empty() => {
                        out.push(Cow::Borrowed(t.as_ref()))
                    }
                    ("text" | "refusal", _, _) => {}
                    (other, _, _) => {
                        return Err(GatewayError::bad_param(
                            format!("messages[{i}].content[{j}].type"),
                            format!("content part type '{other}' is not allowed in this message"),
                        ));
                    }
                }
            }
            Ok(out)
        }
    }
}

/// A system message that follows the conversation's first turn, for providers whose API has
/// one system field ahead of every turn (Anthropic, Bedrock, Gemini): its text wrapped as
/// `<system-reminder>…</system-reminder>`, to be placed in a user turn at the message's
/// position (hoisting it would move the instruction to before turns it must follow).
/// `None` when it has no text. docs/wire/mapping.md §1.1.
pub fn system_reminder(texts: &[Cow<'_, str>]) -> Option<String> {
    if texts.is_empty() {
        return None;
    }
    Some(format!(
        "<system-reminder>\n{}\n</system-reminder>",
        texts.join("\n\n")
    ))
}

/// A user message as a provider's content items: non-empty text through `text`, `image_url`
/// parts through `image(part, i, j)`; any other part type is a 400 naming `models`
/// ("for Anthropic models").
pub fn user_parts<'a, T>(
    content: Option<&'a Content<'a>>,
    i: usize,
    models: &str,
    text: impl Fn(Cow<'a, str>) -> T,
    image: impl Fn(&'a ContentPart<'a>, usize, usize) -> Result<T, GatewayError>,
) -> Result<Vec<T>, GatewayError> {
    let Some(Content::Parts(parts)) = content else {
        return Ok(texts(content, i)?.into_iter().map(text).collect());
    };
    let mut out = Vec::with_capacity(parts.len());
    for (j, p) in parts.iter().enumerate() {
        match p.kind.as_ref() {
            "text" => {
                if let Some(t) = p.text.as_ref().filter(|t| !t.is_empty()) {
                    out.push(text(Cow::Borrowed(t.as_ref())));
                }
            }
            "image_url" => out.push(image(p, i, j)?),
            other => {
                return Err(GatewayError::bad_param(
                    format!("messages[{i}].content[{j}].type"),
                    format!(
                        "content part type '{other}' is not supported {models} (text and image_url are)"
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// The URL of an `image_url` part; a 400 naming `param()` when it has none.
pub fn image_url<'a>(
    p: &'a ContentPart<'a>,
    param: impl Fn() -> String,
) -> Result<&'a str, GatewayError> {
    p.image_url
        .as_ref()
        .map(|u| u.url.as_ref())
        .ok_or_else(|| GatewayError::bad_param(param(), "image_url.url is required"))
}

/// A base64 `data:` URL split into its MIME type (as written) and its payload; `None` for any
/// other URL. Malformed and non-base64 data URLs are a 400 naming `param()`.
pub fn data_url(
    url: &str,
    param: impl Fn() -> String,
) -> Result<Option<(&str, &str)>, GatewayError> {
    let Some(rest) = url.strip_prefix("data:") else {
        return Ok(None);
    };
    let (meta, data) = rest
        .split_once(',')
        .ok_or_else(|| GatewayError::bad_param(param(), "malformed data URL"))?;
    let mime = meta
        .strip_suffix(";base64")
        .ok_or_else(|| GatewayError::bad_param(param(), "data URLs must be base64-encoded"))?;
    Ok(Some((mime, data)))
}

/// The canonical media type of the image formats Anthropic and Bedrock accept (JPEG, PNG,
/// GIF, WebP; `image/jpg` means JPEG), matched case-insensitively.
pub fn image_media_type(mime: &str) -> Option<&'static str> {
    match mime.to_ascii_lowercase().as_str() {
        "image/jpeg" | "image/jpg" => Some("image/jpeg"),
        "image/png" => Some("image/png"),
        "image/gif" => Some("image/gif"),
        "image/webp" => Some("image/webp"),
        _ => None,
    }
}
