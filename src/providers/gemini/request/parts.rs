//! Message content → Gemini parts: text, and images as `inlineData` (data URLs) or `fileData`
//! (URLs, MIME type guessed from the extension).

use super::{Part, PartData};
use crate::error::GatewayError;
use crate::providers::content;
use crate::translate::request::{Content, ContentPart};
use std::borrow::Cow;

pub(super) fn user_parts<'a>(
    content: Option<&'a Content<'a>>,
    i: usize,
) -> Result<Vec<Part<'a>>, GatewayError> {
    content::user_parts(content, i, "for Gemini models", Part::text, image_part)
}

fn image_part<'a>(p: &'a ContentPart<'a>, i: usize, j: usize) -> Result<Part<'a>, GatewayError> {
    let param = || format!("messages[{i}].content[{j}].image_url");
    let url = content::image_url(p, param)?;
    if let Some((mime, data)) = content::data_url(url, param)? {
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
