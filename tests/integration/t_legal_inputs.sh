#!/usr/bin/env bash
# t_legal_inputs.sh - strict inputs: a field-type fuzz over every request
# of the legal plugin. Each request has a valid body below; every field of
# it is replaced in turn by values of the wrong kind (a string for a
# number, a fraction, 3.0 for an integer, an object, a list, a boolean, a
# number for a string) and an unknown field is added at the top and inside
# the closed records. Each try must be refused with bad_request naming the
# field, and change nothing: 0 coerced values.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
xz_setup
. "$XZ_SRC/plugins/legal/tests/flowlib.sh"
flow_node legal

check "a provider" lcall legal.provider.add '"id":"L1","type":"LAWYER","name":"Li",
  "licence":"1","region":"R1","capacity":5,"specialties":["CIVIL"],"conflicts":[],"user":"tester","duty":true'
AID=$(lcall legal.aid.open '"applicant_type":"CITIZEN","matter":"wages"' | jq -r .id)
SR=$(lcall legal.request.create '"channel":"HOTLINE","question":"q"' | jq -r .id)

# The fuzz runs on the node, in one console chunk: BODIES holds one valid
# body per request (the actor is added), wrong() the wrong values for a
# value. It returns the tries, the refusals naming the field, and every
# try that was not (topic|field|what was sent|the reply).
CHUNK=$(
	cat <<LUA
local A = { user = "tester", roles = { "hotline_operator", "legal_reviewer", "legal_head", "lawyer", "duty_lawyer" }, agency = "legal-01" }
local AID, SR = "$AID", "$SR"
local P = { id = "X-1", name = "张三" }
local BODIES = {
  ["legal.request.create"] = { channel = "HOTLINE", question = "q", requester = P, topic_area = "labour", prisoner_id = "A0001AA", resident_id = "R-1", region = "R1", tier = "CENTRE", point_id = "P-1" },
  ["legal.request.assign"] = { id = SR, to = "staff-1" },
  ["legal.request.callback"] = { id = SR, callback_at_ms = 4102444800000 },
  ["legal.request.answer"] = { id = SR, answer = "a" },
  ["legal.request.refer"] = { id = SR, to = "LEGAL_AID", applicant_type = "CITIZEN", applicant = P, matter = "m", case_type = "CIVIL", specialty = "CIVIL", region = "R1", parties = { "P-2" }, means_checked = true, means_exemption = "ART42_OTHER", basis = "rule" },
  ["legal.request.close"] = { id = SR, reason = "done" },
  ["legal.request.rate"] = { id = SR, score = 4, comment = "ok" },
  ["legal.request.revisit"] = { id = SR, note = "n" },
  ["legal.request.get"] = { id = SR, purpose = "p" },
  ["legal.request.list"] = { state = "NEW" },
  ["legal.request.kpi"] = { tier = "CENTRE" },
  ["legal.aid.open"] = { applicant_type = "CITIZEN", matter = "m", case_type = "CIVIL", applicant = P, prisoner_id = "A0001AA", specialty = "CIVIL", region = "R1", parties = { "P-2" }, means_checked = true, means_exemption = "ART42_OTHER", basis = "b", custodial = { institution = "prison", agency = "prison-01", kiosk_id = "K-1", forward_by_ms = 1 }, requested_ms = 1, notified_by = "court-01", channel = "HALL", tier = "WORKSTATION", point_id = "W-1" },
  ["legal.aid.receive"] = { id = AID, specialty = "CIVIL", region = "R1", parties = { "P-2" }, case_type = "CIVIL", means_checked = true, means_exemption = "ART42_OTHER", basis = "b" },
  ["legal.aid.start-review"] = { id = AID, specialty = "CIVIL" },
  ["legal.aid.request-supplement"] = { id = AID, items = { "income certificate" } },
  ["legal.aid.supplement"] = { id = AID, region = "R1" },
  ["legal.aid.provide-urgent"] = { id = AID, ground = "LIMITATION_EXPIRING", limitation_due_ms = 1, basis = "b", provider_id = "L1" },
  ["legal.aid.grant"] = { id = AID, means_checked = true },
  ["legal.aid.refuse"] = { id = AID, reason = "r" },
  ["legal.aid.object"] = { id = AID, reason = "r" },
  ["legal.aid.uphold"] = { id = AID, reason = "r" },
  ["legal.aid.overturn"] = { id = AID, reason = "r" },
  ["legal.aid.assign"] = { id = AID, provider_id = "L1" },
  ["legal.aid.change-provider"] = { id = AID, provider_id = "L1", reason = "r" },
  ["legal.aid.start-service"] = { id = AID },
  ["legal.aid.close"] = { id = AID, outcome = "DEFENDED" },
  ["legal.aid.terminate"] = { id = AID, ground = "OTHER_RULE", reason = "r", basis = "b" },
  ["legal.aid.evaluate"] = { id = AID, method = "FILE_CHECK", grade = "PASS", note = "n" },
  ["legal.aid.revisit"] = { id = AID, satisfied = true, note = "n" },
  ["legal.aid.get"] = { id = AID, purpose = "p" },
  ["legal.aid.list"] = { state = "RECEIVED" },
  ["legal.duty.schedule"] = { provider_id = "L1", station = { type = "COURT", agency = "court-01", name = "某法院" }, start_ms = 1, end_ms = 2 },
  ["legal.duty.start"] = { id = "DL-1" },
  ["legal.duty.help"] = { id = "DL-1", person_id = "S-1", kind = "CONSULTATION", note = "n" },
  ["legal.duty.end"] = { id = "DL-1" },
  ["legal.duty.cancel"] = { id = "DL-1" },
  ["legal.duty.get"] = { id = "DL-1", purpose = "p" },
  ["legal.duty.list"] = { state = "SCHEDULED" },
  ["legal.provider.add"] = { id = "L2", type = "LAWYER", name = "n", licence = "l", region = "R1", capacity = 1, specialties = { "CIVIL" }, conflicts = { "P-1" }, active = true, user = "u", duty = false, agency = "firm-1", years = 3 },
  ["legal.provider.update"] = { id = "L1", capacity = 1, specialties = { "CIVIL" }, conflicts = { "P-1" }, region = "R1", active = true, user = "u", duty = true, agency = "firm-1", years = 3 },
  ["legal.provider.get"] = { id = "L1" },
  ["legal.provider.list"] = { type = "LAWYER", region = "R1", specialty = "CIVIL", duty = true },
  ["legal.routing.preview"] = { specialty = "CIVIL", region = "R1", applicant_id = "X-1", parties = { "P-2" } },
  ["legal.calendar.due"] = { from_ms = 1790000000000, days = 3 },
}
local function is_array(v)
  return type(v) == "table" and #v > 0
end
local function wrong(v)
  if type(v) == "string" then
    return { 7, 3.5, true, { x = "a" }, { "a" } }
  elseif math.type(v) == "integer" then
    return { tostring(v), v + 0.5, 3.0, true, { x = 1 }, { 1 } }
  elseif type(v) == "boolean" then
    return { tostring(v), 1, 0, { x = true } }
  elseif is_array(v) then
    return { "a", 3, { x = "a" }, { 1, 2 }, { { "a" } } }
  else
    return { "a", 3, true, { "a" } }
  end
end
local function show(v)
  local ok, s = pcall(xz.json.encode, v)
  return ok and s or tostring(v)
end
local tries, named, bad = 0, 0, {}
local function try(topic, body, field)
  body.actor = A
  tries = tries + 1
  local r, c, m = xz.request(topic, body)
  if not r and c == "bad_request" and (string.find(m, '"' .. field .. '"', 1, true)
      or string.find(m, '"' .. field .. '[', 1, true)) then
    named = named + 1
  else
    bad[#bad + 1] = topic .. "|" .. field .. "|" .. show(body[field:match("^[^.%[]+")]) .. "|" .. tostring(c) .. " " .. tostring(r and show(r) or m)
  end
end
local function copy(t)
  local o = {}
  for k, v in pairs(t) do o[k] = v end
  return o
end
local topics = {}
for topic in pairs(BODIES) do topics[#topics + 1] = topic end
table.sort(topics)
for _, topic in ipairs(topics) do
  local body = BODIES[topic]
  for field, v in pairs(body) do
    for _, w in ipairs(wrong(v)) do
      local b = copy(body)
      b[field] = w
      try(topic, b, field)
    end
    if type(v) == "table" and not is_array(v) then
      local b = copy(body)
      b[field] = copy(v)
      b[field].zz = 1
      try(topic, b, field .. ".zz")
    end
  end
  local b = copy(body)
  b.zz = 1
  try(topic, b, "zz")
end
return tries .. " " .. named .. "\n" .. table.concat(bad, "\n")
LUA
)
R=$(xz console -e "$CHUNK" | jq -r '.results[0]')
TRIES=$(echo "$R" | head -n1 | cut -d' ' -f1)
NAMED=$(echo "$R" | head -n1 | cut -d' ' -f2)
echo "$R" | tail -n +2 | head -n 40
assert_le "at least 600 wrong-type tries over 45 requests" 600 "$TRIES"
assert_eq "every try refused as bad_request naming the field (0 coerced)" "$TRIES" "$NAMED"

# nothing changed: the records are as they were
assert_eq "the application is untouched" "RECEIVED|1" \
	"$(lcall legal.aid.get "\"id\":\"$AID\",\"purpose\":\"t\"" | jq -r '"\(.state)|\(.history | length)"')"
assert_eq "the request is untouched" "NEW|1" \
	"$(lcall legal.request.get "\"id\":\"$SR\",\"purpose\":\"t\"" | jq -r '"\(.state)|\(.history | length)"')"
assert_eq "one provider" 1 "$(lcall legal.provider.list | jq -r .count)"
assert_eq "no shift" 0 "$(lcall legal.duty.list | jq -r .count)"

# examples of the messages
assert_exit "level as a string" 1 lcall legal.request.rate "\"id\":\"$SR\",\"score\":\"3\""
assert_eq "string for an integer" 'bad_request|legal.request.rate: field "score": must be an integer from 1 to 5' \
	"$(echo "$OUT" | jq -r '.error.code + "|" + .error.message')"
assert_exit "3.9" 1 lcall legal.request.rate "\"id\":\"$SR\",\"score\":3.9"
assert_exit "an unknown field" 1 lcall legal.aid.grant "\"id\":\"$AID\",\"means_chekced\":true"
assert_contains "unknown field named with the allowed ones" 'field "means_chekced": unknown field (allowed: actor, basis, case_type, corr, death_review, id' \
	"$(echo "$OUT" | jq -r .error.message)"
stop_node
finish
