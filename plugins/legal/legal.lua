-- legal.lua - public legal services (12348 hotline, web, WeChat, halls,
-- kiosks in prisons and rehab centres; 中心/工作站/联络点) as a Lua plugin:
-- service requests with their ratings and revisits, legal-aid applications
-- under the 法律援助法 (2021) with their statutory clocks (先行提供 urgent
-- aid, change of provider, termination, objections decided by the justice
-- bureau, quality evaluation and revisits), duty lawyers' shifts, the
-- provider directory and the routing rule (routing.lua, hot reloadable).
-- See docs/legal.md for the operator's walk-through and the full catalogue
-- of requests and events.
--
-- Who acts is the authenticated caller (authz.lua), who may do what is
-- the table ACL below, every request field is checked against a schema
-- (schema.lua) and every message is in the node's language (msg.lua).
-- Every change is stored with its history and its audit record
-- audit.legal.<action> in one transaction (the audit spool of
-- legal_store.lua), then published as legal.<aggregate>.<event>; every
-- refusal is audited too.
local fsm = require("legal_fsm")
local store = require("legal_store")
local days = require("legal_days")
local routing = require("routing")
local msg = require("msg")
local schema = require("schema")
local handler = require("handler")
local authz = require("authz")

local tr = msg.tr
local json = xz.json
local NULL = xz.null
local HOUR = 3600000
local DAY = days.DAY

local cfg         -- the options, set in init
local calendar    -- the working-day calendar (legal_days), set in init
local working = {} -- clock name -> true when counted in working days
local custodial_agency = {} -- institution -> agency (option)
local timers = {} -- "kind/id/clock" -> kernel timer id
local ncorr = 0

local SYSTEM = { user = "legal", role = "plugin", agency = "legal-services" }

-- 12348 channels: 热线, 网站, 微信, 移动端, 实体平台 (hall), 自助终端.
local CHANNELS = { "HOTLINE", "WEB", "WECHAT", "APP", "HALL", "KIOSK",
	"INMATE_KIOSK" }
-- the tiers of the public legal service network: 中心, 工作站, 联络点
local TIERS = { "CENTRE", "WORKSTATION", "CONTACT_POINT" }
-- INMATE: a sentenced prisoner (监狱); DETAINEE: held in a 看守所;
-- REHAB_RESIDENT: 强制隔离戒毒人员 (art. 39); NOTIFIED_DEFENCE: notified
-- by a court, procuratorate or police (arts. 25, 28, 36)
local APPLICANTS = { "INMATE", "DETAINEE", "REHAB_RESIDENT", "CITIZEN",
	"NOTIFIED_DEFENCE" }
-- PETITION: 申诉 against an effective judgment or a retrial (art. 33),
-- what a sentenced prisoner files; 上诉 (appeal) is before a judgment is
-- effective, so it is a CRIMINAL_DEFENCE matter, not a prisoner's
local CASE_TYPES = { "CRIMINAL_DEFENCE", "PETITION", "CIVIL",
	"ADMINISTRATIVE", "STATE_COMPENSATION", "NON_LITIGATION" }
