-- legal.lua - public legal services (12348 hotline, web, halls, kiosks in
-- prisons and rehab centres) as a Lua plugin: service requests with their
-- ratings and revisits, legal-aid applications with their statutory
-- clocks, the provider directory and the routing rule (routing.lua, hot
-- reloadable). See docs/legal.md for the operator's walk-through and the
-- full catalogue of requests and events.
--
-- Every request carries {"actor":{"user","role","agency"}}. Every change is
-- stored with its history, published as legal.<aggregate>.<event> and as
-- an audit event audit.legal.<action>; every refusal is audited too.
local fsm = require("legal_fsm")
local store = require("legal_store")
local days = require("legal_days")
local routing = require("routing")

local json = xz.json
local NULL = xz.null
local HOUR = 3600000
local DAY = days.DAY

local cfg         -- the options, set in init
local holidays    -- local day number -> true
local timers = {} -- "kind/id/clock" -> kernel timer id
local ncorr = 0

local SYSTEM = { user = "legal", role = "SYSTEM", agency = "legal-services" }

local CHANNELS = { HOTLINE = true, WEB = true, APP = true, HALL = true,
	KIOSK = true, INMATE_KIOSK = true }
local APPLICANTS = { INMATE = true, REHAB_RESIDENT = true, CITIZEN = true,
	NOTIFIED_DEFENCE = true }
-- People deprived of liberty are exempt from the means check.
local IN_CUSTODY = { INMATE = true, REHAB_RESIDENT = true,
	NOTIFIED_DEFENCE = true }
local PROVIDER_TYPES = { LAWYER = true, NOTARY = true, MEDIATOR = true,
	LEGAL_AID_CENTER = true, BASIC_LEGAL_WORKER = true }
local REFERRALS = { LEGAL_AID = true, MEDIATION = true, NOTARY = true }
-- The closed set of error reply codes, the same as the C plugins' enum
-- (plugins/common/reply.h): a handler answering anything else is a bug.
local REPLY_CODES = { bad_request = true, not_found = true,
	invalid_state = true, forbidden = true, exists = true,
	capacity_exceeded = true, store_error = true, timeout = true,
	no_responders = true, unavailable = true, too_large = true,
	internal = true }

local function nn(v)
	if v == NULL then
		return nil
	end
	return v
end

local function str(v)
	return type(v) == "string" and v ~= "" and v or nil
end

