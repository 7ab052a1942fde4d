-- legal_fsm.lua - the state machines of the legal plugin, as tables.
--
-- Each row: action (the request legal.<aggregate>.<action>), the states it
-- is allowed from, the state it leads to (nil: the action hook decides),
-- and the event it publishes (legal.<aggregate>.<event>). The order of the
-- rows is the order actions are listed in "invalid_state" refusals.
local M = {}

-- Service request (consultation): NEW -> ASSIGNED -> ANSWERED -> CLOSED,
-- with CALLBACK_PENDING, REFERRED, and REVISIT after a bad rating.
M.request = {
	aggregate = "request",
	noun = "service request",
	prefix = "SR",
	subject_type = "service_request",
	initial = "NEW",
	rows = {
		{ "assign", { "NEW", "CALLBACK_PENDING" }, "ASSIGNED", "assigned" },
		{ "callback", { "ASSIGNED" }, "CALLBACK_PENDING",
		  "callback-scheduled" },
		{ "answer", { "ASSIGNED", "CALLBACK_PENDING" }, "ANSWERED",
		  "answered" },
		{ "refer", { "NEW", "ASSIGNED", "CALLBACK_PENDING" }, "REFERRED",
		  "referred" },
		{ "close", { "ANSWERED", "REFERRED" }, "CLOSED", "closed" },
		-- a rating keeps the state, or moves to REVISIT when it is bad
		{ "rate", { "ANSWERED", "CLOSED" }, nil, "rated" },
		{ "revisit", { "REVISIT" }, "CLOSED", "revisited" },
	},
}

-- Legal-aid application (法律援助法 2021).
M.aid = {
	aggregate = "aid",
	noun = "legal-aid application",
	prefix = "LA",
	subject_type = "legal_aid_application",
	initial = "RECEIVED", -- FORWARDED when a custodial institution sends it
	rows = {
		-- art. 39: forwarded by the institution within 24 h
		{ "receive", { "FORWARDED" }, "RECEIVED", "received" },
		{ "start-review", { "RECEIVED" }, "UNDER_REVIEW", "review-started" },
		-- art. 43: missing materials are asked for at once (一次性告知)
		{ "request-supplement", { "RECEIVED", "UNDER_REVIEW" },
		  "SUPPLEMENT_REQUESTED", "supplement-requested" },
		{ "supplement", { "SUPPLEMENT_REQUESTED" }, "UNDER_REVIEW",
		  "supplemented" },
		-- art. 44: 先行提供, a provider serves before the review ends
		{ "provide-urgent", { "RECEIVED", "UNDER_REVIEW" }, "URGENT_SERVICE",
		  "urgent-provided" },
		-- art. 43: the decision; after urgent aid the provider goes on
		{ "grant", { "UNDER_REVIEW", "URGENT_SERVICE" }, nil, "granted" },
		{ "refuse", { "UNDER_REVIEW", "URGENT_SERVICE" }, "REFUSED",
		  "refused" },
		-- art. 49: objections to a refusal or a termination, decided by
		-- the justice bureau
		{ "object", { "REFUSED", "TERMINATED" }, "OBJECTION", "objected" },
		{ "uphold", { "OBJECTION" }, "UPHELD", "upheld" },
		{ "overturn", { "OBJECTION" }, "OVERTURNED", "overturned" },
		{ "assign", { "GRANTED", "OVERTURNED" }, "ASSIGNED", "assigned" },
		-- art. 55: the assisted person may ask for another provider
		{ "change-provider", { "ASSIGNED", "IN_SERVICE", "URGENT_SERVICE" },
		  nil, "provider-changed" },
		{ "start-service", { "ASSIGNED" }, "IN_SERVICE", "service-started" },
		{ "close", { "IN_SERVICE" }, "CLOSED", "closed" },
		-- art. 48: termination, decided by the legal-aid centre
		{ "terminate", { "ASSIGNED", "IN_SERVICE", "URGENT_SERVICE" },
		  "TERMINATED", "terminated" },
		-- arts. 57, 59: quality evaluation and revisits of the assisted
		{ "evaluate", { "CLOSED" }, nil, "evaluated" },
		{ "revisit", { "IN_SERVICE", "CLOSED" }, nil, "revisited" },
	},
}

-- A duty lawyer's shift (值班律师, 法律援助法 arts. 14, 30, 37) at a court,
-- procuratorate or detention house: scheduled by the centre, worked by the
-- duty lawyer, who records each legal help given.
M.duty = {
	aggregate = "duty",
	noun = "duty-lawyer shift",
	prefix = "DL",
	subject_type = "duty_lawyer_shift",
	initial = "SCHEDULED",
	rows = {
		{ "start", { "SCHEDULED" }, "ON_DUTY", "started" },
		{ "help", { "ON_DUTY" }, nil, "helped" },
		{ "end", { "ON_DUTY" }, "ENDED", "ended" },
		{ "cancel", { "SCHEDULED" }, "CANCELLED", "cancelled" },
	},
}

-- The row of action from state, or nil.
function M.find(m, action, state)
	for _, r in ipairs(m.rows) do
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

-- The actions allowed from state, in row order, without repeats.
function M.allowed(m, state)
	local out, seen = {}, {}
	for _, r in ipairs(m.rows) do
		for _, s in ipairs(r[2]) do
			if s == state and not seen[r[1]] then
				seen[r[1]] = true
				out[#out + 1] = r[1]
			end
		end
	end
	return out
end

-- Every distinct action of the machine.
function M.actions(m)
	local out, seen = {}, {}
	for _, r in ipairs(m.rows) do
		if not seen[r[1]] then
			seen[r[1]] = true
			out[#out + 1] = r[1]
		end
	end
	return out
end

return M
