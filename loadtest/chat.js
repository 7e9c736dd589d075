// k6 load: non-streaming chat completions through Switchyard, half translated to Anthropic Messages
// (route `demo`), half passed through to the OpenAI API (route `passthrough`). Bounded by DURATION.
// Run through loadtest/run.sh (`make loadtest`).
//   VUS, DURATION  load shape, default 16 VUs for 15s
import { check } from 'k6';
import { Rate } from 'k6/metrics';
import { chat } from './lib.js';

const ok = new Rate('chat_ok');

export const options = {
  vus: Number(__ENV.VUS || 16),
  duration: __ENV.DURATION || '15s',
  thresholds: {
    http_req_failed: ['rate<0.001'],
    chat_ok: ['rate>0.999'],
    'http_req_duration{route:demo}': ['p(95)<250', 'p(99)<500'],
    'http_req_duration{route:passthrough}': ['p(95)<250', 'p(99)<500'],
  },
};

export default function () {
  for (const route of ['demo', 'passthrough']) {
    const r = chat(route, false, { route });
    const good = check(r, {
      'status 200': (x) => x.status === 200,
      'chat.completion': (x) => x.json('object') === 'chat.completion',
      'has content': (x) => (x.json('choices.0.message.content') || '').length > 0,
      'finish_reason stop': (x) => x.json('choices.0.finish_reason') === 'stop',
      'usage counted': (x) => x.json('usage.total_tokens') > 0,
    });
    ok.add(good, { route });
  }
}
