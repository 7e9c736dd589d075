//! [`Job`]: what is asked of the providers, built into each target's native request and
//! decoded back, whatever client API asked.

use crate::config::ProviderSettings;
use crate::error::GatewayError;
use crate::frontends::ClientStream;
use crate::providers::{self, DecodedResponse, ModelFacts, TranslateCtx, UpstreamRequest};
use crate::translate::embeddings::EmbeddingsRequest;
use crate::translate::request::ChatRequest;

/// What is asked of the providers: one request, built per target.
pub enum Job<'a> {
    Chat {
        req: &'a ChatRequest<'a>,
        raw: &'a [u8],
    },
    Embeddings {
        req: &'a EmbeddingsRequest<'a>,
        raw: &'a [u8],
    },
    /// An Anthropic Messages request (passed through or translated per target kind).
    Messages(&'a crate::frontends::anthropic_messages::MessagesJob<'a>),
}

/// What admission needs to know about a request's size.
#[derive(Debug, Clone, Copy)]
pub struct DemandHint {
    pub body_len: usize,
    /// The request's output cap, if it set one.
    pub max_output: Option<u64>,
    /// The request produces output tokens (not embeddings, not token counting).
    pub generates: bool,
}

impl Job<'_> {
    /// Size facts for admission.
    pub fn demand_hint(&self) -> DemandHint {
        match self {
            Job::Chat { req, raw } => DemandHint {
                body_len: raw.len(),
                max_output: req.max_output_tokens(),
                generates: true,
            },
            Job::Embeddings { raw, .. } => DemandHint {
                body_len: raw.len(),
                max_output: None,
                generates: false,
            },
            Job::Messages(m) => DemandHint {
                body_len: m.raw.len(),
                max_output: m.max_tokens,
                generates: m.op == crate::frontends::anthropic_messages::Op::Create,
            },
        }
    }

    /// The native request for `model` at `provider` (`facts`: the catalog's view of it).
    pub fn build(
        &self,
        provider: &ProviderSettings,
        model: &str,
        facts: ModelFacts<'_>,
    ) -> Result<UpstreamRequest, GatewayError> {
        match self {
            Job::Chat { req, raw } => providers::build_request(provider, req, raw, model, facts),
            Job::Embeddings { req, raw } => providers::embeddings::build(provider, req, raw, model),
            Job::Messages(m) => m.build(provider, model, facts),
        }
    }

    /// The client asked for a stream.
    pub fn stream(&self) -> bool {
        match self {
            Job::Chat { req, .. } => req.is_stream(),
            Job::Embeddings { .. } => false,
            Job::Messages(m) => m.stream(),
        }
    }

    /// Decodes a successful non-streaming answer.
    pub fn decode(
        &self,
        provider: &ProviderSettings,
        body: &[u8],
        translate: &TranslateCtx<'_>,
        model: &str,
    ) -> Result<DecodedResponse, GatewayError> {
        match self {
            Job::Chat { .. } => providers::decode_response(provider.kind, body, translate, model),
            Job::Embeddings { req, .. } => {
                providers::embeddings::decode(provider, body, req, model)
            }
            Job::Messages(m) => m.decode(provider, body, translate, model),
        }
    }

    /// A provider's error answer → the client-facing error. An Anthropic provider's refusal
    /// of a Messages request reaches the client in its own words (see
    /// [`anthropic_messages::relay_error`](crate::frontends::anthropic_messages::relay_error)).
    pub fn decode_error(
        &self,
        provider: &ProviderSettings,
        status: u16,
        head: &pingora::http::ResponseHeader,
        body: &[u8],
        retry_after: Option<u64>,
    ) -> GatewayError {
        let e = providers::decode_error(provider, status, head, body, retry_after);
        match self {
            Job::Messages(_) if provider.kind == crate::config::ProviderKind::Anthropic => {
                crate::frontends::anthropic_messages::relay_error(e, status, body)
            }
            _ => e,
        }
    }

    /// The prompt's `o200k_base` token count (the `/v1/messages/count_tokens` estimate), for
    /// billing a cut stream whose provider reported no usage. Tokenizing a long conversation
    /// is CPU work, so it runs off the async workers; a body that cannot be counted is
    /// estimated at four bytes per token.
    pub async fn count_prompt(&self) -> u64 {
        let (raw, messages) = match self {
            Job::Chat { raw, .. } => (*raw, false),
            Job::Messages(m) => (m.raw, true),
            Job::Embeddings { raw, .. } => return (raw.len() as u64).div_ceil(4),
        };
        let fallback = (raw.len() as u64).div_ceil(4);
        let raw = raw.to_vec();
        tokio::task::spawn_blocking(move || count_prompt(&raw, messages).unwrap_or(fallback))
            .await
            .unwrap_or(fallback)
    }

    /// The stream translator for an answer from a provider of `kind`.
    pub fn stream_translator(
        &self,
        kind: crate::config::ProviderKind,
        translate: &TranslateCtx<'_>,
        model: &str,
    ) -> ClientStream {
        match self {
            Job::Messages(m) => m.stream_translator(kind, translate, model),
            _ => ClientStream::Translated(providers::StreamTranslator::new(kind, translate, model)),
        }
    }
}

/// The token estimate of an OpenAI chat body, or of an Anthropic Messages body.
fn count_prompt(raw: &[u8], messages: bool) -> Option<u64> {
    use crate::frontends::anthropic_messages::{count, request::MessagesRequest};
    if messages {
        return MessagesRequest::parse(raw, true)
            .ok()
            .map(|r| count::estimate(r.parts()));
    }
    let req = ChatRequest::parse(raw).ok()?;
    let (messages, tools) = req.raw_messages_and_tools();
    Some(count::estimate_openai(messages, tools))
}
