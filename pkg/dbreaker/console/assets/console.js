// The breaker console's page: renders the live stream (api/events) and
// sends operator actions (api/breakers/{name}/{action}). Everything it
// shows is written with textContent, never parsed as HTML.
"use strict";

(function () {
  const STATES = {
    closed: { label: "Closed", mark: "✓" },
    open: { label: "OPEN", mark: "✕" },
    half_open: { label: "Half-open (probing)", mark: "◐" },
    forced_open: { label: "FORCED OPEN", mark: "■" },
    forced_closed: { label: "Forced closed", mark: "□" },
    disabled: { label: "Disabled (pass-through)", mark: "–" },
  };
  const ACTIONS = [
    { name: "force-open", label: "Force open", effect: "Every replica will reject every call to %s until it is reset." },
    { name: "force-closed", label: "Force closed", effect: "Every replica will admit every call to %s, and it will never trip, until it is reset." },
    { name: "disable", label: "Disable", effect: "%s becomes pass-through on every replica: nothing is recorded until it is reset." },
    { name: "reset", label: "Reset", effect: "%s becomes closed, as new, on every replica: counters, probes and overrides are cleared." },
  ];
  const VERDICTS = {
    agrees: "agrees with Redis",
    behind: "catching up with Redis",
    disagrees: "DISAGREES with Redis",
    local: "DECIDES LOCALLY",
    unknown: "not learned yet",
  };
  const FLAGS = {
    decides_locally: ["Decides locally", true],
    disagrees: ["Disagrees with Redis", true],
    behind: ["Catching up", false],
    silent: ["Silent", true],
  };

  let doc = null;          // the last state document
  let receivedAt = 0;      // when it arrived (local clock)
  const histories = {};    // breaker -> entries, newest first
  const rows = new Map();  // breaker -> its row's cells
  const operator = { by: "", token: "" };
  let pending = null;      // the action the dialog asks about

  const $ = (id) => document.getElementById(id);
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function pad(n) { return String(n).padStart(2, "0"); }
  function clock(ms) {
    if (!ms) return "–";
    const d = new Date(ms);
    const t = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
    const today = new Date();
    if (d.toDateString() === today.toDateString()) return t;
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + t;
  }
  function seconds(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    return s < 120 ? s + " s" : Math.round(s / 60) + " min";
  }
  function duration(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 120) return s + " s";
    const m = Math.floor(s / 60);
    if (m < 120) return m + " min";
    return Math.floor(m / 60) + " h " + (m % 60) + " min";
  }
  function minutes(ms) {
    const m = Math.round(ms / 60000);
    return m + (m === 1 ? " minute" : " minutes");
  }
  function stateBadge(state) {
    const s = STATES[state] || { label: state, mark: "?" };
    return el("span", { class: "state s-" + state, "data-mark": s.mark, "data-state": state }, s.label);
  }
  function announce(text) { $("announce").textContent = text; }

  function renderBreakers() {
    if (!doc) return;
    const body = $("breaker-table").tBodies[0];
    const seen = new Set();
    for (const b of doc.breakers) {
      seen.add(b.name);
      let r = rows.get(b.name);
      if (!r) {
        r = newRow(b.name);
        rows.set(b.name, r);
      }
      body.appendChild(r.tr); // keeps the order of the document
      r.tr.dataset.state = b.state;
      r.state.replaceChildren(stateBadge(b.state));
      if (b.state !== b.underlying) r.state.appendChild(el("div", { class: "muted" }, "underneath: " + (STATES[b.underlying] || {}).label));
      if (b.corrupt) r.state.appendChild(el("div", { class: "flag-alert" }, "stored state unreadable"));
      if ((b.state === "open" || b.state === "half_open") && b.opened_at_ms) {
        // How long, by Redis' clock (the document's time) plus the time since it arrived.
        const open = b.store_time_ms ? b.store_time_ms - b.opened_at_ms + (Date.now() - receivedAt) : Date.now() - b.opened_at_ms;
        r.state.appendChild(el("div", { class: "since" }, "open since " + clock(b.opened_at_ms) + " (for " + duration(open) + ")"));
      }
      r.failures.textContent = b.failures;
      r.trips.textContent = b.trips;
      const openish = b.state === "open" || b.state === "half_open";
      if (openish && b.open_until_ms) {
        const left = b.open_for_ms - (Date.now() - receivedAt);
        r.until.textContent = clock(b.open_until_ms) + (left > 0 ? " (probe in " + seconds(left) + ")" : " (a probe may run)");
      } else {
        r.until.textContent = "–";
      }
      r.error.textContent = b.last_error || "–";
      r.updated.textContent = clock(b.updated_at_ms);
      r.actions.hidden = !doc.actions;
    }
    for (const [name, r] of rows) {
      if (!seen.has(name)) { r.tr.remove(); rows.delete(name); }
    }
    $("no-breakers").hidden = doc.breakers.length > 0;
    const filter = $("history-filter");
    for (const b of doc.breakers) {
      if (![...filter.options].some((o) => o.value === b.name)) filter.appendChild(el("option", { value: b.name }, b.name));
    }
  }

  function newRow(name) {
    const tr = el("tr", { "data-breaker": name });
    const th = el("th", { scope: "row" }, name);
    const cells = { tr, state: el("td"), failures: el("td", { class: "num" }), trips: el("td", { class: "num" }),
      until: el("td"), error: el("td", { class: "error-text" }), updated: el("td"), actions: el("div", { class: "actions" }) };
    for (const a of ACTIONS) {
      const btn = el("button", { type: "button", "data-action": a.name, "aria-label": a.label + " " + name }, a.label);
      btn.addEventListener("click", () => ask(name, a, btn));
      cells.actions.appendChild(btn);
    }
    const actionsCell = el("td");
    actionsCell.appendChild(cells.actions);
    tr.append(th, cells.state, cells.failures, cells.trips, cells.until, cells.error, cells.updated, actionsCell);
    return cells;
  }

  function renderReplicas() {
    if (!doc) return;
    const body = $("replica-table").tBodies[0];
    const out = [];
    for (const r of doc.replicas) {
      const tr = el("tr", { "data-replica": r.replica, "data-silent": r.silent ? "true" : "false" });
      tr.appendChild(el("th", { scope: "row" }, r.replica));
      let store = r.degraded ? "DEGRADED: Redis unavailable" : "Redis";
      if (r.silent) store = "UNKNOWN: no heartbeat" + (r.degraded ? " (degraded when last heard)" : "");
      tr.appendChild(el("td", {}, store));
      const views = el("ul", { class: "views" });
      for (const v of r.breakers) {
        const li = el("li", { "data-breaker": v.name, "data-state": v.state, "data-verdict": v.verdict });
        li.append(el("span", {}, v.name + ": "), stateBadge(v.state),
          el("span", {}, " gen " + v.gen + " "), el("span", { class: "verdict v-" + v.verdict }, VERDICTS[v.verdict] || v.verdict));
        views.appendChild(li);
      }
      const viewsCell = el("td");
      if (r.silent) viewsCell.appendChild(el("div", { class: "muted" }, "As last heard:"));
      viewsCell.appendChild(views);
      tr.appendChild(viewsCell);
      const flags = el("td");
      for (const f of r.flags) {
        const [label, alert] = FLAGS[f] || [f, true];
        const text = f === "silent" ? label + " for " + seconds(r.silent_for_ms) : label;
        flags.appendChild(el("span", { class: "flag" + (alert ? " flag-alert" : ""), "data-flag": f }, (alert ? "⚠ " : "") + text));
      }
      if (r.silent) {
        flags.appendChild(el("p", { class: "note" }, "No heartbeat since " + clock(receivedAt - r.silent_for_ms) +
          ": the replica is down, or it is cut off from Redis and its breakers decide locally by their " +
          "StoreFailure policy. Listed until " + minutes(doc.keep_silent_ms) + " after it was last heard."));
      }
      if (r.flags.length === 0) flags.textContent = "–";
      tr.appendChild(flags);
      out.push(tr);
    }
    body.replaceChildren(...out);
    $("no-replicas").hidden = doc.replicas.length > 0;
    $("keep-silent").textContent = minutes(doc.keep_silent_ms);
  }

  function renderHistory() {
    const filter = $("history-filter").value;
    let entries = [];
    for (const [name, list] of Object.entries(histories)) {
      if (!filter || filter === name) entries = entries.concat(list);
    }
    entries.sort((a, b) => b.at_ms - a.at_ms || (a.id < b.id ? 1 : -1));
    const out = entries.slice(0, 200).map((e) => {
      const tr = el("tr", { "data-breaker": e.breaker, "data-to": e.to, "data-action": e.action || "", "data-by": e.by || "" });
      tr.appendChild(el("td", {}, clock(e.at_ms)));
      tr.appendChild(el("th", { scope: "row" }, e.breaker));
      const change = el("td");
      change.append(stateBadge(e.from), el("span", { "aria-label": "to" }, " → "), stateBadge(e.to));
      tr.appendChild(change);
      tr.appendChild(el("td", { class: "num" }, e.gen));
      tr.appendChild(el("td", {}, e.action ? e.action + " by " + (e.by || "(unnamed)") : "–"));
      tr.appendChild(el("td", { class: "error-text" }, e.error || "–"));
      return tr;
    });
    $("history-table").tBodies[0].replaceChildren(...out);
  }

  function render() {
    $("prefix").textContent = doc.prefix;
    $("mode").textContent = doc.actions ? "actions need the console token" : "read-only (no CONSOLE_TOKEN configured)";
    renderBreakers();
    renderReplicas();
  }

  // The confirmation dialog.
  let opener = null;
  function ask(name, action, btn) {
    pending = { name, action };
    opener = btn;
    $("confirm-title").textContent = action.label + " " + name + "?";
    $("confirm-what").textContent = action.effect.replace("%s", name);
    $("confirm-error").textContent = "";
    $("op-name").value = operator.by;
    $("op-token").value = operator.token;
    $("confirm").showModal();
    (operator.by ? (operator.token ? $("confirm-ok") : $("op-token")) : $("op-name")).focus();
  }
  function closeDialog() {
    $("confirm").close();
    if (opener) opener.focus();
  }
  async function confirmAction(ev) {
    ev.preventDefault();
    if (!pending) return;
    const by = $("op-name").value.trim();
    const token = $("op-token").value.trim();
    if (!by || !token) {
      $("confirm-error").textContent = "Give your name and the console token.";
      return;
    }
    $("confirm-ok").disabled = true;
    try {
      const resp = await fetch("api/breakers/" + encodeURIComponent(pending.name) + "/" + pending.action.name, {
        method: "POST",
        headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" },
        body: JSON.stringify({ by }),
      });
      const body = await resp.json().catch(() => ({}));
      if (!resp.ok) {
        $("confirm-error").textContent = body.error || resp.status + " " + resp.statusText;
        return;
      }
      operator.by = by;
      operator.token = token;
      announce(pending.name + " is now " + (STATES[body.state] || {}).label + " (generation " + body.gen + "), by " + by + ".");
      pending = null;
      closeDialog();
    } catch (err) {
      $("confirm-error").textContent = "The request failed: " + err;
    } finally {
      $("confirm-ok").disabled = false;
    }
  }

  function connect() {
    const es = new EventSource("api/events");
    es.addEventListener("open", () => { $("conn").textContent = "Live"; $("conn").className = "live-ok"; });
    es.addEventListener("error", () => { $("conn").textContent = "Reconnecting…"; $("conn").className = "live-down"; });
    es.addEventListener("state", (e) => {
      doc = JSON.parse(e.data);
      receivedAt = Date.now();
      render();
    });
    es.addEventListener("history", (e) => {
      const h = JSON.parse(e.data);
      histories[h.breaker] = h.entries;
      renderHistory();
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("confirm-form").addEventListener("submit", confirmAction);
    $("confirm-cancel").addEventListener("click", () => { pending = null; closeDialog(); });
    $("confirm").addEventListener("cancel", () => { pending = null; if (opener) setTimeout(() => opener.focus(), 0); });
    $("history-filter").addEventListener("change", renderHistory);
    setInterval(renderBreakers, 1000); // the countdown to the next probe
    connect();
  });
})();
