// Upload page: send the file with upload progress (XHR, since fetch has none), then open its job page.
"use strict";
(() => {
  const form = document.getElementById("upload-form");
  const input = document.getElementById("file");
  const bar = document.getElementById("upload-progress");
  const message = document.getElementById("message");
  const signals = document.getElementById("signals");
  const cancel = document.getElementById("cancel");
  let maxBytes = null;
  let sending = null;  // the upload in flight, for Cancel

  Emo.api("/api/v1/health").then((h) => {
    maxBytes = h.limits.max_upload_bytes;
    const preset = signals.querySelector('option[value=""]');  // say what "the server's setting" is
    if (h.job_defaults) preset.textContent = `server's setting (${Emo.signalsText(h.job_defaults.signals)})`;
    document.getElementById("limits").textContent =
      `Up to ${(maxBytes / 1048576).toFixed(0)} MB. Images: JPEG, PNG, WebP, TIFF, BMP. ` +
      "Videos: MP4, MOV, MKV/WebM, AVI, GIF, FLV, MPEG, WMV.";
  }).catch(() => {});

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    message.textContent = "";
    const file = input.files[0];
    if (!file) { message.textContent = "Choose a file first."; return; }
    if (maxBytes !== null && file.size > maxBytes) {
      message.textContent = `The file is larger than the limit of ${(maxBytes / 1048576).toFixed(0)} MB.`;
      return;
    }
    const data = new FormData();
    data.append("file", file);
    if (signals.value !== "") data.append("signals", signals.value);  // left out: the server's setting
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/jobs");
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = e.loaded / e.total; };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status === 202 && body) { location.href = "/jobs/" + body.id; return; }
      done();
      message.textContent = (body && body.detail) || `Upload failed (${xhr.status}).`;
    };
    xhr.onerror = () => {
      done();
      message.textContent = "Upload failed: the server could not be reached.";
    };
    xhr.onabort = () => { done(); message.textContent = "Upload cancelled."; };
    bar.value = 0;
    bar.classList.remove("hidden");
    cancel.classList.remove("hidden");
    document.getElementById("submit").disabled = true;
    sending = xhr;
    xhr.send(data);
  });

  /** The upload ended without a job (failed or cancelled): the form is ready again. */
  function done() {
    sending = null;
    bar.classList.add("hidden");
    cancel.classList.add("hidden");
    document.getElementById("submit").disabled = false;
  }
  cancel.addEventListener("click", () => { if (sending) sending.abort(); });

  /** Status with what a user wants to know: place in the queue, time taken, warnings or the error. */
  function describe(j) {
    if (j.status === "queued") return j.queue_position ? `queued (${j.queue_position} in line)` : "queued";
    const took = j.processing_s === null ? "" : ` in ${j.processing_s.toFixed(1)} s`;
    if (j.status === "failed") return `failed${took}: ${j.error}`;
    if (j.status === "done") return `done${took}` + (j.warnings.length ? ` (${j.warnings.join("; ")})` : "");
    return j.status;
  }

  // The job list a page at a time; the server's X-Total-Count says how many there are in all.
  // A search box filters by file name (on the server: every page, and the count, are of the matching jobs);
  // ticked jobs are deleted together.
  const PAGE = 20;
  let offset = 0;
  const search = document.getElementById("jobs-search");
  const selected = new Set();
  const bulk = document.getElementById("jobs-delete");
  const all = document.getElementById("jobs-all");

  function showSelection() {
    bulk.disabled = selected.size === 0;
    bulk.textContent = selected.size ? `delete selected (${selected.size})` : "delete selected";
  }

  async function refresh() {
    let jobs, total;
    const q = search.value.trim();
    try {
      ({ body: jobs, total } = await Emo.apiPage(
        `/api/v1/jobs?limit=${PAGE}&offset=${offset}` + (q ? "&q=" + encodeURIComponent(q) : "")));
    } catch (e) { message.textContent = e.message; return; }
    if (!jobs.length && offset > 0 && total > 0) {  // the last page emptied (deleted elsewhere): step back
      offset = Math.max(0, Math.floor((total - 1) / PAGE) * PAGE);
      refresh();
      return;
    }
    const body = document.querySelector("#jobs tbody");
    body.replaceChildren(...jobs.map((j) => {
      const pct = j.progress.fraction === null ? "" : (100 * j.progress.fraction).toFixed(0) + "%";
      const del = Emo.el("button", { class: "danger", textContent: "delete" });
      del.addEventListener("click", async () => {
        if (!Emo.confirmDelete(j.filename)) return;
        try { await Emo.api("/api/v1/jobs/" + j.id, { method: "DELETE" }); } catch (e) { message.textContent = e.message; }
        refresh();
      });
      const status = describe(j);
      const tick = Emo.el("input", { type: "checkbox", checked: selected.has(j.id) });
      tick.setAttribute("aria-label", "select " + j.filename);
      tick.addEventListener("change", () => {
        if (tick.checked) selected.add(j.id); else selected.delete(j.id);
        showSelection();
      });
      return Emo.el("tr", { "data-job": j.id },  // long names and errors are cut with an ellipsis; hover shows all
        Emo.el("td", {}, tick),
        Emo.el("td", { class: "name" }, Emo.el("a", { href: "/jobs/" + j.id, textContent: j.filename,
                                                       title: j.filename })),
        Emo.el("td", { class: "status", title: status }, status),
        Emo.el("td", {}, pct),
        Emo.el("td", {}, new Date(j.created * 1000).toLocaleString()),
        Emo.el("td", {}, del));
    }));
    const shown = new Set(jobs.map((j) => j.id));
    for (const id of [...selected]) if (!shown.has(id)) selected.delete(id);  // only what is on screen
    all.checked = jobs.length > 0 && jobs.every((j) => selected.has(j.id));
    showSelection();
    document.getElementById("jobs-range").textContent = total
      ? `jobs ${offset + 1}-${offset + jobs.length} of ${total}` + (q ? ` matching "${q}"` : "")
      : (q ? `no job matches "${q}"` : "no jobs yet");
    document.getElementById("jobs-prev").disabled = offset === 0;
    document.getElementById("jobs-next").disabled = offset + PAGE >= total;
  }
  all.addEventListener("change", () => {
    document.querySelectorAll("#jobs tbody tr").forEach((tr) => {
      const box = tr.querySelector("input[type=checkbox]");
      box.checked = all.checked;
      if (all.checked) selected.add(tr.dataset.job); else selected.delete(tr.dataset.job);
    });
    showSelection();
  });
  bulk.addEventListener("click", async () => {
    const ids = [...selected];
    if (!ids.length || !confirm(`Delete ${ids.length} job(s) and their results?`)) return;
    for (const id of ids) {
      try { await Emo.api("/api/v1/jobs/" + id, { method: "DELETE" }); selected.delete(id); }
      catch (e) { message.textContent = e.message; }
    }
    refresh();
  });
  let typing = null;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => { offset = 0; refresh(); }, 250);
  });
  document.getElementById("jobs-prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); refresh(); });
  document.getElementById("jobs-next").addEventListener("click", () => { offset += PAGE; refresh(); });
  refresh();
  setInterval(refresh, 3000);
})();
