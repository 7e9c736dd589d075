//! The Anthropic Messages API as a client format: `POST /v1/messages` and
//! `POST /v1/messages/count_tokens`, so Claude Code and the `anthropic` SDKs can use the
//! gateway (`ANTHROPIC_BASE_URL`) with any provider kind behind it.
//!
//! ## Design
//!
//! The request goes through the same routing, failover and accounting pipeline as chat
//! completions (`proxy::forward::run` with a `Job::Messages`); what changes is how
//! each target's request is built and how its answer is read, decided **per target** (a route
//! can mix an Anthropic primary with an OpenAI fallback):
//!
//! * **Anthropic-kind target: pass-through.** The client's body is sent with only `model`
//!   replaced (a byte splice), plus the client's `anthropic-version` (else the provider's
//!   configured one) and `anthropic-beta`, so thinking, `cache_control`, citations, server
//!   tools and future features keep full fidelity. Answers are relayed unchanged
//!   ([`response::passthrough`], [`relay`]) while usage is read, `event: error` is detected
//!   and a stream without `message_stop` is reported as truncated.
//! * **Any other kind: translation.** The request is translated into an OpenAI chat request
//!   ([`request::to_openai`]), parsed by [`ChatRequest::parse`] and built by the provider's
//!   own translator, exactly as if an OpenAI client had sent it. Answers do not pass through
//!   OpenAI form: a translated kind's decoder renders its [`Answer`](crate::translate::events::Answer)
//!   with [`response::render`], and its stream translator writes
//!   its events straight into [`stream::AnthropicEvents`] ([`FORMAT`]); only OpenAI-format
//!   providers, whose wire format *is* OpenAI JSON and chunks, go through
//!   [`response::to_message`] and [`stream::ToAnthropic`].
//!
//! Errors on these endpoints are rendered Anthropic-shaped by the one error writer
//! (`proxy::respond`, `error/anthropic.rs`); overload is 529 `overloaded_error`. An Anthropic
//! provider's refusal of the request itself (400, 413, 422) keeps Anthropic's own message
//! ([`relay_error`]): clients such as Claude Code recognise some refusals by their wording.
//!
//! `count_tokens` (`proxy::handlers::messages::count_tokens`) forwards to the first target when it is an
//! Anthropic provider and otherwise estimates locally ([`count`]).
//!
//! [`ChatRequest::parse`]: crate::translate::request::ChatRequest::parse

pub mod count;
mod events;
mod relay;
pub mod request;
pub mod response;
pub mod stream;

pub use relay::{Relay, RelayStream, relay_error};
pub use stream::ToAnthropic;

use crate::error::GatewayError;
use crate::frontends::ClientStream;
use crate::providers::settings::{ProviderKind, ProviderSettings};
use crate::providers::{self, DecodedResponse, StreamTranslator, TranslateCtx, UpstreamRequest};
use crate::translate::events::ClientFormat;
use crate::translate::request::{ChatRequest, Span};
use http::{HeaderName, HeaderValue};

/// How providers' answers become Anthropic Messages answers: the stream event writer and the
/// `message` renderer.
pub static FORMAT: ClientFormat = ClientFormat {
    sink: stream::sink,
    answer: response::render,
};

/// Which Anthropic operation the job performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    CountTokens,
}

/// Everything needed to build and read one Messages request for any target.
pub struct MessagesJob<'a> {
    pub op: Op,
    /// The client's Anthropic body.
    pub raw: &'a [u8],
    pub model_span: Span,
    pub stream: bool,
    /// The OpenAI translation (present when a non-Anthropic target is planned), or why the
    /// request cannot be translated.
    pub chat: Option<Result<(&'a ChatRequest<'a>, &'a [u8]), GatewayError>>,
    /// Client headers forwarded to Anthropic targets (`anthropic-version`, `anthropic-beta`).
    pub forward: Vec<(HeaderName, HeaderValue)>,
    /// The request's `max_tokens` (limits reserve it).
    pub max_tokens: Option<u64>,
}

impl MessagesJob<'_> {
    /// The native request for `model` at `provider`.
    pub fn build(
        &self,
        provider: &ProviderSettings,
        model: &str,
        facts: providers::ModelFacts<'_>,
    ) -> Result<UpstreamRequest, GatewayError> {
        if provider.kind == ProviderKind::Anthropic {
            let path = match self.op {
                Op::Create => "/v1/messages",
                Op::CountTokens => "/v1/messages/count_tokens",
            };
            let body = request::splice_model(self.raw, self.model_span, model);
            let mut req = UpstreamRequest::new(
                format!("{}{path}", provider.endpoint.path_prefix),
                body.into(),
            );
            req.headers = self.forward.clone();
            return Ok(req);
        }
        match &self.chat {
            Some(Ok((chat, raw))) => providers::build_request(provider, chat, raw, model, facts),
            Some(Err(e)) => Err(e.clone()),
            None => Err(GatewayError::internal()),
        }
    }

    /// The client asked for a stream.
    pub fn stream(&self) -> bool {
        self.stream
    }

    /// Decodes a successful non-streaming answer into an Anthropic body.
    pub fn decode(
        &self,
        provider: &ProviderSettings,
        body: &[u8],
        translate: &TranslateCtx<'_>,
        model: &str,
    ) -> Result<DecodedResponse, GatewayError> {
        match provider.kind {
            ProviderKind::Anthropic => response::passthrough(body),
            // OpenAI-format providers answer in OpenAI JSON: translate that.
            ProviderKind::OpenAi | ProviderKind::Azure => {
                let d = providers::decode_response(provider.kind, body, translate, model)?;
                let body = response::to_message(&d.body, d.usage, translate.request_id, model)?;
                Ok(DecodedResponse {
                    body,
                    usage: d.usage,
                })
            }
            // Every other kind's decoder renders the Messages answer directly.
            _ => {
                let ctx = TranslateCtx {
                    format: Some(&FORMAT),
                    ..translate.clone()
                };
                providers::decode_response(provider.kind, body, &ctx, model)
            }
        }
    }

    /// The stream translator for an answer from a provider of `kind`.
    pub fn stream_translator(
        &self,
        kind: ProviderKind,
        translate: &TranslateCtx<'_>,
        model: &str,
    ) -> ClientStream {
        match kind {
            ProviderKind::Anthropic => ClientStream::AnthropicRelay(Relay::stream(translate)),
            // OpenAI-format providers answer in OpenAI chunks: parse those into events.
            ProviderKind::OpenAi | ProviderKind::Azure => {
                let inner = StreamTranslator::new(kind, translate, model);
                ClientStream::ToAnthropic(Box::new(ToAnthropic::new(inner, translate, model)))
            }
            // Every other kind's translator writes Anthropic events directly.
            _ => {
                let ctx = TranslateCtx {
                    format: Some(&FORMAT),
                    ..translate.clone()
                };
                ClientStream::Translated(StreamTranslator::new(kind, &ctx, model))
            }
        }
    }
}
