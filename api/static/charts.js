// One chart per metric, x = epoch, as the book plots them: training as dots and
// validation as a line ("bo" and "b"). Drawn with the vendored uPlot (global `uPlot`).

const BLUE = "#1f5fbf";
const HEIGHT = 260;
const NOT_METRICS = new Set(["epoch", "seconds"]);

export const num = (v) =>
  typeof v === "number" ? (Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(4)) : "";

export const metricsText = (logs) =>
  Object.entries(logs || {})
    .filter(([k]) => !NOT_METRICS.has(k))
    .map(([k, v]) => `${k} ${num(v)}`)
    .join(" · ");

const label = (name, base) => (name === base ? `Training ${base}` : `Validation ${base}`);

function seriesStyle(text, validation) {
  if (validation) return { label: text, stroke: BLUE, width: 2, points: { show: false } };
  const points = { show: true, size: 7, fill: BLUE };
  return { label: text, stroke: BLUE, fill: BLUE, paths: () => null, points };
}

// `loss` with `val_loss`, `accuracy` with `val_accuracy`, …; `loss` first.
function groups(names) {
  const bases = [...names].map((n) =>
    n.startsWith("val_") && names.has(n.slice(4)) ? n.slice(4) : n,
  );
  const unique = [...new Set(bases)].sort((a, b) => (b === "loss") - (a === "loss"));
  return unique.map((base) => [base, [base, `val_${base}`].filter((n) => names.has(n))]);
}

// A chart of one metric by epoch in a figure of `root` (the figure and its caption are kept
// when a chart is rebuilt: `old`), with `series` styled by the caller.
// `scales` and `xLabel` default to epochs on x, `yLabel` to `metric`.
function plotIn(root, old, metric, ariaLabel, title, series, width, scales, xLabel, yLabel) {
  const figure = old ? old.figure : document.createElement("figure");
  const caption = old ? old.caption : document.createElement("figcaption");
  if (!old) {
    figure.className = "chart";
    figure.dataset.metric = metric;
    figure.setAttribute("aria-label", ariaLabel);
    root.append(figure);
  }
  const opts = {
    title,
    width,
    height: HEIGHT,
    // Half an epoch of room on each side, so the first and last dots are not cut.
    scales: scales || { x: { time: false, range: (u, min, max) => [min - 0.5, max + 0.5] } },
    legend: { live: false },
    axes: [
      xLabel
        ? { label: xLabel }
        : { label: "Epochs", incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] },
      { label: yLabel || metric, size: 64 },
    ],
    series: [{ label: xLabel || "epoch" }, ...series],
  };
  const plot = new uPlot(opts, [[], ...series.map(() => [])], figure);
  figure.append(caption); // after the plot, whether new or rebuilt
  return { figure, caption, plot };
}

export class Charts {
  // `root` holds the charts; `empty` is shown until the first epoch.
  constructor(root, empty) {
    this.root = root;
    this.empty = empty;
    this.epochs = new Map(); // epoch number -> its logs: an epoch seen twice is drawn once
    this.plots = new Map(); // metric -> {figure, caption, plot, names}
    this.timer = 0;
    this.onResize = () => this.resize();
    window.addEventListener("resize", this.onResize);
    root.replaceChildren();
    empty.hidden = false;
  }

  // An epoch's logs ({"epoch": n, "seconds": s, "loss": …}); drawn with others that
  // arrive in the same burst.
  add(logs) {
    this.epochs.set(logs.epoch, logs);
    if (!this.timer) this.timer = setTimeout(() => this.draw(), 50);
  }

  draw() {
    this.timer = 0;
    const xs = [...this.epochs.keys()].sort((a, b) => a - b);
    const names = new Set();
    for (const logs of this.epochs.values()) {
      for (const name of Object.keys(logs)) if (!NOT_METRICS.has(name)) names.add(name);
    }
    const value = (x, name) => {
      const v = this.epochs.get(x)[name];
      return typeof v === "number" ? v : null;
    };
    for (const [base, series] of groups(names)) {
      let entry = this.plots.get(base);
      if (!entry || entry.names.join() !== series.join()) {
        if (entry) entry.plot.destroy();
        entry = this.create(base, series, entry);
      }
      const values = series.map((name) => xs.map((x) => value(x, name)));
      entry.plot.setData([xs, ...values]);
      // What the tests (and screen readers) read: the training points drawn so far.
      const points = values[0].filter((v) => v !== null).length;
      entry.figure.dataset.points = String(points);
      const last = series.map((n, i) => `${label(n, base)} ${num(values[i].at(-1))}`);
      const epochs = `${points} epoch${points === 1 ? "" : "s"}`;
      entry.caption.textContent = `${epochs}; epoch ${xs.at(-1)}: ${last.join(", ")}`;
    }
    this.empty.hidden = this.plots.size > 0;
  }

  create(base, series, old) {
    const styles = series.map((n) => seriesStyle(label(n, base), n !== base));
    const title = `Training and validation ${base}`;
    const aria = `${title} by epoch`;
    const entry = { ...plotIn(this.root, old, base, aria, title, styles, this.width()) };
    entry.names = series;
    this.plots.set(base, entry);
    return entry;
  }

