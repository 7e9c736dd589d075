//! `GET /v1/models` and `GET /v1/models/{id}`: what this gateway can route.

use super::ctx::RequestCtx;
use super::{Fail, Snapshot, respond};
use crate::error::GatewayError;
use bytes::Bytes;
use pingora::proxy::Session;
use serde::Serialize;

#[derive(Serialize)]
struct Model<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    owned_by: &'a str,
}

#[derive(Serialize)]
struct List<'a> {
    object: &'static str,
    data: Vec<Model<'a>>,
}

/// Lists route models and `provider/model` names (OpenAI list format).
pub async fn list(
    snapshot: &Snapshot,
    session: &mut Session,
    ctx: &mut RequestCtx,
    path: &str,
) -> Result<(), Fail> {
    let names = snapshot.router.model_names();
    let models = names.iter().map(|(id, owner)| Model {
        id,
        object: "model",
        created: 0,
        owned_by: owner,
    });
    let body = match path.strip_prefix("/v1/models/") {
        Some(id) => {
            let id = percent_decode(id);
            let model = models
                .into_iter()
                .find(|m| m.id == id)
                .ok_or_else(|| GatewayError::unknown_model(&id))?;
            serde_json::to_vec(&model)
        }
        None => serde_json::to_vec(&List {
            object: "list",
            data: models.collect(),
        }),
    }
    .map_err(|_| GatewayError::internal())?;
    respond::json(session, ctx, 200, Bytes::from(body), &[])
        .await
        .map_err(Fail::Downstream)
}

/// Decodes `%2F` and friends in a model id taken from the path.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    /// Percent-encoded slashes decode.
    #[test]
    fn decodes() {
        assert_eq!(
            super::percent_decode("anthropic%2Fclaude"),
            "anthropic/claude"
        );
        assert_eq!(super::percent_decode("a%2"), "a%2");
        assert_eq!(super::percent_decode("plain"), "plain");
        assert_eq!(super::percent_decode("%é%4"), "%é%4");
    }
}
