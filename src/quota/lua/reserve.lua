-- ARGV: now_ms, id, tokens, cost, lease_ms, n, then per scope 8 numbers:
-- rpm, tpm, concurrency, daily, monthly, total limit (-1 = none), daily ttl, monthly ttl (s).
-- Returns {0} when everything was taken, else {scope index, code, limit, extra} and takes
-- nothing: code 1 rpm / 2 tpm / 3 concurrency (extra = retry ms), 4/5/6 daily/monthly/total
-- budget (extra = reserved+settled spend).
local now = tonumber(ARGV[1])
local id = ARGV[2]
local tokens = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local lease = tonumber(ARGV[5])
local n = tonumber(ARGV[6])
local cutoff = now - W
local function lim(i, j) return tonumber(ARGV[6 + (i - 1) * 8 + j]) end

for i = 1, n do
  local rpm, tpm, conc = lim(i, 1), lim(i, 2), lim(i, 3)
  if rpm >= 0 then
    redis.call('ZREMRANGEBYSCORE', key(i, 1), '-inf', cutoff)
    local c = redis.call('ZCARD', key(i, 1))
    if c >= rpm then
      local e = redis.call('ZRANGE', key(i, 1), c - rpm, c - rpm, 'WITHSCORES')
      local retry = W
      if e[2] then retry = tonumber(e[2]) + W - now end
      return {i, 1, rpm, math.max(retry, 0)}
    end
  end
  if tpm >= 0 then
    prune_tpm(key(i, 2), key(i, 3), key(i, 4), cutoff)
    local sum = num(redis.call('GET', key(i, 4)))
    if sum + tokens > tpm then
      local entries = redis.call('ZRANGE', key(i, 2), 0, -1, 'WITHSCORES')
      local left, retry = sum, W
      for k = 1, #entries, 2 do
        left = left - num(redis.call('HGET', key(i, 3), entries[k]))
        if left + tokens <= tpm then
          retry = tonumber(entries[k + 1]) + W - now
          break
        end
      end
      return {i, 2, tpm, math.max(retry, 0)}
    end
  end
  if conc >= 0 then
    redis.call('ZREMRANGEBYSCORE', key(i, 5), '-inf', now)
    if redis.call('ZCARD', key(i, 5)) >= conc then return {i, 3, conc, 1000} end
  end
  for p = 1, 3 do
    local l = lim(i, 3 + p)
    if l >= 0 then
      local res = num(redis.call('GET', key(i, 5 + p)))
      if res + cost > l then return {i, 3 + p, l, res} end
    end
  end
end

for i = 1, n do
  if lim(i, 1) >= 0 then
    redis.call('ZADD', key(i, 1), now, id)
    redis.call('PEXPIRE', key(i, 1), W + 1000)
  end
  if lim(i, 2) >= 0 then
    redis.call('ZADD', key(i, 2), now, id)
    redis.call('HSET', key(i, 3), id, ARGV[3])
    redis.call('INCRBY', key(i, 4), ARGV[3])
    for j = 2, 4 do redis.call('PEXPIRE', key(i, j), W + 1000) end
  end
  if lim(i, 3) >= 0 then
    redis.call('ZADD', key(i, 5), now + lease, id)
    redis.call('PEXPIRE', key(i, 5), lease + 1000)
  end
  for p = 1, 3 do
    if lim(i, 3 + p) >= 0 then
      redis.call('INCRBY', key(i, 5 + p), ARGV[4])
      if p < 3 then redis.call('EXPIRE', key(i, 5 + p), lim(i, 6 + p)) end
    end
  end
end
return {0}
