// gateway_browser.mjs - drives Debian's chromium (headless, through
// puppeteer-core) against a running node's gateway; run by
// t_gateway_browser.sh, which sets the environment:
//   GW_URL      http://127.0.0.1:PORT
//   GW_USER, GW_PASSWORD   a duty officer (command_duty)
//   GW_RAISE    a shell command that raises one alarm and prints its JSON
//   GW_KIOSK_USER, GW_KIOSK_PASSWORD   optional: a user without actions
//   GW_SHOTS    folder for the screenshots
// Prints one "ok ..." line per check; exits 1 at the first failure.
import { execSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import puppeteer from "puppeteer-core";

const url = process.env.GW_URL, shots = process.env.GW_SHOTS;
const deadline = 15000; // generous: a loaded CI machine
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
  ok("logged in as " + process.env.GW_USER + ", menu in Chinese (" + nav + ")");
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

// 6. a user without alarm actions is offered none; a forged POST is refused
if (process.env.GW_KIOSK_USER) {
  try {
    const p2 = await (await browser.createBrowserContext()).newPage();
    await login(p2, process.env.GW_KIOSK_USER, process.env.GW_KIOSK_PASSWORD);
    await p2.waitForFunction(() => document.querySelectorAll("#board tr.alarm, #board-empty, #board .err").length > 0, { timeout: deadline });
    const n = await p2.$$eval("#board button.act", (b) => b.length);
    if (n !== 0) throw new Error(`${n} action buttons offered`);
    ok("kiosk user: no actions offered");
    const st = await p2.evaluate(async (aid) => (await fetch("/api/v1/call/prison.alarm.dispatch", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ id: aid, unit: "x" }) })).status, id);
    if (st !== 403) throw new Error(`forged POST got ${st}`);
    ok("forged POST without CSRF token refused with 403");
  } catch (e) { await fail(page, "kiosk", e); }
}

if (consoleErrors.length) await fail(page, "page errors", consoleErrors.join("; "));
await browser.close();
console.log("PASS browser");
