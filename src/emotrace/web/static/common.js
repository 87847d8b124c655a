// Shared by every page: the optional API token, a fetch wrapper that turns errors into one line, emotion colours
// (from colors.js, loaded before this file).
"use strict";
const Emo = (() => {
  const params = new URLSearchParams(location.search);
  let token = params.get("token");
  if (token) sessionStorage.setItem("emotrace-token", token);
  else token = sessionStorage.getItem("emotrace-token");

  /** The URL with ?token= added where the server needs one (<video>, <img>, links and sockets cannot send headers). */
  function withToken(url) {
    if (!token) return url;
    return url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
  }

  /** JSON API call; throws an Error carrying the server's one-line detail. */
  async function api(path, options = {}, onResponse = null) {
    const headers = Object.assign({}, options.headers || {});
    if (token) headers["Authorization"] = "Bearer " + token;
    const resp = await fetch(path, Object.assign({}, options, { headers }));
    if (onResponse) onResponse(resp);
    const type = resp.headers.get("content-type") || "";
    const body = type.includes("json") ? await resp.json() : null;
    if (resp.status === 401) askToken(token ? "The API token was not accepted." : "This server needs an API token.");
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
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (!input.value) return;
      sessionStorage.setItem("emotrace-token", input.value);
      location.reload();
    });
    document.querySelector("header").append(form);
    input.focus();
  }
  // Ask up front where the server says a token is needed and none is stored (health is always open).
  fetch("/api/v1/health").then((r) => r.json()).then((h) => {
    if (h.limits && h.limits.token_required && !token) askToken("This server needs an API token.");
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

  return { api, apiPage, withToken, COLORS, el, bars, confirmDelete, askToken, token: () => token };
})();
