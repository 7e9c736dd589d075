// k6 load: failover under mixed traffic. Route `flaky` has two targets on two providers: one fails 30 % of its
// requests (emulator `fail_rate=0.3`, random 500/502/503/429), the other is healthy. Plain and streaming requests to
// `flaky` are mixed with plain requests to the healthy `passthrough` route. Threshold: at least 99.9 % of the requests
// to `flaky` succeed through the gateway, and the failing target really was tried (some replies needed more than one
// attempt). Bounded by DURATION. Run through loadtest/run.sh (`make loadtest`).
//   VUS, DURATION  load shape, default 16 VUs for 15s
import { check } from 'k6';
import { Counter, Rate } from 'k6/metrics';
import { chat } from './lib.js';

const ok = new Rate('flaky_ok');
const retried = new Counter('flaky_retried');

export const options = {
  vus: Number(__ENV.VUS || 16),
  duration: __ENV.DURATION || '15s',
  thresholds: {
    flaky_ok: ['rate>=0.999'],
    'http_req_failed{route:passthrough}': ['rate<0.001'],
    'http_req_duration{route:flaky}': ['p(99)<1000'],
    // Without retried replies the failing target was never tried, and the test would prove nothing.
    flaky_retried: ['count>0'],
  },
};

export default function () {
  const stream = Math.random() < 0.5;
  const r = chat('flaky', stream, { route: 'flaky', kind: stream ? 'stream' : 'plain' });
  const good = check(r, {
    'flaky 200': (x) => x.status === 200,
    'flaky complete': (x) => (stream ? x.body.trimEnd().endsWith('data: [DONE]')
      : (x.json('choices.0.message.content') || '').length > 0),
  });
  ok.add(good);
  if (Number(r.headers['X-Switchyard-Attempts'] || '1') > 1) retried.add(1);

  const p = chat('passthrough', false, { route: 'passthrough' });
  check(p, { 'passthrough 200': (x) => x.status === 200 });
}
