-- legal_store.lua - the legal plugin's records in its SQLite store
-- (xz.db): records with their state history, statutory clocks, providers,
-- and the ids of events already consumed (events may be redelivered).
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

function M.init()
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
	xz.db.exec("COMMIT")
end

-- Run fn inside one transaction; a Lua error rolls it back and is raised
-- again. fn must not yield (no xz.request inside).
function M.tx(fn)
	xz.db.exec("BEGIN IMMEDIATE")
	local ok, a, b, c = pcall(fn)
	if not ok or a == nil then
		xz.db.exec("ROLLBACK")
		if not ok then
			error(a, 0)
		end
		return nil, b, c
	end
	xz.db.exec("COMMIT")
	return a, b, c
end

function M.next_id(kind, prefix)
	xz.db.exec("INSERT OR IGNORE INTO seqs VALUES (?, 0)", kind)
	xz.db.exec("UPDATE seqs SET n = n + 1 WHERE kind = ?", kind)
	local n = xz.db.query("SELECT n FROM seqs WHERE kind = ?", kind)[1].n
	return string.format("%s-%08d", prefix, n)
end

-- A record: {kind=, id=, state=, data={...}, created_ms=, updated_ms=}.
function M.load(kind, id)
	if type(id) ~= "string" then
		return nil
	end
	local r = xz.db.query("SELECT * FROM records WHERE kind = ? AND id = ?",
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
		rows = xz.db.query("SELECT * FROM records WHERE kind = ? AND "
			.. "state = ? ORDER BY id LIMIT ?", kind, state, limit)
	else
		rows = xz.db.query("SELECT * FROM records WHERE kind = ? "
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
	return json.as_array(xz.db.query("SELECT action, from_state AS \"from\", "
		.. "to_state AS \"to\", who, role, agency, at_ms, why FROM history "
		.. "WHERE kind = ? AND id = ? ORDER BY seq", kind, id))
end

-- Clocks ---------------------------------------------------------------
function M.clock(kind, id, clock)
	return xz.db.query("SELECT * FROM clocks WHERE kind = ? AND id = ? AND "
		.. "clock = ?", kind, id, clock)[1]
end

function M.clocks_of(kind, id)
	return json.as_array(xz.db.query("SELECT clock, status, started_ms, "
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
	return xz.db.query("SELECT * FROM clocks WHERE status = 'RUNNING'")
end

-- Providers ------------------------------------------------------------
local function provider_row(r)
	local p = json.decode(r.data)
	p.load = r.load
	return p
end

function M.provider(id)
	local r = xz.db.query("SELECT * FROM providers WHERE id = ?", id)[1]
	return r and provider_row(r) or nil
end

function M.providers()
	local out = {}
	for _, r in ipairs(xz.db.query("SELECT * FROM providers ORDER BY id")) do
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
	return xz.db.query("SELECT * FROM sources WHERE ref = ?", ref)[1]
end

function M.source_put(ref, kind, id)
	xz.db.exec("INSERT INTO sources VALUES (?, ?, ?)", ref, kind, id)
end

function M.visit_put(visit_id, aid_id)
	xz.db.exec("INSERT OR REPLACE INTO visits VALUES (?, ?)", visit_id,
		aid_id)
end

function M.visit_aid(visit_id)
	local r = xz.db.query("SELECT aid_id FROM visits WHERE visit_id = ?",
		visit_id)[1]
	return r and r.aid_id or nil
end

return M
