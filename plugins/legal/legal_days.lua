-- legal_days.lua - calendar arithmetic on the kernel clock (ms since the
-- Unix epoch, UTC): working-day deadlines in the province's time zone.
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

-- "YYYY-MM-DD" -> local day number (proleptic Gregorian), or nil.
function M.parse_date(s)
	local y, m, d = string.match(s, "^(%d%d%d%d)-(%d%d)-(%d%d)$")
	if not y then
		return nil
	end
	y, m, d = tonumber(y), tonumber(m), tonumber(d)
	if m < 1 or m > 12 or d < 1 or d > 31 then
		return nil
	end
	-- days from civil (H. Hinnant's algorithm)
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

-- A set of local day numbers from "YYYY-MM-DD,YYYY-MM-DD" (public
-- holidays); returns the set, or nil and the bad item.
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

-- The end (exclusive, in ms) of the n-th working day after the day of
-- from_ms: the day of receipt is not counted, Saturdays, Sundays and the
-- holidays are skipped.
function M.add_working_days(from_ms, n, tz_min, holidays)
	local day = day_of(from_ms, tz_min)
	local counted = 0
	while counted < n do
		day = day + 1
		if weekday(day) < 5 and not (holidays and holidays[day]) then
			counted = counted + 1
		end
	end
	return (day + 1) * DAY - tz_min * 60000
end

M.DAY = DAY
M.day_of = day_of
M.weekday = weekday

return M
