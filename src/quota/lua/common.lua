-- Shared helpers (prepended to every quota script). Per scope, KEYS holds 11 keys:
-- 1 rpm zset, 2 tpm zset, 3 tpm hash (id -> tokens), 4 tpm running sum, 5 concurrency zset,
-- 6/7/8 daily/monthly/total reserved+settled counter, 9/10/11 daily/monthly/total settled.
local W = 60000
local function key(i, j) return KEYS[(i - 1) * 11 + j] end
local function num(v) return tonumber(v or '0') or 0 end

-- Drops TPM entries that left the window and takes their tokens off the running sum.
local function prune_tpm(z, h, s, cutoff)
  local old = redis.call('ZRANGEBYSCORE', z, '-inf', cutoff)
  if #old == 0 then return end
  local freed = 0
  for a = 1, #old, 500 do
    local chunk = {}
    for b = a, math.min(a + 499, #old) do chunk[#chunk + 1] = old[b] end
    local vals = redis.call('HMGET', h, unpack(chunk))
    for _, v in ipairs(vals) do if v then freed = freed + tonumber(v) end end
    redis.call('HDEL', h, unpack(chunk))
  end
  redis.call('ZREMRANGEBYSCORE', z, '-inf', cutoff)
  local left = redis.call('DECRBY', s, freed)
  if left < 0 or redis.call('ZCARD', z) == 0 then
    redis.call('SET', s, 0)
    redis.call('PEXPIRE', s, W + 1000)
  end
end
