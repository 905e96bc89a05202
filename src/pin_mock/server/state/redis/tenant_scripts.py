"""The Lua scripts of the Redis engine's tenants: each write, and each multi-step read, is one.

A script runs atomically in Redis: a quota check and its write cannot be split
by another worker's write, and a write is either wholly done or not at all
(never half-written, even if the connection drops). Key layout of one tenant
(``T`` = ``pin:t:{client_id}:``):

=================  ======  ==============================================
``T p``            hash    created patient id -> patient JSON
``T order``        list    created patient ids, in creation order (row = index)
``T lines``        string  per created patient: its search key ("id name",
                           lower-cased), ``\1``, its id, ``\0`` (``SEARCH``)
``T e:{pid}``      list    created entries of one patient (JSON), in creation order
``T ep``           set     patient ids with created entries
``T m``            hash    ``version`` (the global ``pin:version``, ``NEXT_VERSION``), ``entries`` count,
                           ``born``: the version of the first create since a reset
                           (names the generation of ``lines``, which only grows within one)
``T keys``         set     the tenant's variable keys (entry lists...),
                           so a reset finds them without scanning the database
``T retries``      hash    delivery -> its scheduled retry (``webhooks.py``),
                           cancelled by a reset
``pin:tenants``    zset    client id -> last activity (seconds), for ``--sandbox-ttl``
=================  ======  ==============================================
"""

from __future__ import annotations

# The next of ``pin:version`` (KEYS[6]): a counter that a new or wiped Redis would start
# again at 1, so that a worker's views cached on an earlier Redis's versions could match
# again; a fresh counter therefore jumps to the microseconds since 1970 (Redis's TIME),
# past every version an earlier Redis gave (unless it gave over a million a second).
NEXT_VERSION = """
local version = redis.call('INCR', KEYS[6])
if version == 1 then
  local now = redis.call('TIME')
  version = redis.call('INCRBY', KEYS[6], now[1] .. string.format('%06d', now[2]))
end
"""

# KEYS: p, order, lines, m, tenants, version
# ARGV: id, json, search line, cap, now, client id
# A create sent twice (a retry on a broken connection) is stored once: ids are unique.
ADD_PATIENT = (
    """
local held = redis.call('LLEN', KEYS[2])
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return {1, held} end
if held >= tonumber(ARGV[4]) then return {0, held} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('APPEND', KEYS[3], ARGV[3])
"""
    + NEXT_VERSION
    + """
redis.call('HSET', KEYS[4], 'version', version)
-- ``born``: this generation's name, unique even if Redis restarted empty (the counter too)
local named = string.format('%d', version) .. '@' .. table.concat(redis.call('TIME'), '.')
redis.call('HSETNX', KEYS[4], 'born', named)
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[6])
return {1, held + 1}
"""
)

# KEYS: e:{pid}, m, ep, keys, tenants, version, p
# ARGV: json, cap, patient id, now, client id, "1" if the patient is seeded
ADD_ENTRY = (
    """
if ARGV[6] ~= '1' and redis.call('HEXISTS', KEYS[7], ARGV[3]) == 0 then
  return {-1, 0}
end
local held = tonumber(redis.call('HGET', KEYS[2], 'entries') or '0')
-- Sent twice (a retry on a broken connection, at once): already the patient's last entry.
if redis.call('LINDEX', KEYS[1], -1) == ARGV[1] then return {1, held} end
if held >= tonumber(ARGV[2]) then return {0, held} end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[3])
redis.call('SADD', KEYS[4], KEYS[1])
redis.call('HINCRBY', KEYS[2], 'entries', 1)
"""
    + NEXT_VERSION
    + """
redis.call('HSET', KEYS[2], 'version', version)
redis.call('ZADD', KEYS[5], ARGV[4], ARGV[5])
return {1, held + 1}
"""
)

# KEYS: order, p.  ARGV: start, count.  -> {total, json...}
PAGE = """
local total = redis.call('LLEN', KEYS[1])
local out = {total}
local count = tonumber(ARGV[2])
if count > 0 then
  local start = tonumber(ARGV[1])
  local ids = redis.call('LRANGE', KEYS[1], start, start + count - 1)
  if #ids > 0 then
    local bodies = redis.call('HMGET', KEYS[2], unpack(ids))
    for i = 1, #bodies do out[#out + 1] = bodies[i] end
  end
end
return out
"""

# Whether a create that read no webhooks may store (``state/unread.py``), run before it in
# the same script (``then``). KEYS: the tenant's webhooks.  ARGV: the event type.
# -> {1} if no webhook subscribes to it, else {0}
UNSUBSCRIBED = """
for _, raw in ipairs(redis.call('HVALS', KEYS[1])) do
  local events = cjson.decode(raw)['events']
  if type(events) == 'table' then
    for _, event in ipairs(events) do
      if event == ARGV[1] then return {0} end
    end
  end
end
return {1}
"""

# Reads of one round trip each, written as scripts so a request's rate-limit count can ride
# on them (``trips.py``).
# KEYS: a hash.  ARGV: a field.  -> its value or nil
FIELD = "return redis.call('HGET', KEYS[1], ARGV[1])"
# KEYS: a list.  -> its items
ITEMS = "return redis.call('LRANGE', KEYS[1], 0, -1)"
# KEYS: p, e:{pid}.  ARGV: pid.  -> {patient JSON or false, entry JSON...}
PATIENT_AND_ENTRIES = """
local out = {redis.call('HGET', KEYS[1], ARGV[1])}
if out[1] then
  for _, raw in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do out[#out + 1] = raw end
end
return out
"""

