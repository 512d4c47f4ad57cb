// The tenant's usage (#/usage): device-hours and their cost over a period (this month
// unless other days are picked), by accelerator class and by day, and what it holds
// next to its quota.

import { getJSON } from "./api.js";

const $ = (id) => document.getElementById(id);
const cell = (tr, content) => tr.insertCell().append(content);

// Device time as a person reads it: seconds, minutes or hours.
export const deviceTime = (seconds) =>
  seconds < 60 ? `${seconds.toFixed(2)} s`
    : seconds < 3600 ? `${(seconds / 60).toFixed(1)} min` : `${(seconds / 3600).toFixed(2)} h`;

// Cost in the service's currency: three significant digits below one unit (a book-sized
// job costs fractions of a cent), cents above.
export const money = (cost, currency) =>
  cost === null || cost === undefined
    ? "—"
    : new Intl.NumberFormat("en-US", {
      style: "currency", currency,
      ...(cost < 1 ? { maximumSignificantDigits: 3 } : { maximumFractionDigits: 2 }),
    }).format(cost);

function table(body, rows) {
  body.replaceChildren(...rows.map((values) => {
    const tr = document.createElement("tr");
    for (const v of values) cell(tr, v);
    return tr;
  }));
}

export function usageView({ showError }) {
  $("usage-view").hidden = false;
  document.title = "Usage — Cornu";
  let stopped = false;

  async function load() {
    const query = new URLSearchParams();
    if ($("usage-start").value) query.set("start", $("usage-start").value);
    if ($("usage-end").value) query.set("end", $("usage-end").value);
    try {
      const u = await getJSON(`/v1/usage?${query}`);
      if (stopped) return;
      const p = u.period;
      $("usage-start").value = p.start;
      $("usage-end").value = p.end;
      $("usage-period-hours").textContent = deviceTime(p.device_seconds);
      $("usage-period-cost").textContent = money(p.cost, u.currency);
      $("usage-total-hours").textContent = deviceTime(u.device_seconds);
      $("usage-total-cost").textContent = money(u.cost, u.currency);
      table($("usage-classes"), Object.entries(p.by_accelerator).map(([name, c]) =>
        [name, deviceTime(c.device_seconds), money(c.cost, u.currency)]));
      table($("usage-days"), p.days.map((d) =>
        [d.date, deviceTime(d.device_seconds), money(d.cost, u.currency)]));
      $("usage-none").hidden = p.days.length > 0;
      table($("usage-held"), Object.entries(u.quota).map(([name, limit]) =>
        [name, (u[name] ?? "").toLocaleString(), limit.toLocaleString()]));
      showError(null);
    } catch (err) {
      if (!stopped) showError(err);
    }
  }

  const submit = (event) => {
    event.preventDefault();
    load();
  };
  $("usage-form").addEventListener("submit", submit);
  load();
  return {
    stop() {
      stopped = true;
      $("usage-form").removeEventListener("submit", submit);
    },
  };
}
