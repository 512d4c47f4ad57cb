// Hyperparameter studies: the list (#/studies) and a study (#/studies/<id>): its trials
// sortable by the objective, the objective against each numeric hyperparameter, and the
// best trial's curves, refreshed while it runs.

import { api, getJSON } from "./api.js";
import { Charts, num, ScatterCharts } from "./charts.js";

const REFRESH_MS = 3000;
const $ = (id) => document.getElementById(id);
const cell = (tr, content) => tr.insertCell().append(...[content].flat());

export function studiesView({ showError, statusBadge, when }) {
  $("studies-view").hidden = false;
  document.title = "Studies — Cornu";
  let timer = 0;
  let stopped = false;

  async function load() {
    try {
      const page = await getJSON("/v1/studies?limit=50");
      if (stopped) return;
      const rows = page.studies.map((s) => {
        const tr = document.createElement("tr");
        const link = Object.assign(document.createElement("a"), {
          href: `#/studies/${encodeURIComponent(s.id)}`,
          textContent: s.id,
        });
        const badge = document.createElement("span");
        statusBadge(badge, s.status);
        const objective = `${s.objective.direction} ${s.objective.name}`;
        for (const c of [link, s.name || "", badge, String(s.trials), objective,
          num(s.best_score), when(s.created_at)]) cell(tr, c);
        tr.dataset.study = s.id;
        return tr;
      });
      $("studies-body").replaceChildren(...rows);
      $("studies-empty").hidden = rows.length > 0;
      showError(null);
    } catch (err) {
      if (!stopped) showError(err);
    }
    if (!stopped) timer = setTimeout(load, REFRESH_MS);
  }

  load();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

export function studyView(id, { showError, statusBadge }) {
  $("study-view").hidden = false;
  $("study-title").textContent = `Study ${id}`;
  document.title = `Study ${id} — Cornu`;
  const path = `/v1/studies/${encodeURIComponent(id)}`;
  const ctl = new AbortController();
  const scatter = new ScatterCharts($("study-scatter"), $("study-scatter-empty"));
  let curves = null; // the best trial's: rebuilt when the best changes
  let bestJob = null;
  let sortDescending = null; // null: best first
  let study = null;
  let timer = 0;
  let stopped = false;
  $("trials-body").replaceChildren();
  $("study-facts-status").replaceChildren();

  function render(s) {
    study = s;
    const { objective } = s;
    statusBadge($("study-facts-status"), s.status);
    $("study-view").dataset.status = s.status;
    $("study-name").textContent = s.name || "";
    $("study-objective").textContent = `${objective.name} (${objective.direction})`;
    const pruner = s.algorithm.pruner ? `, ${s.algorithm.pruner} pruner` : "";
    $("study-algorithm").textContent = `${s.algorithm.sampler}${pruner}`;
    $("study-trials").textContent =
      `${s.trials.length} of ${s.max_trials}, ${s.max_parallel} at once`;
    $("study-compute").textContent = `${s.epochs} epochs, ${s.run_seconds.toFixed(1)} s`;
    $("study-best").textContent = s.best
      ? `trial ${s.best.number}: ${objective.name} ${num(s.best.score)}` : "none yet";
    $("study-error").textContent = s.error || "";
    $("study-error").hidden = !s.error;
    $("cancel-study").disabled = s.status !== "running";
    renderTrials();
    const names = [...new Set(s.trials.flatMap((t) => Object.keys(t.hyperparameters)))];
    scatter.show(s.trials, names, objective.name);
    const job = s.best ? s.best.jobs[0] : null;
    if (job && job !== bestJob) {
      bestJob = job;
      if (curves) curves.destroy();
      curves = new Charts($("study-curves"), $("study-curves-empty"));
      $("study-best-link").href = `#/jobs/${encodeURIComponent(job)}`;
      $("study-best-link").textContent = job;
    }
  }

  function renderTrials() {
    const s = study;
    const names = [...new Set(s.trials.flatMap((t) => Object.keys(t.hyperparameters)))];
    const head = ["Trial", "Status", s.objective.name, "Epochs", ...names, "Job"];
    const ths = head.map((text, i) => {
      const th = Object.assign(document.createElement("th"), { scope: "col" });
      if (i === 2) {
        const button = Object.assign(document.createElement("button"), {
          type: "button",
          id: "sort-score",
          textContent: `${text} ${sortDescending === null ? "" : sortDescending ? "▼" : "▲"}`,
        });
        button.onclick = () => {
          sortDescending = sortDescending === null ? s.objective.direction !== "max"
            : !sortDescending;
          renderTrials();
        };
        th.append(button);
        th.setAttribute("aria-sort", sortDescending === null ? "none"
          : sortDescending ? "descending" : "ascending");
      } else th.textContent = text;
      return th;
    });
    $("trials-head").replaceChildren(...ths);
    const descending = sortDescending === null ? s.objective.direction === "max" : sortDescending;
    const scored = s.trials.filter((t) => t.score !== null);
    scored.sort((a, b) => (descending ? b.score - a.score : a.score - b.score));
    const rows = [...scored, ...s.trials.filter((t) => t.score === null)].map((t) => {
      const tr = document.createElement("tr");
      const badge = document.createElement("span");
      statusBadge(badge, t.status);
      const jobs = t.jobs.map((j) => Object.assign(document.createElement("a"), {
        href: `#/jobs/${encodeURIComponent(j)}`, textContent: j.slice(-6), title: j,
      }));
      const values = names.map((n) => {
        const v = t.hyperparameters[n];
        if (v === undefined) return "";
        return typeof v === "number" && !Number.isInteger(v) ? num(v) : String(v);
      });
      for (const c of [String(t.number), badge, t.score === null ? t.error || "" : num(t.score),
        String(t.epochs), ...values, jobs]) cell(tr, c);
      tr.dataset.trial = String(t.number);
      if (s.best && s.best.number === t.number) tr.className = "best";
      return tr;
    });
    $("trials-body").replaceChildren(...rows);
  }

  async function load() {
    try {
      const s = await getJSON(path, ctl.signal);
      if (stopped) return;
      render(s);
      if (bestJob) {
        const metrics = await getJSON(`/v1/jobs/${encodeURIComponent(bestJob)}/metrics`,
          ctl.signal);
        if (!stopped) for (const logs of metrics.epochs) curves.add(logs);
      }
      showError(null);
      if (s.status === "running") timer = setTimeout(load, REFRESH_MS);
    } catch (err) {
      if (!stopped) showError(err);
    }
  }

  $("cancel-study").onclick = async () => {
    try {
      await api(`${path}/cancel`, { method: "POST" });
      load();
    } catch (err) {
      showError(err);
    }
  };
  load();
  return {
    stop() {
      stopped = true;
      ctl.abort();
      clearTimeout(timer);
      scatter.destroy();
      if (curves) curves.destroy();
    },
  };
}
