-- routing.lua - which provider gets a granted legal-aid application.
--
-- THE RULE OPERATORS EDIT. Change it, then hot-reload the plugin:
--
--     xiezhi reload -c config/xiezhi.cfg legal
--
-- A broken file leaves the running version in place and `reload` prints
-- why. Try a change first with the preview request, which changes nothing:
--
--     xiezhi call legal.routing.preview '{"specialty":"CRIMINAL",
--         "region":"R-01","parties":["P-9"]}'
--
-- rank(app, providers) gets
--   app       {specialty=, region=, applicant_id=, parties={...}}
--   providers a list of {id=, type=, name=, licence=, specialties={...},
--             region=, capacity=, load=, conflicts={...}, active=}
-- and returns two lists:
--   ranked    the eligible providers, best first (the first one is chosen)
--   excluded  {id=, reason=} for every provider left out, so an operator
--             can see why nobody was found.
local M = {}

M.version = "default-1"

-- Provider types that may take a legal-aid case.
M.eligible_types = {
	LAWYER = true,
	LEGAL_AID_CENTER = true,
	BASIC_LEGAL_WORKER = true,
}

local function has(list, value)
	if value == nil or list == nil then
		return false
	end
	for _, v in ipairs(list) do
		if v == value then
			return true
		end
	end
	return false
end

-- The exclusion checks, in the order they are tried. Each returns a reason
-- (string) to exclude the provider, or nil to keep it.
M.checks = {
	function(app, p)
		if p.active == false then
			return "inactive"
		end
	end,
	function(app, p)
		if not M.eligible_types[p.type] then
			return "type " .. tostring(p.type) .. " does not take legal aid"
		end
	end,
	function(app, p)
		-- conflict of interest: the provider acts for the applicant's
		-- opponent or a co-party (the provider's conflicts list holds
		-- person or case ids)
		if has(p.conflicts, app.applicant_id) then
			return "conflict of interest with " .. app.applicant_id
		end
		for _, party in ipairs(app.parties or {}) do
			if has(p.conflicts, party) then
				return "conflict of interest with " .. party
			end
		end
	end,
	function(app, p)
		if (p.capacity or 0) - (p.load or 0) <= 0 then
			return "no remaining capacity"
		end
	end,
	function(app, p)
		if app.specialty and not has(p.specialties, app.specialty) then
			return "no specialty " .. app.specialty
		end
	end,
}

-- Ordering of the eligible providers: same region first, then the most
-- remaining capacity, then the id (so the choice is reproducible).
function M.better(app, a, b)
	local ra = (a.region == app.region) and 0 or 1
	local rb = (b.region == app.region) and 0 or 1
	if ra ~= rb then
		return ra < rb
	end
	local fa = (a.capacity or 0) - (a.load or 0)
	local fb = (b.capacity or 0) - (b.load or 0)
	if fa ~= fb then
		return fa > fb
	end
	return a.id < b.id
end

function M.rank(app, providers)
	local ranked, excluded = {}, {}
	for _, p in ipairs(providers) do
		local why
		for _, check in ipairs(M.checks) do
			why = check(app, p)
			if why then
				break
			end
		end
		if why then
			excluded[#excluded + 1] = { id = p.id, reason = why }
		else
			ranked[#ranked + 1] = p
		end
	end
	table.sort(ranked, function(a, b) return M.better(app, a, b) end)
	return ranked, excluded
end

return M
