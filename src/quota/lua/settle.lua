-- ARGV: now_ms, id, actual tokens, reserved cost, actual cost, n, then per scope 7 numbers:
-- has tpm, has concurrency (0/1), daily, monthly, total limit (-1 = none), daily ttl,
-- monthly ttl (s). Returns {before, after} settled spend for each limited budget, in order.
local now = tonumber(ARGV[1])
local id = ARGV[2]
local tokens = tonumber(ARGV[3])
local delta_cost = tonumber(ARGV[5]) - tonumber(ARGV[4])
local n = tonumber(ARGV[6])
local function lim(i, j) return tonumber(ARGV[6 + (i - 1) * 7 + j]) end
local out = {}

for i = 1, n do
  if lim(i, 1) == 1 then
    prune_tpm(key(i, 2), key(i, 3), key(i, 4), now - W)
    local old = redis.call('HGET', key(i, 3), id)
    if old then
      redis.call('HSET', key(i, 3), id, ARGV[3])
      local d = tokens - tonumber(old)
      if d ~= 0 and redis.call('INCRBY', key(i, 4), d) < 0 then
        redis.call('SET', key(i, 4), 0)
        redis.call('PEXPIRE', key(i, 4), W + 1000)
      end
    end
  end
  if lim(i, 2) == 1 then redis.call('ZREM', key(i, 5), id) end
  for p = 1, 3 do
    if lim(i, 2 + p) >= 0 then
      local res, spent = key(i, 5 + p), key(i, 8 + p)
      if delta_cost ~= 0 and redis.call('INCRBY', res, delta_cost) < 0 then
        redis.call('SET', res, 0)
      end
      local before = num(redis.call('GET', spent))
      local after = redis.call('INCRBY', spent, ARGV[5])
      if p < 3 then
        redis.call('EXPIRE', res, lim(i, 5 + p))
        redis.call('EXPIRE', spent, lim(i, 5 + p))
      end
      out[#out + 1] = before
      out[#out + 1] = after
    end
  end
end
return out
