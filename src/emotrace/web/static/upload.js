// Upload page: send the file with upload progress (XHR, since fetch has none), then open its job page.
"use strict";
(() => {
  const form = document.getElementById("upload-form");
  const input = document.getElementById("file");
  const bar = document.getElementById("upload-progress");
  const message = document.getElementById("message");
  let maxBytes = null;

  Emo.api("/api/v1/health").then((h) => {
    maxBytes = h.limits.max_upload_bytes;
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
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/jobs");
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = e.loaded / e.total; };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status === 202 && body) { location.href = "/jobs/" + body.id; return; }
      bar.classList.add("hidden");
      document.getElementById("submit").disabled = false;
      message.textContent = (body && body.detail) || `Upload failed (${xhr.status}).`;
    };
    xhr.onerror = () => {
      bar.classList.add("hidden");
      document.getElementById("submit").disabled = false;
      message.textContent = "Upload failed: the server could not be reached.";
    };
    bar.value = 0;
    bar.classList.remove("hidden");
    document.getElementById("submit").disabled = true;
    xhr.send(data);
  });

  /** Status with what a user wants to know: place in the queue, time taken, warnings or the error. */
  function describe(j) {
    if (j.status === "queued") return j.queue_position ? `queued (${j.queue_position} in line)` : "queued";
    const took = j.processing_s === null ? "" : ` in ${j.processing_s.toFixed(1)} s`;
    if (j.status === "failed") return `failed${took}: ${j.error}`;
    if (j.status === "done") return `done${took}` + (j.warnings.length ? ` (${j.warnings.join("; ")})` : "");
    return j.status;
  }

  async function refresh() {
    let jobs;
    try { jobs = await Emo.api("/api/v1/jobs?limit=20"); } catch (e) { message.textContent = e.message; return; }
    const body = document.querySelector("#jobs tbody");
    body.replaceChildren(...jobs.map((j) => {
      const pct = j.progress.fraction === null ? "" : (100 * j.progress.fraction).toFixed(0) + "%";
      const del = Emo.el("button", { class: "danger", textContent: "delete" });
      del.addEventListener("click", async () => {
        if (!Emo.confirmDelete(j.filename)) return;
        try { await Emo.api("/api/v1/jobs/" + j.id, { method: "DELETE" }); } catch (e) { message.textContent = e.message; }
        refresh();
      });
      return Emo.el("tr", { "data-job": j.id },
        Emo.el("td", {}, Emo.el("a", { href: "/jobs/" + j.id, textContent: j.filename })),
        Emo.el("td", {}, describe(j)),
        Emo.el("td", {}, pct),
        Emo.el("td", {}, new Date(j.created * 1000).toLocaleString()),
        Emo.el("td", {}, del));
    }));
  }
  refresh();
  setInterval(refresh, 3000);
})();
