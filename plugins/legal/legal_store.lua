-- legal_store.lua - the legal plugin's records in its SQLite store
-- (xz.db): records with their state history, statutory clocks, providers,
-- the ids of events already consumed (events may be redelivered), and the
-- audit spool.
--
-- Fail-closed audit (docs/audit.md, as the C plugins' kit does it): an
-- audit record is a row of audit_spool written in the same transaction as
-- the change it describes (M.audit inside M.tx); if it cannot be written
-- (a full disk, a text that is not UTF-8) the transaction is rolled back
-- and the request refused with audit_unavailable. The rows are sent in
-- order to the audit plugin (audit.append, idempotent by the record's id)
-- and deleted once it acknowledged them. While audit_spool_max rows wait,
-- M.tx refuses every change with audit_unavailable; reads go on.
--
-- SQLite errors are raised as {code = "store_error", message = ...}
-- naming the store's file (M.failure turns any xz.db error into one), so
-- a damaged store is an error reply, never an empty result.
--
-- The history table and its rows are those of the C plugins' kit
-- (plugins/common/store.c): {"action","from","to","who","role","agency",
-- "at_ms","why"}, at_ms in integer ms since the epoch.
local M = {}

-- The history table as the kit creates it (same columns, same order).
local HISTORY = [[CREATE TABLE IF NOT EXISTS history (
	seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, id TEXT NOT NULL,
	action TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL,
	who TEXT NOT NULL, role TEXT, at_ms INTEGER NOT NULL, why TEXT,
	agency TEXT)]]

-- A store written before the history rows were the kit's (a per-record
-- seq and a reason column) is moved into the kit's layout, in order.
local function migrate_history()
	local old = false
	for _, c in ipairs(xz.db.query("PRAGMA table_info(history)")) do
		old = old or c.name == "reason"
	end
	if not old then
		return
	end
	xz.db.exec("ALTER TABLE history RENAME TO legal_v0_history")
	xz.db.exec(HISTORY)
	xz.db.exec([[INSERT INTO history (kind, id, action, from_state,
		to_state, who, role, at_ms, why, agency) SELECT kind, id,
		coalesce(action, '?'), from_state, coalesce(to_state, '?'),
		coalesce(who, '?'), role, coalesce(at_ms, 0), reason, agency
		FROM legal_v0_history ORDER BY kind, id, seq]])
	xz.db.exec("DROP TABLE legal_v0_history")
end

local json = xz.json
local msg = require("msg")

-- English or Chinese, formatted.
local function T(en, zh, ...)
	return string.format(msg.lang() == "zh" and zh or en, ...)
end

M.file = "legal store" -- the store's file, set by init
M.spool_max = 10000 -- changes refused at this many unacknowledged records
local in_tx = false

-- An error of the closed set of reply codes, raised as a table: the
-- request handler replies it (M.failure).
local function raise(code, message)
	error({ code = code, message = message }, 0)
end

-- The reply for an error raised while serving a request: code, message
-- when it is one of ours (a table) or an xz.db failure; nil for anything
-- else (a bug: the host answers internal).
function M.failure(e, topic)
	if type(e) == "table" and type(e.code) == "string" then
		return e.code, e.message
	end
	if type(e) == "string" and string.find(e, "xz.db.", 1, true) then
		return "store_error", T("%s: the store %s failed: %s",
			"%s：存储 %s 出错：%s", topic or "legal", M.file, e)
	end
	return nil
end

local function db_query(sql, ...)
	local ok, r = pcall(xz.db.query, sql, ...)
	if not ok then
		raise("store_error", T("the store %s failed: %s", "存储 %s 出错：%s",
			M.file, tostring(r)))
	end
	return r
end

function M.init(opts)
	opts = opts or {}
	M.spool_max = opts.audit_spool_max or M.spool_max
	for _, d in ipairs(xz.db.query("PRAGMA database_list")) do
		if d.name == "main" and type(d.file) == "string" and d.file ~= "" then
			M.file = d.file
		end
	end
	-- one transaction: one sync instead of one per table
	xz.db.exec("BEGIN")
	xz.db.exec([[CREATE TABLE IF NOT EXISTS records (
		kind TEXT NOT NULL, id TEXT NOT NULL, state TEXT NOT NULL,
		data TEXT NOT NULL, created_ms INTEGER, updated_ms INTEGER,
		PRIMARY KEY (kind, id))]])
	migrate_history()
	xz.db.exec(HISTORY)
	xz.db.exec("CREATE INDEX IF NOT EXISTS history_rec ON history(kind, id)")
	xz.db.exec([[CREATE TABLE IF NOT EXISTS clocks (
		kind TEXT NOT NULL, id TEXT NOT NULL, clock TEXT NOT NULL,
		status TEXT NOT NULL, started_ms INTEGER, due_ms INTEGER,
		remaining_ms INTEGER, ended_ms INTEGER,
		PRIMARY KEY (kind, id, clock))]])
	xz.db.exec([[CREATE TABLE IF NOT EXISTS providers (
		id TEXT PRIMARY KEY, data TEXT NOT NULL, load INTEGER NOT NULL)]])
	xz.db.exec([[CREATE TABLE IF NOT EXISTS seqs (
		kind TEXT PRIMARY KEY, n INTEGER NOT NULL)]])
	xz.db.exec([[CREATE TABLE IF NOT EXISTS sources (
		ref TEXT PRIMARY KEY, kind TEXT, id TEXT)]])
	xz.db.exec([[CREATE TABLE IF NOT EXISTS visits (
		visit_id TEXT PRIMARY KEY, aid_id TEXT NOT NULL)]])
	-- the same table as the C plugins' spool (plugins/common/kit.c)
	xz.db.exec([[CREATE TABLE IF NOT EXISTS audit_spool (
		id INTEGER PRIMARY KEY AUTOINCREMENT, rid TEXT NOT NULL,
		topic TEXT NOT NULL, data TEXT NOT NULL)]])
	xz.db.exec("COMMIT")
	-- what a previous run (or the version before a reload) left
	M.drain_kick()
end

-- Records in the spool the audit plugin has not acknowledged (ids grow
-- and the drain deletes from the front).
function M.spool_size()
	return db_query("SELECT coalesce(max(id) - min(id) + 1, 0) AS n FROM "
		.. "audit_spool")[1].n
end

-- Run fn inside one transaction; a Lua error rolls it back and is raised
-- again. fn must not yield (no xz.request inside). Refused (raised as
-- audit_unavailable) while the audit spool is full; a failed commit is a
-- store_error.
function M.tx(fn)
	if M.spool_size() >= M.spool_max then
		M.drain_kick()
		raise("audit_unavailable", T("the audit spool is full (%d records "
			.. "the audit plugin has not acknowledged): no change is made "
			.. "until it drains; reads still work",
			"审计缓存已满（%d 条记录尚未被审计插件确认）：在其清空前不做任何变更；"
			.. "查询不受影响", M.spool_max))
	end
	local ok, e = pcall(xz.db.exec, "BEGIN IMMEDIATE")
	if not ok then
		raise("store_error", T("the store %s failed: %s", "存储 %s 出错：%s",
			M.file, tostring(e)))
	end
	in_tx = true
	local a, b, c
	ok, a, b, c = pcall(fn)
	if ok and a ~= nil then
		local cok, ce = pcall(xz.db.exec, "COMMIT")
		if cok then
			in_tx = false
			M.drain_kick()
			return a, b, c
		end
		ok, a = false, { code = "store_error", message = T("the change was "
			.. "not stored: the commit of %s failed: %s", "变更未保存：%s 提交失败：%s",
			M.file, tostring(ce)) }
	end
	in_tx = false
	pcall(xz.db.exec, "ROLLBACK")
	if not ok then
		error(a, 0)
	end
	return nil, b, c
end

-- The audit spool -------------------------------------------------------

local nrid = 0

-- Write the audit record rec (a table) for topic into the spool: inside
-- M.tx as part of the transaction (when it cannot be written the whole
-- change fails with audit_unavailable), outside one at once. Returns true,
-- or nil and why (outside a transaction: the caller answers anyway and
-- logs the loss).
function M.audit(topic, rec)
	local ok, data = pcall(json.encode, rec)
	if ok then
		nrid = nrid + 1
		-- unique across runs and reloads: random bits, the clock, a count
		local rid = string.format("sp-%016x%016x-%x-%d", math.random(0),
			math.random(0), xz.now(), nrid)
		ok, data = pcall(xz.db.exec, "INSERT INTO audit_spool (rid, topic, "
			.. "data) VALUES (?, ?, ?)", rid, topic, data)
	end
	if ok then
		if not in_tx then
			M.drain_kick()
		end
		return true
	end
	local why = T("the audit record on %s could not be written: %s",
		"%s 的审计记录无法写入：%s", topic, tostring(data))
	if in_tx then
		raise("audit_unavailable", T("the change was not made: %s",
			"变更未执行：%s", why))
	end
	xz.log("error", T("legal: %s (audit_lost)", "legal：%s（audit_lost）",
		tostring(why)))
	return nil, why
end

-- Send the oldest spooled records, in order, to the audit plugin
-- (audit.append {"records":[{"id","topic","data"}]}; it answers
-- {"acked":N}: the first N are in its chain) and delete those; again
-- until the spool is empty, every second while the audit plugin is not
-- there or fails. Runs in a timer function (it waits in xz.request).
local draining, scheduled = false, false
local drain

local function drain_later(ms)
	if scheduled then
		return
	end
	-- (a version being replaced by a reload may no longer start timers:
	-- the new one drains)
	scheduled = pcall(xz.timer.after, ms, function()
		scheduled = false
		drain()
	end)
end

drain = function()
	if draining then
		return
	end
	local ok, rows = pcall(xz.db.query, "SELECT id, rid, topic, data FROM "
		.. "audit_spool ORDER BY id LIMIT 128")
	if not ok then
		xz.log("warn", T("legal: audit spool not readable: %s",
			"legal：审计暂存区无法读取：%s", tostring(rows)))
		return drain_later(1000)
	end
	if #rows == 0 then
		return
	end
	local recs = {}
	for i, r in ipairs(rows) do
		recs[i] = { id = r.rid, topic = r.topic,
			data = json.decode(r.data) or {} }
	end
	draining = true
	local rep = xz.request("audit.append",
		{ records = json.as_array(recs) }, 10000)
	draining = false
	local acked = type(rep) == "table" and math.tointeger(rep.acked) or 0
	acked = math.max(0, math.min(acked, #rows))
	if acked > 0 and not pcall(xz.db.exec, "DELETE FROM audit_spool WHERE "
		.. "id <= ?", rows[acked].id) then
		acked = 0 -- sent again later: the audit plugin keeps each once
	end
	if acked == #rows then
		drain_later(0)
	else
		drain_later(1000)
	end
end

-- Start a drain soon (after the current handler), unless one is on its
-- way.
function M.drain_kick()
	if not draining then
		drain_later(0)
	end
end

function M.next_id(kind, prefix)
	xz.db.exec("INSERT OR IGNORE INTO seqs VALUES (?, 0)", kind)
	xz.db.exec("UPDATE seqs SET n = n + 1 WHERE kind = ?", kind)
	local n = db_query("SELECT n FROM seqs WHERE kind = ?", kind)[1].n
	return string.format("%s-%08d", prefix, n)
end

-- A record: {kind=, id=, state=, data={...}, created_ms=, updated_ms=}.
function M.load(kind, id)
	if type(id) ~= "string" then
		return nil
	end
	local r = db_query("SELECT * FROM records WHERE kind = ? AND id = ?",
		kind, id)[1]
	if not r then
		return nil
	end
	r.data = json.decode(r.data)
	return r
end

function M.save(rec)
	xz.db.exec("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?, ?)",
		rec.kind, rec.id, rec.state, json.encode(rec.data),
		rec.created_ms, rec.updated_ms)
end

function M.list(kind, state, limit)
	local rows
	if state then
		rows = db_query("SELECT * FROM records WHERE kind = ? AND "
			.. "state = ? ORDER BY id LIMIT ?", kind, state, limit)
	else
		rows = db_query("SELECT * FROM records WHERE kind = ? "
			.. "ORDER BY id LIMIT ?", kind, limit)
	end
	for _, r in ipairs(rows) do
		r.data = json.decode(r.data)
	end
	return rows
end

-- One history row; why (the request's reason) may be nil.
function M.add_history(kind, id, action, from, to, actor, at, why)
	xz.db.exec("INSERT INTO history (kind, id, action, from_state, to_state, "
		.. "who, role, at_ms, why, agency) VALUES (?,?,?,?,?,?,?,?,?,?)",
		kind, id, action, from or xz.null, to, actor.user,
		actor.role or xz.null, at, why or xz.null, actor.agency or xz.null)
end

function M.history(kind, id)
	return json.as_array(db_query("SELECT action, from_state AS \"from\", "
		.. "to_state AS \"to\", who, role, agency, at_ms, why FROM history "
		.. "WHERE kind = ? AND id = ? ORDER BY seq", kind, id))
end

-- Clocks ---------------------------------------------------------------
function M.clock(kind, id, clock)
	return db_query("SELECT * FROM clocks WHERE kind = ? AND id = ? AND "
		.. "clock = ?", kind, id, clock)[1]
end

function M.clocks_of(kind, id)
	return json.as_array(db_query("SELECT clock, status, started_ms, "
		.. "due_ms, remaining_ms, ended_ms FROM clocks WHERE kind = ? AND "
		.. "id = ? ORDER BY started_ms, clock", kind, id))
end

function M.clock_put(kind, id, clock, status, started, due, remaining, ended)
	xz.db.exec("INSERT OR REPLACE INTO clocks VALUES (?,?,?,?,?,?,?,?)",
		kind, id, clock, status, started, due or xz.null,
		remaining or xz.null, ended or xz.null)
end

-- The clock of a record that matters now: its running clock due first,
-- else its breached one; nil when none.
function M.clock_now(kind, id)
	return xz.db.query("SELECT clock, status, due_ms FROM clocks WHERE "
		.. "kind = ? AND id = ? AND status IN ('RUNNING', 'BREACHED') "
		.. "ORDER BY status = 'BREACHED', due_ms LIMIT 1", kind, id)[1]
end

-- Clocks by kind and status; at_risk: running ones due before risk_ms.
function M.clock_counts(risk_ms)
	return xz.db.query("SELECT kind, status, COUNT(*) AS n, "
		.. "SUM(status = 'RUNNING' AND due_ms <= ?) AS at_risk FROM clocks "
		.. "GROUP BY kind, status", risk_ms)
end

function M.running_clocks()
	return db_query("SELECT * FROM clocks WHERE status = 'RUNNING'")
end

-- Providers ------------------------------------------------------------
local function provider_row(r)
	local p = json.decode(r.data)
	p.load = r.load
	return p
end

function M.provider(id)
	local r = db_query("SELECT * FROM providers WHERE id = ?", id)[1]
	return r and provider_row(r) or nil
end

function M.providers()
	local out = {}
	for _, r in ipairs(db_query("SELECT * FROM providers ORDER BY id")) do
		out[#out + 1] = provider_row(r)
	end
	return out
end

function M.provider_put(p)
	local load = p.load or 0
	p.load = nil
	xz.db.exec("INSERT OR REPLACE INTO providers VALUES (?, ?, ?)", p.id,
		json.encode(p), load)
	p.load = load
end

function M.provider_load(id, delta)
	xz.db.exec("UPDATE providers SET load = MAX(0, load + ?) WHERE id = ?",
		delta, id)
end

-- Consumed events and booked visits --------------------------------------
function M.source(ref)
	return db_query("SELECT * FROM sources WHERE ref = ?", ref)[1]
end

function M.source_put(ref, kind, id)
	xz.db.exec("INSERT INTO sources VALUES (?, ?, ?)", ref, kind, id)
end

function M.visit_put(visit_id, aid_id)
	xz.db.exec("INSERT OR REPLACE INTO visits VALUES (?, ?)", visit_id,
		aid_id)
end

function M.visit_aid(visit_id)
	local r = db_query("SELECT aid_id FROM visits WHERE visit_id = ?",
		visit_id)[1]
	return r and r.aid_id or nil
end

return M
