//! The chat handler shared by every wire format: auth, directives, faults, then the
//! per-format parse and render.

use super::*;

impl EmulatorApp {
    pub(super) async fn chat(
        &self,
        s: &mut ServerSession,
        api: Api,
        body: &[u8],
        json: Option<Value>,
    ) -> Outcome {
        let req_id = next_id();
        let mut head = Head::json(400);
        head.headers
            .push((api.request_id_header(), format!("req_emu{req_id}")));
        let h = s.req_header();
        let authorized = match api {
            // Azure OpenAI authenticates with `api-key`.
            Api::OpenAi => {
                has_bearer(h) || header_str(h, "api-key").is_some_and(|k| !k.trim().is_empty())
            }
            Api::Cohere => has_bearer(h),
            Api::Ollama => true,
            Api::Anthropic => {
                header_str(h, "x-api-key").is_some_and(|k| !k.trim().is_empty()) || has_bearer(h)
            }
            Api::Gemini => header_str(h, "x-goog-api-key").is_some_and(|k| !k.trim().is_empty()),
        };
        let early = if !authorized {
            Some(match api {
                Api::OpenAi => ApiError::new(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). (switchyard-emulator)").code("invalid_api_key"),
                Api::Anthropic => ApiError::new(401, "x-api-key header is required (switchyard-emulator)"),
                Api::Gemini => gemini::missing_key(),
                Api::Cohere => ApiError::new(401, "no api key supplied (switchyard-emulator)"),
                Api::Ollama => ApiError::new(401, "unauthorized (switchyard-emulator)"),
            })
        } else if let Some(e) = azure_url_error(h) {
            Some(e)
        } else if api == Api::Anthropic && header_str(h, "anthropic-version").is_none() {
            Some(ApiError::bad_request(
                "anthropic-version: header is required (switchyard-emulator)",
            ))
        } else {
            None
        };
        if let Some(e) = early {
            return self.fail(s, api, head, &e, req_id).await;
        }
        let Some(json) = json else {
            let e = match serde_json::from_slice::<Value>(body) {
                Err(err) => ApiError::bad_request(format!(
                    "There was an error parsing the body of your request as JSON: {err} (switchyard-emulator)"
                )),
                Ok(_) => ApiError::bad_request("invalid request body"),
            };
            return self.fail(s, api, head, &e, req_id).await;
        };
        let gemini_route = match api {
            Api::Gemini => gemini::route(s.req_header().uri.path()),
            _ => None,
        };
        let model_full = match &gemini_route {
            Some((m, _)) => m.as_str(),
            None => json
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        };
        let (model, spec) = split_model(model_full);
        let (block, spec) = match api {
            Api::Gemini => gemini::take_block(spec),
            _ => (None, spec.map(str::to_owned)),
        };
        let header_spec = header_str(s.req_header(), "x-emulator");
        let d = match Directives::parse(spec.as_deref(), header_spec) {
            Ok(d) => d,
            Err(msg) => {
                return self
                    .fail(s, api, head, &ApiError::bad_request(msg), req_id)
                    .await;
            }
        };
        head.ttfb_ms = d.ttfb_ms;
        if let Some(n) = d.slow_after {
            let key = format!("{model_full}\u{1f}slow_after");
            if self.recorder.bump_failure_counter(&key) <= n {
                head.ttfb_ms = 0;
            }
        }
        if let Some(secs) = d.retry_after {
            head.headers.push(("retry-after", secs.to_string()));
        }
        if d.context_exceeded {
            let e = match api {
                Api::OpenAi => context_window::openai(),
                Api::Anthropic => context_window::anthropic(),
                Api::Gemini => context_window::gemini(),
                Api::Cohere => context_window::cohere(),
                Api::Ollama => context_window::ollama(),
            };
            return self.fail(s, api, head, &e, req_id).await;
        }
        match self.decide_fault(&d, model_full, header_spec) {
            None => {}
            Some(FailMode::Refuse) => return Outcome::Close,
            Some(FailMode::Timeout) => {
                let ms = d.hang_ms.unwrap_or(DEFAULT_HANG_MS);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                return Outcome::Close;
            }
            Some(FailMode::Status(status)) if api == Api::Gemini => {
                head.status = status;
                let e = api.status_error(status);
                let body = Bytes::from(gemini::error_body(&e, d.retry_after));
                return delivery::send_full(s, &head, body, None).await;
            }
            Some(FailMode::Status(status)) => {
                return self
                    .fail(s, api, head, &api.status_error(status), req_id)
                    .await;
            }
        }
        if let Some((_, method)) = gemini_route {
            let call = gemini::serve::Call {
                model,
                method,
                block,
            };
            return self.gemini(s, head, &json, call, &d, req_id).await;
        }
        let mut thinks = false;
        let result = match api {
            Api::OpenAi => openai::parse(&json).map(|r| (r.stream, r.include_usage, r.conv)),
            Api::Anthropic => {
                let mid =
                    anthropic::allows_mid_system(header_str(s.req_header(), "anthropic-beta"));
                anthropic::parse_with(&json, mid).map(|r| {
                    thinks = r.thinking;
                    (r.stream, false, r.conv)
                })
            }
            // Gemini requests were answered by `gemini()` above.
            Api::Gemini => Err(ApiError::new(500, "unreachable")),
            Api::Ollama => ollama::parse(&json).map(|r| (r.stream, false, r.conv)),
            Api::Cohere => cohere::parse(&json).map(|r| (r.stream, false, r.conv)),
        };
        let (stream, include_usage, conv) = match result {
            Ok(r) => r,
            Err(e) => return self.fail(s, api, head, &e, req_id).await,
        };
        let style = match api {
            Api::OpenAi | Api::Gemini => Style::default(),
            Api::Anthropic => Style {
                tool_preamble: Some(anthropic::render::TOOL_PREAMBLE),
                thinking: d.thinking || thinks,
            },
            Api::Ollama => Style {
                tool_preamble: None,
                thinking: d.thinking,
            },
            Api::Cohere => Style {
                tool_preamble: Some(cohere::render::TOOL_PLAN),
                thinking: d.thinking,
            },
        };
        let plan = scenario::plan(&conv, &d, style);
        head.status = 200;
        let id = req_id;
        let oa = openai::render::Ctx {
            id,
            created: now_secs(),
            model,
            include_usage,
            no_usage: d.no_usage,
            no_done: d.no_done,
            spaced: d.spaced,
        };
        let an = anthropic::render::Ctx {
            id,
            model,
            no_usage: d.no_usage,
        };
        let ol = ollama::render::Ctx {
            model,
            no_usage: d.no_usage,
            no_done: d.no_done,
        };
        let co = cohere::render::Ctx {
            id,
            no_usage: d.no_usage,
        };
        if !stream {
            let out = match api {
                Api::OpenAi => openai::render::render_json(&plan, &oa),
                Api::Anthropic => anthropic::render::render_json(&plan, &an),
                Api::Gemini => Vec::new(), // answered by `gemini()` above
                Api::Ollama => ollama::render::render_json(&plan, &ol),
                Api::Cohere => cohere::render::render_json(&plan, &co),
            };
            return delivery::send_full(s, &head, Bytes::from(out), d.drop_after).await;
        }
        let (events, error_event) = match api {
            Api::OpenAi => (
                openai::render::render_sse(&plan, &oa),
                openai::render::stream_error_event(),
            ),
            Api::Anthropic => (
                anthropic::render::render_sse(&plan, &an),
                anthropic::render::stream_error_event(),
            ),
            Api::Ollama => (
                ollama::render::render_ndjson(&plan, &ol),
                ollama::render::stream_error_event(),
            ),
            Api::Cohere => (
                cohere::render::render_sse(&plan, &co),
                cohere::render::stream_error_event(),
            ),
            Api::Gemini => (Vec::new(), Bytes::new()), // answered by `gemini()` above
        };
        head.content_type = if api == Api::Ollama {
            "application/x-ndjson"
        } else {
            "text/event-stream"
        };
        let mut events = events;
        if is_azure_deployment(s.req_header()) {
            events.insert(
                0,
                Bytes::from_static(crate::embeddings::AZURE_FILTER_CHUNK.as_bytes()),
            );
        }
        let faults = StreamFaults {
            chunk_ms: d.chunk_ms,
            split: d.split,
            drop_after: d.drop_after,
            error_after: d.error_after,
            error_event,
        };
        delivery::send_sse(s, &head, events, &faults).await
    }
}
