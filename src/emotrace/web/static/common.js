// Shared by every page: the optional API token (as a session cookie), a fetch wrapper that turns errors into one
// line, emotion colours (from colors.js, loaded before this file).
"use strict";
const Emo = (() => {
  // The token never goes into an address (the server's access log records addresses): the page trades it once for
  // an HttpOnly, SameSite=Strict session cookie (POST /api/v1/session with the Authorization header), which every
  // request of this site, images, videos, downloads and the WebSocket included, then sends by itself. A token in
  // this page's own address (?token=, as a shared link) is taken out of the address bar at once.
  const params = new URLSearchParams(location.search);
  const given = params.get("token");
  if (given !== null) {
    params.delete("token");
    const query = params.toString();
    history.replaceState(null, "", location.pathname + (query ? "?" + query : "") + location.hash);
  }
  let triedToken = given !== null;
  const session = given ? login(given) : Promise.resolve(true);

  /** Trade the token for the session cookie; true when the server took it. */
  async function login(token) {
    try {
      const resp = await fetch("/api/v1/session", { method: "POST", headers: { Authorization: "Bearer " + token } });
      return resp.ok;
    } catch (e) {
      return false;
    }
  }

  /** The URL as it is: links, <img>, <video> and the socket are authenticated by the session cookie. */
  function withToken(url) {
    return url;
  }

  /** JSON API call (after any login from the address); throws an Error carrying the server's one-line detail.
   * `onResponse` sees the raw response first (headers such as X-Total-Count). */
  async function api(path, options = {}, onResponse = null) {
    await session;
    const resp = await fetch(path, options);
    if (onResponse) onResponse(resp);
    const type = resp.headers.get("content-type") || "";
    const body = type.includes("json") ? await resp.json() : null;
    if (resp.status === 401) askToken(triedToken ? "The API token was not accepted." : "This server needs an API token.");
    if (!resp.ok) {
      const err = new Error((body && body.detail) || resp.status + " " + resp.statusText);
      err.status = resp.status;
      throw err;
    }
    return body;
  }

  /** A page of a list: the JSON body and the X-Total-Count header (every item, not just this page). */
  async function apiPage(path) {
    let total = null;
    const body = await api(path, {}, (resp) => { total = Number(resp.headers.get("X-Total-Count")); });
    return { body, total: Number.isFinite(total) ? total : body.length };
  }

  /** A token box in the header: the server runs with --token and this page has none (or a wrong one). */
  function askToken(why) {
    if (document.getElementById("token-form")) return;
    const input = el("input", { type: "password", id: "token-input", placeholder: "API token",
                                autocomplete: "current-password" });
    const form = el("form", { id: "token-form", class: "token-form" }, el("span", {}, why + " "), input,
                    el("button", { type: "submit", textContent: "Use token" }));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!input.value) return;
      triedToken = true;
      if (await login(input.value)) location.reload();
      else form.firstChild.textContent = "The API token was not accepted. ";
    });
    document.querySelector("header").append(form);
    input.focus();
  }
  // Ask up front where the server needs a token and this browser has no session (health is always open); the
  // check also renews the session cookie.
  fetch("/api/v1/health").then((r) => r.json()).then(async (h) => {
    if (!(h.limits && h.limits.token_required)) return;
    if (!(await session)) { askToken("The API token was not accepted."); return; }
    const resp = await fetch("/api/v1/session", { method: "POST" });
    if (resp.status === 401) askToken("This server needs an API token.");
  }).catch(() => {});

  // Same colours as the annotated video: colors.js, generated from emotrace.sinks.draw.COLORS, loads first.
  const COLORS = EMOTION_COLORS;

  /** A DOM element with attributes and children (strings become text nodes, never HTML). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k.startsWith("data-")) node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  /** Probability bars for one face, one row per emotion. */
  function bars(probs) {
    const box = el("div");
    for (const [name, p] of Object.entries(probs)) {
      const fill = el("span", { class: "fill" });
      fill.style.width = (100 * p).toFixed(1) + "%";
      fill.style.background = COLORS[name] || "#888";
      box.append(el("div", { class: "bar" }, el("span", {}, name), el("span", { class: "track" }, fill),
                    el("span", {}, p.toFixed(2))));
    }
    return box;
  }

  /** Ask before deleting: a job and its results cannot be brought back. */
  function confirmDelete(name) {
    return window.confirm(`Delete the job for "${name}" and all its results? This cannot be undone.`);
  }

  const nth = (n) => n + (n % 100 >= 11 && n % 100 <= 13 ? "th" : ["th", "st", "nd", "rd"][n % 10] || "th");

  /** A job's or the server's face-signals setting in words (0: off, N: every Nth frame of each face). */
  const signalsText = (n) => (!n ? "off" : n === 1 ? "every frame" : `every ${nth(n)} frame`);

  return { api, apiPage, withToken, COLORS, el, bars, confirmDelete, askToken, nth, signalsText };
})();
