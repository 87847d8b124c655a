// Results page: live progress while the job runs, then the annotated video, one chart per person, the per-frame
// table (paged from the server) and the downloads.
"use strict";
(() => {
  const id = location.pathname.split("/").filter(Boolean).pop();
  const base = "/api/v1/jobs/" + id;
  const $ = (x) => document.getElementById(x);
  const PAGE = 100;
  let offset = 0;
  let total = 0;
  let shown = false;

  function show(job) {
    $("title").textContent = job.filename;
    $("status").textContent = job.status;
    $("status").dataset.status = job.status;
    const p = job.progress;
    $("frames").textContent = p.frames_total ? `${p.frames_done} of ~${p.frames_total} frames`
                                             : `${p.frames_done} frames`;
    $("progress").value = p.fraction === null ? 0 : p.fraction;
    if (p.fraction === null && job.status === "running") $("progress").removeAttribute("value");
    $("error").textContent = job.error || "";
  }

  function showResults(job) {
    shown = true;
    $("results").classList.remove("hidden");
    $("progress").classList.add("hidden");
    if (job.results.video) $("video").src = Emo.withToken(job.results.video);
    const names = { csv: "CSV", parquet: "Parquet", json: "JSON", jsonl: "JSON Lines", summary: "summary JSON",
                    video: "video (MP4)" };
    $("downloads").replaceChildren("Download: ", ...Object.entries(job.results).map(([fmt, url]) =>
      Emo.el("a", { href: Emo.withToken(url), textContent: names[fmt] || fmt, "data-format": fmt })));
    $("tracks").tBodies[0].replaceChildren(...job.tracks.map((t) => Emo.el("tr", {},
      Emo.el("td", {}, "#" + t.track_id), Emo.el("td", {}, t.start_s.toFixed(2)), Emo.el("td", {}, t.end_s.toFixed(2)),
      Emo.el("td", {}, String(t.frames)), Emo.el("td", {}, t.dominant_emotion))));
    $("timelines").replaceChildren(...job.timelines.map((t) => Emo.el("figure", {},
      Emo.el("img", { src: Emo.withToken(t.url), alt: "timeline of track " + t.track_id, "data-track": t.track_id }))));
    if (!job.timelines.length) $("timelines").append(Emo.el("p", { class: "muted",
      textContent: "No timeline: no person was seen on two or more frames." }));
    loadTable();
  }

  async function loadTable() {
    let page;
    try { page = await Emo.api(`${base}/table?offset=${offset}&limit=${PAGE}`); }
    catch (e) { $("error").textContent = e.message; return; }
    total = page.total;
    const table = $("table");
    table.tHead.replaceChildren(Emo.el("tr", {}, ...page.columns.map((c) => Emo.el("th", {}, c))));
    table.tBodies[0].replaceChildren(...page.rows.map((r) => Emo.el("tr", {},
      ...r.map((v) => Emo.el("td", {}, v === null ? "" : typeof v === "number" && !Number.isInteger(v)
        ? String(Math.round(v * 10000) / 10000) : String(v))))));
    $("table-range").textContent = total ? `rows ${offset + 1}-${offset + page.rows.length} of ${total}` : "no rows";
    $("prev").disabled = offset === 0;
    $("next").disabled = offset + PAGE >= total;
  }
  $("prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); loadTable(); });
  $("next").addEventListener("click", () => { offset += PAGE; loadTable(); });

  $("delete").addEventListener("click", async () => {
    try { await Emo.api(base, { method: "DELETE" }); location.href = "/"; }
    catch (e) { $("error").textContent = e.message; }
  });

  async function poll() {
    let job;
    try { job = await Emo.api(base); }
    catch (e) { $("status").textContent = "unavailable"; $("error").textContent = e.message; return; }
    show(job);
    if (job.status === "done") { if (!shown) showResults(job); return; }
    if (job.status === "failed") { $("progress").classList.add("hidden"); return; }
    setTimeout(poll, 500);
  }
  poll();
})();
