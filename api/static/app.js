// Cornu's dashboard: the jobs, a job's live curves and events, cancel and downloads, and
// several jobs' curves on one chart, hyperparameter studies. Plain JS modules, no build;
// hash routes: #/ (jobs), #/jobs/<id>, #/compare/<id>,<id>,…, #/studies, #/studies/<id>,
// #/usage.

import { api, ApiError, apiKey, forgetApiKey, getJSON, saveApiKey } from "./api.js";
import { Charts, CompareCharts, metricsText } from "./charts.js";
import { follow } from "./stream.js";
import { studiesView, studyView } from "./studies.js";
import { deviceTime, money, usageView } from "./usage.js";

const REFRESH_MS = 3000;
const FINISHED = new Set(["succeeded", "failed", "cancelled", "pruned"]);
const $ = (id) => document.getElementById(id);
const VIEWS = ["key-view", "jobs-view", "job-view", "compare-view", "studies-view", "study-view",
  "usage-view"];
const selected = new Set(); // jobs ticked in the list, for "Compare selected"

function showError(err) {
  if (err && err.name === "AbortError") return;
  const el = $("error");
  el.textContent = err ? err.message || String(err) : "";
  el.hidden = !err;
  if (err instanceof ApiError && err.status === 401) showKeyView();
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");

function statusBadge(el, status) {
  el.textContent = status;
  el.className = `status status-${status}`;
}

// -- routing ---------------------------------------------------------------------------

let view = null; // the view on screen: {stop()}

function route() {
  if (view) view.stop();
  view = null;
  showError(null);
  for (const id of VIEWS) $(id).hidden = true;
  const key = apiKey();
  $("key-status").hidden = !key;
  if (!key) return showKeyView();
  $("key-label").textContent = `Key …${key.slice(-4)}`;
  const m = location.hash.match(/^#\/jobs\/([^/?#]+)$/);
  const compare = location.hash.match(/^#\/compare\/([^?#]+)$/);
  const study = location.hash.match(/^#\/studies\/([^/?#]+)$/);
  const helpers = { showError, statusBadge, when };
  if (m) view = jobView(decodeURIComponent(m[1]));
  else if (study) view = studyView(decodeURIComponent(study[1]), helpers);
  else if (location.hash === "#/studies") view = studiesView(helpers);
  else if (location.hash === "#/usage") view = usageView(helpers);
  else if (compare) view = compareView(compare[1].split(",").map(decodeURIComponent));
  else view = jobsView();
}

// -- the key ---------------------------------------------------------------------------

function showKeyView() {
  if (view) view.stop();
  view = null;
  for (const id of VIEWS) $(id).hidden = true;
  $("key-view").hidden = false;
  document.title = "API key — Cornu";
  $("key-input").focus();
}

async function saveKey(event) {
  event.preventDefault();
  const key = $("key-input").value.trim();
  try {
    await api("/v1/jobs?limit=1", {}, key); // refused keys are not kept
  } catch (err) {
    return showError(err);
  }
  saveApiKey(key);
  $("key-input").value = "";
  route();
}

// -- the jobs list ---------------------------------------------------------------------

function jobsView() {
  $("jobs-view").hidden = false;
  document.title = "Jobs — Cornu";
  const cursors = [null]; // the cursor of each page, newest first
  let next = null;
  let timer = 0;
  let loads = 0;
  let stopped = false;

  async function load() {
    clearTimeout(timer);
    const mine = ++loads;
    try {
      const query = new URLSearchParams({ limit: "20" });
      if (cursors.at(-1)) query.set("cursor", cursors.at(-1));
      const tag = $("tag-input").value.trim();
      if (tag) query.set("tag", tag);
      const page = await getJSON(`/v1/jobs?${query}`);
      if (stopped || mine !== loads) return;
      next = page.next_cursor;
      renderJobs(page.jobs);
      $("next-page").disabled = !next;
      $("first-page").disabled = cursors.length === 1;
      showError(null);
    } catch (err) {
      if (!stopped) showError(err);
    }
    if (!stopped && mine === loads) timer = setTimeout(load, REFRESH_MS);
  }

  $("next-page").onclick = () => next && (cursors.push(next), load());
  $("first-page").onclick = () => ((cursors.length = 1), load());
  $("tag-form").onsubmit = (event) => {
    event.preventDefault();
    cursors.length = 1;
    load();
  };
  $("compare").onclick = () => {
    location.hash = `#/compare/${[...selected].map(encodeURIComponent).join(",")}`;
  };
  updateCompare();
  load();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

function renderJobs(jobs) {
  const rows = jobs.map((job) => {
    const tr = document.createElement("tr");
    const link = document.createElement("a");
    link.href = `#/jobs/${encodeURIComponent(job.id)}`;
    link.textContent = job.id;
    const badge = document.createElement("span");
    statusBadge(badge, job.status);
    const tick = Object.assign(document.createElement("input"), {
      type: "checkbox",
      checked: selected.has(job.id),
    });
    tick.setAttribute("aria-label", `Select ${job.name || job.id}`);
    tick.onchange = () => {
      if (tick.checked) selected.add(job.id);
      else selected.delete(job.id);
      updateCompare();
    };
    const tags = tagBadges(job.tags);
    const cells = [tick, link, job.name || "", tags, badge, `${job.epoch}/${job.epochs}`,
      when(job.created_at)];
    for (const content of cells) tr.insertCell().append(...[content].flat());
    tr.insertCell().textContent = job.error || metricsText(job.metrics);
    tr.dataset.job = job.id;
    return tr;
  });
  $("jobs-body").replaceChildren(...rows);
  $("jobs-empty").hidden = jobs.length > 0;
}

function updateCompare() {
  $("compare").disabled = selected.size < 2;
  $("compare").textContent = `Compare selected (${selected.size})`;
}

// -- several jobs on one chart ---------------------------------------------------------

function compareView(ids) {
  $("compare-view").hidden = false;
  document.title = "Compare runs — Cornu";
  const charts = new CompareCharts($("compare-charts"), $("compare-empty"));
  const ctl = new AbortController();
  let timer = 0;
  let stopped = false;

  async function load() {
    try {
      const found = await Promise.all(
        ids.map(async (id) => {
          const path = `/v1/jobs/${encodeURIComponent(id)}`;
          const [job, metrics] = await Promise.all([
            getJSON(path, ctl.signal),
            getJSON(`${path}/metrics`, ctl.signal),
          ]);
          return { job, epochs: metrics.epochs };
        }),
      );
      if (stopped) return;
      charts.show(found);
      const items = found.map(({ job }, i) => {
        const li = document.createElement("li");
        const swatch = Object.assign(document.createElement("span"), { className: "swatch" });
        swatch.style.background = charts.color(i);
        const link = Object.assign(document.createElement("a"), {
          href: `#/jobs/${encodeURIComponent(job.id)}`,
          textContent: job.name || job.id,
        });
        li.append(swatch, link, ` ${job.status}, ${job.epoch}/${job.epochs}`);
        return li;
      });
      $("compare-jobs").replaceChildren(...items);
      showError(null);
      if (found.some(({ job }) => !FINISHED.has(job.status))) timer = setTimeout(load, REFRESH_MS);
    } catch (err) {
      if (!stopped) showError(err);
    }
  }

  load();
  return {
    stop() {
      stopped = true;
      ctl.abort();
      clearTimeout(timer);
      charts.destroy();
    },
  };
}

// -- a job -----------------------------------------------------------------------------

function jobView(id) {
  $("job-view").hidden = false;
  $("job-title").textContent = `Job ${id}`;
  document.title = `Job ${id} — Cornu`;
  const path = `/v1/jobs/${encodeURIComponent(id)}`;
  const ctl = new AbortController();
  const charts = new Charts($("charts"), $("charts-empty"));
  let job = null;
  let refreshTimer = 0;
  let refreshes = 0;
  let currency = "USD";
  getJSON("/v1/limits", ctl.signal).then((l) => { currency = l.currency; }, () => {});

  for (const name of ["status", "epoch", "batch", "created", "finished", "duration", "device",
    "cost", "name", "tags", "trial"]) {
    $(`job-${name}`).textContent = "";
  }
  $("summary-body").replaceChildren();
  $("summary-total").textContent = "";
  $("settings").replaceChildren();
  delete $("job-view").dataset.status;
  $("job-progress").value = 0;
  $("job-error").hidden = true;
  $("events").replaceChildren();
  $("dl-weights").href = `${path}/weights`;
  for (const format of ["onnx", "torchscript", "safetensors"]) {
    $(`dl-${format}`).href = `${path}/export?format=${format}`;
  }

  function renderJob(j) {
    if (job && FINISHED.has(job.status) && !FINISHED.has(j.status)) return; // a late answer
    job = j;
    statusBadge($("job-status"), j.status);
    $("job-epoch").textContent = `${j.epoch} of ${j.epochs}`;
    $("job-created").textContent = when(j.created_at);
    $("job-finished").textContent = when(j.finished_at);
    $("job-duration").textContent = duration(j.started_at, j.finished_at);
    $("job-device").textContent = j.device || "";
    $("job-cost").textContent = `${deviceTime(j.device_seconds)} of device time, ${money(j.cost, currency)}`;
    $("job-name").textContent = j.name || "";
    $("job-tags").replaceChildren(...tagBadges(j.tags));
    const trial = j.trial;
    $("job-trial").replaceChildren(...(trial ? [Object.assign(document.createElement("a"), {
      href: `#/studies/${encodeURIComponent(trial.study)}`,
      textContent: `trial ${trial.number} of ${trial.study}`,
    })] : []));
    $("job-error").textContent = j.error || "";
    $("job-error").hidden = !j.error;
    $("cancel-job").disabled = FINISHED.has(j.status);
    $("job-view").dataset.status = j.status;
    if (FINISHED.has(j.status)) $("job-batch").textContent = "";
    if (j.status === "succeeded") $("job-progress").value = 1;
  }

  async function refresh() {
    const mine = ++refreshes;
    try {
      const [j, events] = await Promise.all([
        getJSON(path, ctl.signal),
        getJSON(`${path}/events`, ctl.signal),
      ]);
      if (mine !== refreshes) return; // a later refresh answers for both
      renderJob(j);
      renderEvents(events.events);
    } catch (err) {
      showError(err);
    }
  }

  // Status events come in bursts when the feed is replayed: one refresh per burst.
  const refreshSoon = () => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 250);
  };

  function onEvent(name, data) {
    if (name === "progress") {
      if (job && FINISHED.has(job.status)) return; // a replay of a finished job
      $("job-progress").value = data.batches ? data.batch / data.batches : 0;
      const where = `epoch ${data.epoch} of ${data.epochs}, batch ${data.batch} of ${data.batches}`;
      $("job-batch").textContent = `${where}: ${metricsText(data.logs)}`;
    } else if (name === "epoch") {
      charts.add(data);
      if (job && data.epoch > job.epoch) renderJob({ ...job, epoch: data.epoch });
    } else if (name === "end") {
      renderJob(data);
      refreshSoon();
    } else {
      refreshSoon();
    }
  }

  $("cancel-job").onclick = async () => {
    try {
      const res = await api(`${path}/cancel`, { method: "POST" });
      renderJob(await res.json());
      showError(null);
      if (res.status === 202) $("job-batch").textContent = "stopping after this batch…";
    } catch (err) {
      showError(err);
    }
  };

  (async () => {
    try {
      // The history first (the feed keeps only its latest entries), then the stream
      // from its start; epochs are keyed by number, so none is drawn twice.
      const [j, metrics] = await Promise.all([
        getJSON(path, ctl.signal),
        getJSON(`${path}/metrics`, ctl.signal),
      ]);
      renderJob(j);
      for (const logs of metrics.epochs) charts.add(logs);
      describe(path, ctl.signal).catch(showError);
      await refresh();
      await follow(`${path}/stream`, onEvent, ctl.signal);
    } catch (err) {
      showError(err);
    }
  })();

  return {
    stop() {
      ctl.abort();
      clearTimeout(refreshTimer);
      charts.destroy();
    },
  };
}

function eventItem(e) {
  const li = document.createElement("li");
  const time = document.createElement("time");
  time.dateTime = e.time;
  time.textContent = when(e.time);
  const extra = Object.entries(e)
    .filter(([k]) => k !== "time" && k !== "type")
    .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`)
    .join(", ");
  li.append(time, ` ${e.type}${extra ? ` (${extra})` : ""}`);
  return li;
}

// Checkpoint events come every epoch: each run of them is one collapsed item.
function renderEvents(events) {
  const items = [];
  for (let i = 0; i < events.length; ) {
    let end = i;
    while (end < events.length && events[end].type === "checkpoint") end += 1;
    if (end - i < 2) {
      items.push(eventItem(events[i]));
      i += 1;
      continue;
    }
    const run = events.slice(i, end);
    const details = document.createElement("details");
    const last = run.at(-1);
    const summary = document.createElement("summary");
    summary.textContent = `${run.length} checkpoints (the last after epoch ${last.epoch})`;
    const list = document.createElement("ol");
    list.append(...run.map(eventItem));
    details.append(summary, list);
    const li = document.createElement("li");
    li.className = "checkpoints";
    li.append(details);
    items.push(li);
    i = end;
  }
  $("events").replaceChildren(...items);
}

function tagBadges(tags) {
  return (tags || []).map((t) =>
    Object.assign(document.createElement("span"), { className: "tag", textContent: t }),
  );
}

function duration(start, end) {
  if (!start) return "";
  const seconds = Math.max(0, ((end ? new Date(end) : new Date()) - new Date(start)) / 1000);
  const text = seconds < 120 ? `${seconds.toFixed(1)} s` : `${(seconds / 60).toFixed(1)} min`;
  return end ? text : `${text} so far`;
}

// The job's model as Keras's summary() lists it, and its compile and fit settings.
async function describe(path, signal) {
  const spec = await getJSON(`${path}/spec`, signal);
  const settings = [
    ["Optimizer", spec.compile ? optimizerText(spec.compile.optimizer) : ""],
    ["Loss", spec.compile ? JSON.stringify(spec.compile.loss) : ""],
    ["Metrics", spec.compile ? JSON.stringify(spec.compile.metrics || []) : ""],
    ...Object.entries(spec.fit || {})
      .filter(([, v]) => v !== null && !(Array.isArray(v) && v.length === 0))
      .map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : String(v)]),
  ];
  const rows = settings.flatMap(([k, v]) => [
    Object.assign(document.createElement("dt"), { textContent: k }),
    Object.assign(document.createElement("dd"), { textContent: v }),
  ]);
  $("settings").replaceChildren(...rows);
  const res = await api("/v1/models/summary", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ model: spec.model }),
    signal,
  });
  const summary = await res.json();
  const layers = summary.layers.map((layer) => {
    const tr = document.createElement("tr");
    const shape = JSON.stringify(layer.output_shape).replaceAll("null", "None");
    for (const cell of [layer.name, layer.type, shape, layer.params.toLocaleString()]) {
      tr.insertCell().textContent = cell;
    }
    return tr;
  });
  $("summary-body").replaceChildren(...layers);
  $("summary-total").textContent =
    `Total params: ${summary.total_params.toLocaleString()} ` +
    `(trainable ${summary.trainable_params.toLocaleString()}, ` +
    `non-trainable ${summary.non_trainable_params.toLocaleString()})`;
}

function optimizerText(optimizer) {
  if (typeof optimizer === "string") return optimizer;
  const { type, ...args } = optimizer || {};
  const shown = Object.entries(args).filter(([, v]) => v !== null);
  const text = shown.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ");
  return text ? `${type} (${text})` : type;
}

// -- downloads: links that need the key are fetched, then saved from a blob ------------

async function download(link) {
  try {
    const res = await api(link.getAttribute("href"));
    const disposition = res.headers.get("Content-Disposition") || "";
    const name = (disposition.match(/filename="?([^";]+)"?/) || [])[1] || "download";
    const url = URL.createObjectURL(await res.blob());
    const a = Object.assign(document.createElement("a"), { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    showError(null);
  } catch (err) {
    showError(err);
  }
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-download]");
  if (link) {
    event.preventDefault();
    download(link);
  }
  // A link to the view's own hash fires no hashchange: leave the key form anyway.
  const nav = event.target.closest('a[href^="#"]');
  if (nav && nav.getAttribute("href") === location.hash) route();
});

$("key-form").addEventListener("submit", saveKey);
$("change-key").addEventListener("click", showKeyView);
$("forget-key").addEventListener("click", () => {
  forgetApiKey();
  route();
});
window.addEventListener("hashchange", route);
route();
