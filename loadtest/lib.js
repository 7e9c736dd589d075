// Shared settings of the k6 scripts in loadtest/: where the gateway is, the client key, and request helpers.
//   BASE_URL  gateway base, default http://127.0.0.1:8080
//   KEY       client key, default sk-switchyard-demo
import http from 'k6/http';

export const BASE = __ENV.BASE_URL || 'http://127.0.0.1:8080';
export const KEY = __ENV.KEY || 'sk-switchyard-demo';
export const HEADERS = { 'Content-Type': 'application/json', Authorization: `Bearer ${KEY}` };

// POST one chat completion for `model` (a route name of loadtest/run.sh's config).
export function chat(model, stream, tags) {
  const body = { model, messages: [{ role: 'user', content: 'Hello' }] };
  if (stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  return http.post(`${BASE}/v1/chat/completions`, JSON.stringify(body), { headers: HEADERS, tags, timeout: '30s' });
}

// The JSON payloads of an SSE body's `data:` lines, `[DONE]` excluded; null if a line is not JSON.
export function sseData(body) {
  const out = [];
  for (const line of (body || '').split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
    try {
      out.push(JSON.parse(line.slice(6)));
    } catch (_) {
      return null;
    }
  }
  return out;
}

// The text of a streamed completion (concatenated content deltas).
export function sseText(chunks) {
  return chunks.map((c) => (c.choices && c.choices[0] && c.choices[0].delta.content) || '').join('');
}
