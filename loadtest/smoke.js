// k6 smoke test: a short, bounded load of plain and streaming chat completions through
// Switchyard against the bundled emulator. Run by `make loadtest` (and by `make test`).
//
//   BASE_URL  gateway base, default http://127.0.0.1:8080
//   KEY       client key, default sk-switchyard-demo
//   MODEL     model, default demo (OpenAI -> Anthropic translation)
//   VUS, DURATION  load shape, default 4 VUs for 10s
import http from 'k6/http';
import { check } from 'k6';

const BASE = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const KEY = __ENV.KEY || 'sk-switchyard-demo';
const MODEL = __ENV.MODEL || 'demo';

export const options = {
  vus: Number(__ENV.VUS || 4),
  duration: __ENV.DURATION || '10s',
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{kind:plain}': ['p(95)<250'],
    'http_req_duration{kind:stream}': ['p(95)<250'],
    checks: ['rate>0.99'],
  },
};

const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${KEY}` };

export default function () {
  const plain = http.post(`${BASE}/v1/chat/completions`, JSON.stringify({
    model: MODEL,
    messages: [{ role: 'user', content: 'Hello' }],
  }), { headers, tags: { kind: 'plain' } });
  check(plain, {
    'plain 200': (r) => r.status === 200,
    'plain has content': (r) => r.json('choices.0.message.content').length > 0,
  });

  const stream = http.post(`${BASE}/v1/chat/completions`, JSON.stringify({
    model: MODEL,
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'Hello' }],
  }), { headers, tags: { kind: 'stream' } });
  check(stream, {
    'stream 200': (r) => r.status === 200,
    'stream ends with [DONE]': (r) => r.body.trimEnd().endsWith('data: [DONE]'),
    'stream has usage': (r) => r.body.includes('"usage":{'),
  });
}
