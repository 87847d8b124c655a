// Results page: live progress while the job runs, then the annotated video, the people (with person linking on:
// each person's emotions over all its tracks, then the tracks), one chart per track, the per-frame table (paged
// from the server), face signals where the job has them (signals.js) and the downloads.
"use strict";
(() => {
  const id = location.pathname.split("/").filter(Boolean).pop();
  const base = "/api/v1/jobs/" + id;
  const $ = (x) => document.getElementById(x);
  const PAGE = 100;
  let offset = 0;
  let total = 0;
  let shown = false;

  const nth = Emo.nth;

  function show(job) {
    $("title").textContent = job.filename;
    $("status").textContent = job.status;
    $("status").dataset.status = job.status;
    const p = job.progress;
    const took = job.processing_s === null ? "" : `${job.processing_s.toFixed(1)} s`;
    let text;
    if (job.status === "queued") {
      text = job.queue_position === 1 ? "next in line" : `${nth(job.queue_position || 1)} in line`;
    } else if (job.status === "running") {  // the frame count is the container's estimate until the end
      text = (p.frames_total ? `${p.frames_done} of ~${p.frames_total} frames` : `${p.frames_done} frames`) +
             (took ? `, running for ${took}` : "");
    } else {
      text = `${p.frames_done} frame${p.frames_done === 1 ? "" : "s"}` + (took ? `, processed in ${took}` : "");
    }
    if (job.signals !== null) text += `; face signals ${Emo.signalsText(job.signals)}`;  // null: an older job
    $("frames").textContent = text;
    $("progress").value = p.fraction === null ? 0 : p.fraction;
    if (p.fraction === null && job.status === "running") $("progress").removeAttribute("value");
    $("error").textContent = job.error || "";
    $("warnings").replaceChildren(...job.warnings.map((w) => Emo.el("li", {}, w)));
    $("warnings").classList.toggle("hidden", !job.warnings.length);
  }

  function showResults(job) {
    shown = true;
    $("results").classList.remove("hidden");
    $("progress").classList.add("hidden");
    if (job.results.image) {  // an image job: the annotated picture, not a one-frame video
      $("annotated-title").textContent = "Annotated image";
      $("image").src = Emo.withToken(job.results.image);
      $("image").classList.remove("hidden");
      $("video").classList.add("hidden");
    } else if (job.results.video) $("video").src = Emo.withToken(job.results.video);
    const names = { csv: "CSV", parquet: "Parquet", json: "JSON", jsonl: "JSON Lines", summary: "summary JSON",
                    video: "video (MP4)", image: "image (PNG)" };
    // `download`: save the file (the server names it) rather than open the video or image in this tab.
    $("downloads").replaceChildren("Download: ", ...Object.entries(job.results).map(([fmt, url]) =>
      Emo.el("a", { href: Emo.withToken(url), textContent: names[fmt] || fmt, "data-format": fmt, download: "" })),
      Emo.el("a", { href: Emo.withToken(base + "/archive"), textContent: "everything (zip)", "data-format": "zip",
                    download: "" }));
    showPersons(job.persons || []);  // absent from a server before issue 25 B
    const personOf = new Map((job.persons || []).flatMap((p) => p.tracks.map((t) => [t, p.person_id])));
    $("tracks").tBodies[0].replaceChildren(...job.tracks.map((t) => Emo.el("tr", {},
      Emo.el("td", {}, "#" + t.track_id), Emo.el("td", {}, t.start_s.toFixed(2)), Emo.el("td", {}, t.end_s.toFixed(2)),
      Emo.el("td", {}, String(t.frames)),
      ...(personOf.size ? [Emo.el("td", { "data-person": personOf.get(t.track_id) },
                                  "P" + personOf.get(t.track_id))] : []),
      Emo.el("td", {}, t.dominant_emotion))));
    $("timelines").replaceChildren(...job.timelines.map((t) => Emo.el("figure", {},
      Emo.el("img", { src: Emo.withToken(t.url), alt: "timeline of track " + t.track_id, "data-track": t.track_id }))));
    if (!job.timelines.length) $("timelines").append(Emo.el("p", { class: "muted",
      textContent: "No timeline: no person was seen on two or more frames." }));
    loadTable();
  }

  /** One row per person: its tracks, time on screen and emotion shares over all its frames (linking off: none). */
  function showPersons(persons) {
    $("persons-wrap").classList.toggle("hidden", !persons.length);
    $("track-person").classList.toggle("hidden", !persons.length);
    $("persons").tBodies[0].replaceChildren(...persons.map((p) => {
      const shares = Object.entries(p.label_distribution || {}).filter(([, v]) => v > 0);
      const bar = Emo.el("div", { class: "shares" }, ...shares.map(([c, v]) => Emo.el("span", {
        style: `width:${(100 * v).toFixed(1)}%;background:${Emo.COLORS[c] || "#888"}`,
        title: `${c} ${Math.round(100 * v)}%` })));
      return Emo.el("tr", { "data-person": p.person_id }, Emo.el("td", {}, "P" + p.person_id),
        Emo.el("td", {}, p.tracks.map((t) => "#" + t).join(", ")), Emo.el("td", {}, p.seconds.toFixed(2)),
        Emo.el("td", {}, String(p.frames)), Emo.el("td", {}, bar), Emo.el("td", {}, p.dominant_emotion));
    }));
  }

  // Column groups of the per-frame table; the chooser shows or hides each group (the basics are always shown).
  const GROUPS = [
    { key: "basics", label: "frame, track and label", fixed: true },  // whatever no other group takes
    { key: "box", label: "face box", test: (c) => /^(x1|y1|x2|y2|det_score|detected)$/.test(c) },
    { key: "temporal", label: "temporal stage probabilities", test: (c) => c.startsWith("temporal_"), on: true },
    { key: "frame", label: "frame model probabilities", test: (c) => c.startsWith("frame_") && c !== "frame_label" },
    { key: "va", label: "valence / arousal", test: (c) => c === "valence" || c === "arousal", on: true },
    { key: "pose", label: "head pose", test: (c) => /^(signals|signals_quality|yaw|pitch|roll)$/.test(c), on: true },
    { key: "bs", label: "blendshapes", test: (c) => c.startsWith("bs_") },
  ];
  const visible = new Set(GROUPS.filter((g) => g.fixed || g.on).map((g) => g.key));
  let lastPage = null;
  const groupOf = (c) => (GROUPS.find((g) => !g.fixed && g.test(c)) || GROUPS[0]).key;

  function chooser(columns) {
    const present = new Set(columns.map(groupOf));
    $("columns").replaceChildren("Columns: ", ...GROUPS.filter((g) => !g.fixed && present.has(g.key)).map((g) => {
      const box = Emo.el("input", { type: "checkbox", checked: visible.has(g.key), "data-group": g.key });
      box.addEventListener("change", () => { if (box.checked) visible.add(g.key); else visible.delete(g.key);
                                            render(lastPage); });
      return Emo.el("label", {}, box, " " + g.label);
    }));
  }

  /** The colour of each emotion in the annotated video's boxes and bars (the classes the table has). */
  function legend(columns) {
    const classes = columns.filter((c) => c.startsWith("temporal_")).map((c) => c.slice(9));
    $("legend").replaceChildren(...(classes.length ? classes : Object.keys(Emo.COLORS)).map((c) =>
      Emo.el("span", { "data-emotion": c }, Emo.el("i", { style: `background:${Emo.COLORS[c] || "#888"}` }),
             c)));
  }

  // The file column says which file a row came from; an upload is one file, so it would repeat on every row.
  const oneFile = (page) => page.columns.includes("file") &&
    new Set(page.rows.map((r) => r[page.columns.indexOf("file")])).size <= 1;

  function render(page) {
    const drop = oneFile(page) ? "file" : null;
    const cols = page.columns.map((c, i) => [c, i]).filter(([c]) => c !== drop && visible.has(groupOf(c)));
    const spans = [];
    for (const [c] of cols) {
      const g = GROUPS.find((x) => x.key === groupOf(c));
      if (spans.length && spans[spans.length - 1].g === g) spans[spans.length - 1].n += 1;
      else spans.push({ g, n: 1 });
    }
    const strip = (c) => c.replace(/^(temporal|frame)_(?!label)/, "");
    $("table").tHead.replaceChildren(
      Emo.el("tr", {}, ...spans.map((s) => Emo.el("th", { class: "group", colSpan: s.n },
        s.g.fixed ? "" : s.g.label))),
      Emo.el("tr", {}, ...cols.map(([c]) => Emo.el("th", { title: c, "data-column": c }, strip(c)))));
    $("table").tBodies[0].replaceChildren(...page.rows.map((r) => Emo.el("tr", {},
      ...cols.map(([, i]) => r[i]).map((v) => Emo.el("td", {}, v === null ? "" : typeof v === "number"
        && !Number.isInteger(v) ? String(Math.round(v * 10000) / 10000) : String(v))))));
  }

  async function loadTable() {
    let page;
    try { page = await Emo.api(`${base}/table?offset=${offset}&limit=${PAGE}`); }
    catch (e) { $("error").textContent = e.message; return; }
    total = page.total;
    if (lastPage === null) {
      chooser(page.columns);
      legend(page.columns);
      if (page.columns.includes("signals")) EmoSignals.show(base, $("signals"), (m) => { $("error").textContent = m; });
    }
    lastPage = page;
    render(page);
    $("table-range").textContent = total ? `rows ${offset + 1}-${offset + page.rows.length} of ${total}` : "no rows";
    $("prev").disabled = offset === 0;
    $("next").disabled = offset + PAGE >= total;
  }
  $("prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); loadTable(); });
  $("next").addEventListener("click", () => { offset += PAGE; loadTable(); });

  $("delete").addEventListener("click", async () => {
    if (!Emo.confirmDelete($("title").textContent)) return;
    try { await Emo.api(base, { method: "DELETE" }); location.href = "/"; }
    catch (e) { $("error").textContent = e.message; }
  });

  let retry = 1000;
  async function poll() {
    let job;
    try { job = await Emo.api(base); }
    catch (e) {
      if (e.status === 404 || e.status === 401) {  // deleted, or a token is needed: polling cannot help
        $("status").textContent = e.status === 404 ? "not found" : "needs a token";
        $("error").textContent = e.message;
        return;
      }
      // The server restarting or the network dropping: keep trying, less often, and say so.
      $("error").textContent = `${e.message}; retrying in ${Math.round(retry / 1000)} s`;
      setTimeout(poll, retry);
      retry = Math.min(10000, retry * 2);
      return;
    }
    retry = 1000;
    show(job);
    if (job.status === "done") { if (!shown) showResults(job); return; }
    if (job.status === "failed") { $("progress").classList.add("hidden"); return; }
    setTimeout(poll, 500);
  }
  poll();
})();
