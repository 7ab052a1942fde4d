-- mediation.lua - people's mediation (人民调解) requests as a Lua plugin, on
-- the pattern of the legal plugin: a state machine, strict inputs, who may
-- do what by role, every message in 简体中文 or English, records with their
-- history in the plugin's SQLite store, and statutory clocks that survive a
-- restart. See docs/mediation.md (docs/zh-CN/mediation.md in Chinese).
--
--   APPLIED --accept--> ACCEPTED --mediate--> MEDIATED --agree--> AGREED
--      |                   |                     |                  |
--    refuse              fail                  fail     request-confirmation
--      v                   v                     v                  v
--   REFUSED             FAILED                FAILED   CONFIRMATION_REQUESTED
--                                                        (AGREED or it) --close--> CLOSED
--
-- 人民调解法 (2010): art. 17 a party may apply, and a party's clear refusal
-- ends it; art. 26 a mediation that fails is ended and the parties are told
-- of arbitration, administrative and judicial remedies; arts. 28-30 the
-- agreement (调解协议书, or an oral agreement); art. 33 the parties may
-- apply to the court for judicial confirmation within 30 days of the
-- agreement taking effect. The mediation itself is to be concluded within
-- one month (司法部《人民调解工作若干规定》: 一般在一个月内调结), option
-- mediate_days.
local msg = require("msg")
local schema = require("schema")
local handler = require("handler")

local tr = msg.tr
local json = xz.json
local NULL = xz.null
local DAY = 24 * 3600000

local cfg -- the options, set in init
local timers = {} -- "id/clock" -> kernel timer id
local ncorr = 0

local SYSTEM = { user = "mediation", role = "plugin", agency = "mediation" }

-- The machine: action, from states, to state, event (mediation.case.<event>).
local ROWS = {
	{ "accept", { "APPLIED" }, "ACCEPTED", "accepted" },
	{ "refuse", { "APPLIED" }, "REFUSED", "refused" },
	{ "mediate", { "ACCEPTED", "MEDIATED" }, "MEDIATED", "mediated" },
	{ "agree", { "MEDIATED" }, "AGREED", "agreed" },
	{ "fail", { "ACCEPTED", "MEDIATED" }, "FAILED", "failed" },
	{ "request-confirmation", { "AGREED" }, "CONFIRMATION_REQUESTED",
	  "confirmation-requested" },
	{ "close", { "AGREED", "CONFIRMATION_REQUESTED" }, "CLOSED", "closed" },
}

local function find(action, state)
	for _, r in ipairs(ROWS) do
		if r[1] == action then
			for _, s in ipairs(r[2]) do
				if s == state then
					return r
				end
			end
		end
	end
	return nil
end

