// k6 load: streaming chat completions through Switchyard (OpenAI in, Anthropic Messages to the emulator, OpenAI SSE
// out). Checks each stream ends with `data: [DONE]` after the text and the usage chunk, and measures the time to the
// first chunk (custom Trend `time_to_first_chunk`: the gateway sends its response head with the first real output, so
// time to first byte is time to first chunk). Route `demo` answers at once; route `paced` has the emulator wait 100 ms
// before the first token and 10 ms between tokens, which shows the gateway relays tokens as they come instead of
// buffering the stream. Bounded by DURATION. Run through loadtest/run.sh (`make loadtest`).
//   VUS, DURATION  load shape, default 16 VUs for 15s
import { check } from 'k6';
import { Rate, Trend } from 'k6/metrics';
import { chat, sseData, sseText } from './lib.js';

const ttfc = new Trend('time_to_first_chunk', true);
const ok = new Rate('stream_ok');

export const options = {
  vus: Number(__ENV.VUS || 16),
  duration: __ENV.DURATION || '15s',
  thresholds: {
    http_req_failed: ['rate<0.001'],
    stream_ok: ['rate>0.999'],
    'time_to_first_chunk{route:demo}': ['p(95)<100', 'p(99)<250'],
    // 100 ms of emulator think time plus what the gateway adds.
    'time_to_first_chunk{route:paced}': ['p(95)<200', 'p(99)<350', 'min>=100'],
  },
};

function verify(r, route) {
  const chunks = r.status === 200 ? sseData(r.body) : null;
  return check(r, {
    'status 200': (x) => x.status === 200,
    'event stream': (x) => (x.headers['Content-Type'] || '').startsWith('text/event-stream'),
    'ends with [DONE]': (x) => x.body.trimEnd().endsWith('data: [DONE]'),
    'chunks are JSON': () => chunks !== null && chunks.length > 2,
    'has text': () => chunks !== null && sseText(chunks).length > 0,
    'finish_reason stop': () => chunks !== null && chunks.some((c) => c.choices && c.choices[0]
      && c.choices[0].finish_reason === 'stop'),
    'usage chunk': () => chunks !== null && chunks.some((c) => c.usage && c.usage.total_tokens > 0),
    // 11 tokens 10 ms apart: a buffered stream would arrive in one piece.
    'tokens relayed as they come': (x) => route !== 'paced' || x.timings.receiving >= 50,
  });
}

export default function () {
  for (const route of ['demo', 'paced']) {
    const r = chat(route, true, { route });
    ttfc.add(r.timings.waiting, { route });
    ok.add(verify(r, route), { route });
  }
}