-- art. 42: exempt from the check of financial hardship (免予核查) with
-- materials proving it; art. 32: not subject to the hardship condition
local EXEMPTIONS = {
	ART42_NO_FIXED_INCOME = "42(1)", -- 无固定生活来源的未成年人、老年人、残疾人等
	ART42_SOCIAL_ASSISTANCE = "42(2)", -- 社会救助、司法救助或者优抚对象
	ART42_MIGRANT_WORKER = "42(3)", -- 请求支付劳动报酬或工伤赔偿的进城务工人员
	ART42_OTHER = "42(4)", -- 法律、法规、规章规定的其他人员 (basis)
	ART32_HERO_MARTYR_KIN = "32(1)", -- 英雄烈士近亲属维护英雄烈士人格权益
	ART32_GOOD_SAMARITAN = "32(2)", -- 因见义勇为行为主张相关民事权益
	ART32_RETRIAL_ACQUITTAL = "32(3)", -- 再审改判无罪请求国家赔偿
	ART32_ABUSE_VICTIM = "32(4)", -- 遭受虐待、遗弃或者家庭暴力的受害人
	ART32_OTHER = "32(5)", -- 法律、法规、规章规定的其他情形 (basis)
}
local EXEMPTION_IDS = {}
for k in pairs(EXEMPTIONS) do
	EXEMPTION_IDS[#EXEMPTION_IDS + 1] = k
end
table.sort(EXEMPTION_IDS)
-- art. 44: grounds of 先行提供
local URGENT_GROUNDS = { "LIMITATION_EXPIRING", "PRESERVATION",
	"OTHER_RULE" }
-- art. 48: grounds of termination, in the article's order
local TERMINATION_GROUNDS = { "DECEPTION", "FALSE_EVIDENCE",
	"UNLAWFUL_USE", "NO_LONGER_ELIGIBLE", "CASE_ENDED", "OWN_COUNSEL",
	"ASSISTED_REQUEST", "OTHER_RULE" }
-- arts. 57, 59: how quality is evaluated, and the grades
local EVAL_METHODS = { "COURT_OBSERVATION", "FILE_CHECK",
	"JUDICIAL_OPINION", "REVISIT", "THIRD_PARTY" }
local GRADES = { "EXCELLENT", "PASS", "BASIC_PASS", "FAIL" }
local PROVIDER_TYPES = { "LAWYER", "LEGAL_AID_STAFF", "BASIC_LEGAL_WORKER",
	"LEGAL_AID_CENTER", "NOTARY", "MEDIATOR" }
local REFERRALS = { "LEGAL_AID", "MEDIATION", "NOTARY" }
-- art. 14: where duty lawyers are stationed
local STATIONS = { "COURT", "PROCURATORATE", "DETENTION_HOUSE" }
-- art. 30: the legal help a duty lawyer gives
local HELP_KINDS = { "CONSULTATION", "PROCEDURE_ADVICE",
	"COERCIVE_MEASURE_CHANGE", "CASE_OPINION", "PLEA_PRESENCE" }
local INSTITUTIONS = { "prison", "rehab", "detention" }
-- applicant type a kiosk of an institution files for
local INSTITUTION_APPLICANT = { prison = "INMATE", rehab = "REHAB_RESIDENT",
	detention = "DETAINEE" }
local PERSON_KEY = { prison = "prisoner_id", rehab = "resident_id",
	detention = "detainee_id" }

local function set(list)
	local out = {}
	for _, v in ipairs(list) do
		out[v] = true
	end
	return out
end

local function nn(v)
	if v == NULL then
		return nil
	end
	return v
end

local function str(v)
	return type(v) == "string" and v ~= "" and v or nil
end

local function copy_list(v)
	local out = {}
	for i, x in ipairs(v or {}) do
		out[i] = x
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
-- Written into the store's audit spool (legal_store.lua): inside a
-- transaction as part of the change (no change without its record),
-- outside one (reads, refusals) at once; drained in order to the audit
-- plugin.
local function audit(ctx, action, subject_type, subject_id, outcome)
	store.audit("audit.legal." .. string.lower(action), {
		who = ctx.actor.user, role = ctx.actor.role or NULL,
		agency = ctx.actor.agency or NULL, action = action,
		subject_type = subject_type, subject_id = subject_id or NULL,
		purpose = ctx.purpose or NULL, outcome = outcome,
		service = "legal", corr = ctx.corr, time = xz.now(),
		auth = ctx.actor.auth or NULL,
	})
end

local function emit(topic, fields)
	xz.publish(topic, fields)
end

-- Clocks: one row per (record, clock) in the store, one kernel timer per
-- running clock. A timer re-reads its row when it fires, so a clock that
-- was stopped, paused or moved in the meantime does nothing. --------------

local MACHINES = { request = fsm.request, aid = fsm.aid, duty = fsm.duty }
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
	local m = MACHINES[kind]
	local ok, e = pcall(store.tx, function()
		xz.db.exec("UPDATE clocks SET status = 'BREACHED', ended_ms = ? "
			.. "WHERE kind = ? AND id = ? AND clock = ?", now, kind, id, clock)
		audit({ actor = SYSTEM, corr = new_corr(),
			purpose = "statutory clock" }, "UPDATE", m.subject_type, id,
			"sla_breached:" .. clock)
		return true
	end)
	if not ok then
		-- not recorded (the audit spool is full, the store fails): the
		-- breach is tried again in a second
		xz.log("warn", tr("legal: %s %s: the breach of clock %s was not "
			.. "recorded: %s", tr(m.noun), id, clock,
			select(2, store.failure(e)) or tostring(e)))
		arm(kind, id, clock, now + 1000)
		return
	end
	emit("legal." .. m.aggregate .. ".sla-breached", {
		id = id, clock = clock, due_ms = c.due_ms, breached_ms = now,
		state = rec and rec.state or NULL,
	})
	xz.log("warn", tr("legal: %s %s missed its %s clock", tr(m.noun), id,
		clock))
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
	audit(ctx, "CREATE", m.subject_type, rec.id, "created:" .. state)
	return rec
end

-- After the commit: publish the events (the audit records are already in
-- the spool, in the change's transaction).
local function flush(ctx)
	for _, e in ipairs(ctx.events) do
		emit(e[1], e[2])
	end
	ctx.events = {}
end

local HOOKS = { request = {}, aid = {}, duty = {} }
local AFTER = { request = {}, aid = {}, duty = {} }

-- Apply action to record id of machine m: checks the state, runs the
-- action's hook, stores the change and its history, then publishes the
-- event and the audit. Returns the record, or nil, code, message.
local function apply(ctx, m, id, action)
	local rec = store.load(m.aggregate, id)
	if not rec then
		return nil, "not_found", tr("%s: no %s with id %s", ctx.topic,
			tr(m.noun), tostring(id))
	end
	-- a lawyer acts on their own case or shift only
	local ok, c, e = authz.own(ctx.topic, ctx.actor, ctx.actor.role,
		rec.data.provider, m.noun, rec.id)
	if not ok then
		return nil, c, e
	end
	local row = fsm.find(m, action, rec.state)
	if not row then
		local allowed = fsm.allowed(m, rec.state)
		return nil, "invalid_state", tr("%s: %s %s is %s; allowed "
			.. "actions: %s", ctx.topic, tr(m.noun), id,
			msg.label(rec.state), #allowed > 0 and msg.list(allowed)
				or tr("none (final state)"))
	end
	local from = rec.state
	local chg = { to = row[3], event = {} }
	local done, code, text = store.tx(function()
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
		audit(ctx, "UPDATE", m.subject_type, id, from .. "->" .. rec.state)
		return true
	end)
	if not done then
		return nil, code, text
	end
	local ev = { id = id, action = action, from = from, state = rec.state,
		who = ctx.actor.user, role = ctx.actor.role or NULL,
		at_ms = rec.updated_ms, reason = str(ctx.body.reason) or NULL }
	for k, x in pairs(chg.event) do
		ev[k] = x
	end
	flush(ctx)
	emit("legal." .. m.aggregate .. "." .. row[4], ev)
	local after = AFTER[m.aggregate][action]
	if after then
		after(ctx, rec)
	end
	return rec
end

-- Deadlines ------------------------------------------------------------

-- The deadline n days from now for clock: in working days (end of the
-- n-th working day after today, local time) when the clock is counted so
-- (option working_day_clocks), else n natural days. nil, code, message
-- when the calendar lacks a year the count runs into.
local function due_in(ctx, clock, n)
	if working[clock] then
		local due, missing = days.add_working_days(xz.now(), n,
			cfg.tz_offset_min, calendar)
		if not due then
			return nil, "unavailable", tr("%s: the calendar has no year %d: "
				.. "working days cannot be counted (load its file, option "
				.. "calendar_years)", ctx.topic, missing)
		end
		return due
	end
	return xz.now() + n * DAY
end

-- Service requests -------------------------------------------------------

local function create_request(ctx, b)
	local channel = b.channel
	if ctx.actor.role == "kiosk" and channel ~= "KIOSK"
		and channel ~= "INMATE_KIOSK" then
		return nil, "forbidden", tr("%s: field \"%s\": %s", ctx.topic,
			"channel", tr("must be one of %s", "KIOSK, INMATE_KIOSK"))
	end
	local rec = store.tx(function()
		return create(ctx, fsm.request, "NEW", {
			channel = channel, question = b.question,
			topic_area = b.topic_area or NULL,
			requester = b.requester or NULL,
			prisoner_id = b.prisoner_id or NULL,
			resident_id = b.resident_id or NULL,
			region = b.region or NULL,
			tier = b.tier or "CENTRE", point_id = b.point_id or NULL,
			centre = cfg.agency,
			intake_agency = ctx.actor.agency or NULL,
		}, "created", { channel = channel, tier = b.tier or "CENTRE" })
	end)
	flush(ctx)
	return view(rec)
end

HOOKS.request.assign = function(ctx, rec)
	rec.data.assignee = ctx.body.to
	return true
end

HOOKS.request.callback = function(ctx, rec, chg)
	if ctx.body.callback_at_ms <= xz.now() then
		return nil, "bad_request", tr("%s: \"callback_at_ms\" must be later "
			.. "than now", ctx.topic)
	end
	rec.data.callback_at_ms = ctx.body.callback_at_ms
	chg.event.callback_at_ms = rec.data.callback_at_ms
	return true
end

HOOKS.request.answer = function(ctx, rec)
	rec.data.answer = ctx.body.answer
	rec.data.answered_ms = xz.now()
	rec.data.answered_by = ctx.actor.user
	return true
end

-- Referring to LEGAL_AID opens a legal-aid application (received now).
local open_aid

HOOKS.request.refer = function(ctx, rec, chg)
	local to = ctx.body.to
	rec.data.referred_to = to
	chg.event.to = to
	if to == "LEGAL_AID" then
		local b = ctx.body
		local aid, code, text = open_aid(ctx, {
			applicant_type = b.applicant_type or "CITIZEN",
			applicant = b.applicant or nn(rec.data.requester),
			matter = b.matter or rec.data.question,
			case_type = b.case_type,
			specialty = b.specialty, region = b.region or nn(rec.data.region),
			means_checked = b.means_checked,
			means_exemption = b.means_exemption, basis = b.basis,
			parties = b.parties,
			prisoner_id = nn(rec.data.prisoner_id),
			service_request_id = rec.id, channel = rec.data.channel,
			tier = nn(rec.data.tier), point_id = nn(rec.data.point_id),
		})
		if not aid then
			return nil, code, text
		end
		rec.data.aid_id = aid.id
		chg.event.aid_id = aid.id
	end
	return true
end

HOOKS.request.rate = function(ctx, rec, chg)
	local score = ctx.body.score
	rec.data.rating = score
	rec.data.rating_comment = ctx.body.comment or NULL
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
	rec.data.revisit_note = ctx.body.note
	rec.data.revisited_ms = xz.now()
	clock_stop("request", rec.id, "revisit")
	return true
end

-- Answer rate and satisfaction, overall and per tier of the network.
local function request_kpi(ctx, b)
	local function zero()
		return { requests = 0, answered = 0, rated = 0, satisfied = 0 }
	end
	local all, tiers = zero(), {}
	for _, r in ipairs(store.list("request", nil, 1000000000)) do
		local tier = nn(r.data.tier) or "CENTRE"
		if not b.tier or b.tier == tier then
			tiers[tier] = tiers[tier] or zero()
			for _, k in ipairs({ all, tiers[tier] }) do
				k.requests = k.requests + 1
				if nn(r.data.answered_ms) or r.state == "REFERRED" then
					k.answered = k.answered + 1
				end
				local s = nn(r.data.rating)
				if s then
					k.rated = k.rated + 1
					if s >= 3 then
						k.satisfied = k.satisfied + 1
					end
				end
			end
		end
	end
	local function rates(k)
		k.answer_rate = k.requests > 0 and k.answered / k.requests or NULL
		k.satisfaction = k.rated > 0 and k.satisfied / k.rated or NULL
		return k
	end
	rates(all)
	for _, k in pairs(tiers) do
		rates(k)
	end
	all.tiers = tiers
	all.answer_rate_target, all.satisfaction_target = 0.95, 0.90
	return all
end

-- Legal-aid applications -------------------------------------------------

-- The means test of an application (arts. 41, 42, 32): nil when it is
-- done or not needed, else the refusal.
local function means_refusal(ctx, id, d)
	if d.applicant_type == "NOTIFIED_DEFENCE" or nn(d.means_exemption)
		or d.means_checked == true then
		return nil
	end
	return "bad_request", tr("%s: application %s needs a means check "
		.. "(法律援助法 art. 41): give \"means_checked\": true once the "
		.. "financial hardship is verified, or an exemption of art. 42 "
		.. "(\"means_exemption\")", ctx.topic, id)
end

-- Fields an officer may complete while receiving or reviewing.
local function take_case_fields(ctx, rec)
	local b = ctx.body
	for _, k in ipairs({ "specialty", "region", "case_type",
		"possible_penalty", "death_review" }) do
		if b[k] ~= nil then
			rec.data[k] = b[k]
		end
	end
	if b.parties then
		rec.data.parties = copy_list(b.parties)
	end
	if b.means_checked == true then
		rec.data.means_checked = true
		rec.data.means_checked_by = ctx.actor.user
	end
	if b.means_exemption then
		if (b.means_exemption == "ART42_OTHER"
			or b.means_exemption == "ART32_OTHER") and not b.basis then
			return nil, "bad_request", tr("%s: the exemption %s needs "
				.. "\"basis\" (the law, regulation or rule that provides it)",
				ctx.topic, b.means_exemption)
		end
		rec.data.means_exemption = b.means_exemption
		rec.data.means_exemption_article = EXEMPTIONS[b.means_exemption]
		rec.data.means_exemption_basis = b.basis or NULL
		rec.data.means_exempt = true
	end
	return true
end

-- Inside a transaction: open an application from a spec (checked by the
-- request's schema, or built by the plugin). Custodial applicants arrive
-- FORWARDED with the 24 h forward clock running from the institution's
-- request time (art. 39); notified defence needs no review and starts
-- GRANTED with the assignment clock (art. 36); others are RECEIVED with
-- the 7-day review clock (art. 43).
open_aid = function(ctx, s)
	local atype = s.applicant_type
	local applicant = type(s.applicant) == "table" and s.applicant or {}
	local applicant_id = str(applicant.id) or str(s.prisoner_id)
		or str(s.resident_id) or str(s.detainee_id) or NULL
	local now = xz.now()
	local state = "RECEIVED"
	if s.custodial then
		state = "FORWARDED"
	elseif atype == "NOTIFIED_DEFENCE" then
		state = "GRANTED"
	end
	local case_type = s.case_type
	if not case_type then
		case_type = (atype == "NOTIFIED_DEFENCE" or atype == "DETAINEE")
			and "CRIMINAL_DEFENCE" or (atype == "INMATE" and "PETITION")
			or NULL
	end
	local data = {
		applicant_type = atype, applicant_id = applicant_id,
		applicant_name = str(applicant.name) or NULL,
		matter = s.matter, case_type = case_type,
		specialty = str(s.specialty) or NULL,
		region = str(s.region) or NULL,
		parties = copy_list(s.parties),
		means_checked = s.means_checked == true,
		means_exemption = NULL,
		prisoner_id = str(s.prisoner_id) or NULL,
		resident_id = str(s.resident_id) or NULL,
		detainee_id = str(s.detainee_id) or NULL,
		channel = str(s.channel) or NULL,
		tier = str(s.tier) or "CENTRE", point_id = str(s.point_id) or NULL,
		service_request_id = str(s.service_request_id) or NULL,
		custodial = s.custodial or NULL,
		requested_ms = math.tointeger(s.requested_ms) or now,
		notified_by = str(s.notified_by) or NULL,
		possible_penalty = str(s.possible_penalty) or NULL,
		death_review = s.death_review == true,
		centre = cfg.agency,
	}
	local rec0 = { data = data }
	local ok, c, e = take_case_fields({ topic = ctx.topic, actor = ctx.actor,
		body = { means_exemption = s.means_exemption, basis = s.basis } },
		rec0)
	if not ok then
		return nil, c, e
	end
	data.means_exempt = nn(data.means_exemption) ~= nil
		or atype == "NOTIFIED_DEFENCE"
	local rec = create(ctx, fsm.aid, state, data, "opened", {
		applicant_type = atype, channel = data.channel,
		prisoner_id = data.prisoner_id, resident_id = data.resident_id,
		source_ref = s.source_ref or NULL,
	})
	if state == "FORWARDED" then
		clock_start("aid", rec.id, "forward",
			data.requested_ms + cfg.forward_h * HOUR)
	elseif state == "GRANTED" then
		local due, c2, e2 = due_in(ctx, "assign", cfg.assign_days)
		if not due then
			return nil, c2, e2
		end
		clock_start("aid", rec.id, "assign", due)
	else
		clock_start("aid", rec.id, "review", now + cfg.review_days * DAY)
	end
	return rec
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
	local items = copy_list(ctx.body.items)
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

local function routing_input(d, b)
	b = b or {}
	return {
		specialty = str(b.specialty) or nn(d.specialty),
		region = str(b.region) or nn(d.region),
		applicant_id = str(b.applicant_id) or nn(d.applicant_id),
		parties = b.parties or nn(d.parties) or {},
	}
end

-- The provider for rec: the one named (checked against the rule) or the
-- rule's first choice; never `except`. Returns it, or nil, code, message.
local function choose_provider(ctx, rec, want, except)
	local ranked, excluded = routing.rank(routing_input(rec.data),
		store.providers())
	if want then
		if want == except then
			return nil, "bad_request", tr("%s: the new provider is the "
				.. "current one (%s)", ctx.topic, want)
		end
		for _, x in ipairs(ranked) do
			if x.id == want then
				return x
			end
		end
		local why = tr("not in the directory")
		for _, x in ipairs(excluded) do
			if x.id == want then
				why = x.reason
			end
		end
		-- in the directory but unable to take it (capacity, specialty,
		-- conflict): the request must name another provider, or none to
		-- let the routing rule choose
		return nil, store.provider(want) and "bad_request" or "not_found",
			tr("%s: provider %s cannot take application %s: %s", ctx.topic,
				want, rec.id, why)
	end
	local reasons = {}
	for _, x in ipairs(ranked) do
		if x.id ~= except then
			return x
		end
		reasons[#reasons + 1] = x.id .. ": current provider"
	end
	for _, x in ipairs(excluded) do
		reasons[#reasons + 1] = x.id .. ": " .. x.reason
	end
	-- nobody can take it now; a provider added or freed later can
	return nil, "unavailable", tr("%s: no provider can take application "
		.. "%s (%s)", ctx.topic, rec.id, #reasons > 0
			and table.concat(reasons, "; ") or tr("the directory is empty"))
end

local function release_provider(rec)
	if nn(rec.data.provider_id) then
		store.provider_load(rec.data.provider_id, -1)
	end
end

local function take_provider(rec, p, chg)
	store.provider_load(p.id, 1)
	rec.data.provider = { id = p.id, name = p.name, type = p.type,
		licence = p.licence, user = p.user or NULL }
	rec.data.provider_id = p.id
	rec.data.routing_rule = routing.version or NULL
	rec.data.assigned_ms = xz.now()
	chg.event.provider_id = p.id
	chg.event.prisoner_id = rec.data.prisoner_id
end

-- 先行提供 (art. 44): a provider serves at once; the review goes on with
-- its clock, and the decision follows (grant: the provider keeps the case;
-- refuse: the provider is released).
HOOKS.aid["provide-urgent"] = function(ctx, rec, chg)
	local b = ctx.body
	if b.ground == "LIMITATION_EXPIRING" then
		local left = b.limitation_due_ms and b.limitation_due_ms - xz.now()
		if not left or left < 0 or left >= 7 * DAY then
			return nil, "bad_request", tr("%s: ground LIMITATION_EXPIRING "
				.. "needs \"limitation_due_ms\" less than 7 days away (art. "
				.. "44 (1)); it is %s", ctx.topic, left and string.format(
					"%.1f d", left / DAY) or "-")
		end
	elseif b.ground == "OTHER_RULE" and not b.basis then
		return nil, "bad_request", tr("%s: urgent aid before review (法律援助法 "
			.. "art. 44) needs a ground: %s", ctx.topic,
			"OTHER_RULE + \"basis\"")
	end
	local p, c, e = choose_provider(ctx, rec, b.provider_id)
	if not p then
		return nil, c, e
	end
	take_provider(rec, p, chg)
	rec.data.urgent = { ground = b.ground, basis = b.basis or NULL,
		limitation_due_ms = b.limitation_due_ms or NULL,
		decided_by = ctx.actor.user, at_ms = xz.now() }
	chg.event.ground = b.ground
	-- the review follows: a RECEIVED application's clock keeps running
	return true
end

HOOKS.aid.grant = function(ctx, rec, chg)
	local ok, c, e = take_case_fields(ctx, rec)
	if not ok then
		return nil, c, e
	end
	local code, text = means_refusal(ctx, rec.id, rec.data)
	if code then
		return nil, code, text
	end
	rec.data.decided_ms = xz.now()
	rec.data.decided_by = ctx.actor.user
	clock_stop("aid", rec.id, "review")
	if rec.state == "URGENT_SERVICE" then
		-- the provider who served urgently goes on with the case
		chg.to = "IN_SERVICE"
		rec.data.service_started_ms = nn(rec.data.service_started_ms)
			or rec.data.urgent.at_ms
		return true
	end
	chg.to = "GRANTED"
	local due, c2, e2 = due_in(ctx, "assign", cfg.assign_days)
	if not due then
		return nil, c2, e2
	end
	clock_start("aid", rec.id, "assign", due)
	chg.event.assign_due_ms = due
	return true
end

HOOKS.aid.refuse = function(ctx, rec)
	rec.data.decided_ms = xz.now()
	rec.data.decided_by = ctx.actor.user
	rec.data.refusal_reason = ctx.body.reason
	clock_stop("aid", rec.id, "review")
	if rec.state == "URGENT_SERVICE" then
		release_provider(rec)
	end
	return true
end

-- art. 49: an objection to a refusal or a termination, decided by the
-- justice bureau within objection_days.
HOOKS.aid.object = function(ctx, rec, chg)
	local due, c, e = due_in(ctx, "objection", cfg.objection_days)
	if not due then
		return nil, c, e
	end
	rec.data.objection = ctx.body.reason
	rec.data.objection_of = rec.state == "TERMINATED" and "termination"
		or "refusal"
	rec.data.objection_due_ms = due
	rec.data.objection_received_by = ctx.actor.user
	chg.event.due_ms = due
	chg.event.objection_of = rec.data.objection_of
	clock_start("aid", rec.id, "objection", due)
	return true
end

HOOKS.aid.uphold = function(ctx, rec)
	rec.data.objection_decision = { decision = "UPHELD",
		by = ctx.actor.user, agency = ctx.actor.agency or NULL,
		reason = ctx.body.reason, at_ms = xz.now() }
	clock_stop("aid", rec.id, "objection")
	return true
end

-- 责令改正: the centre must give (or resume) aid: a provider is assigned
-- again within assign_days.
HOOKS.aid.overturn = function(ctx, rec, chg)
	rec.data.objection_decision = { decision = "OVERTURNED",
		by = ctx.actor.user, agency = ctx.actor.agency or NULL,
		reason = ctx.body.reason or NULL, at_ms = xz.now() }
	clock_stop("aid", rec.id, "objection")
	local due, c, e = due_in(ctx, "assign", cfg.assign_days)
	if not due then
		return nil, c, e
	end
	clock_start("aid", rec.id, "assign", due)
	chg.event.assign_due_ms = due
	return true
end

-- 法律援助法 art. 26: for a person who may be sentenced to life
-- imprisonment or death, and a defendant in a death-penalty review, the
-- centre assigns a lawyer with at least three years of relevant practice
-- (the directory's "years", option grave_min_years). The case says so with
-- "possible_penalty" (LIFE_IMPRISONMENT, DEATH) or "death_review": true.
local ART26 = { LIFE_IMPRISONMENT = true, DEATH = true }
msg.ZH["%s: application %s (%s) needs a lawyer with at least %d years of relevant practice (法律援助法 art. 26): %s"] =
	"%s：申请 %s（%s）须指派具有 %d 年以上相关执业经历的律师（《法律援助法》第二十六条）：%s"
msg.ZH["%s is not a lawyer (type %s)"] = "%s 不是律师（类型 %s）"
msg.ZH["%s has %s years of practice"] = "%s 的执业年限为 %s 年"
msg.ZH["possible life imprisonment or death penalty"] =
	"可能被判处无期徒刑、死刑"
msg.ZH["death-penalty review"] = "死刑复核案件"

local function art26_case(d)
	if d.death_review == true then
		return tr("death-penalty review")
	end
	if ART26[nn(d.possible_penalty) or ""] then
		return tr("possible life imprisonment or death penalty")
	end
	return nil
end

-- Why provider p may not take an art. 26 case, or nil.
local function art26_refusal(p)
	if p.type ~= "LAWYER" then
		return tr("%s is not a lawyer (type %s)", p.id, tostring(p.type))
	end
	local y = math.tointeger(nn(p.years))
	if not y or y < cfg.grave_min_years then
		return tr("%s has %s years of practice", p.id, y and tostring(y)
			or "?")
	end
	return nil
end

-- choose_provider, keeping to art. 26 when the case falls under it: a named
-- provider who does not qualify is refused; otherwise the routing rule's
-- first qualifying choice is taken.
local function choose_provider26(ctx, rec, want, except)
	local grave = art26_case(rec.data)
	if not grave then
		return choose_provider(ctx, rec, want, except)
	end
	local function refuse(code, why)
		return nil, code, tr("%s: application %s (%s) needs a lawyer with "
			.. "at least %d years of relevant practice (法律援助法 art. 26): "
			.. "%s", ctx.topic, rec.id, grave, cfg.grave_min_years, why)
	end
	if want then
		local p, c, e = choose_provider(ctx, rec, want, except)
		if not p then
			return nil, c, e
		end
		local why = art26_refusal(p)
		if why then
			return refuse("bad_request", why)
		end
		return p
	end
	local ranked = routing.rank(routing_input(rec.data), store.providers())
	local reasons = {}
	for _, x in ipairs(ranked) do
		if x.id ~= except then
			local why = art26_refusal(x)
			if not why then
				return x
			end
			reasons[#reasons + 1] = why
		end
	end
	return refuse("unavailable", #reasons > 0
		and table.concat(reasons, "; ") or tr("the directory is empty"))
end

HOOKS.aid.assign = function(ctx, rec, chg)
	local p, c, e = choose_provider26(ctx, rec, ctx.body.provider_id)
	if not p then
		return nil, c, e
	end
	take_provider(rec, p, chg)
	clock_stop("aid", rec.id, "assign")
	return true
end

-- art. 55: another provider, at the assisted person's request (or the
-- provider's withdrawal); the state stays.
HOOKS.aid["change-provider"] = function(ctx, rec, chg)
	local old = nn(rec.data.provider_id)
	local p, c, e = choose_provider26(ctx, rec, ctx.body.provider_id, old)
	if not p then
		return nil, c, e
	end
	release_provider(rec)
	local changes = rec.data.provider_changes
	if type(changes) ~= "table" then
		changes = json.as_array({})
	end
	changes[#changes + 1] = { from = old or NULL, to = p.id,
		reason = ctx.body.reason, by = ctx.actor.user, at_ms = xz.now() }
	rec.data.provider_changes = changes
	take_provider(rec, p, chg)
	chg.event.from_provider_id = old or NULL
	chg.to = rec.state
	return true
end
-- After an assignment: a prisoner's lawyer needs a LEGAL visit. Legal asks
-- the prison for it with the assignment letter (指派函, the 法律援助公函)
-- and the lawyer's licence; the prison decides: it checks the licence
-- against this plugin's directory (legal.provider.get) and the letter
-- against the case (legal.aid.get), then approves and books it in its
-- visiting hours, or rejects it. Legal learns the outcome from the
-- prison's visit events (on_visit below).
AFTER.aid.assign = function(ctx, rec)
	local pid = nn(rec.data.prisoner_id)
	if not pid or not cfg.book_legal_visits then
		return
	end
	local p = rec.data.provider
	local slot = rec.data.assigned_ms + cfg.legal_visit_lead_h * HOUR
	local letter = string.format("%s指派函〔%d〕%s", cfg.agency,
		days.year_of(days.day_of(rec.data.assigned_ms, cfg.tz_offset_min)),
		rec.id)
	local actor = { user = SYSTEM.user, role = SYSTEM.role,
		agency = SYSTEM.agency }
	local visit, code, text = xz.request("prison.visit.request", {
		actor = actor, prisoner_id = pid, type = "LEGAL",
		visitor = { name = p.name, provider_id = p.id, licence = p.licence,
			type = p.type },
		slot_ms = slot, legal_aid_id = rec.id, letter = letter,
		reason = "legal aid " .. rec.id,
	}, cfg.visit_timeout_ms)
	if visit then
		store.visit_put(visit.id, rec.id)
	end
	local cur = store.load("aid", rec.id)
	cur.data.assignment_letter = letter
	if visit then
		cur.data.visit = { id = visit.id, state = visit.state,
			slot_ms = slot, letter = letter }
	else
		cur.data.visit = { id = NULL, state = NULL, letter = letter,
			error = (code or "error") .. ": " .. tostring(text) }
	end
	cur.updated_ms = xz.now()
	store.tx(function()
		store.save(cur)
		store.add_history("aid", rec.id, visit and "visit-requested"
			or "visit-failed", cur.state, cur.state, SYSTEM, cur.updated_ms,
			visit and ("visit " .. visit.id) or cur.data.visit.error)
		audit(ctx, "UPDATE", fsm.aid.subject_type, rec.id, visit
			and "visit_requested:" .. visit.id or "visit_failed")
		return true
	end)
	rec.data.visit = cur.data.visit
	rec.data.assignment_letter = letter
	if visit then
		emit("legal.aid.visit-requested", { id = rec.id, visit_id = visit.id,
			prisoner_id = pid, provider_id = p.id, slot_ms = slot,
			letter = letter, at_ms = cur.updated_ms })
	else
		emit("legal.aid.visit-failed", { id = rec.id, prisoner_id = pid,
			error = cur.data.visit.error, at_ms = cur.updated_ms })
		xz.log("warn", tr("legal aid %s: the legal visit was not requested: "
			.. "%s", rec.id, tostring(cur.data.visit.error)))
	end
end

HOOKS.aid["start-service"] = function(ctx, rec)
	rec.data.service_started_ms = xz.now()
	return true
end

HOOKS.aid.close = function(ctx, rec, chg)
	local outcome = ctx.body.outcome
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

-- art. 48: the centre's decision to terminate, on one of the article's
-- grounds; the assisted person may object to the justice bureau (art. 49).
HOOKS.aid.terminate = function(ctx, rec, chg)
	local b = ctx.body
	if b.ground == "OTHER_RULE" and not b.basis then
		return nil, "bad_request", tr("%s: termination needs a ground of "
			.. "法律援助法 art. 48: %s", ctx.topic, "OTHER_RULE + \"basis\"")
	end
	rec.data.termination = { ground = b.ground, basis = b.basis or NULL,
		reason = b.reason, by = ctx.actor.user, at_ms = xz.now() }
	rec.data.closed_ms = xz.now()
	release_provider(rec)
	rec.data.last_provider_id = rec.data.provider_id
	rec.data.provider_id = NULL
	rec.data.provider = NULL
	chg.event.ground = b.ground
	chg.event.applicant_type = rec.data.applicant_type
	chg.event.prisoner_id = rec.data.prisoner_id
	chg.event.resident_id = rec.data.resident_id
	return true
end

-- arts. 57, 59: the quality of a closed case, by one of the article's
-- means; the state stays.
HOOKS.aid.evaluate = function(ctx, rec, chg)
	local evs = type(rec.data.evaluations) == "table"
		and rec.data.evaluations or json.as_array({})
	evs[#evs + 1] = { method = ctx.body.method, grade = ctx.body.grade,
		note = ctx.body.note or NULL, by = ctx.actor.user,
		role = ctx.actor.role, at_ms = xz.now() }
	rec.data.evaluations = evs
	chg.event.grade = ctx.body.grade
	chg.event.method = ctx.body.method
	chg.to = rec.state
	return true
end

-- art. 59: 回访受援人, during the service or after it; the state stays.
HOOKS.aid.revisit = function(ctx, rec, chg)
	local rv = type(rec.data.revisits) == "table" and rec.data.revisits
		or json.as_array({})
	rv[#rv + 1] = { satisfied = ctx.body.satisfied, note = ctx.body.note,
		by = ctx.actor.user, at_ms = xz.now() }
	rec.data.revisits = rv
	chg.event.satisfied = ctx.body.satisfied
	chg.to = rec.state
	return true
end

-- Duty lawyers' shifts ---------------------------------------------------

local function duty_schedule(ctx, b)
	local p = store.provider(b.provider_id)
	if not p then
		return nil, "not_found", tr("%s: no provider with id %s", ctx.topic,
			b.provider_id)
	end
	if p.type ~= "LAWYER" or p.duty ~= true or p.active == false then
		return nil, "bad_request", tr("%s: provider %s is not a duty lawyer "
			.. "(a LAWYER with duty: true)", ctx.topic, p.id)
	end
	if b.end_ms <= b.start_ms then
		return nil, "bad_request", tr("%s: field \"%s\": %s", ctx.topic,
			"end_ms", tr("must be an integer from %d to %d", b.start_ms + 1,
				math.maxinteger))
	end
	local rec = store.tx(function()
		return create(ctx, fsm.duty, "SCHEDULED", {
			provider = { id = p.id, name = p.name, licence = p.licence,
				user = p.user or NULL },
			provider_id = p.id, station = b.station,
			start_ms = b.start_ms, end_ms = b.end_ms,
			helps = json.as_array({}), centre = cfg.agency,
		}, "scheduled", { provider_id = p.id, station = b.station.agency })
	end)
	flush(ctx)
	return view(rec)
end

HOOKS.duty.start = function(ctx, rec)
	rec.data.started_ms = xz.now()
	return true
end

HOOKS.duty.help = function(ctx, rec, chg)
	local helps = type(rec.data.helps) == "table" and rec.data.helps
		or json.as_array({})
	helps[#helps + 1] = { person_id = ctx.body.person_id,
		kind = ctx.body.kind, note = ctx.body.note or NULL,
		at_ms = xz.now() }
	rec.data.helps = helps
	chg.event.kind = ctx.body.kind
	chg.event.person_id = ctx.body.person_id
	chg.to = rec.state
	return true
end

HOOKS.duty["end"] = function(ctx, rec)
	rec.data.ended_ms = xz.now()
	return true
end

-- Providers ------------------------------------------------------------

local function provider_add(ctx, b)
	if store.provider(b.id) then
		return nil, "exists", tr("%s: provider %s is already in the "
			.. "directory", ctx.topic, b.id)
	end
	local p = {
		id = b.id, type = b.type, name = b.name, licence = b.licence,
		region = b.region, capacity = b.capacity,
		specialties = copy_list(b.specialties),
		conflicts = copy_list(b.conflicts),
		active = b.active ~= false, user = b.user or NULL,
		duty = b.duty == true, agency = b.agency or NULL,
		years = b.years or NULL,
	}
	p.load = 0
	store.tx(function()
		store.provider_put(p)
		audit(ctx, "CREATE", "legal_provider", p.id, "created")
		return true
	end)
	emit("legal.provider.added", { id = p.id, type = p.type,
		region = p.region, who = ctx.actor.user, at_ms = xz.now() })
	return p
end

local function provider_update(ctx, b)
	local p = store.provider(b.id)
	if not p then
		return nil, "not_found", tr("%s: no provider with id %s", ctx.topic,
			b.id)
	end
	for _, k in ipairs({ "capacity", "region", "active", "user", "duty",
		"agency", "years" }) do
		if b[k] ~= nil and b[k] ~= NULL then
			p[k] = b[k]
		end
	end
	for _, k in ipairs({ "specialties", "conflicts" }) do
		if b[k] ~= nil and b[k] ~= NULL then
			p[k] = copy_list(b[k])
		end
	end
	store.tx(function()
		store.provider_put(p)
		audit(ctx, "UPDATE", "legal_provider", p.id, "updated")
		return true
	end)
	emit("legal.provider.updated", { id = p.id, who = ctx.actor.user,
		at_ms = xz.now() })
	return p
end

local function provider_list(ctx, b)
	local out = {}
	for _, p in ipairs(store.providers()) do
		local keep = (not b.type or p.type == b.type)
			and (not b.region or p.region == b.region)
		if keep and b.specialty then
			keep = false
			for _, s in ipairs(p.specialties) do
				keep = keep or s == b.specialty
			end
		end
		if keep and b.duty ~= nil then
			keep = (p.duty == true) == b.duty
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
		xz.log("warn", tr("%s without \"id\" and \"%s\" ignored", topic,
			person_key))
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
		case_type = atype == "INMATE" and "PETITION" or nil,
		specialty = str(ev.specialty) or cfg.kiosk_specialty,
		region = str(ev.region) or (cfg.custodial_region ~= ""
			and cfg.custodial_region) or nil,
		requested_ms = math.tointeger(ev.at_ms) or xz.now(),
		custodial = { institution = institution, kiosk_id = ev.id,
			agency = custodial_agency[institution] or NULL,
			forward_by_ms = math.tointeger(ev.forward_by_ms) or NULL },
		channel = "INMATE_KIOSK", source_ref = ref,
	}
	spec[person_key] = ev[person_key]
	local ok, rec, code, text = pcall(store.tx, function()
		local r, c, m = open_aid(ctx, spec)
		if r then
			store.source_put(ref, "aid", r.id)
		end
		return r, c, m
	end)
	if not ok then
		-- audit_unavailable or store_error: nothing was opened
		code, text = store.failure(rec, topic)
		if not code then
			error(rec, 0)
		end
		rec = nil
	end
	if not rec then
		xz.log("warn", tr("%s %s: not opened: %s %s", topic, ev.id,
			tostring(code), tostring(text)))
		return
	end
	flush(ctx)
	local ok, c2, m2 = xz.request(institution .. ".kiosk.forward", {
		actor = SYSTEM, id = ev.id,
		reason = "opened as legal-aid application " .. rec.id,
	}, cfg.visit_timeout_ms)
	if not ok then
		xz.log("info", tr("%s.kiosk.forward %s: %s %s", institution, ev.id,
			tostring(c2), tostring(m2)))
	end
end

-- Visits we booked: follow their end (completed, cancelled) on the record.
local function on_visit(ev, topic, source, caller)
	if type(ev) ~= "table" or not str(ev.id) then
		return
	end
	-- the prison's decision comes from the prison plugin, not from a
	-- person publishing on its topics
	if type(caller) == "table" and type(caller.user) == "string"
			and not authz.has({ roles = caller.roles or {} }, "plugin") then
		xz.log("warn", tr("%s %s ignored: published by %s", topic, ev.id,
			caller.user))
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
	-- the prison's decision: its slot and room, or why it refused
	if what == "booked" then
		rec.data.visit.slot_ms = ev.slot_ms or NULL
		rec.data.visit.room = str(ev.room) or NULL
	elseif what == "rejected" or what == "approved" then
		rec.data.visit.decision = str(ev.reason) or NULL
	end
	rec.updated_ms = xz.now()
	store.tx(function()
		store.save(rec)
		store.add_history("aid", aid_id, "visit-" .. what, rec.state,
			rec.state, { user = str(ev.who) or "prison", role = str(ev.role) },
			rec.updated_ms,
			"visit " .. ev.id)
		audit({ actor = { user = str(ev.who) or "prison",
			role = str(ev.role) }, corr = new_corr(),
			purpose = "legal visit" }, "UPDATE", fsm.aid.subject_type, aid_id,
			"visit_" .. what .. ":" .. ev.id)
		return true
	end)
	emit("legal.aid.visit-" .. what, { id = aid_id, visit_id = ev.id,
		visit_state = rec.data.visit.state, outcome = rec.data.visit.outcome,
		slot_ms = rec.data.visit.slot_ms, room = rec.data.visit.room,
		reason = str(ev.reason) or NULL,
		prisoner_id = rec.data.prisoner_id, at_ms = rec.updated_ms })
end

-- A kiosk files only for a person held at its own institution: the
-- institution's agency is the kiosk's, and the person is in that
-- institution's register (asked to its plugin). nil when it may, else
-- code, message.
local function kiosk_refusal(ctx, institution, person)
	local want = custodial_agency[institution]
	if not want or want ~= ctx.actor.agency or not person then
		return "forbidden", tr("%s: a kiosk files only for a person held at "
			.. "its own institution: %s", ctx.topic, string.format(
				"%s %s / %s", tostring(institution), tostring(person),
				tostring(ctx.actor.agency)))
	end
	local getter = ({ prison = "prison.prisoner.get",
		rehab = "rehab.resident.get" })[institution]
	if not getter then
		return nil
	end
	local r, c, m = xz.request(getter, { actor = SYSTEM, id = person,
		purpose = "kiosk legal-aid intake" }, cfg.visit_timeout_ms)
	if r then
		return nil
	end
	if c == "not_found" then
		return "forbidden", tr("%s: a kiosk files only for a person held at "
			.. "its own institution: %s", ctx.topic, person)
	end
	return "unavailable", tr("%s: the kiosk's prisoner %s could not be "
		.. "checked with the prison: %s", ctx.topic, person,
		tostring(c) .. " " .. tostring(m))
end
-- Requests: who may call them, and their fields ---------------------------

-- Roles allowed per request (role ids of docs/roles.md). Centre staff and
-- bureau officers act for their own agency (options agency and
-- bureau_agency); lawyers and duty lawyers on their own cases and shifts;
-- a kiosk for people held at its own institution.
local READERS = { "hotline_operator", "legal_reviewer", "legal_head",
	"justice_bureau", "auditor" }
local ACL = {
	["legal.request.create"] = { "hotline_operator", "kiosk" },
	["legal.request.assign"] = { "hotline_operator", "legal_reviewer" },
	["legal.request.callback"] = { "hotline_operator", "legal_reviewer" },
	["legal.request.answer"] = { "hotline_operator", "legal_reviewer" },
	["legal.request.refer"] = { "hotline_operator", "legal_reviewer" },
	["legal.request.close"] = { "hotline_operator", "legal_reviewer" },
	["legal.request.rate"] = { "hotline_operator", "kiosk" },
	["legal.request.revisit"] = { "hotline_operator", "legal_reviewer" },
	["legal.request.get"] = READERS,
	["legal.request.list"] = READERS,
	["legal.request.kpi"] = { "legal_head", "justice_bureau", "auditor" },
	["legal.aid.open"] = { "hotline_operator", "legal_reviewer", "kiosk" },
	["legal.aid.receive"] = { "legal_reviewer" },
	["legal.aid.start-review"] = { "legal_reviewer" },
	["legal.aid.request-supplement"] = { "legal_reviewer" },
	["legal.aid.supplement"] = { "legal_reviewer" },
	["legal.aid.provide-urgent"] = { "legal_head" },
	["legal.aid.grant"] = { "legal_head" },
	["legal.aid.refuse"] = { "legal_head" },
	["legal.aid.object"] = { "justice_bureau" },
	["legal.aid.uphold"] = { "justice_bureau" },
	["legal.aid.overturn"] = { "justice_bureau" },
	["legal.aid.assign"] = { "legal_head" },
	["legal.aid.change-provider"] = { "legal_head" },
	["legal.aid.start-service"] = { "lawyer" },
	["legal.aid.close"] = { "lawyer" },
	["legal.aid.terminate"] = { "legal_head" },
	["legal.aid.evaluate"] = { "legal_head", "justice_bureau" },
	["legal.aid.revisit"] = { "legal_reviewer", "legal_head" },
	-- "plugin": the prison checks a lawyer's visit against the case's
	-- assignment letter
	["legal.aid.get"] = { "legal_reviewer", "legal_head", "justice_bureau",
		"auditor", "lawyer", "plugin" },
	["legal.aid.list"] = { "legal_reviewer", "legal_head", "justice_bureau",
		"auditor" },
	["legal.duty.schedule"] = { "legal_head" },
	["legal.duty.start"] = { "duty_lawyer" },
	["legal.duty.help"] = { "duty_lawyer" },
	["legal.duty.end"] = { "duty_lawyer" },
	["legal.duty.cancel"] = { "legal_head" },
	["legal.duty.get"] = { "legal_head", "legal_reviewer", "justice_bureau",
		"auditor", "duty_lawyer" },
	["legal.duty.list"] = { "legal_head", "legal_reviewer",
		"justice_bureau", "auditor" },
	["legal.provider.add"] = { "legal_head" },
	["legal.provider.update"] = { "legal_head" },
	-- "plugin": the prison checks a lawyer's visit against the directory
	["legal.provider.get"] = { "hotline_operator", "legal_reviewer",
		"legal_head", "justice_bureau", "auditor", "plugin" },
	["legal.provider.list"] = READERS,
	["legal.routing.preview"] = { "legal_reviewer", "legal_head" },
	["legal.calendar.due"] = { "hotline_operator", "legal_reviewer",
		"legal_head", "justice_bureau", "auditor", "lawyer", "duty_lawyer" },
	-- counts only, no record: monitoring (the gateway's /metrics) too
	["legal.clock.stats"] = { "hotline_operator", "legal_reviewer",
		"legal_head", "justice_bureau", "auditor", "plugin" },
}

-- Field schemas (schema.lua). Every request also takes the common fields.
local function E(values, req)
	return { t = "enum", values = values, req = req }
end
local STR = { t = "str" }
local RSTR = { t = "str", req = true }
local ID = { t = "id" }
local RID = { t = "id", req = true }
local MS = { t = "int", min = 0, max = 253402300799999 }
local BOOL = { t = "bool" }
local IDS = { t = "ids" }

local COMMON = {
	actor = { t = "obj", fields = { user = { t = "str", len = 128,
		req = true }, role = { t = "str", len = 64 },
		roles = { t = "strs", n = 32, len = 64 },
		agency = { t = "str", len = 128 }, name = { t = "str", len = 200 },
	} },
	corr = { t = "str", len = 200 },
	purpose = { t = "str", len = 500 },
	reason = { t = "str" },
}
local PERSON = { t = "obj", fields = { id = ID, name = { t = "str",
	len = 200 }, phone = { t = "str", len = 40 } } }
local CASE = {
	specialty = ID, region = ID, parties = IDS, case_type = E(CASE_TYPES),
	means_checked = BOOL, means_exemption = E(EXEMPTION_IDS),
	basis = STR, possible_penalty = E({ "LIFE_IMPRISONMENT", "DEATH" }),
	death_review = BOOL,
}
local REVIEW = { id = RID }
for k, v in pairs(CASE) do
	REVIEW[k] = v
end
local MACHINE_FIELDS = {
	request = {
		assign = { to = RID },
		callback = { callback_at_ms = { t = "int", min = 0,
			max = 253402300799999, req = true } },
		answer = { answer = RSTR },
		refer = schema.with(CASE, { to = E(REFERRALS, true),
			applicant_type = E({ "CITIZEN", "INMATE", "DETAINEE",
				"REHAB_RESIDENT" }),
			applicant = PERSON, matter = STR }),
		close = {},
		rate = { score = { t = "int", min = 1, max = 5, req = true },
			comment = STR },
		revisit = { note = RSTR },
	},
	aid = {
		receive = CASE, ["start-review"] = CASE,
		["request-supplement"] = { items = { t = "strs", n = 50,
			req = true } },
		supplement = CASE,
		["provide-urgent"] = { ground = E(URGENT_GROUNDS, true),
			limitation_due_ms = MS, basis = STR, provider_id = ID },
		grant = CASE,
		refuse = { reason = RSTR },
		object = { reason = RSTR },
		uphold = { reason = RSTR },
		overturn = {},
		assign = { provider_id = ID },
		["change-provider"] = { provider_id = ID, reason = RSTR },
		["start-service"] = {}, close = { outcome = { t = "str", len = 200,
			req = true } },
		terminate = { ground = E(TERMINATION_GROUNDS, true), reason = RSTR,
			basis = STR },
		evaluate = { method = E(EVAL_METHODS, true), grade = E(GRADES, true),
			note = STR },
		revisit = { satisfied = { t = "bool", req = true }, note = RSTR },
	},
	duty = {
		start = {}, ["end"] = {}, cancel = {},
		help = { person_id = RID, kind = E(HELP_KINDS, true), note = STR },
	},
}
local FIELDS = {
	["legal.request.create"] = { channel = E(CHANNELS, true),
		question = RSTR, requester = PERSON, topic_area = STR,
		prisoner_id = ID, resident_id = ID, region = ID, tier = E(TIERS),
		point_id = ID },
	["legal.request.kpi"] = { tier = E(TIERS) },
	["legal.aid.open"] = schema.with(CASE, {
		applicant_type = E(APPLICANTS, true), matter = RSTR,
		applicant = { t = "obj", fields = { id = ID, name = { t = "str",
			len = 200 }, phone = { t = "str", len = 40 } } },
		prisoner_id = ID, resident_id = ID, detainee_id = ID,
		custodial = { t = "obj", fields = {
			institution = E(INSTITUTIONS, true), agency = ID,
			kiosk_id = ID, forward_by_ms = MS } },
		requested_ms = MS, notified_by = ID, channel = E(CHANNELS),
		tier = E(TIERS), point_id = ID }),
	["legal.duty.schedule"] = { provider_id = RID,
		station = { t = "obj", req = true, fields = {
			type = E(STATIONS, true), agency = RID,
			name = { t = "str", len = 200 } } },
		start_ms = schema.with(MS, { req = true }),
		end_ms = schema.with(MS, { req = true }) },
	["legal.provider.add"] = { id = RID, type = E(PROVIDER_TYPES, true),
		name = { t = "str", len = 200, req = true },
		licence = { t = "str", len = 64, req = true }, region = RID,
		capacity = { t = "int", min = 0, max = 10000, req = true },
		specialties = IDS, conflicts = IDS, active = BOOL, user = ID,
		duty = BOOL, agency = ID, years = { t = "int", min = 0, max = 80 } },
	["legal.provider.update"] = { id = RID,
		capacity = { t = "int", min = 0, max = 10000 },
		specialties = IDS, conflicts = IDS, region = ID, active = BOOL,
		user = ID, duty = BOOL, agency = ID,
		years = { t = "int", min = 0, max = 80 } },
	["legal.provider.get"] = { id = RID },
	["legal.provider.list"] = { type = E(PROVIDER_TYPES), region = ID,
		specialty = ID, duty = BOOL },
	["legal.routing.preview"] = { specialty = ID, region = ID,
		applicant_id = ID, parties = IDS },
	["legal.calendar.due"] = { from_ms = schema.with(MS, { req = true }),
		days = { t = "int", min = 1, max = 366, req = true } },
	["legal.clock.stats"] = { within_ms = MS },
}
for agg, actions in pairs(MACHINE_FIELDS) do
	for action, f in pairs(actions) do
		FIELDS["legal." .. agg .. "." .. action] = schema.with(f, { id = RID })
	end
	FIELDS["legal." .. agg .. ".get"] = { id = RID }
	FIELDS["legal." .. agg .. ".list"] = { state = ID }
end

local handlers = {}

-- Register a request handler: fn(ctx, body) returns the reply table, or
-- nil, code, message (replied as an error and audited as REFUSE). Before
-- fn: who acts (authz.who), whether their role may (ACL), and the fields
-- (FIELDS), in that order.
local function serve(topic, subject_type, fn)
	local allowed = assert(ACL[topic], "no ACL for " .. topic)
	local fields = schema.with(COMMON, assert(FIELDS[topic],
		"no schema for " .. topic))
	handlers[topic] = handler.wrap({
		fields = fields, run = fn, tr = tr, new_corr = new_corr,
		utf8 = true, who = authz.who,
		allow = function(t, p)
			return authz.allow(t, p, allowed, cfg)
		end,
		refused = function(ctx, sid, code)
			audit(ctx, "REFUSE", subject_type, sid, code)
		end,
		-- a store that fails (store_error) or an audit record that cannot
		-- be written (audit_unavailable) is raised as an error: the
		-- change was rolled back, the request is refused with its code
		failure = store.failure,
		ctx = function()
			return { events = {}, audits = {} }
		end,
	})
end

local function serve_machine(m)
	for _, action in ipairs(fsm.actions(m)) do
		serve("legal." .. m.aggregate .. "." .. action, m.subject_type,
			function(ctx, b)
				local rec, code, text = apply(ctx, m, b.id, action)
				if not rec then
					return nil, code, text
				end
				return view(rec)
			end)
	end
	-- a read of one record is a VIEW of a person's file: purpose-bound
	serve("legal." .. m.aggregate .. ".get", m.subject_type, function(ctx, b)
		if not ctx.purpose then
			return nil, "bad_request", tr("%s: \"purpose\" (why you read "
				.. "this record) is required", ctx.topic)
		end
		local rec = store.load(m.aggregate, b.id)
		if not rec then
			return nil, "not_found", tr("%s: no %s with id %s", ctx.topic,
				tr(m.noun), tostring(b.id))
		end
		local ok, c, e = authz.own(ctx.topic, ctx.actor, ctx.actor.role,
			rec.data.provider, m.noun, rec.id)
		if not ok then
			return nil, c, e
		end
		audit(ctx, "VIEW", m.subject_type, rec.id, "disclosed")
		return view(rec, true)
	end)
	-- lists are thin: ids, states and times, no names
	serve("legal." .. m.aggregate .. ".list", m.subject_type, function(ctx, b)
		local rows = store.list(m.aggregate, b.state, cfg.list_max)
		local out = {}
		for _, r in ipairs(rows) do
			out[#out + 1] = { id = r.id, state = r.state,
				applicant_type = r.data.applicant_type,
				channel = r.data.channel, tier = r.data.tier,
				created_ms = r.created_ms, updated_ms = r.updated_ms }
			-- the statutory clock that matters now: the running one due
			-- first, else a breached one (the dashboard's green/amber/red)
			local c = store.clock_now(m.aggregate, r.id)
			if c then
				out[#out].clock, out[#out].clock_status = c.clock, c.status
				out[#out].due_ms = c.due_ms
			end
		end
		audit(ctx, "VIEW", m.subject_type, "*", "listed:" .. #out)
		return { items = json.as_array(out), count = #out }
	end)
end

serve_machine(fsm.request)
serve_machine(fsm.aid)
serve_machine(fsm.duty)
serve("legal.request.create", "service_request", function(ctx, b)
	if ctx.actor.role == "kiosk" then
		local code, text = kiosk_refusal(ctx, b.resident_id and "rehab"
			or "prison", b.resident_id or b.prisoner_id)
		if code then
			return nil, code, text
		end
	end
	return create_request(ctx, b)
end)
serve("legal.request.kpi", "service_request", request_kpi)
serve("legal.aid.open", "legal_aid_application", function(ctx, b)
	local spec = {}
	for k, v in pairs(b) do
		spec[k] = v
	end
	if ctx.actor.role == "kiosk" then
		local inst = b.custodial and b.custodial.institution
		local code, text = kiosk_refusal(ctx, inst,
			inst and b[PERSON_KEY[inst]])
		if not code and b.applicant_type ~= INSTITUTION_APPLICANT[inst] then
			code, text = "forbidden", tr("%s: a kiosk files only for a "
				.. "person held at its own institution: %s", ctx.topic,
				b.applicant_type)
		end
		if code then
			return nil, code, text
		end
		spec.channel = "INMATE_KIOSK"
	end
	if spec.custodial then
		spec.custodial = { institution = b.custodial.institution,
			agency = b.custodial.agency
				or custodial_agency[b.custodial.institution] or NULL,
			kiosk_id = b.custodial.kiosk_id or NULL,
			forward_by_ms = b.custodial.forward_by_ms or NULL }
	end
	if spec.applicant_type == "NOTIFIED_DEFENCE" and not spec.custodial then
		local due, c, e = due_in(ctx, "assign", cfg.assign_days)
		if not due then
			return nil, c, e
		end
	end
	local rec, code, text = store.tx(function() return open_aid(ctx, spec) end)
	if not rec then
		return nil, code, text
	end
	flush(ctx)
	return view(rec)
end)
serve("legal.duty.schedule", "duty_lawyer_shift", duty_schedule)
serve("legal.provider.add", "legal_provider", provider_add)
serve("legal.provider.update", "legal_provider", provider_update)
serve("legal.provider.list", "legal_provider", provider_list)
serve("legal.provider.get", "legal_provider", function(ctx, b)
	local p = store.provider(b.id)
	if not p then
		return nil, "not_found", tr("%s: no provider with id %s", ctx.topic,
			b.id)
	end
	return p
end)
serve("legal.routing.preview", "legal_aid_application", routing_preview)
-- The statutory clocks by kind and status, and the running ones at risk:
-- due within within_ms (default a day) or already past.
serve("legal.clock.stats", "clock", function(ctx, b)
	local within = b.within_ms or 86400000
	local now = xz.now()
	local res = { now_ms = now, within_ms = within, running = 0, paused = 0,
		breached = 0, met = 0, at_risk = 0, by_kind = {} }
	for _, r in ipairs(store.clock_counts(now + within)) do
		local k = res.by_kind[r.kind] or { running = 0, paused = 0,
			breached = 0, met = 0, at_risk = 0 }
		res.by_kind[r.kind] = k
		local st = string.lower(r.status)
		if k[st] then
			k[st] = k[st] + r.n
			res[st] = res[st] + r.n
		end
		k.at_risk = k.at_risk + r.at_risk
		res.at_risk = res.at_risk + r.at_risk
	end
	return res
end)
-- The end of the n-th working day after from_ms's day, from the calendar,
-- with the days skipped and why: what a working-day clock started then
-- would be due.
serve("legal.calendar.due", "calendar", function(ctx, b)
	local due, missing = days.add_working_days(b.from_ms, b.days,
		cfg.tz_offset_min, calendar)
	if not due then
		return nil, "unavailable", tr("%s: the calendar has no year %d: "
			.. "working days cannot be counted (load its file, option "
			.. "calendar_years)", ctx.topic, missing)
	end
	local first = days.day_of(b.from_ms, cfg.tz_offset_min)
	local last = days.day_of(due - 1, cfg.tz_offset_min)
	local skipped, worked = {}, {}
	for d = first + 1, last do
		local y = calendar.years[days.year_of(d)]
		if days.is_working(calendar, d) then
			if y.workdays[d] then
				worked[#worked + 1] = { day = days.format_day(d),
					name = y.workdays[d] }
			end
		else
			skipped[#skipped + 1] = { day = days.format_day(d),
				why = y.holidays[d] or (calendar.extra[d] and "local holiday")
					or "weekend" }
		end
	end
	return { due_ms = due, due_day = days.format_day(last),
		skipped = json.as_array(skipped), worked = json.as_array(worked),
		status = calendar.years[days.year_of(last)].status }
end)

handlers["prison.kiosk.legal-aid-requested"] = function(ev, topic)
	on_kiosk(ev, topic, "prison", "prisoner_id", "INMATE")
end
handlers["rehab.kiosk.legal-aid-requested"] = function(ev, topic)
	on_kiosk(ev, topic, "rehab", "resident_id", "REHAB_RESIDENT")
end
for _, e in ipairs({ "approved", "booked", "completed", "cancelled",
	"rejected" }) do
	handlers["prison.visit." .. e] = on_visit
end

-- Options --------------------------------------------------------------

-- "a,b" -> list of the items (spaces allowed).
local function items(text)
	local out = {}
	for item in string.gmatch(text or "", "[^,%s]+") do
		out[#out + 1] = item
	end
	return out
end

local function load_calendar(c)
	local extra, bad = days.parse_holidays(c.holidays)
	if not extra then
		error(tr("option holidays: '%s' is not a date (YYYY-MM-DD)", bad), 0)
	end
	local cal = days.new(extra)
	for _, y in ipairs(items(c.calendar_years)) do
		if not string.match(y, "^%d%d%d%d$") then
			error(tr("option calendar_years: '%s' is not a year (YYYY)", y), 0)
		end
		local file = "calendar/cn_" .. y .. ".lua"
		local ok, text = pcall(require, "calendar.cn_" .. y)
		if not ok then
			error(tr("option calendar_years: year %s: no calendar file %s "
				.. "next to the plugin (%s)", y, file, tostring(text)), 0)
		end
		if type(text) ~= "string" then
			error(tr("%s:1: the file must return the calendar text (a long "
				.. "string)", file), 0)
		end
		local one, err = days.parse_calendar(text, file, tonumber(y), tr)
		if not one then
			error(err, 0)
		end
		if one.status == "provisional" then
			xz.log("warn", tr("legal: calendar %s is provisional (%s): its "
				.. "调休 days are not entered; replace it with the State "
				.. "Council's notice for the year", y, file))
		end
		days.add_year(cal, one)
	end
	return cal
end

return {
	name = "legal",
	version = "2.0",
	description = "public legal services (12348): service requests, "
		.. "legal-aid applications under the 法律援助法 with statutory "
		.. "clocks, duty lawyers, provider directory and routing",
	options = {
		{ name = "forward_h", type = "int", default = 24, min = 1, max = 720,
		  description = "hours a custodial institution has to forward a "
			.. "legal-aid request (法律援助法 art. 39)" },
		{ name = "review_days", type = "int", default = 7, min = 1, max = 90,
		  description = "days to decide an application (art. 43; paused "
			.. "while a supplement is requested)" },
		{ name = "assign_days", type = "int", default = 3, min = 1, max = 90,
		  description = "days to assign a provider once aid is granted "
			.. "(art. 43) or a refusal overturned" },
		{ name = "grave_min_years", type = "int", default = 3, min = 3,
		  max = 40, description = "years of relevant practice a lawyer "
			.. "needs for a case of possible life imprisonment or death, "
			.. "or a death-penalty review (法律援助法 art. 26)" },
		{ name = "objection_days", type = "int", default = 5, min = 1,
		  max = 60, description = "days the justice bureau has to decide "
			.. "an objection to a refusal or termination (art. 49)" },
		{ name = "working_day_clocks", type = "string",
		  default = "assign,objection", description = "clocks counted in "
			.. "working days of the calendar (assign, objection); others "
			.. "in natural days" },
		{ name = "calendar_years", type = "string", default = "2026,2027",
		  description = "years of the working-day calendar to load, each "
			.. "from calendar/cn_YYYY.lua next to the plugin" },
		{ name = "revisit_h", type = "int", default = 24, min = 1, max = 720,
		  description = "hours to revisit a requester after a bad rating" },
		{ name = "bad_rating_max", type = "int", default = 2, min = 1, max = 4,
		  description = "ratings up to this (on 1-5) trigger a revisit" },
		{ name = "tz_offset_min", type = "int", default = 480, min = -720,
		  max = 840, description = "the province's UTC offset in minutes "
			.. "(working days are counted in local time)" },
		{ name = "holidays", type = "string", default = "",
		  description = "local rest days besides the calendar's: "
			.. "YYYY-MM-DD separated by commas" },
		{ name = "agency", type = "string", default = "legal-01",
		  description = "the legal-aid centre this node serves: its staff "
			.. "act for it only" },
		{ name = "bureau_agency", type = "string", default = "justice-01",
		  description = "the justice bureau that set up the centre: it "
			.. "decides objections (art. 49)" },
		{ name = "custodial_agencies", type = "string",
		  default = "prison=prison-01,rehab=rehab-01,detention=detention-01",
		  description = "institution=agency of the custodial institutions "
			.. "whose kiosks file here" },
		{ name = "lang", type = "string", default = "auto",
		  description = "language of messages: zh, en, or auto (the "
			.. "node's LC_ALL / LC_MESSAGES / LANG)" },
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
		{ name = "audit_spool_max", type = "int", default = 10000, min = 1,
		  max = 10000000, description = "audit records waiting for the "
			.. "audit plugin at which changes are refused "
			.. "(audit_unavailable; docs/audit.md)" },
	},
	init = function(c)
		cfg = c
		msg.setup(c.lang) -- another value than zh or en: the node's
		if c.lang ~= "auto" and c.lang ~= "zh" and c.lang ~= "en" then
			error(tr("option lang: '%s' (zh, en or auto)", c.lang), 0)
		end
		working = {}
		for _, k in ipairs(items(c.working_day_clocks)) do
			if k ~= "assign" and k ~= "objection" then
				error(tr("option working_day_clocks: '%s' (assign, "
					.. "objection)", k), 0)
			end
			working[k] = true
		end
		custodial_agency = {}
		for _, kv in ipairs(items(c.custodial_agencies)) do
			local inst, ag = string.match(kv, "^(%w+)=([%w_.:-]+)$")
			if not inst or not INSTITUTION_APPLICANT[inst] then
				error(tr("option custodial_agencies: '%s' (prison=AGENCY, "
					.. "rehab=AGENCY, detention=AGENCY)", kv), 0)
			end
			custodial_agency[inst] = ag
		end
		calendar = load_calendar(c)
		store.init(c)
		-- clocks still running from before a restart or reload: re-armed
		-- from the store (a deadline already passed fires at once)
		for _, k in ipairs(store.running_clocks()) do
			arm(k.kind, k.id, k.clock, k.due_ms)
		end
	end,
	handlers = handlers,
}