  // Two charts side by side on a wide screen, one a row on a narrow one.
  width() {
    const room = this.root.clientWidth || 640;
    return Math.max(260, Math.floor(room >= 900 ? (room - 16) / 2 : room) - 20);
  }

  resize() {
    const size = { width: this.width(), height: HEIGHT };
    for (const { plot } of this.plots.values()) plot.setSize(size);
  }

  destroy() {
    clearTimeout(this.timer);
    window.removeEventListener("resize", this.onResize);
    for (const { plot } of this.plots.values()) plot.destroy();
    this.plots.clear();
  }
}

const PALETTE = ["#1f5fbf", "#d9480f", "#2b8a3e", "#862e9c", "#0b7285", "#c2255c", "#5c940d"];

// Several jobs on one chart per metric (validation metrics first), a line per job: the
// book's chapter 4 comparison of an original, a smaller and a bigger network.
export class CompareCharts extends Charts {
  color(i) {
    return PALETTE[i % PALETTE.length];
  }

  // `runs`: [{job, epochs: [logs, …]}], in the order their colours follow.
  show(runs) {
    const names = new Set();
    for (const { epochs } of runs) {
      for (const logs of epochs) {
        for (const name of Object.keys(logs)) if (!NOT_METRICS.has(name)) names.add(name);
      }
    }
    const rank = (n) => [!n.startsWith("val_"), !n.endsWith("loss"), n];
    const order = [...names].sort((a, b) => {
      const [x, y] = [rank(a), rank(b)];
      return x[0] - y[0] || x[1] - y[1] || x[2].localeCompare(y[2]);
    });
    const xs = [...new Set(runs.flatMap(({ epochs }) => epochs.map((l) => l.epoch)))].sort(
      (a, b) => a - b,
    );
    const key = runs.map(({ job }) => `${job.id}:${job.name || ""}`).join();
    for (const name of order) {
      let entry = this.plots.get(name);
      if (!entry || entry.key !== key) {
        if (entry) entry.plot.destroy();
        entry = this.chart(name, runs, entry);
        entry.key = key;
      }
      const values = runs.map(({ epochs }) => {
        const by = new Map(epochs.map((l) => [l.epoch, l[name]]));
        return xs.map((x) => (typeof by.get(x) === "number" ? by.get(x) : null));
      });
      entry.plot.setData([xs, ...values]);
      // What the tests (and screen readers) read: how many jobs have this metric drawn.
      const drawn = values.filter((v) => v.some((p) => p !== null)).length;
      entry.figure.dataset.series = String(drawn);
      entry.caption.textContent = runs
        .map(({ job }, i) => `${job.name || job.id}: ${num(values[i].findLast((v) => v !== null))}`)
        .join(" · ");
    }
    this.empty.hidden = this.plots.size > 0;
  }

  chart(name, runs, old) {
    const series = runs.map(({ job }, i) => ({
      label: job.name || job.id,
      stroke: this.color(i),
      width: 2,
      spanGaps: true,
      points: { show: true, size: 5, fill: this.color(i) },
    }));
    const aria = `${name} by epoch, one line per job`;
    const entry = { ...plotIn(this.root, old, name, aria, name, series, this.width()) };
    entry.names = [name];
    this.plots.set(name, entry);
    return entry;
  }
}

// The objective against each numeric hyperparameter: one chart per hyperparameter, one
// point per scored trial (a scatter, the study page's view of the search).
export class ScatterCharts extends Charts {
  // `trials`: the study's; `names`: its hyperparameters; `objective`: the metric's name.
  show(trials, names, objective) {
    const scored = trials.filter((t) => t.score !== null);
    for (const name of names) {
      const points = scored
        .filter((t) => typeof t.hyperparameters[name] === "number")
        .map((t) => [t.hyperparameters[name], t.score])
        .sort((a, b) => a[0] - b[0]);
      if (!points.length) continue;
      let entry = this.plots.get(name);
      if (!entry) entry = this.scatter(name, objective);
      entry.plot.setData([points.map((p) => p[0]), points.map((p) => p[1])]);
      entry.figure.dataset.points = String(points.length);
      entry.caption.textContent = `${objective} of ${points.length} trials by ${name}`;
    }
    this.empty.hidden = this.plots.size > 0;
  }

  scatter(name, objective) {
    const series = [{ label: objective, stroke: PALETTE[1], fill: PALETTE[1],
      paths: () => null, points: { show: true, size: 8, fill: PALETTE[1] } }];
    const aria = `${objective} by ${name}, one point per trial`;
    const entry = { ...plotIn(this.root, null, name, aria, `${objective} by ${name}`, series,
      this.width(), { x: { time: false, range: (u, min, max) => pad(min, max) } }, name,
      objective) };
    entry.names = [name];
    this.plots.set(name, entry);
    return entry;
  }
}

function pad(min, max) {
  const room = (max - min) * 0.05 || Math.abs(min) * 0.05 || 1;
  return [min - room, max + room];
}
