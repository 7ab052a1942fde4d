// gateway_browser.mjs - drives Debian's chromium (headless, through
// puppeteer-core) against a running node's gateway; run by
// t_gateway_browser.sh, which sets the environment:
//   GW_URL      http://127.0.0.1:PORT
//   GW_USER, GW_PASSWORD   a duty officer (command_duty)
//   GW_RAISE    a shell command that raises one alarm and prints its JSON
//   GW_NAME     the duty officer's display name (张伟)
//   GW_KIOSK_USER, GW_KIOSK_PASSWORD   a user without alarm actions
//   GW_LEGAL_USER, GW_LEGAL_PASSWORD, GW_AID   a legal-aid reviewer, and
//               an application with a running statutory clock
//   GW_SHOTS    folder for the screenshots
// Prints one "ok ..." line per check; exits 1 at the first failure.
import { execSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import puppeteer from "puppeteer-core";

const url = process.env.GW_URL, shots = process.env.GW_SHOTS;
const deadline = 60000; // generous: a sanitizer build on a loaded CI machine (15 s once was not)
mkdirSync(shots, { recursive: true });
let browser;

function ok(what) { console.log("ok " + what); }
async function fail(page, what, err) {
  console.log("FAIL " + what + ": " + (err && err.message ? err.message : err));
  if (page) await page.screenshot({ path: `${shots}/failure.png`, fullPage: true }).catch(() => {});
  if (browser) await browser.close();
  process.exit(1);
}

async function login(page, user, password) {
  await page.goto(url + "/", { waitUntil: "domcontentloaded" });
  await page.waitForSelector("#login-form", { timeout: deadline });
  await page.type("#login-user", user);
  await page.type("#login-password", password);
  await page.click("#login-submit");
  await page.waitForSelector("#board", { timeout: deadline });
}

browser = await puppeteer.launch({
  executablePath: process.env.GW_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  protocolTimeout: 60000,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=zh-CN"],
});
const page = await browser.newPage();
await page.setViewport({ width: 1440, height: 900 });
const consoleErrors = [];
page.on("pageerror", (e) => consoleErrors.push(String(e)));
page.on("dialog", (d) => d.accept("team-1"));

// 1. log in as the duty officer; the page is in Chinese by default
try {
  await login(page, process.env.GW_USER, process.env.GW_PASSWORD);
  const nav = await page.$eval("#nav-command", (n) => n.textContent);
  if (nav !== "指挥中心") throw new Error(`menu says "${nav}"`);
  const who = await page.$eval("#who", (n) => n.textContent);
  if (process.env.GW_NAME && !who.includes(process.env.GW_NAME)) throw new Error(`header says "${who}"`);
  if (!who.includes("command_duty")) throw new Error(`header has no role: "${who}"`);
  ok(`logged in as ${process.env.GW_USER} (${process.env.GW_NAME || who}), menu in Chinese (${nav}), header "${who}"`);
  await page.waitForSelector("#live.on", { timeout: deadline });
  ok("event stream live");
} catch (e) { await fail(page, "login", e); }

// 2. an alarm raised from the command line appears on the board
let id;
try {
  const out = execSync(process.env.GW_RAISE, { encoding: "utf8" });
  id = JSON.parse(out).id;
  const t0 = Date.now();
  await page.waitForSelector(`#alarm-${id}`, { timeout: deadline });
  ok(`alarm ${id} on the board after ${Date.now() - t0} ms`);
  const sla = await page.$eval(`#alarm-${id} .sla`, (n) => n.textContent);
  if (!/^-?\d\d:\d\d/.test(sla)) throw new Error(`SLA cell "${sla}"`);
  ok(`SLA countdown shown (${sla})`);
} catch (e) { await fail(page, "alarm on the board", e); }

// 3. acknowledge from the page: the state changes, the SLA moves on
try {
  await page.click(`#alarm-${id} button[data-action="acknowledge"]`);
  await page.waitForSelector(`#alarm-${id}[data-state="ACKNOWLEDGED"]`, { timeout: deadline });
  const state = await page.$eval(`#alarm-${id} td.state`, (n) => n.textContent);
  const sla = await page.$eval(`#alarm-${id} .sla`, (n) => n.textContent);
  if (!/dispatch|派警/.test(sla)) throw new Error(`SLA after acknowledge "${sla}"`);
  ok(`acknowledged from the page: state ${state}, SLA ${sla}`);
  const acts = await page.$$eval(`#alarm-${id} button`, (b) => b.map((x) => x.dataset.action));
  if (acts.includes("acknowledge")) throw new Error("acknowledge still offered: " + acts);
  ok("actions now offered: " + acts.join(", "));
} catch (e) { await fail(page, "acknowledge", e); }

// 4. a second alarm for the picture; the screenshot of the command center
try {
  const out = execSync(process.env.GW_RAISE.replace('"level":2', '"level":3'), { encoding: "utf8" });
  await page.waitForSelector(`#alarm-${JSON.parse(out).id}`, { timeout: deadline });
  await page.screenshot({ path: `${shots}/command-center.png` });
  ok(`screenshot ${shots}/command-center.png`);
} catch (e) { await fail(page, "screenshot", e); }

// 5. English on one click; the other pages render
try {
  await page.click("#lang");
  await page.waitForFunction(() => document.querySelector("#nav-command")?.textContent === "Command center", { timeout: deadline });
  ok("switched to English");
  await page.click("#lang");
  for (const p of ["rehab", "legal", "collab", "audit", "system"]) {
    await page.goto(`${url}/#/${p}`, { waitUntil: "domcontentloaded" });
    await page.waitForSelector("section.panel", { timeout: deadline });
    await page.screenshot({ path: `${shots}/${p}.png` });
  }
  await page.waitForFunction(() => document.querySelectorAll("#plugins td").length > 0, { timeout: deadline });
  ok("pages rehab, legal, collab, audit, system render (system lists plugins)");
} catch (e) { await fail(page, "pages", e); }

// 6. a user without alarm actions is offered none; forged POSTs are refused
try {
  const p2 = await (await browser.createBrowserContext()).newPage();
  await p2.setViewport({ width: 1440, height: 900 });
  await login(p2, process.env.GW_KIOSK_USER, process.env.GW_KIOSK_PASSWORD);
  await p2.waitForFunction(() => document.querySelectorAll("#board tr.alarm, #board-empty, #board .err").length > 0, { timeout: deadline });
  const n = await p2.$$eval("#board button.act", (b) => b.length);
  if (n !== 0) throw new Error(`${n} action buttons offered`);
  await p2.screenshot({ path: `${shots}/kiosk.png` });
  ok("kiosk user: no actions offered");
  const forge = (withCsrf) => p2.evaluate(async (aid, withCsrf) => {
    const h = { "Content-Type": "application/json" };
    if (withCsrf) h["X-CSRF-Token"] = (await (await fetch("/api/v1/me")).json()).csrf;
    const r = await fetch("/api/v1/call/prison.alarm.dismiss", {
      method: "POST", headers: h, body: JSON.stringify({ id: aid, reason: "x" }) });
    return { status: r.status, body: await r.text() };
  }, id, withCsrf);
  let r = await forge(false);
  if (r.status !== 403) throw new Error(`forged POST got ${r.status} ${r.body}`);
  ok("forged POST without CSRF token refused with 403: " + r.body);
  r = await forge(true);
  if (r.status !== 403) throw new Error(`kiosk POST got ${r.status} ${r.body}`);
  ok("kiosk POST with its CSRF token refused with 403: " + r.body);
  const st = await page.evaluate(async (aid) => {
    const csrf = (await (await fetch("/api/v1/me")).json()).csrf;
    const r = await fetch("/api/v1/call/prison.alarm.get", { method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify({ id: aid }) });
    return (await r.json()).state;
  }, id);
  if (st !== "ACKNOWLEDGED") throw new Error(`the alarm is now ${st}`);
  ok("the alarm is still ACKNOWLEDGED (asked as the duty officer)");
} catch (e) { await fail(page, "kiosk", e); }

// 7. the legal-aid reviewer's page shows the application's statutory clock
try {
  const p3 = await (await browser.createBrowserContext()).newPage();
  await p3.setViewport({ width: 1440, height: 900 });
  await login(p3, process.env.GW_LEGAL_USER, process.env.GW_LEGAL_PASSWORD);
  await p3.goto(`${url}/#/legal`, { waitUntil: "domcontentloaded" });
  const sel = "#aid span.clock.green, #aid span.clock.amber, #aid span.clock.red";
  await p3.waitForFunction((s) => [...document.querySelectorAll(s)].some((n) => /\d\d:\d\d:\d\d/.test(n.textContent)), { timeout: deadline }, sel);
  const c = await p3.$eval(sel, (n) => `${n.className}: ${n.textContent}`);
  const row = await p3.$$eval("#aid td", (tds) => tds.map((x) => x.textContent).join(" "));
  if (process.env.GW_AID && !row.includes(process.env.GW_AID)) throw new Error(`no ${process.env.GW_AID} in "${row}"`);
  const stats = await p3.$eval("#clock-stats", (n) => n.textContent);
  await p3.screenshot({ path: `${shots}/legal-aid.png` });
  ok(`legal-aid clock shown (${c}); ${stats}`);
  // the reviewer's action on it: start the review (the head's are not offered)
  const acts = await p3.$$eval("#aid button.act", (b) => b.map((x) => x.dataset.action));
  if (acts.includes("grant")) throw new Error("the centre head's grant offered to a reviewer: " + acts);
  await p3.click('#aid button[data-action="start-review"]');
  await p3.waitForFunction(() => [...document.querySelectorAll("#aid td.state")].some((n) => n.textContent === "审查中"), { timeout: deadline });
  ok("legal-aid review started from the page (actions offered: " + acts.join(", ") + ")");
} catch (e) { await fail(page, "legal clock", e); }

if (consoleErrors.length) await fail(page, "page errors", consoleErrors.join("; "));
await browser.close();
console.log("PASS browser");
