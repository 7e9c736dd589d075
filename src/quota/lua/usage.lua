-- ARGV: now_ms. KEYS: the 11 keys of one scope.
-- Returns {requests, tokens, in flight, daily, monthly, total settled spend}.
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', key(1, 1), '-inf', now - W)
prune_tpm(key(1, 2), key(1, 3), key(1, 4), now - W)
redis.call('ZREMRANGEBYSCORE', key(1, 5), '-inf', now)
return {
  redis.call('ZCARD', key(1, 1)),
  num(redis.call('GET', key(1, 4))),
  redis.call('ZCARD', key(1, 5)),
  num(redis.call('GET', key(1, 9))),
  num(redis.call('GET', key(1, 10))),
  num(redis.call('GET', key(1, 11))),
}
