//! Message content → Gemini parts: text, and images as `inlineData` (data URLs) or `fileData`
//! (URLs, MIME type guessed from the extension).

use super::{Part, PartData, borrow};
use crate::error::GatewayError;
use crate::translate::request::{Content, ContentPart};
use std::borrow::Cow;

/// Non-empty text pieces of a message (text and refusal parts only).
pub(super) fn texts<'a>(
    content: Option<&'a Content<'a>>,
    i: usize,
) -> Result<Vec<Cow<'a, str>>, GatewayError> {
    match content {
        None => Ok(Vec::new()),
        Some(Content::Text(t)) => Ok(if t.is_empty() {
            Vec::new()
        } else {
            vec![borrow(t)]
        }),
        Some(Content::Parts(parts)) => {
            let mut out = Vec::with_capacity(parts.len());
            for (j, p) in parts.iter().enumerate() {
                match (p.kind.as_ref(), &p.text, &p.refusal) {
                    ("text", Some(t), _) | ("refusal", _, Some(t)) if !t.is_empty() => {
                        out.push(borrow(t))
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

pub(super) fn user_parts<'a>(
    content: Option<&'a Content<'a>>,
    i: usize,
) -> Result<Vec<Part<'a>>, GatewayError> {
    let Some(Content::Parts(parts)) = content else {
        return Ok(texts(content, i)?.into_iter().map(Part::text).collect());
    };
    let mut out = Vec::with_capacity(parts.len());
    for (j, p) in parts.iter().enumerate() {
        match p.kind.as_ref() {
            "text" => {
                if let Some(t) = p.text.as_ref().filter(|t| !t.is_empty()) {
                    out.push(Part::text(borrow(t)));
                }
            }
            "image_url" => out.push(image_part(p, i, j)?),
            other => {
                return Err(GatewayError::bad_param(
                    format!("messages[{i}].content[{j}].type"),
                    format!(
                        "content part type '{other}' is not supported for Gemini models (text and image_url are)"
                    ),
                ));
            }
        }
    }
    Ok(out)
}

fn image_part<'a>(p: &'a ContentPart<'a>, i: usize, j: usize) -> Result<Part<'a>, GatewayError> {
    let param = || format!("messages[{i}].content[{j}].image_url");
    let url = p
        .image_url
        .as_ref()
        .map(|u| u.url.as_ref())
        .ok_or_else(|| GatewayError::bad_param(param(), "image_url.url is required"))?;
    if let Some(rest) = url.strip_prefix("data:") {
        let (meta, data) = rest
            .split_once(',')
            .ok_or_else(|| GatewayError::bad_param(param(), "malformed data URL"))?;
        let mime = meta
            .strip_suffix(";base64")
            .ok_or_else(|| GatewayError::bad_param(param(), "data URLs must be base64-encoded"))?;
        if mime.is_empty() || data.is_empty() {
            return Err(GatewayError::bad_param(
                param(),
                "data URL needs a MIME type and data",
            ));
        }
        let mime = match mime.to_ascii_lowercase().as_str() {
            "image/jpg" => Cow::Borrowed("image/jpeg"),
            m if m == mime => Cow::Borrowed(mime),
            m => Cow::Owned(m.to_string()),
        };
        return Ok(Part::new(PartData::InlineData {
            mime_type: mime,
            data,
        }));
    }
    if ["https://", "http://", "gs://"]
        .iter()
        .any(|s| url.starts_with(s))
    {
        return Ok(Part::new(PartData::FileData {
            mime_type: guess_mime(url),
            file_uri: url,
        }));
    }
    Err(GatewayError::bad_param(
        param(),
        "image URLs must be https://, gs:// or base64 data: URLs",
    ))
}

/// MIME type from a URL's file extension (query and fragment ignored); JPEG by default.
fn guess_mime(url: &str) -> &'static str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "heif" => "image/heif",
        _ => "image/jpeg",
    }
}
