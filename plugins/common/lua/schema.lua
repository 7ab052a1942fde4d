-- schema.lua - strict inputs, shared by the Lua plugins (legal, mediation:
-- `require("schema")` finds it here when the plugin has no schema.lua of its
-- own; its texts come from the requiring plugin's own msg.lua, which must
-- define the keys used below). Every field of a request is checked
-- for its type and range against a small declared schema, and nothing is
-- coerced (a "3" where an integer belongs, a 3.9, an object where a string
-- belongs, an unknown field of a closed record are refused, naming the
-- field).
--
-- A schema is a table field -> spec; a spec is a table with
--   t      "str"   a non-empty string of valid UTF-8, at most `len` bytes
--                  (default 2000)
--          "id"    an identifier [A-Za-z0-9_.:-]{1,64}
--          "int"   an integer (JSON 3, never 3.0 nor "3"), `min`..`max`
--          "bool"  true or false
--          "enum"  one of the strings of `values` (a list)
--          "strs"  a list of at most `n` (default 100) strings (each as "str")
--          "ids"   a list of at most `n` identifiers
--          "obj"   a closed record checked against `fields` (a schema)
--   req    true when the field must be present
-- A JSON null is the same as an absent field.
local msg = require("msg")

local M = {}

local NULL = xz.null
local ARRAY = xz.json.array

local function keys(t)
	local out = {}
	for k in pairs(t) do
		out[#out + 1] = tostring(k)
	end
	table.sort(out)
	return out
end

local function is_str(v, len)
	return type(v) == "string" and v ~= "" and #v <= (len or 2000)
		and utf8.len(v) ~= nil
end

local function is_id(v)
	return type(v) == "string" and #v <= 64 and string.match(v,
		"^[A-Za-z0-9_.:%-]+$") ~= nil
end

-- A JSON array (decoded requests mark arrays; an object {} is not a list).
local function is_list(v)
	return type(v) == "table" and getmetatable(v) == ARRAY
end

local check

-- One value against its spec: nil when it fits, else (path, expectation).
local function value(spec, v, path)
	local t = spec.t
	if t == "str" then
		if not is_str(v, spec.len) then
			if type(v) ~= "string" then
				return path, msg.tr("must be a string")
			end
			return path, msg.tr("must be a non-empty string of at most %d "
				.. "bytes of valid UTF-8", spec.len or 2000)
		end
	elseif t == "id" then
		if not is_id(v) then
			return path, msg.tr("must be an id ([A-Za-z0-9_.:-], 1 to 64 "
				.. "characters)")
		end
	elseif t == "int" then
		if math.type(v) ~= "integer" then
			if spec.min and spec.max then
				return path, msg.tr("must be an integer from %d to %d",
					spec.min, spec.max)
			end
			return path, msg.tr("must be an integer")
		end
		if (spec.min and v < spec.min) or (spec.max and v > spec.max) then
			return path, msg.tr("must be an integer from %d to %d",
				spec.min or math.mininteger, spec.max or math.maxinteger)
		end
	elseif t == "bool" then
		if type(v) ~= "boolean" then
			return path, msg.tr("must be true or false")
		end
	elseif t == "enum" then
		local ok = false
		if type(v) == "string" then
			for _, x in ipairs(spec.values) do
				ok = ok or x == v
			end
		end
		if not ok then
			return path, msg.tr("must be one of %s",
				table.concat(spec.values, ", "))
		end
	elseif t == "strs" or t == "ids" then
		local n = spec.n or 100
		if not is_list(v) or #v > n then
			return path, msg.tr("must be a list of at most %d strings", n)
		end
		for i, x in ipairs(v) do
			local p, e = value({ t = t == "ids" and "id" or "str",
				len = spec.len }, x, path .. "[" .. (i - 1) .. "]")
			if p then
				return p, e
			end
		end
	elseif t == "obj" then
		if type(v) ~= "table" or is_list(v) then
			return path, msg.tr("must be an object")
		end
		return check(spec.fields, v, path .. ".")
	else
		error("schema: unknown type " .. tostring(t) .. " for " .. path)
	end
	return nil
end

-- Check table b against schema s (a closed record): nil when it fits,
-- else (field path, expectation).
check = function(s, b, prefix)
	prefix = prefix or ""
	for _, k in ipairs(keys(b)) do
		if s[k] == nil then
			return prefix .. k, msg.tr("unknown field (allowed: %s)",
				table.concat(keys(s), ", "))
		end
	end
	for _, k in ipairs(keys(s)) do
		local spec, v = s[k], b[k]
		if v == nil or v == NULL then
			if spec.req then
				return prefix .. k, msg.tr("is required")
			end
		else
			local p, e = value(spec, v, prefix .. k)
			if p then
				return p, e
			end
		end
	end
	return nil
end

M.check = check

-- The path of the first text in v (a value or a key, at any depth) that
-- is not valid UTF-8, or nil. Bytes of a bad key are shown as \xNN.
function M.not_utf8(v, path)
	path = path or ""
	if type(v) == "string" then
		return utf8.len(v) == nil and (path ~= "" and path or "-") or nil
	end
	if type(v) ~= "table" then
		return nil
	end
	for k, x in pairs(v) do
		local name = tostring(k)
		if type(k) == "string" and utf8.len(k) == nil then
			return (path ~= "" and path .. "." or "") .. string.gsub(k,
				"[\128-\255]", function(c)
				return string.format("\\x%02X", string.byte(c))
			end)
		end
		local p = M.not_utf8(x, path ~= "" and path .. "." .. name or name)
		if p then
			return p
		end
	end
	return nil
end

-- A schema extended with more fields (a new table; s is not changed).
function M.with(s, more)
	local out = {}
	for k, v in pairs(s) do
		out[k] = v
	end
	for k, v in pairs(more or {}) do
		out[k] = v
	end
	return out
end

return M
