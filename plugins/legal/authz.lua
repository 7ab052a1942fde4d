-- authz.lua - who is acting, and who may do what in the legal plugin.
--
-- who(topic, body, caller) gives the acting principal {user, name, agency,
-- roles, auth}: the caller the kernel authenticated (the handler's fourth
-- argument), never a name written in the payload. A payload "actor" that
-- disagrees with the caller (user or agency) is refused (forbidden). The
-- node, a plugin or an administrator (roles node, plugin, admin) may act on
-- someone's behalf by naming them in "actor" (auth then says by whom). On a
-- host that gives no caller, the payload's actor {"user","role","agency"}
-- stands in (auth = "payload").
--
-- RULES maps each request to the roles that may call it (role ids of
-- docs/roles.md) and how the acting person must relate to the record:
--   staff    the person belongs to this node's legal-aid centre (option
--            agency); the bureau's people to the justice bureau that set
--            it up (option bureau_agency), 法律援助法 art. 49
--   own      a lawyer or duty lawyer acts only on a case or shift whose
--            provider is them (the provider's "user")
--   kiosk    a kiosk files only for a person held at its own institution
local msg = require("msg")

local M = {}

local NULL = xz.null

local function s(v)
	return type(v) == "string" and v ~= "" and v or nil
end

local function roles_of(c)
	local out = {}
	if type(c.roles) == "table" then
		for _, r in ipairs(c.roles) do
			if type(r) == "string" then
				out[#out + 1] = r
			end
		end
	elseif s(c.role) then
		out[1] = c.role
	end
	return out
end

-- The kernel's caller of the message being handled (the handler's fourth
-- argument), or nil on a host that does not give it.
local function caller_of(m)
	if type(m) == "table" and type(m.user) == "string" then
		return m
	end
	return nil
end

-- Principals that may act for someone they name in "actor": the node
-- itself, a plugin, an administrator.
local TRUSTED = { admin = true, plugin = true, node = true }

-- The acting principal, or nil, code, message.
function M.who(topic, body, m)
	local a = body.actor
	local c = caller_of(m)
	if c and s(c.user) then
		local p = { user = c.user, name = s(c.name), agency = s(c.agency),
			roles = roles_of(c), auth = s(c.auth) or "kernel" }
		local trusted = false
		for _, r in ipairs(p.roles) do
			trusted = trusted or TRUSTED[r] == true
		end
		if trusted and type(a) == "table" and s(a.user) then
			-- acting on someone's behalf: recorded as such
			return { user = a.user, name = s(a.name), agency = s(a.agency),
				roles = roles_of(a), auth = "on behalf, by " .. c.user
					.. " (" .. p.auth .. ")" }
		end
		if type(a) == "table" and s(a.user) and a.user ~= c.user then
			return nil, "forbidden", msg.tr("%s: the authenticated caller "
				.. "is %s, the payload names %s", topic, c.user, a.user)
		end
		if type(a) == "table" and s(a.agency) and a.agency ~= p.agency then
			return nil, "forbidden", msg.tr("%s: %s acts for agency %s, not "
				.. "for %s", topic, c.user, tostring(p.agency or "-"), a.agency)
		end
		return p
	end
	if type(a) ~= "table" or not s(a.user) then
		return nil, "bad_request", msg.tr("%s: no authenticated caller and "
			.. "no \"actor\" {\"user\", \"role\", \"agency\"}", topic)
	end
	return { user = a.user, name = s(a.name), agency = s(a.agency),
		roles = roles_of(a), auth = "payload" }
end

function M.has(p, role)
	for _, r in ipairs(p.roles) do
		if r == role then
			return true
		end
	end
	return false
end

-- The first role of p among allowed, or nil.
function M.role_among(p, allowed)
	for _, want in ipairs(allowed) do
		if M.has(p, want) then
			return want
		end
	end
	return nil
end

-- The people of the centre and of the bureau.
M.CENTRE = { hotline_operator = true, legal_reviewer = true,
	legal_head = true }
M.BUREAU = { justice_bureau = true }

-- Check p may call topic with its role list allowed; cfg gives the
-- agencies. Returns the role it acts in, or nil, "forbidden", message.
function M.allow(topic, p, allowed, cfg)
	local role = M.role_among(p, allowed)
	if not role then
		return nil, "forbidden", msg.tr("%s: needs the role %s; %s has %s",
			topic, table.concat(allowed, msg.lang() == "zh" and "、" or " or "),
			p.user, #p.roles > 0 and table.concat(p.roles, ", ") or "-")
	end
	local want
	if M.CENTRE[role] then
		want = cfg.agency
	elseif M.BUREAU[role] then
		want = cfg.bureau_agency
	end
	if want and want ~= "" and p.agency ~= want then
		return nil, "forbidden", msg.tr("%s: %s acts for agency %s, not "
			.. "for %s", topic, p.user, tostring(p.agency or "-"), want)
	end
	return role
end

-- A lawyer acting on a record whose provider is someone else.
function M.own(topic, p, role, provider, noun, id)
	if role ~= "lawyer" and role ~= "duty_lawyer" then
		return true
	end
	local u = type(provider) == "table" and provider.user
	if u ~= NULL and u == p.user then
		return true
	end
	return nil, "forbidden", msg.tr("%s: %s is not the provider of %s %s",
		topic, p.user, msg.tr(noun), tostring(id))
end

return M
