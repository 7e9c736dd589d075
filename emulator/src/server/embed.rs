//! Embeddings handlers: OpenAI/Azure `…/embeddings`, Ollama `/api/embed`, Cohere `/v2/embed`.

use super::*;

impl EmulatorApp {
    /// `POST …/embeddings` (OpenAI and Azure URLs): deterministic vectors.
    pub(super) async fn embeddings(&self, s: &mut ServerSession, json: Option<Value>) -> Outcome {
        let h = s.req_header();
        let mut head = Head::json(400);
        head.headers
            .push(("x-request-id", format!("req_emu{}", next_id())));
        let authorized =
            has_bearer(h) || header_str(h, "api-key").is_some_and(|k| !k.trim().is_empty());
        let result = if !authorized {
            Err(
                ApiError::new(401, "Incorrect API key provided. (switchyard-emulator)")
                    .code("invalid_api_key"),
            )
        } else if let Some(e) = azure_url_error(h) {
            Err(e)
        } else {
            json.ok_or_else(|| ApiError::bad_request("invalid JSON body (switchyard-emulator)"))
                .and_then(|j| crate::embeddings::parse_openai(&j))
        };
        match result {
            Ok(req) => {
                let (model, spec) = split_model(&req.model);
                if let Ok(d) = Directives::parse(spec, header_str(s.req_header(), "x-emulator")) {
                    if let Some(status) = d.status {
                        head.status = status;
                        let e = Api::OpenAi.status_error(status);
                        return delivery::send_full(s, &head, Api::OpenAi.error_body(&e, 0), None)
                            .await;
                    }
                }
                head.status = 200;
                let body =
                    crate::embeddings::render_openai(model, &req.inputs, req.dims, req.base64);
                delivery::send_full(s, &head, Bytes::from(body), None).await
            }
            Err(e) => {
                head.status = e.status;
                delivery::send_full(s, &head, Api::OpenAi.error_body(&e, 0), None).await
            }
        }
    }

    /// `/api/embed` and `/v2/embed`: deterministic vectors; `status` directives apply.
    pub(super) async fn embed(
        &self,
        s: &mut ServerSession,
        api: Api,
        json: Option<Value>,
    ) -> Outcome {
        let req_id = next_id();
        let mut head = Head::json(400);
        head.headers
            .push((api.request_id_header(), format!("req_emu{req_id}")));
        if api == Api::Cohere && !has_bearer(s.req_header()) {
            let e = ApiError::new(401, "no api key supplied (switchyard-emulator)");
            return self.fail(s, api, head, &e, req_id).await;
        }
        let Some(json) = json else {
            let e = ApiError::bad_request("invalid JSON body (switchyard-emulator)");
            return self.fail(s, api, head, &e, req_id).await;
        };
        let model_full = json
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let (model, spec) = split_model(model_full);
        let header_spec = header_str(s.req_header(), "x-emulator");
        let d = match Directives::parse(spec, header_spec) {
            Ok(d) => d,
            Err(msg) => {
                return self
                    .fail(s, api, head, &ApiError::bad_request(msg), req_id)
                    .await;
            }
        };
        if let Some(secs) = d.retry_after {
            head.headers.push(("retry-after", secs.to_string()));
        }
        if let Some(FailMode::Status(status)) = self.decide_fault(&d, model_full, header_spec) {
            return self
                .fail(s, api, head, &api.status_error(status), req_id)
                .await;
        }
        let out = match api {
            Api::Cohere => cohere::embed(&json, req_id),
            _ => ollama::embed(&json, model),
        };
        match out {
            Ok(body) => {
                head.status = 200;
                delivery::send_full(s, &head, Bytes::from(body), None).await
            }
            Err(e) => self.fail(s, api, head, &e, req_id).await,
        }
    }
}
