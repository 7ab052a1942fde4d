-- legal_days.lua - calendar arithmetic on the kernel clock (ms since the
-- Unix epoch, UTC): working-day deadlines in the province's time zone,
-- from the official calendar of holidays and 调休 working days.
--
-- The calendar of a year is a data file calendar/cn_YYYY.lua next to the
-- plugin: a text in a Lua long string (the sandbox reads no other files),
-- one directive per line (see calendar/cn_2026.lua and docs/legal.md):
--   year YYYY | status official|provisional | YYYY-MM-DD holiday|workday NAME
-- Errors name the file and the line: "calendar/cn_2026.lua:14: ...".
local M = {}

local DAY = 86400000

-- The local day number (days since 1970-01-01 in the zone) of ms.
local function day_of(ms, tz_min)
	return (ms + tz_min * 60000) // DAY
end

-- 1970-01-01 was a Thursday: weekday 0 = Monday ... 6 = Sunday.
local function weekday(day)
	return (day + 3) % 7
end

local function days_from_civil(y, m, d)
	if m <= 2 then
		y = y - 1
	end
	local era = y // 400
	local yoe = y - era * 400
	local mp = (m + 9) % 12
	local doy = (153 * mp + 2) // 5 + d - 1
	local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
	return era * 146097 + doe - 719468
end

-- day number -> y, m, d (H. Hinnant's civil_from_days)
local function civil_from_days(z)
	z = z + 719468
	local era = z // 146097
	local doe = z - era * 146097
	local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
	local y = yoe + era * 400
	local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
	local mp = (5 * doy + 2) // 153
	local d = doy - (153 * mp + 2) // 5 + 1
	local m = mp < 10 and mp + 3 or mp - 9
	if m <= 2 then
		y = y + 1
	end
	return y, m, d
end

-- "YYYY-MM-DD" -> local day number (proleptic Gregorian), or nil (also for
-- a day that does not exist, such as 2026-02-30).
function M.parse_date(s)
	local y, m, d = string.match(s or "", "^(%d%d%d%d)-(%d%d)-(%d%d)$")
	if not y then
		return nil
	end
	y, m, d = tonumber(y), tonumber(m), tonumber(d)
	if m < 1 or m > 12 or d < 1 or d > 31 then
		return nil
	end
	local n = days_from_civil(y, m, d)
	local y2, m2, d2 = civil_from_days(n)
	if y2 ~= y or m2 ~= m or d2 ~= d then
		return nil
	end
	return n
end

function M.format_day(n)
	local y, m, d = civil_from_days(n)
	return string.format("%04d-%02d-%02d", y, m, d)
end

function M.year_of(n)
	return (civil_from_days(n))
end

-- A set of local day numbers from "YYYY-MM-DD,YYYY-MM-DD" (extra local
-- rest days); returns the set, or nil and the bad item.
function M.parse_holidays(text)
	local set = {}
	for item in string.gmatch(text or "", "[^,%s]+") do
		local d = M.parse_date(item)
		if not d then
			return nil, item
		end
		set[d] = true
	end
	return set
end

local WEEKDAY = { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"Saturday", "Sunday" }

-- Parse the text of one year's file (name: how errors name it). Returns
-- {year=, status=, holidays={day=name}, workdays={day=name}}, or nil and
-- "name:LINE: message". tr(en, ...) formats a message in the node's
-- language (the plugin's msg.tr; string.format, English, when nil): every
-- message is one whole format, FILE:LINE included.
function M.parse_calendar(text, name, want_year, tr)
	tr = tr or string.format
	local cal = { holidays = {}, workdays = {}, lines = 0 }
	local ln = 1 -- the text starts on the file's second line
	for line in string.gmatch(text .. "\n", "([^\n]*)\n") do
		ln = ln + 1
		local body = string.match(line, "^%s*(.-)%s*$")
		if body ~= "" and string.sub(body, 1, 1) ~= "#" then
			local y = string.match(body, "^year%s+(%d%d%d%d)$")
			local st = string.match(body, "^status%s+(%S+)$")
			local date, kind, label = string.match(body,
				"^(%S+)%s+(%S+)%s*(.*)$")
			if y then
				if cal.year then
					return nil, tr("%s:%d: a second \"year\" line", name, ln)
				end
				cal.year = tonumber(y)
				if want_year and cal.year ~= want_year then
					return nil, tr("%s:%d: the file is for year %d, not %d",
						name, ln, cal.year, want_year)
				end
			elseif st then
				if st ~= "official" and st ~= "provisional" then
					return nil, tr("%s:%d: status '%s': official or "
						.. "provisional", name, ln, st)
				end
				cal.status = st
			elseif not cal.year then
				return nil, tr("%s:%d: the first line must be \"year YYYY\"",
					name, ln)
			else
				local d = M.parse_date(date)
				if not d then
					return nil, tr("%s:%d: '%s' is not a date (YYYY-MM-DD)",
						name, ln, date)
				end
				if M.year_of(d) ~= cal.year then
					return nil, tr("%s:%d: %s is not in year %d", name, ln,
						date, cal.year)
				end
				if kind ~= "holiday" and kind ~= "workday" then
					return nil, tr("%s:%d: '%s': a date is followed by "
						.. "holiday or workday", name, ln, kind)
				end
				if label == "" then
					return nil, tr("%s:%d: %s %s: give the name of the "
						.. "holiday", name, ln, date, kind)
				end
				if cal.holidays[d] or cal.workdays[d] then
					return nil, tr("%s:%d: %s is listed twice", name, ln, date)
				end
				if kind == "workday" and weekday(d) < 5 then
					return nil, tr("%s:%d: %s is a %s: a workday line is a "
						.. "weekend day worked (调休), weekdays are working "
						.. "days already", name, ln, date,
						tr(WEEKDAY[weekday(d) + 1]))
				end
				if kind == "holiday" then
					cal.holidays[d] = label
				else
					cal.workdays[d] = label
				end
				cal.lines = cal.lines + 1
			end
		end
	end
	if not cal.year then
		return nil, tr("%s:%d: no \"year YYYY\" line", name, ln)
	end
	cal.status = cal.status or "official"
	return cal
end

-- A calendar of several years: {years={[y]=cal}, extra={day=true}}.
function M.new(extra)
	return { years = {}, extra = extra or {} }
end

function M.add_year(c, cal)
	c.years[cal.year] = cal
end

-- Whether day is a working day, or nil and the year missing from c.
function M.is_working(c, day)
	local y = M.year_of(day)
	local cal = c.years[y]
	if not cal then
		return nil, y
	end
	if cal.workdays[day] then
		return true
	end
	if cal.holidays[day] or c.extra[day] then
		return false
	end
	return weekday(day) < 5
end

-- The end (exclusive, in ms) of the n-th working day after the day of
-- from_ms: the day of receipt is not counted; holidays and weekends are
-- skipped, 调休 weekend working days counted. nil and the missing year when
-- the count runs into a year the calendar does not have.
function M.add_working_days(from_ms, n, tz_min, c)
	local day = day_of(from_ms, tz_min)
	local counted = 0
	while counted < n do
		day = day + 1
		local w, missing = M.is_working(c, day)
		if w == nil then
			return nil, missing
		end
		if w then
			counted = counted + 1
		end
	end
	return (day + 1) * DAY - tz_min * 60000
end

M.DAY = DAY
M.day_of = day_of
M.weekday = weekday

return M
