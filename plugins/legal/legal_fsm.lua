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

-- Legal-aid application.
M.aid = {
	aggregate = "aid",
	noun = "legal-aid application",
	prefix = "LA",
	subject_type = "legal_aid_application",
	initial = "RECEIVED", -- FORWARDED when a custodial institution sends it
	rows = {
		{ "receive", { "FORWARDED" }, "RECEIVED", "received" },
		{ "start-review", { "RECEIVED" }, "UNDER_REVIEW", "review-started" },
		{ "request-supplement", { "RECEIVED", "UNDER_REVIEW" },
		  "SUPPLEMENT_REQUESTED", "supplement-requested" },
		{ "supplement", { "SUPPLEMENT_REQUESTED" }, "UNDER_REVIEW",
		  "supplemented" },
		{ "grant", { "UNDER_REVIEW" }, "GRANTED", "granted" },
		{ "refuse", { "UNDER_REVIEW" }, "REFUSED", "refused" },
		{ "object", { "REFUSED" }, "OBJECTION", "objected" },
		{ "uphold", { "OBJECTION" }, "UPHELD", "upheld" },
		{ "overturn", { "OBJECTION" }, "OVERTURNED", "overturned" },
		{ "assign", { "GRANTED", "OVERTURNED" }, "ASSIGNED", "assigned" },
		{ "start-service", { "ASSIGNED" }, "IN_SERVICE", "service-started" },
		{ "close", { "IN_SERVICE" }, "CLOSED", "closed" },
		{ "terminate", { "ASSIGNED", "IN_SERVICE" }, "TERMINATED",
		  "terminated" },
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