local function strlist(v)
	if v == nil or v == NULL then
		return json.as_array({})
	end
	if type(v) ~= "table" then
		return nil
	end
	local out = {}
	for _, s in ipairs(v) do
		if type(s) ~= "string" then
			return nil
		end
		out[#out + 1] = s
	end
	return json.as_array(out)
end

local function new_corr()
	ncorr = ncorr + 1
	return string.format("legal-%d-%d", xz.now(), ncorr)
end

-- Audit and events -----------------------------------------------------

-- The one audit event format of the platform (docs/audit.md, as the C
-- plugins' kit_audit writes it): time in integer ms since the epoch.
local function audit(ctx, action, subject_type, subject_id, outcome)
	xz.publish("audit.legal." .. string.lower(action), {
		who = ctx.actor.user, role = ctx.actor.role or NULL,
		agency = ctx.actor.agency or NULL, action = action,
		subject_type = subject_type, subject_id = subject_id or NULL,
		purpose = ctx.purpose or NULL, outcome = outcome,
		service = "legal", corr = ctx.corr, time = xz.now(),
	})
end

local function emit(topic, fields)
	xz.publish(topic, fields)
end

-- Clocks: one row per (record, clock) in the store, one kernel timer per
-- running clock. A timer re-reads its row when it fires, so a clock that
-- was stopped, paused or moved in the meantime does nothing. --------------

local MACHINES = { request = fsm.request, aid = fsm.aid }

local arm

local function fire(kind, id, clock)
	local key = kind .. "/" .. id .. "/" .. clock
	timers[key] = nil
	local c = store.clock(kind, id, clock)
	if not c or c.status ~= "RUNNING" then
		return
	end
	local now = xz.now()
	if now < c.due_ms then
		arm(kind, id, clock, c.due_ms)
		return
	end
	local rec = store.load(kind, id)
	xz.db.exec("UPDATE clocks SET status = 'BREACHED', ended_ms = ? WHERE "
		.. "kind = ? AND id = ? AND clock = ?", now, kind, id, clock)
	local m = MACHINES[kind]
	emit("legal." .. m.aggregate .. ".sla-breached", {
		id = id, clock = clock, due_ms = c.due_ms, breached_ms = now,
		state = rec and rec.state or NULL,
	})
	audit({ actor = SYSTEM, corr = new_corr(), purpose = "statutory clock" },
		"UPDATE", m.subject_type, id, "sla_breached:" .. clock)
	xz.log("warn", "legal", m.noun, id, "missed its", clock, "clock")
end

arm = function(kind, id, clock, due)
	local key = kind .. "/" .. id .. "/" .. clock
	if timers[key] then
		xz.timer.cancel(timers[key])
	end
	timers[key] = xz.timer.after(math.max(0, due - xz.now()),
		function() fire(kind, id, clock) end)
end

local function disarm(kind, id, clock)
	local key = kind .. "/" .. id .. "/" .. clock
	if timers[key] then
		xz.timer.cancel(timers[key])
		timers[key] = nil
	end
end

local function clock_start(kind, id, clock, due)
	store.clock_put(kind, id, clock, "RUNNING", xz.now(), due)
	arm(kind, id, clock, due)
end

-- A running or paused clock is met (a breached one keeps its status).
local function clock_stop(kind, id, clock)
	xz.db.exec("UPDATE clocks SET status = 'MET', ended_ms = ? WHERE kind = ? "
		.. "AND id = ? AND clock = ? AND status IN ('RUNNING', 'PAUSED')",
		xz.now(), kind, id, clock)
	disarm(kind, id, clock)
end

local function clock_pause(kind, id, clock)
	local c = store.clock(kind, id, clock)
	if not c or c.status ~= "RUNNING" then
		return
	end
	xz.db.exec("UPDATE clocks SET status = 'PAUSED', remaining_ms = ? WHERE "
		.. "kind = ? AND id = ? AND clock = ?",
		math.max(0, c.due_ms - xz.now()), kind, id, clock)
	disarm(kind, id, clock)
end

local function clock_resume(kind, id, clock)
	local c = store.clock(kind, id, clock)
	if not c or c.status ~= "PAUSED" then
		return
	end
	local due = xz.now() + (nn(c.remaining_ms) or 0)
	xz.db.exec("UPDATE clocks SET status = 'RUNNING', due_ms = ?, "
		.. "remaining_ms = NULL WHERE kind = ? AND id = ? AND clock = ?",
		due, kind, id, clock)
	arm(kind, id, clock, due)
end

-- Records ----------------------------------------------------------------

-- The record as replies show it: its data plus id, state and times.
local function view(rec, full)
	local v = {}
	for k, x in pairs(rec.data) do
		v[k] = x
	end
	v.id, v.state = rec.id, rec.state
	v.created_ms, v.updated_ms = rec.created_ms, rec.updated_ms
	if full then
		v.history = store.history(rec.kind, rec.id)
		v.clocks = store.clocks_of(rec.kind, rec.id)
	end
	return v
end

-- Inside a transaction: create a record, its first history row, its
-- created event (published after commit by the caller through ctx.events)
-- and its CREATE audit.
local function create(ctx, m, state, data, event, extra)
	local now = xz.now()
	local rec = { kind = m.aggregate, id = store.next_id(m.aggregate, m.prefix),
		state = state, data = data, created_ms = now, updated_ms = now }
	store.save(rec)
	store.add_history(rec.kind, rec.id, "create", nil, state, ctx.actor, now,
		str(ctx.body and ctx.body.reason))
	local ev = { id = rec.id, state = state, who = ctx.actor.user, at_ms = now }
	for k, x in pairs(extra or {}) do
		ev[k] = x
	end
	ctx.events[#ctx.events + 1] = { "legal." .. m.aggregate .. "." .. event, ev }
	ctx.audits[#ctx.audits + 1] = { "CREATE", m.subject_type, rec.id,
		"created:" .. state }
	return rec
end

local function flush(ctx)
	for _, e in ipairs(ctx.events) do
		emit(e[1], e[2])
	end
	for _, a in ipairs(ctx.audits) do
		audit(ctx, a[1], a[2], a[3], a[4])
	end
	ctx.events, ctx.audits = {}, {}
end

local HOOKS = { request = {}, aid = {} }
local AFTER = { request = {}, aid = {} }

-- Apply action to record id of machine m: checks the state, runs the
-- action's hook, stores the change and its history, then publishes the
-- event and the audit. Returns the record, or nil, code, message.
local function apply(ctx, m, id, action)
	local rec = store.load(m.aggregate, id)
	if not rec then
		return nil, "not_found", string.format("%s: no %s with id %s",
			ctx.topic, m.noun, tostring(id))
	end
	local row = fsm.find(m, action, rec.state)
	if not row then
		local allowed = fsm.allowed(m, rec.state)
		return nil, "invalid_state", string.format(
			"%s: %s %s is %s; allowed actions: %s", ctx.topic, m.noun,
			id, rec.state, #allowed > 0 and table.concat(allowed, ", ")
				or "none (final state)")
	end
	local from = rec.state
	local chg = { to = row[3], event = {} }
	local ok, code, msg = store.tx(function()
		local hook = HOOKS[m.aggregate][action]
		if hook then
			local r, c, e = hook(ctx, rec, chg)
			if not r then
				return nil, c, e
			end
		end
		local now = xz.now()
		rec.state, rec.updated_ms = chg.to, now
		store.save(rec)
		store.add_history(m.aggregate, id, action, from, chg.to, ctx.actor,
			now, str(ctx.body.reason))
		return true
	end)
	if not ok then
		return nil, code, msg
	end
	local ev = { id = id, action = action, from = from, state = rec.state,
		who = ctx.actor.user, role = ctx.actor.role or NULL,
		at_ms = rec.updated_ms, reason = str(ctx.body.reason) or NULL }
	for k, x in pairs(chg.event) do
		ev[k] = x
	end
	flush(ctx)
	emit("legal." .. m.aggregate .. "." .. row[4], ev)
	audit(ctx, "UPDATE", m.subject_type, id, from .. "->" .. rec.state)
	local after = AFTER[m.aggregate][action]
	if after then
		after(ctx, rec)
	end
	return rec
end

-- Service requests -------------------------------------------------------

local function create_request(ctx, b)
	local channel = str(b.channel)
	if not CHANNELS[channel or ""] or not str(b.question) then
		return nil, "bad_request", ctx.topic .. ": \"channel\" (HOTLINE, "
			.. "WEB, APP, HALL, KIOSK, INMATE_KIOSK) and \"question\" are "
			.. "required"
	end
	local rec = store.tx(function()
		return create(ctx, fsm.request, "NEW", {
			channel = channel, question = b.question,
			topic_area = str(b.topic_area) or NULL,
			requester = type(b.requester) == "table" and b.requester or NULL,
			prisoner_id = str(b.prisoner_id) or NULL,
			resident_id = str(b.resident_id) or NULL,
			region = str(b.region) or NULL,
		}, "created", { channel = channel })
	end)
	flush(ctx)
	return view(rec)
end

HOOKS.request.assign = function(ctx, rec)
	if not str(ctx.body.to) then
		return nil, "bad_request", ctx.topic .. ": \"to\" (the staff member "
			.. "who answers) is required"
	end
	rec.data.assignee = ctx.body.to
	return true
end

HOOKS.request.callback = function(ctx, rec, chg)
	rec.data.callback_at_ms = math.tointeger(ctx.body.callback_at_ms) or NULL
	chg.event.callback_at_ms = rec.data.callback_at_ms
	return true
end

HOOKS.request.answer = function(ctx, rec)
	if not str(ctx.body.answer) then
		return nil, "bad_request", ctx.topic .. ": \"answer\" is required"
	end
	rec.data.answer = ctx.body.answer
	rec.data.answered_ms = xz.now()
	rec.data.answered_by = ctx.actor.user
	return true
end

-- Referring to LEGAL_AID opens a legal-aid application (received now).
local open_aid

HOOKS.request.refer = function(ctx, rec, chg)
	local to = str(ctx.body.to)
	if not REFERRALS[to or ""] then
		return nil, "bad_request", ctx.topic .. ": \"to\" must be LEGAL_AID, "
			.. "MEDIATION or NOTARY"
	end
	rec.data.referred_to = to
	chg.event.to = to
	if to == "LEGAL_AID" then
		local b = ctx.body
		local aid, code, msg = open_aid(ctx, {
			applicant_type = str(b.applicant_type) or "CITIZEN",
			applicant = type(b.applicant) == "table" and b.applicant
				or rec.data.requester,
			matter = str(b.matter) or rec.data.question,
			specialty = b.specialty, region = b.region or rec.data.region,
			means_checked = b.means_checked, parties = b.parties,
			prisoner_id = rec.data.prisoner_id,
			service_request_id = rec.id, channel = rec.data.channel,
		})
		if not aid then
			return nil, code, msg
		end
		rec.data.aid_id = aid.id
		chg.event.aid_id = aid.id
	end
	return true
end

HOOKS.request.rate = function(ctx, rec, chg)
	local score = math.tointeger(ctx.body.score)
	if not score or score < 1 or score > 5 then
		return nil, "bad_request", ctx.topic .. ": \"score\" must be 1 (very "
			.. "dissatisfied) to 5 (very satisfied)"
	end
	rec.data.rating = score
	rec.data.rating_comment = str(ctx.body.comment) or NULL
	chg.event.score = score
	if score <= cfg.bad_rating_max then
		chg.to = "REVISIT"
		local due = xz.now() + cfg.revisit_h * HOUR
		clock_start("request", rec.id, "revisit", due)
		chg.event.revisit_due_ms = due
	else
		chg.to = rec.state
	end
	return true
end

HOOKS.request.revisit = function(ctx, rec)
	if not str(ctx.body.note) then
		return nil, "bad_request", ctx.topic .. ": \"note\" (what the "
			.. "revisit found) is required"
	end
	rec.data.revisit_note = ctx.body.note
	rec.data.revisited_ms = xz.now()
	clock_stop("request", rec.id, "revisit")
	return true
end

local function request_kpi()
	local total, answered, rated, satisfied = 0, 0, 0, 0
	for _, r in ipairs(store.list("request", nil, 1000000000)) do
		total = total + 1
		if nn(r.data.answered_ms) or r.state == "REFERRED" then
			answered = answered + 1
		end
		local s = nn(r.data.rating)
		if s then
			rated = rated + 1
			if s >= 3 then
				satisfied = satisfied + 1
			end
		end
	end
	return {
		requests = total, answered = answered, rated = rated,
		satisfied = satisfied,
		answer_rate = total > 0 and answered / total or NULL,
		satisfaction = rated > 0 and satisfied / rated or NULL,
		answer_rate_target = 0.95, satisfaction_target = 0.90,
	}
end

-- Legal-aid applications -------------------------------------------------

-- Inside a transaction: open an application from a (validated here) spec.
-- Custodial applicants arrive FORWARDED with the 24 h forward clock
-- running from the institution's request time; notified defence needs no
-- review and starts GRANTED with the 3-day assignment clock; others are
-- RECEIVED with the 7-day review clock.
open_aid = function(ctx, s)
	local atype = str(s.applicant_type)
	if not APPLICANTS[atype or ""] then
		return nil, "bad_request", ctx.topic .. ": \"applicant_type\" must "
			.. "be INMATE, REHAB_RESIDENT, CITIZEN or NOTIFIED_DEFENCE"
	end
	if not str(s.matter) then
		return nil, "bad_request", ctx.topic .. ": \"matter\" is required"
	end
	local parties = strlist(s.parties)
	if not parties then
		return nil, "bad_request", ctx.topic .. ": \"parties\" must be a "
			.. "list of person or case ids"
	end
	local applicant = type(s.applicant) == "table" and s.applicant or {}
	local applicant_id = str(applicant.id) or str(s.prisoner_id)
		or str(s.resident_id) or NULL
	local now = xz.now()
	local state = "RECEIVED"
	if s.custodial then
		state = "FORWARDED"
	elseif atype == "NOTIFIED_DEFENCE" then
		state = "GRANTED"
	end
	local data = {
		applicant_type = atype, applicant_id = applicant_id,
		applicant_name = str(applicant.name) or NULL,
		matter = s.matter,
		specialty = str(s.specialty) or NULL,
		region = str(s.region) or NULL,
		parties = parties,
		means_exempt = IN_CUSTODY[atype] or s.in_custody == true,
		means_checked = s.means_checked == true,
		prisoner_id = str(s.prisoner_id) or NULL,
		resident_id = str(s.resident_id) or NULL,
		channel = str(s.channel) or NULL,
		service_request_id = str(s.service_request_id) or NULL,
		custodial = s.custodial or NULL,
		requested_ms = math.tointeger(s.requested_ms) or now,
		notified_by = str(s.notified_by) or NULL,
	}
	local rec = create(ctx, fsm.aid, state, data, "opened", {
		applicant_type = atype, channel = data.channel,
		prisoner_id = data.prisoner_id, resident_id = data.resident_id,
		source_ref = s.source_ref or NULL,
	})
	if state == "FORWARDED" then
		clock_start("aid", rec.id, "forward",
			data.requested_ms + cfg.forward_h * HOUR)
	elseif state == "GRANTED" then
		clock_start("aid", rec.id, "assign", now + cfg.assign_days * DAY)
	else
		clock_start("aid", rec.id, "review", now + cfg.review_days * DAY)
	end
	return rec
end

-- Fields an officer may complete while receiving or reviewing.
local function take_case_fields(ctx, rec)
	local b = ctx.body
	for _, k in ipairs({ "specialty", "region" }) do
		if str(b[k]) then
			rec.data[k] = b[k]
		end
	end
	if b.parties ~= nil then
		local p = strlist(b.parties)
		if not p then
			return nil, "bad_request", ctx.topic .. ": \"parties\" must be a "
				.. "list of person or case ids"
		end
		rec.data.parties = p
	end
	if b.means_checked == true then
		rec.data.means_checked = true
	end
	return true
end

HOOKS.aid.receive = function(ctx, rec)
	local ok, c, e = take_case_fields(ctx, rec)
	if not ok then
		return nil, c, e
	end
	local now = xz.now()
	rec.data.received_ms = now
	clock_stop("aid", rec.id, "forward")
	clock_start("aid", rec.id, "review", now + cfg.review_days * DAY)
	return true
end

HOOKS.aid["start-review"] = take_case_fields

HOOKS.aid["request-supplement"] = function(ctx, rec, chg)
	local items = strlist(ctx.body.items)
	if not items or #items == 0 then
		return nil, "bad_request", ctx.topic .. ": \"items\" (the documents "
			.. "or facts the applicant must supply) is required"
	end
	rec.data.supplement_items = items
	chg.event.items = items
	clock_pause("aid", rec.id, "review")
	return true
end

HOOKS.aid.supplement = function(ctx, rec)
	local ok, c, e = take_case_fields(ctx, rec)
	if not ok then
		return nil, c, e
	end
	rec.data.supplemented_ms = xz.now()
	clock_resume("aid", rec.id, "review")
	return true
end

HOOKS.aid.grant = function(ctx, rec)
	local ok, c, e = take_case_fields(ctx, rec)
	if not ok then
		return nil, c, e
	end
	if not rec.data.means_exempt and not rec.data.means_checked then
		return nil, "bad_request", string.format("%s: application %s "
			.. "(%s) needs a means check: give \"means_checked\": true once "
			.. "the applicant's financial hardship is verified",
			ctx.topic, rec.id, rec.data.applicant_type)
	end
	rec.data.decided_ms = xz.now()
	rec.data.decided_by = ctx.actor.user
	clock_stop("aid", rec.id, "review")
	clock_start("aid", rec.id, "assign", xz.now() + cfg.assign_days * DAY)
	return true
end

HOOKS.aid.refuse = function(ctx, rec)
	if not str(ctx.body.reason) then
		return nil, "bad_request", ctx.topic .. ": \"reason\" (the ground of "
			.. "refusal, told to the applicant) is required"
	end
	rec.data.decided_ms = xz.now()
	rec.data.decided_by = ctx.actor.user
	rec.data.refusal_reason = ctx.body.reason
	clock_stop("aid", rec.id, "review")
	return true
end

HOOKS.aid.object = function(ctx, rec, chg)
	if not str(ctx.body.reason) then
		return nil, "bad_request", ctx.topic .. ": \"reason\" (the "
			.. "applicant's objection) is required"
	end
	local due = days.add_working_days(xz.now(), cfg.objection_working_days,
		cfg.tz_offset_min, holidays)
	rec.data.objection = ctx.body.reason
	rec.data.objection_due_ms = due
	chg.event.due_ms = due
	clock_start("aid", rec.id, "objection", due)
	return true
end

HOOKS.aid.uphold = function(ctx, rec)
	if not str(ctx.body.reason) then
		return nil, "bad_request", ctx.topic .. ": \"reason\" is required"
	end
	clock_stop("aid", rec.id, "objection")
	return true
end

HOOKS.aid.overturn = function(ctx, rec)
	clock_stop("aid", rec.id, "objection")
	clock_start("aid", rec.id, "assign", xz.now() + cfg.assign_days * DAY)
	return true
end

local function routing_input(d, b)
	b = b or {}
	return {
		specialty = str(b.specialty) or nn(d.specialty),
		region = str(b.region) or nn(d.region),
		applicant_id = str(b.applicant_id) or nn(d.applicant_id),
		parties = (b.parties ~= nil and strlist(b.parties))
			or nn(d.parties) or {},
	}
end

HOOKS.aid.assign = function(ctx, rec, chg)
	local input = routing_input(rec.data)
	local ranked, excluded = routing.rank(input, store.providers())
	local p
	local want = str(ctx.body.provider_id)
	if want then
		for _, x in ipairs(ranked) do
			if x.id == want then
				p = x
			end
		end
		if not p then
			local why = "not in the directory"
			for _, x in ipairs(excluded) do
				if x.id == want then
					why = x.reason
				end
			end
			-- in the directory but unable to take it (capacity,
			-- specialty, conflict): the request must name another
			-- provider, or none to let the routing rule choose
			return nil, store.provider(want) and "bad_request"
				or "not_found", string.format(
				"%s: provider %s cannot take application %s: %s",
				ctx.topic, want, rec.id, why)
		end
	else
		p = ranked[1]
		if not p then
			local reasons = {}
			for _, x in ipairs(excluded) do
				reasons[#reasons + 1] = x.id .. ": " .. x.reason
			end
			-- nobody can take it now; a provider added or freed later can
			return nil, "unavailable", string.format(
				"%s: no provider can take application %s (%s)", ctx.topic,
				rec.id, #reasons > 0 and table.concat(reasons, "; ")
					or "the directory is empty")
		end
	end
	store.provider_load(p.id, 1)
	rec.data.provider = { id = p.id, name = p.name, type = p.type,
		licence = p.licence }
	rec.data.provider_id = p.id
	rec.data.routing_rule = routing.version or NULL
	rec.data.assigned_ms = xz.now()
	chg.event.provider_id = p.id
	chg.event.prisoner_id = rec.data.prisoner_id
	clock_stop("aid", rec.id, "assign")
	return true
end

-- After an assignment: a prisoner's lawyer needs a LEGAL visit; the prison
-- plugin books it (request, approve, book) and legal records the booking.
AFTER.aid.assign = function(ctx, rec)
	local pid = nn(rec.data.prisoner_id)
	if not pid or not cfg.book_legal_visits then
		return
	end
	local p = rec.data.provider
	local slot = rec.data.assigned_ms + cfg.legal_visit_lead_h * HOUR
	local actor = { user = SYSTEM.user, role = SYSTEM.role,
		agency = SYSTEM.agency }
	local visit, code, msg = xz.request("prison.visit.request", {
		actor = actor, prisoner_id = pid, type = "LEGAL",
		visitor = { name = p.name, provider_id = p.id, licence = p.licence,
			type = p.type },
		slot_ms = slot, legal_aid_id = rec.id,
		reason = "legal aid " .. rec.id,
	}, cfg.visit_timeout_ms)
	local booked
	if visit then
		local vid = visit.id
		store.visit_put(vid, rec.id)
		local r
		r, code, msg = xz.request("prison.visit.approve", { actor = actor,
			id = vid, reason = "legal visit of the assigned provider" },
			cfg.visit_timeout_ms)
		if r then
			booked, code, msg = xz.request("prison.visit.book", {
				actor = actor, id = vid, slot_ms = slot }, cfg.visit_timeout_ms)
		end
		visit = { id = vid, state = booked and booked.state or r and r.state
			or visit.state, slot_ms = slot }
	end
	local cur = store.load("aid", rec.id)
	if booked then
		cur.data.visit = visit
	else
		cur.data.visit = { id = visit and visit.id or NULL,
			state = visit and visit.state or NULL,
			error = (code or "error") .. ": " .. tostring(msg) }
	end
	cur.updated_ms = xz.now()
	store.tx(function()
		store.save(cur)
		store.add_history("aid", rec.id, booked and "visit-booked"
			or "visit-failed", cur.state, cur.state, SYSTEM, cur.updated_ms,
			booked and ("visit " .. visit.id) or cur.data.visit.error)
		return true
	end)
	rec.data.visit = cur.data.visit
	if booked then
		emit("legal.aid.visit-booked", { id = rec.id, visit_id = visit.id,
			prisoner_id = pid, provider_id = p.id, slot_ms = slot,
			at_ms = cur.updated_ms })
		audit(ctx, "UPDATE", fsm.aid.subject_type, rec.id,
			"visit_booked:" .. visit.id)
	else
		emit("legal.aid.visit-failed", { id = rec.id, prisoner_id = pid,
			error = cur.data.visit.error, at_ms = cur.updated_ms })
		audit(ctx, "UPDATE", fsm.aid.subject_type, rec.id, "visit_failed")
		xz.log("warn", "legal aid", rec.id, "legal visit not booked:",
			cur.data.visit.error)
	end
end

HOOKS.aid["start-service"] = function(ctx, rec)
	rec.data.service_started_ms = xz.now()
	return true
end

local function release_provider(rec)
	if nn(rec.data.provider_id) then
		store.provider_load(rec.data.provider_id, -1)
	end
end

HOOKS.aid.close = function(ctx, rec, chg)
	local outcome = str(ctx.body.outcome)
	if not outcome then
		return nil, "bad_request", ctx.topic .. ": \"outcome\" (e.g. "
			.. "DEFENDED, ADVICE_GIVEN, SETTLED, JUDGMENT) is required"
	end
	rec.data.outcome = outcome
	rec.data.closed_ms = xz.now()
	release_provider(rec)
	-- the closed event carries what the prison or rehab centre puts on
	-- the person's record
	chg.event.outcome = outcome
	chg.event.applicant_type = rec.data.applicant_type
	chg.event.prisoner_id = rec.data.prisoner_id
	chg.event.resident_id = rec.data.resident_id
	chg.event.provider_id = rec.data.provider_id
	return true
end

HOOKS.aid.terminate = function(ctx, rec, chg)
	if not str(ctx.body.reason) then
		return nil, "bad_request", ctx.topic .. ": \"reason\" (the legal "
			.. "ground for terminating aid) is required"
	end
	rec.data.closed_ms = xz.now()
	release_provider(rec)
	chg.event.applicant_type = rec.data.applicant_type
	chg.event.prisoner_id = rec.data.prisoner_id
	chg.event.resident_id = rec.data.resident_id
	return true
end

-- Providers ------------------------------------------------------------

local function provider_add(ctx, b)
	local p = {
		id = str(b.id), type = str(b.type), name = str(b.name),
		licence = str(b.licence), region = str(b.region),
		capacity = math.tointeger(b.capacity),
		specialties = strlist(b.specialties), conflicts = strlist(b.conflicts),
		active = b.active ~= false,
	}
	if not p.id or not PROVIDER_TYPES[p.type or ""] or not p.name
		or not p.licence or not p.region or not p.capacity
		or p.capacity < 0 or not p.specialties or not p.conflicts then
		return nil, "bad_request", ctx.topic .. ": \"id\", \"type\" (LAWYER, "
			.. "NOTARY, MEDIATOR, LEGAL_AID_CENTER, BASIC_LEGAL_WORKER), "
			.. "\"name\", \"licence\", \"region\", \"capacity\" (>= 0) are "
			.. "required; \"specialties\" and \"conflicts\" are lists of "
			.. "strings"
	end
	if store.provider(p.id) then
		return nil, "exists", string.format("%s: provider %s is "
			.. "already in the directory", ctx.topic, p.id)
	end
	p.load = 0
	store.provider_put(p)
	audit(ctx, "CREATE", "legal_provider", p.id, "created")
	emit("legal.provider.added", { id = p.id, type = p.type,
		region = p.region, who = ctx.actor.user, at_ms = xz.now() })
	return p
end

local function provider_update(ctx, b)
	local p = store.provider(str(b.id) or "")
	if not p then
		return nil, "not_found", string.format("%s: no provider with id %s",
			ctx.topic, tostring(b.id))
	end
	if b.capacity ~= nil then
		local c = math.tointeger(b.capacity)
		if not c or c < 0 then
			return nil, "bad_request", ctx.topic .. ": \"capacity\" must be "
				.. "an integer >= 0"
		end
		p.capacity = c
	end
	for _, k in ipairs({ "specialties", "conflicts" }) do
		if b[k] ~= nil then
			local l = strlist(b[k])
			if not l then
				return nil, "bad_request", ctx.topic .. ": \"" .. k
					.. "\" must be a list of strings"
			end
			p[k] = l
		end
	end
	if str(b.region) then
		p.region = b.region
	end
	if type(b.active) == "boolean" then
		p.active = b.active
	end
	store.provider_put(p)
	audit(ctx, "UPDATE", "legal_provider", p.id, "updated")
	emit("legal.provider.updated", { id = p.id, who = ctx.actor.user,
		at_ms = xz.now() })
	return p
end

local function provider_list(ctx, b)
	local out = {}
	for _, p in ipairs(store.providers()) do
		local keep = (not str(b.type) or p.type == b.type)
			and (not str(b.region) or p.region == b.region)
		if keep and str(b.specialty) then
			keep = false
			for _, s in ipairs(p.specialties) do
				keep = keep or s == b.specialty
			end
		end
		if keep then
			p.remaining = math.max(0, p.capacity - p.load)
			out[#out + 1] = p
		end
	end
	return { providers = json.as_array(out), count = #out }
end

local function routing_preview(ctx, b)
	local ranked, excluded = routing.rank(routing_input({}, b),
		store.providers())
	local ids = {}
	for _, p in ipairs(ranked) do
		ids[#ids + 1] = p.id
	end
	return { rule = routing.version or NULL, chosen = ids[1] or NULL,
		ranked = json.as_array(ids), excluded = json.as_array(excluded) }
end

-- Flow glue: kiosk requests from prisons and rehab centres --------------

-- A kiosk event opens one application (the event id is remembered: a
-- redelivered event changes nothing), then tells the institution its
-- request was forwarded.
local function on_kiosk(ev, topic, institution, person_key, atype)
	if type(ev) ~= "table" or not str(ev.id) or not str(ev[person_key]) then
		xz.log("warn", topic, "without \"id\" and \"" .. person_key
			.. "\" ignored")
		return
	end
	local ref = topic .. ":" .. ev.id
	if store.source(ref) then
		return
	end
	local ctx = { topic = topic, actor = SYSTEM, corr = new_corr(),
		purpose = "legal aid for a person in custody", body = {},
		events = {}, audits = {} }
	local spec = {
		applicant_type = atype, matter = str(ev.matter) or "legal aid",
		specialty = str(ev.specialty) or cfg.kiosk_specialty,
		region = str(ev.region) or (cfg.custodial_region ~= ""
			and cfg.custodial_region) or nil,
		requested_ms = math.tointeger(ev.at_ms) or xz.now(),
		custodial = { institution = institution, kiosk_id = ev.id,
			forward_by_ms = math.tointeger(ev.forward_by_ms) or NULL },
		channel = "INMATE_KIOSK", source_ref = ref,
	}
	spec[person_key] = ev[person_key]
	local rec, code, msg = store.tx(function()
		local r, c, m = open_aid(ctx, spec)
		if r then
			store.source_put(ref, "aid", r.id)
		end
		return r, c, m
	end)
	if not rec then
		xz.log("warn", topic, ev.id, "not opened:", code, msg)
		return
	end
	flush(ctx)
	local ok, c2, m2 = xz.request(institution .. ".kiosk.forward", {
		actor = SYSTEM, id = ev.id,
		reason = "opened as legal-aid application " .. rec.id,
	}, cfg.visit_timeout_ms)
	if not ok then
		xz.log("info", institution .. ".kiosk.forward", ev.id, c2, m2)
	end
end

-- Visits we booked: follow their end (completed, cancelled) on the record.
local function on_visit(ev, topic)
	if type(ev) ~= "table" or not str(ev.id) then
		return
	end
	local aid_id = store.visit_aid(ev.id)
	if not aid_id then
		return
	end
	local rec = store.load("aid", aid_id)
	if not rec or type(rec.data.visit) ~= "table" then
		return
	end
	local what = topic:match("[^.]+$")
	-- kit events name the new state "to"
	rec.data.visit.state = str(ev.to) or str(ev.state) or string.upper(what)
	rec.data.visit.outcome = str(ev.outcome) or NULL
	rec.updated_ms = xz.now()
	store.tx(function()
		store.save(rec)
		store.add_history("aid", aid_id, "visit-" .. what, rec.state,
			rec.state, { user = str(ev.who) or "prison" }, rec.updated_ms,
			"visit " .. ev.id)
		return true
	end)
	audit({ actor = { user = str(ev.who) or "prison", role = str(ev.role) },
		corr = new_corr(), purpose = "legal visit" }, "UPDATE",
		fsm.aid.subject_type, aid_id, "visit_" .. what .. ":" .. ev.id)
	emit("legal.aid.visit-" .. what, { id = aid_id, visit_id = ev.id,
		visit_state = rec.data.visit.state, outcome = rec.data.visit.outcome,
		prisoner_id = rec.data.prisoner_id, at_ms = rec.updated_ms })
end

-- Requests -------------------------------------------------------------

local handlers = {}

-- Register a request handler: fn(ctx, body) returns the reply table, or
-- nil, code, message (replied as an error and audited as REFUSE).
local function serve(topic, subject_type, fn)
	handlers[topic] = function(body, t, _, caller)
		if type(body) ~= "table" then
			body = {}
		end
		local a = body.actor
		local ctx = { topic = t, body = body, events = {}, audits = {},
			corr = str(body.corr) or new_corr(), purpose = str(body.purpose) }
		-- Who acts is the kernel's word (the caller): only the node, a
		-- plugin or an administrator may name someone in "actor".
		local trusted = caller == nil
		for _, r in ipairs(caller and caller.roles or {}) do
			if r == "admin" or r == "plugin" or r == "node" then
				trusted = true
			end
		end
		if not trusted then
			local ag = caller.agency ~= "" and caller.agency or nil
			ctx.actor = { user = caller.user, role = caller.roles[1],
				agency = ag }
			local why
			if type(a) == "table" and str(a.user) and a.user ~= caller.user then
				why = "the payload's actor '" .. a.user
					.. "' is not the authenticated caller '" .. caller.user .. "'"
			elseif type(a) == "table" and str(a.agency) and a.agency ~= caller.agency then
				why = "'" .. caller.user .. "' acts for agency '"
					.. (ag or "(none)") .. "', not '" .. a.agency .. "'"
			end
			if why then
				audit(ctx, "REFUSE", subject_type, str(body.id), "forbidden")
				xz.reply_error("forbidden", t .. ": " .. why)
				return
			end
			a = ctx.actor
		end
		if type(a) ~= "table" or not str(a.user) then
			ctx.actor = { user = "unknown" }
			audit(ctx, "REFUSE", subject_type, str(body.id), "bad_request")
			xz.reply_error("bad_request", t .. ": \"actor\" {\"user\", "
				.. "\"role\", \"agency\"} is required")
			return
		end
		ctx.actor = { user = a.user, role = str(a.role), agency = str(a.agency) }
		local res, code, msg = fn(ctx, body)
		if res == nil then
			if not REPLY_CODES[code] then
				xz.log("error", t, "answered the code", tostring(code),
					"outside the closed set: sent as internal")
				code = "internal"
			end
			audit(ctx, "REFUSE", subject_type, str(body.id), code)
			xz.reply_error(code, msg)
			return
		end
		return res
	end
end

local function serve_machine(m)
	for _, action in ipairs(fsm.actions(m)) do
		serve("legal." .. m.aggregate .. "." .. action, m.subject_type,
			function(ctx, b)
				local rec, code, msg = apply(ctx, m, b.id, action)
				if not rec then
					return nil, code, msg
				end
				return view(rec)
			end)
	end
	-- a read of one record is a VIEW of a person's file: purpose-bound
	serve("legal." .. m.aggregate .. ".get", m.subject_type, function(ctx, b)
		if not ctx.purpose then
			return nil, "bad_request", ctx.topic .. ": \"purpose\" (why you "
				.. "read this record) is required"
		end
		local rec = store.load(m.aggregate, b.id)
		if not rec then
			return nil, "not_found", string.format("%s: no %s with id %s",
				ctx.topic, m.noun, tostring(b.id))
		end
		audit(ctx, "VIEW", m.subject_type, rec.id, "disclosed")
		return view(rec, true)
	end)
	-- lists are thin: ids, states and times, no names
	serve("legal." .. m.aggregate .. ".list", m.subject_type, function(ctx, b)
		local rows = store.list(m.aggregate, str(b.state), cfg.list_max)
		local out = {}
		for _, r in ipairs(rows) do
			out[#out + 1] = { id = r.id, state = r.state,
				applicant_type = r.data.applicant_type,
				channel = r.data.channel, created_ms = r.created_ms,
				updated_ms = r.updated_ms }
		end
		audit(ctx, "VIEW", m.subject_type, "*", "listed:" .. #out)
		return { items = json.as_array(out), count = #out }
	end)
end

serve_machine(fsm.request)
serve_machine(fsm.aid)
serve("legal.request.create", "service_request", create_request)
serve("legal.request.kpi", "service_request", function() return request_kpi() end)
serve("legal.aid.open", "legal_aid_application", function(ctx, b)
	local spec = {}
	for k, v in pairs(b) do
		spec[k] = v
	end
	spec.custodial = type(b.custodial) == "table" and b.custodial or nil
	local rec, code, msg = store.tx(function() return open_aid(ctx, spec) end)
	if not rec then
		return nil, code, msg
	end
	flush(ctx)
	return view(rec)
end)
serve("legal.provider.add", "legal_provider", provider_add)
serve("legal.provider.update", "legal_provider", provider_update)
serve("legal.provider.list", "legal_provider", provider_list)
serve("legal.provider.get", "legal_provider", function(ctx, b)
	local p = store.provider(str(b.id) or "")
	if not p then
		return nil, "not_found", string.format("%s: no provider with id %s",
			ctx.topic, tostring(b.id))
	end
	return p
end)
serve("legal.routing.preview", "legal_aid_application", routing_preview)

handlers["prison.kiosk.legal-aid-requested"] = function(ev, topic)
	on_kiosk(ev, topic, "prison", "prisoner_id", "INMATE")
end
handlers["rehab.kiosk.legal-aid-requested"] = function(ev, topic)
	on_kiosk(ev, topic, "rehab", "resident_id", "REHAB_RESIDENT")
end
for _, e in ipairs({ "completed", "cancelled", "rejected" }) do
	handlers["prison.visit." .. e] = on_visit
end

return {
	name = "legal",
	version = "1.0",
	description = "public legal services: service requests, legal-aid "
		.. "applications with statutory clocks, provider directory and routing",
	options = {
		{ name = "forward_h", type = "int", default = 24, min = 1, max = 720,
		  description = "hours a custodial institution has to forward a "
			.. "legal-aid request (from the prisoner's request time)" },
		{ name = "review_days", type = "int", default = 7, min = 1, max = 90,
		  description = "days to decide an application (paused while a "
			.. "supplement is requested)" },
		{ name = "assign_days", type = "int", default = 3, min = 1, max = 90,
		  description = "days to assign a provider once aid is granted" },
		{ name = "objection_working_days", type = "int", default = 5, min = 1,
		  max = 60, description = "working days to decide an objection to a "
			.. "refusal (Saturdays, Sundays and holidays skipped)" },
		{ name = "revisit_h", type = "int", default = 24, min = 1, max = 720,
		  description = "hours to revisit a requester after a bad rating" },
		{ name = "bad_rating_max", type = "int", default = 2, min = 1, max = 4,
		  description = "ratings up to this (on 1-5) trigger a revisit" },
		{ name = "tz_offset_min", type = "int", default = 480, min = -720,
		  max = 840, description = "the province's UTC offset in minutes "
			.. "(working days are counted in local time)" },
		{ name = "holidays", type = "string", default = "",
		  description = "public holidays skipped by working-day clocks: "
			.. "YYYY-MM-DD separated by commas" },
		{ name = "book_legal_visits", type = "bool", default = true,
		  description = "ask the prison to book a LEGAL visit when a "
			.. "provider is assigned to a prisoner's application" },
		{ name = "legal_visit_lead_h", type = "int", default = 48, min = 1,
		  max = 720, description = "hours from assignment to the booked "
			.. "legal visit slot" },
		{ name = "visit_timeout_ms", type = "int", default = 5000, min = 100,
		  max = 60000, description = "deadline of each request to the "
			.. "prison or rehab plugin" },
		{ name = "kiosk_specialty", type = "string", default = "CRIMINAL",
		  description = "specialty routed for kiosk requests from custody" },
		{ name = "custodial_region", type = "string", default = "",
		  description = "region of the custodial institutions on this node "
			.. "(preferred by routing for kiosk requests)" },
		{ name = "list_max", type = "int", default = 1000, min = 1,
		  max = 100000, description = "largest page a list request returns" },
	},
	init = function(c)
		cfg = c
		local h, bad = days.parse_holidays(c.holidays)
		if not h then
			error("option holidays: '" .. bad .. "' is not a date "
				.. "(YYYY-MM-DD)", 0)
		end
		holidays = h
		store.init()
		-- clocks still running from before a restart or reload: re-armed
		-- from the store (a deadline already passed fires at once)
		for _, k in ipairs(store.running_clocks()) do
			arm(k.kind, k.id, k.clock, k.due_ms)
		end
	end,
	handlers = handlers,
}
