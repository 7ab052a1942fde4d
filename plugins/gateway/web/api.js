// The gateway's JSON API (docs/http.md): the session cookie is HttpOnly, so
// the page keeps only the CSRF value that login and /api/v1/me return.
// The gateway's own error messages come in the page's language: fetches
// send it as Accept-Language, event streams (which cannot set headers) as
// ?lang=.
import { lang } from "./i18n.js";

let csrf = "";
export let me = null;

async function req(method, path, body) {
  const headers = { "Content-Type": "application/json",
    "Accept-Language": lang === "zh" ? "zh-CN" : "en" };
  if (csrf) headers["X-CSRF-Token"] = csrf;
  const r = await fetch(path, { method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  return { ok: r.ok, status: r.status, data };
}
export function errText(r) {
  const e = r.data && r.data.error;
  return e ? `${e.code}: ${e.message}` : `HTTP ${r.status}`;
}
export async function whoami() {
  const r = await req("GET", "/api/v1/me");
  if (r.ok) { me = r.data; csrf = r.data.csrf || ""; }
  return r;
}
export async function login(user, password) {
  const r = await req("POST", "/api/v1/login", { user, password });
  if (r.ok) { me = r.data; csrf = r.data.csrf || ""; }
  return r;
}
export async function logout() {
  const r = await req("POST", "/api/v1/logout", {});
  me = null; csrf = "";
  return r;
}
export function call(topic, body) { return req("POST", "/api/v1/call/" + topic, body || {}); }
export function hasRole(roles) { return !!me && (me.roles || []).some((r) => roles.includes(r)); }

// Live events: WebSocket, else Server-Sent Events. onEvent({topic, data});
// onState(live, reason) when the stream opens or closes (a closed stream
// re-fetches its lists: events are never silently lost, only re-read).
export function events(pattern, onEvent, onState) {
  let ws = null, es = null, stopped = false, retry = 1000, timer = null;
  const url = "/api/v1/events?pattern=" + encodeURIComponent(pattern) + "&lang=" + lang;
  function sse(reason) {
    es = new EventSource(url);
    es.onopen = () => onState(true, "");
    es.onmessage = (m) => { try { onEvent(JSON.parse(m.data)); } catch (e) { /* skip */ } };
    es.onerror = () => { onState(false, reason || "sse"); };
  }
  function open() {
    if (stopped) return;
    let opened = false;
    try { ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + url); }
    catch (e) { sse("websocket unavailable"); return; }
    ws.onmessage = (m) => {
      let v; try { v = JSON.parse(m.data); } catch (e) { return; }
      if (v.subscribed) { opened = true; retry = 1000; onState(true, ""); return; }
      onEvent(v);
    };
    ws.onclose = (c) => {
      if (stopped) return; // closed by the page itself (it moved on)
      onState(false, c.reason || String(c.code));
      if (!opened && c.code === 1006 && !es) { sse("websocket failed"); return; }
      if (c.code >= 4400 && c.code < 4500) return; // refused: not retried
      timer = setTimeout(open, retry); retry = Math.min(retry * 2, 15000);
    };
  }
  open();
  return () => { stopped = true; clearTimeout(timer); if (ws) ws.close(); if (es) es.close(); };
}