# KEYS: lines, p, m.  ARGV: term, start, count, born, from, seen, have, keep, then the ids
# of the page among the matches before ``from`` (what the worker remembers).
# -> {born, scanned up to, new matches, n kept, the kept ids..., the page's JSON...}
# ``lines`` holds one line per created patient, in creation order:
# "<search key>\1<id>\0". Lua's plain ``string.find`` (memchr + memcmp) jumps
# from one match to the next; a match is attributed to its line (the id after
# the next \1) and the scan resumes after that line, so each patient counts
# once. A term cannot hold \0 or \1, so it never matches across lines, and a
# match inside the id copy is always preceded by one in the key itself.
#
# Incremental: ``lines`` only grows until the tenant is reset, and ``m born`` names
# the tenant's generation (set by its first create after a reset). A worker that
# scanned ``lines`` up to byte ``from`` in generation ``born`` (``seen`` matches, the
# first ``have`` ids of them kept) sends what it knows; only the bytes after ``from``
# are scanned. Another generation (or none: a tenant from before ``born``) is
# scanned whole and the worker's knowledge dropped. Up to ``keep`` ids of new
# matches come back, so the worker can serve the first pages from what it keeps.
SEARCH = """
local born = redis.call('HGET', KEYS[3], 'born')
local term, start, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local from, seen, keep = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[8])
local page = {}
if born and born == ARGV[4] then
  keep = keep - tonumber(ARGV[7])
  for i = 9, #ARGV do page[#page + 1] = ARGV[i] end
else
  born, from, seen = born or '', 0, 0
end
local lines = redis.call('GETRANGE', KEYS[1], from, -1)
local find, sub = string.find, string.sub
local pos, n, kept = 1, 0, {}
while true do
  local at = find(lines, term, pos, true)
  if not at then break end
  local id_at = find(lines, '\1', at, true)
  local stop = find(lines, '\0', id_at, true)
  local row = seen + n
  if row >= start and row < start + count then page[#page + 1] = sub(lines, id_at + 1, stop - 1) end
  if #kept < keep then kept[#kept + 1] = sub(lines, id_at + 1, stop - 1) end
  n = n + 1
  pos = stop + 1
end
local out = {born, from + #lines, n, #kept}
for i = 1, #kept do out[#out + 1] = kept[i] end
if #page > 0 then
  local bodies = redis.call('HMGET', KEYS[2], unpack(page))
  for i = 1, #bodies do out[#out + 1] = bodies[i] end
end
return out
"""

# KEYS: keys, tenants, retries, the delivery retry set, order, m, reports, webhooks, other
# fixed keys... ARGV: client id, idle-before ("" = unconditional: a reset; a number: the TTL
# sweep, which leaves a tenant that became active again).  -> counts, or nil if left alone.
# The tenant's scheduled delivery retries (named in ``retries``) leave the shared retry set.
RESET = """
if ARGV[2] ~= '' then
  local seen = redis.call('ZSCORE', KEYS[2], ARGV[1])
  if seen and tonumber(seen) > tonumber(ARGV[2]) then return false end
end
local function size(key)
  local kind = redis.call('TYPE', key).ok
  if kind == 'hash' then return redis.call('HLEN', key) end
  if kind == 'list' then return redis.call('LLEN', key) end
  if kind == 'set' then return redis.call('SCARD', key) end
  if kind == 'zset' then return redis.call('ZCARD', key) end
  return 0
end
local counts = {
  redis.call('LLEN', KEYS[5]),
  tonumber(redis.call('HGET', KEYS[6], 'entries') or '0'),
  size(KEYS[7]),
  size(KEYS[8]),
}
local scheduled = redis.call('HVALS', KEYS[3])
for i = 1, #scheduled, 1000 do
  redis.call('ZREM', KEYS[4], unpack(scheduled, i, math.min(i + 999, #scheduled)))
end
local members = redis.call('SMEMBERS', KEYS[1])
for i = 1, #members, 1000 do
  redis.call('UNLINK', unpack(members, i, math.min(i + 999, #members)))
end
redis.call('UNLINK', KEYS[1], KEYS[3])
for i = 5, #KEYS do redis.call('UNLINK', KEYS[i]) end
redis.call('ZREM', KEYS[2], ARGV[1])
return counts
"""


def then(first: str, second: str) -> str:
    """One script running ``first`` and, if it stored (answered ``{1, ...}``), ``second``.

    Each part sees its own KEYS and ARGV (the Lua parameters shadow the globals);
    ARGV[1] and ARGV[2] say how many keys and arguments are the first part's. The
    answer is ``{first's answer, second's answer or {}}``. Redis refuses a full
    (OOM) or lost call before the first write, so both run or neither does.
    """
    return f"""
local function first(KEYS, ARGV)
{first}
end
local function second(KEYS, ARGV)
{second}
end
local nk, na = tonumber(ARGV[1]), tonumber(ARGV[2])
local k1, a1, k2, a2 = {{}}, {{}}, {{}}, {{}}
for i = 1, #KEYS do
  if i <= nk then k1[#k1 + 1] = KEYS[i] else k2[#k2 + 1] = KEYS[i] end
end
for i = 3, #ARGV do
  if i <= na + 2 then a1[#a1 + 1] = ARGV[i] else a2[#a2 + 1] = ARGV[i] end
end
local done = first(k1, a1)
if done[1] ~= 1 then return {{done, {{}}}} end
return {{done, second(k2, a2)}}
"""
