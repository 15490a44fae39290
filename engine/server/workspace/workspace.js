// The workspace page's script: no framework, no build step, nothing from the internet.
// Every value from the server is put on the page with textContent (never as HTML).
"use strict";
(function () {
  const params = new URLSearchParams(window.location.search);
  const claimToken = params.get("ct") || "";
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrfToken = csrfMeta ? csrfMeta.getAttribute("content") : "";
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  };
  const PLAYABLE = ["mp4", "webm", "mov"];
  let state = null;
  let storyboardRev = null;
  let storyboardUrl = null;
  let playerRender = null;
  let sending = false;
  let refreshTimer = null;

  function seconds(ms) {
    const s = ms / 1000;
    return (Number.isInteger(s) ? String(s) : s.toFixed(1)) + "s";
  }

  function setStatus(text, kind) {
    const node = $("status");
    node.textContent = text;
    node.className = "status " + (kind || "");
  }

  async function errorText(response) {
    try {
      const body = await response.json();
      return body.detail || body.message || ("HTTP " + response.status);
    } catch (e) {
      return "HTTP " + response.status;
    }
  }

  async function call(path, options) {
    const opts = options || {};
    const headers = Object.assign({ "X-Claim-Token": claimToken }, opts.headers || {});
    if ((opts.method || "GET") !== "GET") headers["X-CSRF-Token"] = csrfToken;
    const response = await fetch(path, Object.assign({}, opts, { headers: headers, credentials: "same-origin", cache: "no-store" }));
    if (!response.ok) throw new Error(await errorText(response));
    return response;
  }

  async function postJson(path, body) {
    return call(path, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
  }

  // -- drawing ------------------------------------------------------------------------------

  function tickStep(totalS) {
    const steps = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600];
    for (const step of steps) if (totalS / step <= 8) return step;
    return 1200;
  }

  function drawTimeline(s) {
    const total = Math.max(s.duration_ms, 1);
    $("duration").textContent = s.duration_ms ? "(" + seconds(s.duration_ms) + ")" : "";
    const ruler = $("ruler");
    ruler.replaceChildren();
    if (s.duration_ms) {
      const step = tickStep(s.duration_ms / 1000) * 1000;
      for (let t = 0; t <= s.duration_ms + 1; t += step) {
        // the first label starts at its tick, a label at the very end ends at it (none spills over)
        const tick = el("span", t === 0 ? "first" : (t + step > s.duration_ms && t / total > 0.95 ? "last" : ""), seconds(t));
        tick.style.left = (100 * t / total) + "%";
        ruler.appendChild(tick);
      }
    }
    const lanes = $("lanes");
    lanes.replaceChildren();
    for (const lane of s.lanes) {
      const row = el("div", "lane lane-" + lane.kind);
      row.dataset.kind = lane.kind;
      const label = el("div", "lane-label", lane.label);
      label.id = "lane-" + lanes.children.length;
      const track = el("div", "lane-track");
      track.setAttribute("role", "list");
      track.setAttribute("aria-labelledby", label.id);
      if (!lane.segments.length) track.appendChild(el("span", "lane-empty", "empty"));
      for (const seg of lane.segments) {
        const box = el("div", "seg");
        box.setAttribute("role", "listitem");
        box.tabIndex = 0;
        box.dataset.segment = seg.id;
        box.style.left = (100 * seg.start_ms / total) + "%";
        box.style.width = (100 * (seg.end_ms - seg.start_ms) / total) + "%";
        const times = seconds(seg.start_ms) + "–" + seconds(seg.end_ms);
        box.title = seg.name + " (" + times + ")";
        box.setAttribute("aria-label", lane.label + ": " + seg.name + ", " + times);
        box.appendChild(el("span", "seg-name", seg.name));
        box.appendChild(el("span", "seg-time", times));
        track.appendChild(box);
      }
      row.appendChild(label);
      row.appendChild(track);
      lanes.appendChild(row);
    }
  }

  async function drawStoryboard(s) {
    const img = $("storyboard");
    const note = $("storyboard-note");
    $("storyboard-rev").textContent = s.revision ? "(revision " + s.revision + ")" : "";
    if (!s.ready) {
      img.hidden = true;
      note.hidden = false;
      note.textContent = "Nothing on the timeline yet.";
      storyboardRev = null;
      return;
    }
    if (storyboardRev === s.revision) return;
    storyboardRev = s.revision;
    note.hidden = false;
    note.textContent = "Drawing the storyboard…";
    try {
      const response = await call("/workspace/api/storyboard");
      const blob = await response.blob();
      if (storyboardRev !== s.revision) return;
      if (storyboardUrl) URL.revokeObjectURL(storyboardUrl);
      storyboardUrl = URL.createObjectURL(blob);
      img.src = storyboardUrl;
      $("storyboard-open").href = storyboardUrl;
      img.dataset.revision = String(s.revision);
      img.hidden = false;
      note.hidden = true;
    } catch (e) {
      storyboardRev = null;
      note.textContent = "The storyboard could not be drawn: " + e.message;
    }
  }

  function drawConversation(s, live) {
    const list = $("conversation");
    list.replaceChildren();
    for (const turn of s.conversation) {
      list.appendChild(el("li", "you", turn.message));
      if (turn.status === "failed") list.appendChild(el("li", "agent failed", turn.error || "This message failed."));
      else if (turn.reply) list.appendChild(el("li", "agent", turn.reply));
    }
    if (live) {
      list.appendChild(el("li", "you", live.message));
      const reply = el("li", "agent", live.text || "…");
      reply.id = "live-reply";
      list.appendChild(reply);
    }
    list.scrollTop = list.scrollHeight;
  }

  function drawHistory(s) {
    $("undo-btn").disabled = s.undo === null || s.busy;
    $("redo-btn").disabled = s.redo === null || s.busy;
    const list = $("history");
    list.replaceChildren();
    for (const h of s.history.slice().reverse()) {
      const item = el("li", h.current ? "current" : "");
      item.dataset.revision = String(h.n);
      const what = h.message ? "“" + h.message + "”" : "";
      const stage = h.stage && h.stage !== "edit" ? " · " + h.stage.replace(/_/g, " ") : "";
      item.appendChild(el("span", "h-title", "Revision " + h.n + stage + (h.current ? " (current)" : "") + ": " + what));
      item.appendChild(el("span", "h-change", h.change));
      if (!h.current) {
        const back = el("button", "", "Restore");
        back.type = "button";
        back.disabled = s.busy;
        back.setAttribute("aria-label", "Restore revision " + h.n);
        back.addEventListener("click", () => moveHistory({ action: "restore", to: h.n }));
        item.appendChild(back);
      }
      list.appendChild(item);
    }
    if (!s.history.length) list.appendChild(el("li", "muted", "No changes yet."));
  }

  function drawUploads(s) {
    const list = $("uploads");
    list.replaceChildren();
    for (const u of s.uploads) list.appendChild(el("li", "", u.filename + " (" + u.file_type + ")"));
  }

  function drawRenders(s) {
    const list = $("renders");
    list.replaceChildren();
    let latest = null;
    let running = null;
    for (const r of s.renders) {
      const item = el("li");
      item.dataset.render = r.id;
      const name = (r.preview ? "Preview " : "Export ") + r.id + " (" + r.format + ", " + r.quality + ")";
      if (r.status === "completed" && r.url) {
        if (PLAYABLE.includes(r.format)) latest = r;  // avi and mkv are downloads only
        const link = el("a", "", "Download " + name);
        link.href = r.url;
        link.setAttribute("download", r.id + "." + r.format);
        item.appendChild(link);
      } else if (r.status === "failed") {
        item.appendChild(el("span", "error", name + ": failed (" + (r.error || "no reason given") + ")"));
      } else {
        running = r;
        item.appendChild(el("span", "", name + ": " + r.status + " " + r.progress + "%"));
      }
      list.prepend(item);
    }
    const bar = $("export-progress");
    const status = $("export-status");
    if (running) {
      bar.hidden = false;
      bar.value = running.progress;
      status.textContent = (running.preview ? "Preview" : "Export") + " " + running.status + ": " + running.progress + "%";
    } else {
      bar.hidden = true;
    }
    $("preview-progress").textContent = running && running.preview ? running.progress + "%" : "";
    const player = $("player");
    const note = $("player-note");
    if (latest && playerRender !== latest.id) {
      playerRender = latest.id;
      player.src = latest.url;
      player.dataset.render = latest.id;
      note.textContent = (latest.preview ? "Preview " : "Export ") + latest.id + (latest.duration ? ", " + latest.duration.toFixed(1) + "s" : "");
      if (!running) status.textContent = "Ready: " + latest.id + "." + latest.format;
    }
    player.hidden = !latest;
    if (!latest) {
      note.textContent = s.ready ? "No render yet: make a preview or export the video." : "Nothing to play yet: describe the video first.";
    }
  }

  function draw(s, live) {
    state = s;
    document.title = s.title + " · workspace";
    $("title").textContent = s.title;
    $("summary").textContent = s.summary;
    document.body.dataset.revision = s.revision === null ? "" : String(s.revision);
    setStatus(s.busy ? "Working…" : "Live", s.busy ? "busy" : "live");
    drawTimeline(s);
    drawConversation(s, live);
    drawHistory(s);
    drawUploads(s);
    drawRenders(s);
    $("preview-btn").disabled = !s.ready;
    $("export-btn").disabled = !s.ready;
    drawStoryboard(s);
  }

  async function refresh() {
    try {
      const response = await call("/workspace/api/state");
      if (!sending) draw(await response.json(), null);
    } catch (e) {
      setStatus("Offline: " + e.message, "offline");
    }
  }

  function scheduleRefresh() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); }, 100);
  }

  // Calls onFrame with each server-sent-events frame of a streamed response, until it ends.
  async function readFrames(response, onFrame) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) return;
      buffer += decoder.decode(chunk.value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        onFrame(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
      }
    }
  }

  // -- live updates (server-sent events, read with fetch so the claim token stays in a header) --

  async function follow() {
    let wait = 1000;
    for (;;) {
      try {
        const response = await call("/workspace/api/events", { headers: { Accept: "text/event-stream" } });
        wait = 1000;
        await readFrames(response, (frame) => {
          if (/^event: change$/m.test(frame)) scheduleRefresh();
        });
      } catch (e) {
        setStatus("Offline: " + e.message, "offline");
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, 10000);
    }
  }

  // -- actions --------------------------------------------------------------------------------

  async function sendMessage(text) {
    const live = { message: text, text: "" };
    sending = true;
    $("send-btn").disabled = true;
    setStatus("Working…", "busy");
    if (state) drawConversation(state, live);
    try {
      const response = await postJson("/workspace/api/message", { text: text });
      const finals = [];
      let partial = "";
      await readFrames(response, (frame) => {
        const data = frame.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
        if (!data) return;
        let event;
        try { event = JSON.parse(data); } catch (e) { return; }
        if (event.error) {
          finals.push("Error: " + event.error);
        } else {
          const parts = (event.content && event.content.parts) || [];
          const text = parts.filter((p) => typeof p.text === "string").map((p) => p.text).join("");
          if (!text) return;
          if (event.partial) partial += text;
          else { finals.push(text); partial = ""; }
        }
        live.text = finals.concat(partial ? [partial] : []).join("\n");
        const node = $("live-reply");
        if (node) node.textContent = live.text || "…";
      });
      $("message-text").value = "";
    } catch (e) {
      live.text = "Not sent: " + e.message;
      const node = $("live-reply");
      if (node) { node.textContent = live.text; node.className = "agent failed"; }
      sending = false;
      $("send-btn").disabled = false;
      return;
    }
    sending = false;
    $("send-btn").disabled = false;
    await refresh();
  }

  async function moveHistory(body) {
    setStatus("Working…", "busy");
    try {
      await postJson("/workspace/api/history", body);
    } catch (e) {
      setStatus("History: " + e.message, "offline");
    }
    await refresh();
  }

  async function upload(files) {
    if (!files.length) return;
    const form = new FormData();
    for (const file of files) form.append("files", file, file.name);
    const status = $("upload-status");
    status.className = "muted";
    status.textContent = "Uploading " + files.length + " file(s)…";
    try {
      const response = await call("/workspace/api/upload", { method: "POST", body: form });
      const body = await response.json();
      status.textContent = "Uploaded: " + body.files.map((f) => f.filename).join(", ");
    } catch (e) {
      status.className = "error";
      status.textContent = "Upload refused: " + e.message;
    }
    await refresh();
  }

  async function exportVideo(body) {
    const status = $("export-status");
    status.className = "muted";
    status.textContent = body.preview ? "Starting a fast preview…" : "Starting the export…";
    try {
      const response = await postJson("/workspace/api/export", body);
      const job = await response.json();
      status.textContent = (body.preview ? "Preview " : "Export ") + job.id + ": " + job.status;
    } catch (e) {
      status.className = "error";
      status.textContent = "Export refused: " + e.message;
    }
    await refresh();
  }

  function wire() {
    $("message-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = $("message-text").value.trim();
      if (text && !sending) sendMessage(text);
    });
    $("message-text").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        $("message-form").requestSubmit();
      }
    });
    $("undo-btn").addEventListener("click", () => moveHistory({ action: "undo" }));
    $("redo-btn").addEventListener("click", () => moveHistory({ action: "redo" }));
    $("file-input").addEventListener("change", (event) => { upload(Array.from(event.target.files)); event.target.value = ""; });
    const zone = $("dropzone");
    zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      upload(Array.from(event.dataTransfer.files));
    });
    $("export-form").addEventListener("submit", (event) => {
      event.preventDefault();
      exportVideo({ format: $("export-format").value, quality: $("export-quality").value });
    });
    $("preview-btn").addEventListener("click", () => exportVideo({ preview: true }));
  }

  wire();
  refresh();
  follow();
})();
