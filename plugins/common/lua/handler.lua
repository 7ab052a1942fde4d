-- handler.lua - the request handler the Lua scenario plugins (legal,
-- mediation) wrap around each of their requests:
--
--     local handler = require("handler")
--     handlers[topic] = handler.wrap({ fields = ..., run = fn, ... })
--
-- In order: the body must be an object whose fields pass the schema
-- (schema.lua), the caller is found (who) and its role may ask (allow);
-- only then run(ctx, body) answers with a reply table, or nil, code,
-- message. Every refusal is audited (refused) and answered with a code of
-- the closed set; a code outside it is a bug, logged and sent as internal.
-- An error raised by run that failure() turns into a code (a store that
-- failed: store_error; an audit record that cannot be written:
-- audit_unavailable) is a refusal too: the change was rolled back.
local schema = require("schema")

local M = {}

-- The closed set of error reply codes, the same as the C plugins' enum
-- (plugins/common/reply.h).
M.REPLY_CODES = { bad_request = true, not_found = true,
	invalid_state = true, forbidden = true, exists = true,
	capacity_exceeded = true, store_error = true, timeout = true,
	no_responders = true, unavailable = true, too_large = true,
	internal = true, audit_unavailable = true, durable_full = true }

local function str(v)
	return type(v) == "string" and v ~= "" and v or nil
end

--[[ The handler for one topic. s holds:
  fields            the request's schema (schema.check)
  run(ctx, body)    the reply table, or nil, code, message
  who(t, body, m)   the caller {user=, agency=, auth=, roles=}, or nil,
                    code, message
  allow(t, p)       the role p asks in, or nil, code, message
  refused(ctx, sid, code)  audit a refusal (sid: the body's id, or nil)
  tr                the plugin's msg.tr
  new_corr()        a new correlation id
  codes             the codes the plugin answers (default REPLY_CODES)
  utf8              true: text that is not UTF-8 anywhere (a value, a
                    key) is refused before anything else
  failure(err, t)   code, message of an error run raised, or nil (then it
                    is raised again); without it errors are not caught
  ctx()             extra fields of each request's ctx (a new table)
ctx holds topic, actor, corr, purpose, body and what ctx() adds. ]]
function M.wrap(s)
	local tr = s.tr
	local codes = s.codes or M.REPLY_CODES

	local function refuse(ctx, sid, code, text)
		if not codes[code] then
			xz.log("error", tr("%s answered the code %s outside the closed "
				.. "set: sent as internal", ctx.topic, tostring(code)))
			code = "internal"
		end
		s.refused(ctx, sid, code)
		xz.reply_error(code, text)
	end

	return function(body, t, source, m)
		if s.utf8 then
			local bad = schema.not_utf8(body)
			if bad then
				return refuse({ topic = t, corr = s.new_corr(),
					actor = { user = "unknown" } }, nil, "bad_request",
					tr("%s: field \"%s\": %s", t, bad,
						tr("must be valid UTF-8")))
			end
		end
		local ctx = s.ctx and s.ctx() or {}
		ctx.topic = t
		ctx.actor = { user = "unknown" }
		ctx.corr = type(body) == "table" and str(body.corr) or s.new_corr()
		ctx.purpose = type(body) == "table" and str(body.purpose) or nil
		local sid = type(body) == "table" and str(body.id) or nil
		if type(body) ~= "table" or getmetatable(body) == xz.json.array then
			return refuse(ctx, sid, "bad_request", tr("%s: field \"%s\": %s",
				t, "-", tr("must be an object")))
		end
		-- the fields first: nothing of a malformed request is used, not
		-- even its actor
		local field, expect = schema.check(s.fields, body)
		if field then
			return refuse(ctx, sid, "bad_request", tr("%s: field \"%s\": %s",
				t, field, expect))
		end
		local p, c, e = s.who(t, body, m)
		if not p then
			return refuse(ctx, sid, c, e)
		end
		ctx.actor = { user = p.user, agency = p.agency, auth = p.auth,
			roles = p.roles, role = p.roles[1] }
		local role
		role, c, e = s.allow(t, p)
		if not role then
			return refuse(ctx, sid, c, e)
		end
		ctx.actor.role = role
		ctx.body = body
		local res, code, text
		if s.failure then
			local ok
			ok, res, code, text = pcall(s.run, ctx, body)
			if not ok then
				code, text = s.failure(res, t)
				if not code then
					error(res, 0)
				end
				return refuse(ctx, sid, code, text)
			end
		else
			res, code, text = s.run(ctx, body)
		end
		if res == nil then
			return refuse(ctx, sid, code, text)
		end
		return res
	end
end

return M