local function allowed_from(state)
	local out, seen = {}, {}
	for _, r in ipairs(ROWS) do
		for _, s in ipairs(r[2]) do
			if s == state and not seen[r[1]] then
				seen[r[1]] = true
				out[#out + 1] = r[1]
			end
		end
	end
	return out
end

local REPLY_CODES = { bad_request = true, not_found = true,
	invalid_state = true, forbidden = true, internal = true }

local function str(v)
	return type(v) == "string" and v ~= "" and v or nil
end

local function nn(v)
	if v == NULL then
		return nil
	end
	return v
end

local function new_corr()
	ncorr = ncorr + 1
	return string.format("mediation-%d-%d", xz.now(), ncorr)
end

-- "YYYY-MM-DD HH:MM UTC" of ms since the epoch (the sandbox has no os).
local function iso(ms)
	local s = ms // 1000
	local z = s // 86400 + 719468
	local era = z // 146097
	local doe = z - era * 146097
	local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
	local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
	local mp = (5 * doy + 2) // 153
	local d = doy - (153 * mp + 2) // 5 + 1
	local m = mp < 10 and mp + 3 or mp - 9
	local y = yoe + era * 400 + (m <= 2 and 1 or 0)
	return string.format("%04d-%02d-%02d %02d:%02d UTC", y, m, d,
		s % 86400 // 3600, s % 3600 // 60)
end

-- The platform's audit event (docs/audit.md).
local function audit(ctx, action, id, outcome)
	xz.publish("audit.mediation." .. string.lower(action), {
		who = ctx.actor.user, role = ctx.actor.role or NULL,
		agency = ctx.actor.agency or NULL, action = action,
		subject_type = "mediation_case", subject_id = id or NULL,
		purpose = ctx.purpose or NULL, outcome = outcome,
		service = "mediation", corr = ctx.corr, time = xz.now(),
		auth = ctx.actor.auth or NULL,
	})
end

-- Store ------------------------------------------------------------------

local function store_init()
	xz.db.exec("BEGIN")
	xz.db.exec([[CREATE TABLE IF NOT EXISTS records (
		id TEXT PRIMARY KEY, state TEXT NOT NULL, data TEXT NOT NULL,
		created_ms INTEGER, updated_ms INTEGER)]])
	xz.db.exec([[CREATE TABLE IF NOT EXISTS history (
		seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, id TEXT NOT NULL,
		action TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL,
		who TEXT NOT NULL, role TEXT, at_ms INTEGER NOT NULL, why TEXT,
		agency TEXT)]])
	xz.db.exec([[CREATE TABLE IF NOT EXISTS clocks (
		id TEXT NOT NULL, clock TEXT NOT NULL, status TEXT NOT NULL,
		started_ms INTEGER, due_ms INTEGER, ended_ms INTEGER,
		PRIMARY KEY (id, clock))]])
	xz.db.exec([[CREATE TABLE IF NOT EXISTS seqs (
		kind TEXT PRIMARY KEY, n INTEGER NOT NULL)]])
	xz.db.exec("COMMIT")
end

local function load(id)
	if type(id) ~= "string" then
		return nil
	end
	local r = xz.db.query("SELECT * FROM records WHERE id = ?", id)[1]
	if r then
		r.data = json.decode(r.data)
	end
	return r
end

local function save(rec)
	xz.db.exec("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?)",
		rec.id, rec.state, json.encode(rec.data), rec.created_ms,
		rec.updated_ms)
end

local function add_history(id, action, from, to, actor, at, why)
	xz.db.exec("INSERT INTO history (kind, id, action, from_state, to_state, "
		.. "who, role, at_ms, why, agency) VALUES (?,?,?,?,?,?,?,?,?,?)",
		"case", id, action, from or NULL, to, actor.user,
		actor.role or NULL, at, why or NULL, actor.agency or NULL)
end

local function next_id()
	xz.db.exec("INSERT OR IGNORE INTO seqs VALUES ('case', 0)")
	xz.db.exec("UPDATE seqs SET n = n + 1 WHERE kind = 'case'")
	local n = xz.db.query("SELECT n FROM seqs WHERE kind = 'case'")[1].n
	return string.format("MD-%08d", n)
end

-- Run fn in one transaction; nil, code, message or an error rolls back.
local function tx(fn)
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

-- Clocks: a row per (case, clock), a kernel timer per running clock; the
-- timer re-reads its row, so a clock met meanwhile does nothing. ----------

-- what a clock that runs out publishes (mediation.case.<event>)
local CLOCK_EVENT = {
	mediate = "sla-breached", -- one month to conclude the mediation
	confirm = "confirmation-window-closed", -- art. 33: 30 days
}
local arm

local function fire(id, clock)
	timers[id .. "/" .. clock] = nil
	local c = xz.db.query("SELECT * FROM clocks WHERE id = ? AND clock = ?",
		id, clock)[1]
	if not c or c.status ~= "RUNNING" then
		return
	end
	local now = xz.now()
	if now < c.due_ms then
		arm(id, clock, c.due_ms)
		return
	end
	xz.db.exec("UPDATE clocks SET status = 'EXPIRED', ended_ms = ? WHERE "
		.. "id = ? AND clock = ?", now, id, clock)
	local rec = load(id)
	xz.publish("mediation.case." .. CLOCK_EVENT[clock], { id = id,
		clock = clock, due_ms = c.due_ms, expired_ms = now,
		state = rec and rec.state or NULL })
	audit({ actor = SYSTEM, corr = new_corr(), purpose = "statutory clock" },
		"UPDATE", id, "clock_expired:" .. clock)
	xz.log("warn", tr("mediation case %s: clock %s expired", id, clock))
end

arm = function(id, clock, due)
	local key = id .. "/" .. clock
	if timers[key] then
		xz.timer.cancel(timers[key])
	end
	timers[key] = xz.timer.after(math.max(0, due - xz.now()),
		function() fire(id, clock) end)
end

local function clock_start(id, clock, due)
	xz.db.exec("INSERT OR REPLACE INTO clocks VALUES (?, ?, 'RUNNING', ?, ?, "
		.. "NULL)", id, clock, xz.now(), due)
	arm(id, clock, due)
end

local function clock_stop(id, clock)
	xz.db.exec("UPDATE clocks SET status = 'MET', ended_ms = ? WHERE id = ? "
		.. "AND clock = ? AND status = 'RUNNING'", xz.now(), id, clock)
	local key = id .. "/" .. clock
	if timers[key] then
		xz.timer.cancel(timers[key])
		timers[key] = nil
	end
end

local function clock_of(id, clock)
	return xz.db.query("SELECT * FROM clocks WHERE id = ? AND clock = ?", id,
		clock)[1]
end

-- Who acts ------------------------------------------------------------------

local function roles_of(c)
	local out = {}
	if type(c.roles) == "table" then
		for _, r in ipairs(c.roles) do
			if type(r) == "string" then
				out[#out + 1] = r
			end
		end
	elseif str(c.role) then
		out[1] = c.role
	end
	return out
end

local TRUSTED = { admin = true, plugin = true, node = true }

-- The acting principal: the kernel's caller, never the payload's "actor"
-- (one that disagrees is refused); a trusted caller may act on behalf of
-- the person it names; a host without callers takes the payload's actor.
local function who(topic, body, m)
	local a = body.actor
	if type(m) == "table" and str(m.user) then
		local p = { user = m.user, name = str(m.name), agency = str(m.agency),
			roles = roles_of(m), auth = str(m.auth) or "kernel" }
		local trusted = false
		for _, r in ipairs(p.roles) do
			trusted = trusted or TRUSTED[r] == true
		end
		if trusted and type(a) == "table" and str(a.user) then
			return { user = a.user, name = str(a.name), agency = str(a.agency),
				roles = roles_of(a), auth = "on behalf, by " .. m.user }
		end
		if type(a) == "table" and str(a.user) and a.user ~= m.user then
			return nil, "forbidden", tr("%s: the authenticated caller is %s, "
				.. "the payload names %s", topic, m.user, a.user)
		end
		return p
	end
	if type(a) ~= "table" or not str(a.user) then
		return nil, "bad_request", tr("%s: no authenticated caller and no "
			.. "\"actor\" {\"user\", \"role\", \"agency\"}", topic)
	end
	return { user = a.user, name = str(a.name), agency = str(a.agency),
		roles = roles_of(a), auth = "payload" }
end

-- Who may call what (role ids of docs/roles.md). A mediator (人民调解员)
-- acts for this committee (option agency) and on the cases they accepted;
-- a 12348 operator files applications for the hotline's centre (option
-- hotline_agency); the justice bureau guides mediation work (人民调解法
-- art. 5) and may read (option bureau_agency).
local MEDIATOR = { "mediator" }
local ACL = {
	["mediation.case.apply"] = { "mediator", "hotline_operator" },
	["mediation.case.accept"] = MEDIATOR,
	["mediation.case.refuse"] = MEDIATOR,
	["mediation.case.mediate"] = MEDIATOR,
	["mediation.case.agree"] = MEDIATOR,
	["mediation.case.fail"] = MEDIATOR,
	["mediation.case.request-confirmation"] = MEDIATOR,
	["mediation.case.close"] = MEDIATOR,
	["mediation.case.get"] = { "mediator", "justice_bureau" },
	["mediation.case.list"] = { "mediator", "justice_bureau" },
}

local function agency_of_role(role)
	if role == "mediator" then
		return cfg.agency
	elseif role == "hotline_operator" then
		return cfg.hotline_agency
	elseif role == "justice_bureau" then
		return cfg.bureau_agency
	end
	return nil
end

local function allow(topic, p)
	local allowed = ACL[topic]
	for _, want in ipairs(allowed) do
		for _, r in ipairs(p.roles) do
			if r == want then
				local ag = agency_of_role(r)
				if ag and ag ~= "" and p.agency ~= ag then
					return nil, "forbidden", tr("%s: %s acts for agency %s, "
						.. "not for %s", topic, p.user,
						tostring(p.agency or "-"), ag)
				end
				return r
			end
		end
	end
	return nil, "forbidden", tr("%s: needs the role %s; %s has %s", topic,
		table.concat(allowed, msg.lang() == "zh" and "、" or " or "), p.user,
		#p.roles > 0 and table.concat(p.roles, ", ") or "-")
end

-- Inputs ---------------------------------------------------------------------

local function E(values, req)
	return { t = "enum", values = values, req = req }
end
local STR = { t = "str" }
local RSTR = { t = "str", req = true }
local ID = { t = "id" }
local RID = { t = "id", req = true }
local MS = { t = "int", min = 0, max = 253402300799999 }
-- a party: name, the citizen identity number (GB 11643) kept as given,
-- phone
local PARTY = { t = "obj", req = true, fields = {
	name = { t = "str", len = 200, req = true },
	id_number = { t = "str", len = 18 }, phone = { t = "str", len = 40 } } }
-- 民间纠纷 kinds: 婚姻家庭, 邻里, 房屋宅基地, 合同, 损害赔偿, 劳动争议,
-- 山林土地, 其他
local DISPUTES = { "MARRIAGE_FAMILY", "NEIGHBOUR", "HOUSING_LAND",
	"CONTRACT", "DAMAGES", "LABOUR", "FOREST_LAND", "OTHER" }
local COMMON = {
	actor = { t = "obj", fields = { user = { t = "str", len = 128,
		req = true }, role = { t = "str", len = 64 },
		roles = { t = "strs", n = 32, len = 64 },
		agency = { t = "str", len = 128 }, name = { t = "str", len = 200 },
	} },
	corr = { t = "str", len = 200 },
	purpose = { t = "str", len = 500 },
	reason = STR,
}
local FIELDS = {
	["mediation.case.apply"] = { applicant = PARTY, respondent = PARTY,
		dispute = E(DISPUTES, true), matter = RSTR,
		channel = E({ "HOTLINE", "WEB", "WECHAT", "HALL", "REFERRAL" }),
		-- art. 18: a court or the police may point parties here
		referred_by = ID, source_request_id = ID },
	["mediation.case.accept"] = { id = RID },
	-- art. 17: a party's clear refusal; not a 民间纠纷; already before a
	-- court, arbitration or an administrative authority
	["mediation.case.refuse"] = { id = RID, ground = E({ "PARTY_REFUSES",
		"NOT_CIVIL_DISPUTE", "OTHER_PROCEEDINGS", "OTHER" }, true) },
	["mediation.case.mediate"] = { id = RID, note = RSTR, session_ms = MS },
	-- arts. 28-30: a written 调解协议书 or an oral agreement
	["mediation.case.agree"] = { id = RID, form = E({ "WRITTEN", "ORAL" },
		true), terms = RSTR, perform_by_ms = MS },
	["mediation.case.fail"] = { id = RID, ground = E({ "NO_AGREEMENT",
		"PARTY_REFUSES", "PARTY_WITHDREW" }, true) },
	["mediation.case.request-confirmation"] = { id = RID, court = RID },
	["mediation.case.close"] = { id = RID, outcome = E({ "PERFORMED",
		"CONFIRMED", "NOT_PERFORMED" }, true) },
	["mediation.case.get"] = { id = RID },
	["mediation.case.list"] = { state = ID },
}

-- Records ------------------------------------------------------------------

local function view(rec, full)
	local v = {}
	for k, x in pairs(rec.data) do
		v[k] = x
	end
	v.id, v.state = rec.id, rec.state
	v.created_ms, v.updated_ms = rec.created_ms, rec.updated_ms
	if full then
		v.history = json.as_array(xz.db.query("SELECT action, from_state AS "
			.. "\"from\", to_state AS \"to\", who, role, agency, at_ms, why "
			.. "FROM history WHERE id = ? ORDER BY seq", rec.id))
		v.clocks = json.as_array(xz.db.query("SELECT clock, status, "
			.. "started_ms, due_ms, ended_ms FROM clocks WHERE id = ? ORDER "
			.. "BY started_ms, clock", rec.id))
	end
	return v
end

-- What each action does besides the state change: fn(ctx, rec, ev)
-- returns true, or nil, code, message (nothing is stored then).
local HOOKS = {}

HOOKS.accept = function(ctx, rec)
	rec.data.mediator = ctx.actor.user
	rec.data.accepted_ms = xz.now()
	local due = xz.now() + cfg.mediate_days * DAY
	rec.data.mediate_due_ms = due
	clock_start(rec.id, "mediate", due)
	return true
end

HOOKS.refuse = function(ctx, rec)
	rec.data.refusal = { ground = ctx.body.ground,
		reason = str(ctx.body.reason) or NULL, by = ctx.actor.user }
	return true
end

HOOKS.mediate = function(ctx, rec, ev)
	local s = rec.data.sessions
	if type(s) ~= "table" then
		s = json.as_array({})
	end
	s[#s + 1] = { at_ms = ctx.body.session_ms or xz.now(),
		note = ctx.body.note, by = ctx.actor.user }
	rec.data.sessions = s
	ev.sessions = #s
	return true
end

HOOKS.agree = function(ctx, rec, ev)
	local now = xz.now()
	rec.data.agreement = { form = ctx.body.form, terms = ctx.body.terms,
		perform_by_ms = ctx.body.perform_by_ms or NULL, effective_ms = now,
		mediator = ctx.actor.user }
	clock_stop(rec.id, "mediate")
	-- art. 33: judicial confirmation within 30 days of the agreement
	-- taking effect; an oral agreement (art. 30) has no paper to confirm
	if ctx.body.form == "WRITTEN" then
		local due = now + cfg.confirm_days * DAY
		rec.data.confirm_due_ms = due
		ev.confirm_due_ms = due
		clock_start(rec.id, "confirm", due)
	end
	ev.form = ctx.body.form
	return true
end

HOOKS.fail = function(ctx, rec, ev)
	clock_stop(rec.id, "mediate")
	rec.data.failure = { ground = ctx.body.ground,
		reason = str(ctx.body.reason) or NULL, by = ctx.actor.user,
		-- art. 26: the parties are told where else to go
		advice = tr("mediation failed: the parties may seek arbitration, "
			.. "administrative or judicial remedies (人民调解法 art. 26)") }
	ev.ground = ctx.body.ground
	return true
end

HOOKS["request-confirmation"] = function(ctx, rec)
	if rec.data.agreement.form ~= "WRITTEN" then
		return nil, "bad_request", tr("%s: an oral agreement cannot be taken "
			.. "to court for judicial confirmation: make a written 调解协议书 "
			.. "(人民调解法 arts. 28, 29, 33)", ctx.topic)
	end
	local c = clock_of(rec.id, "confirm")
	if not c or c.status ~= "RUNNING" or xz.now() > c.due_ms then
		return nil, "bad_request", tr("%s: the judicial confirmation must be "
			.. "applied for within %d days of the agreement taking effect "
			.. "(人民调解法 art. 33); case %s's window closed at %s",
			ctx.topic, cfg.confirm_days, rec.id,
			iso(c and c.due_ms or 0))
	end
	clock_stop(rec.id, "confirm")
	rec.data.confirmation = { court = ctx.body.court, at_ms = xz.now(),
		by = ctx.actor.user }
	return true
end

HOOKS.close = function(ctx, rec)
	clock_stop(rec.id, "confirm")
	rec.data.outcome = ctx.body.outcome
	rec.data.closed_ms = xz.now()
	return true
end

local function refuse_state(ctx, rec)
	local allowed = allowed_from(rec.state)
	return nil, "invalid_state", tr("%s: %s %s is %s; allowed actions: %s",
		ctx.topic, tr("mediation case"), rec.id, msg.label(rec.state),
		#allowed > 0 and msg.list(allowed) or tr("none (final state)"))
end

local function not_found(ctx, id)
	return nil, "not_found", tr("%s: no %s with id %s", ctx.topic,
		tr("mediation case"), tostring(id))
end

-- Apply action to case id: state, own case, hook, store, history, then
-- the event and the audit.
local function apply(ctx, action)
	local id = ctx.body.id
	local rec = load(id)
	if not rec then
		return not_found(ctx, id)
	end
	local row = find(action, rec.state)
	if not row then
		return refuse_state(ctx, rec)
	end
	local m = nn(rec.data.mediator)
	if m and m ~= ctx.actor.user then
		return nil, "forbidden", tr("%s: %s is not the mediator of case %s "
			.. "(%s is)", ctx.topic, ctx.actor.user, rec.id, m)
	end
	local from = rec.state
	local ev = {}
	local done, code, text = tx(function()
		local ok, c, e = HOOKS[action](ctx, rec, ev)
		if not ok then
			return nil, c, e
		end
		rec.state, rec.updated_ms = row[3], xz.now()
		save(rec)
		add_history(id, action, from, rec.state, ctx.actor, rec.updated_ms,
			str(ctx.body.reason))
		return true
	end)
	if not done then
		return nil, code, text
	end
	ev.id, ev.action, ev.from, ev.state = id, action, from, rec.state
	ev.who, ev.role, ev.at_ms = ctx.actor.user, ctx.actor.role,
		rec.updated_ms
	xz.publish("mediation.case." .. row[4], ev)
	audit(ctx, "UPDATE", id, from .. "->" .. rec.state)
	return view(rec)
end

local function apply_case(ctx, b)
	local now = xz.now()
	local rec = { id = nil, state = "APPLIED", created_ms = now,
		updated_ms = now, data = {
			applicant = b.applicant, respondent = b.respondent,
			dispute = b.dispute, matter = b.matter,
			channel = b.channel or "HALL", referred_by = b.referred_by or NULL,
			source_request_id = b.source_request_id or NULL,
			committee = cfg.agency, mediator = NULL,
			filed_by = ctx.actor.user,
		} }
	tx(function()
		rec.id = next_id()
		save(rec)
		add_history(rec.id, "apply", nil, "APPLIED", ctx.actor, now,
			str(b.reason))
		return true
	end)
	xz.publish("mediation.case.applied", { id = rec.id, state = rec.state,
		dispute = b.dispute, who = ctx.actor.user, at_ms = now })
	audit(ctx, "CREATE", rec.id, "created:APPLIED")
	return view(rec)
end

-- Handlers -----------------------------------------------------------------

local handlers = {}

local function serve(topic, fn)
	handlers[topic] = handler.wrap({
		fields = schema.with(COMMON, FIELDS[topic]), run = fn, tr = tr,
		new_corr = new_corr, codes = REPLY_CODES, who = who, allow = allow,
		refused = function(ctx, sid, code)
			audit(ctx, "REFUSE", sid, code)
		end,
	})
end

serve("mediation.case.apply", apply_case)
for _, r in ipairs(ROWS) do
	local action = r[1]
	if not handlers["mediation.case." .. action] then
		serve("mediation.case." .. action, function(ctx)
			return apply(ctx, action)
		end)
	end
end
-- a read of one case is a VIEW of people's affairs: purpose-bound, audited
serve("mediation.case.get", function(ctx, b)
	if not ctx.purpose then
		return nil, "bad_request", tr("%s: \"purpose\" (why you read this "
			.. "record) is required", ctx.topic)
	end
	local rec = load(b.id)
	if not rec then
		return not_found(ctx, b.id)
	end
	audit(ctx, "VIEW", rec.id, "disclosed")
	return view(rec, true)
end)
-- lists are thin: ids, states, dispute kinds and times, no names
serve("mediation.case.list", function(ctx, b)
	local rows
	if b.state then
		rows = xz.db.query("SELECT id, state, data, created_ms, updated_ms "
			.. "FROM records WHERE state = ? ORDER BY id LIMIT ?", b.state,
			cfg.list_max)
	else
		rows = xz.db.query("SELECT id, state, data, created_ms, updated_ms "
			.. "FROM records ORDER BY id LIMIT ?", cfg.list_max)
	end
	local out = {}
	for _, r in ipairs(rows) do
		local d = json.decode(r.data)
		out[#out + 1] = { id = r.id, state = r.state, dispute = d.dispute,
			mediator = d.mediator, created_ms = r.created_ms,
			updated_ms = r.updated_ms }
	end
	return { cases = json.as_array(out) }
end)

return {
	name = "mediation",
	version = "1.0",
	description = "people's mediation (人民调解): applications, acceptance, "
		.. "mediation sessions, the 调解协议 or the end of mediation, with "
		.. "the one-month mediation clock and the 30-day window for "
		.. "judicial confirmation (人民调解法 art. 33)",
	options = {
		{ name = "mediate_days", type = "int", default = 30, min = 1,
		  max = 365, description = "days to conclude a mediation once "
			.. "accepted (司法部《人民调解工作若干规定》: 一般在一个月内调结)" },
		{ name = "confirm_days", type = "int", default = 30, min = 1,
		  max = 365, description = "days from a written agreement taking "
			.. "effect within which the parties may apply for judicial "
			.. "confirmation (人民调解法 art. 33)" },
		{ name = "agency", type = "string", default = "township-01",
		  description = "the people's mediation committee's agency: its "
			.. "mediators act for it only" },
		{ name = "hotline_agency", type = "string", default = "legal-01",
		  description = "the agency whose 12348 operators may file "
			.. "applications" },
		{ name = "bureau_agency", type = "string", default = "justice-01",
		  description = "the justice bureau that guides mediation work "
			.. "(人民调解法 art. 5): may read cases" },
		{ name = "lang", type = "string", default = "auto",
		  description = "language of messages: zh, en, or auto (the "
			.. "node's LC_ALL / LC_MESSAGES / LANG)" },
		{ name = "list_max", type = "int", default = 1000, min = 1,
		  max = 100000, description = "largest page a list request returns" },
	},
	init = function(c)
		cfg = c
		msg.setup(c.lang) -- another value than zh or en: the node's
		if c.lang ~= "auto" and c.lang ~= "zh" and c.lang ~= "en" then
			error(tr("option lang: '%s' (zh, en or auto)", c.lang), 0)
		end
		store_init()
		-- clocks running before a restart or reload: re-armed (a deadline
		-- already passed fires at once)
		for _, k in ipairs(xz.db.query("SELECT * FROM clocks WHERE status = "
			.. "'RUNNING'")) do
			arm(k.id, k.clock, k.due_ms)
		end
	end,
	handlers = handlers,
}
