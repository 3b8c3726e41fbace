// otsentry's report page: everything from the JSON in #report-data, nothing fetched.
"use strict";
(function () {
  // How long each part took to build (ms), for whoever measures the page.
  const timings = { start: Math.round(performance.now()) };
  let mark = performance.now();
  const took = (part) => { const now = performance.now(); timings[part] = Math.round(now - mark); mark = now; };
  const data = JSON.parse(document.getElementById("report-data").textContent);
  took("data");
  const SEV = ["info", "low", "medium", "high", "critical"];
  const sevRank = (s) => SEV.indexOf(s);
  const NS = "http://www.w3.org/2000/svg";
  // More assets than this in a band: its subnets are drawn as groups, opened on a click.
  const GROUP_LIMIT = 40;
  const el = (tag, attrs, text) => {
    const e = tag.startsWith("svg:") ? document.createElementNS(NS, tag.slice(4)) : document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const ms = (t) => Date.parse(String(t).replace(/(\.\d{3})\d+/, "$1"));
  const short = (t) => (t ? String(t).replace("T", " ").replace(/\.\d+/, "").replace("+00:00", "") : "");

  // ---- header
  (function header() {
    const h = data.header;
    const facts = document.querySelector("header .facts");
    const add = (label, value) => {
      const s = el("span");
      s.append(label + " ", el("b", {}, value));
      facts.append(s);
    };
    const caps = h.captures.length > 3 ? h.captures.slice(0, 3).join(", ") + " and " + (h.captures.length - 3) + " more" : h.captures.join(", ");
    add("captures", caps || "none");
    facts.lastChild.title = h.captures.join("\n");
    add("from", short(h.from) || "-");
    add("to", short(h.to) || "-");
    add("packets", h.packets.toLocaleString("en"));
    add("PDUs", h.pdus.toLocaleString("en"));
    add("capture loss", h.capture_loss_pct.toFixed(2) + "%");
    add("assets", data.assets.length.toLocaleString("en"));
    add("alerts", (data.alerts.length + data.alerts_not_listed).toLocaleString("en"));
    add("otsentry", h.otsentry_version);
  })();

  // ---- map
  const svg = document.getElementById("map");
  const expanded = new Set();
  const byIp = new Map(data.assets.map((a) => [a.ip, a]));
  // The subnet of `ip` with `bits` of prefix (24, 16 or 8 for IPv4; 64, 48, 32 for IPv6).
  const subnetOf = (ip, bits) => {
    if (ip.includes(":")) {
      const n = { 24: 4, 16: 3, 8: 2 }[bits];
      return ip.split(":").slice(0, n).join(":") + "::/" + n * 16;
    }
    const n = bits / 8;
    return ip.split(".").slice(0, n).concat(["0", "0", "0"].slice(0, 4 - n)).join(".") + "/" + bits;
  };
  const zones = data.zones.slice().sort((a, b) => b.rank - a.rank);

  const groupOf = new Map();
  let view = null;

  // The items of each band: its assets, or its crowded subnets as groups.
  function bandItems(zone) {
    const assets = data.assets.filter((a) => a.zone === zone.name);
    if (assets.length <= GROUP_LIMIT) return assets.map((a) => ({ kind: "asset", asset: a }));
    // The longest prefix whose subnets are few enough to draw.
    let groups;
    for (const bits of [24, 16, 8]) {
      groups = new Map();
      for (const a of assets) {
        const k = zone.name + "|" + subnetOf(a.ip, bits);
        if (!groups.has(k)) groups.set(k, []);
        groups.get(k).push(a);
      }
      if (groups.size <= GROUP_LIMIT) break;
    }
    const items = [];
    for (const [k, members] of groups) {
      for (const a of members) groupOf.set(a.ip, k);
      if (members.length === 1 || expanded.has(k)) members.forEach((a) => items.push({ kind: "asset", asset: a, group: members.length > 1 ? k : null }));
      else items.push({ kind: "group", key: k, members });
    }
    return items;
  }

  const shapes = {
    master: (g) => g.append(el("svg:circle", { class: "shape", r: 13 })),
    engineering: (g) => g.append(el("svg:polygon", { class: "shape", points: "0,-15 15,0 0,15 -15,0" })),
    plc: (g) => g.append(el("svg:rect", { class: "shape", x: -14, y: -12, width: 28, height: 24 })),
    outstation: (g) => g.append(el("svg:polygon", { class: "shape", points: "-8,-13 8,-13 15,0 8,13 -8,13 -15,0" })),
    other: (g) => g.append(el("svg:circle", { class: "shape", r: 9 })),
  };

  function drawMap() {
    svg.textContent = "";
    const bands = el("svg:g", { class: "bands" });
    const edges = el("svg:g", { class: "edges" });
    const nodes = el("svg:g", { class: "nodes" });
    svg.append(bands, edges, nodes);
    const pos = new Map(); // ip or group key -> [x, y]
    const colW = 150, rowH = 96, left = 170;
    let y = 0, width = 0;
    for (const zone of zones) {
      const items = bandItems(zone);
      if (!items.length) continue;
      const cols = Math.max(6, Math.min(24, Math.ceil(Math.sqrt(items.length * 4))));
      const rows = Math.ceil(items.length / cols);
      const h = rows * rowH + 30;
      const band = el("svg:g", { class: "band", "data-zone": zone.name });
      const w = left + cols * colW + 20;
      width = Math.max(width, w);
      band.append(el("svg:rect", { x: 0, y, width: w, height: h, rx: 4 }));
      band.append(el("svg:text", { x: 10, y: y + 20 }, zone.name + (zone.level ? " (level " + zone.level + ")" : "")));
      bands.append(band);
      items.forEach((it, i) => {
        const x = left + (i % cols) * colW + colW / 2, yy = y + 40 + Math.floor(i / cols) * rowH;
        if (it.kind === "group") {
          pos.set(it.key, [x, yy]);
          const g = el("svg:g", { class: "group", "data-group": it.key, transform: `translate(${x},${yy})` });
          g.append(el("svg:rect", { class: "shape", x: -26, y: -16, width: 52, height: 32, rx: 8 }));
          g.append(el("svg:text", { y: 30, "text-anchor": "middle" }, it.key.split("|")[1]));
          g.append(el("svg:text", { y: 4, "text-anchor": "middle" }, it.members.length + " assets"));
          g.append(el("svg:title", {}, "Click to show the " + it.members.length + " assets of " + it.key.split("|")[1]));
          g.addEventListener("click", () => { expanded.add(it.key); drawMap(); });
          nodes.append(g);
        } else {
          const a = it.asset;
          pos.set(a.ip, [x, yy]);
          const g = el("svg:g", { class: "node " + a.role, "data-ip": a.ip, transform: `translate(${x},${yy})` });
          (shapes[a.role] || shapes.other)(g);
          if (a.max_severity) g.append(el("svg:circle", { class: "sev " + a.max_severity, cx: 13, cy: -12, r: 5 }));
          g.append(el("svg:text", { y: 26, "text-anchor": "middle" }, a.ip));
          const id = a.identity.model || a.identity.product || "";
          const sub = [a.vendor || a.identity.vendor || "", id].filter(Boolean).join(" · ");
          if (sub) g.append(el("svg:text", { class: "sub", y: 38, "text-anchor": "middle" }, sub.slice(0, 34)));
          const tip = [a.ip, a.role, a.vendor, a.protocols.join(", "), Object.entries(a.identity).map(([k, v]) => k + ": " + v).join("; ")];
          g.append(el("svg:title", {}, tip.filter(Boolean).join("\n")));
          nodes.append(g);
        }
      });
      y += h + 12;
    }
    // Conversations between what is drawn: a group stands for its members.
    const at = (ip) => (pos.has(ip) ? ip : groupOf.has(ip) && pos.has(groupOf.get(ip)) ? groupOf.get(ip) : null);
    const joined = new Map();
    for (const c of data.conversations) {
      const from = at(c.client), to = at(c.server);
      if (!from || !to || from === to) continue;
      const k = from + ">" + to + ">" + c.protocol;
      const j = joined.get(k) || { from, to, protocol: c.protocol, requests: 0, classes: new Set(), forbidden: false, sev: null };
      j.requests += c.requests;
      Object.keys(c.classes).forEach((x) => j.classes.add(x));
      j.forbidden = j.forbidden || c.forbidden;
      if (c.max_severity && (!j.sev || sevRank(c.max_severity) > sevRank(j.sev))) j.sev = c.max_severity;
      joined.set(k, j);
    }
    const labels = joined.size <= 400;
    for (const j of joined.values()) {
      const [x1, y1] = pos.get(j.from), [x2, y2] = pos.get(j.to);
      const mx = (x1 + x2) / 2 + (y1 === y2 ? 0 : 12), my = (y1 + y2) / 2 - (y1 === y2 ? 22 : 0);
      const path = el("svg:path", { class: "edge " + j.protocol + (j.forbidden ? " forbidden" : ""), d: `M${x1},${y1} Q${mx},${my} ${x2},${y2}` });
      path.append(el("svg:title", {}, `${j.from} → ${j.to} ${j.protocol}: ${j.requests} requests (${[...j.classes].join(", ")})${j.forbidden ? "; forbidden by the policy" : ""}${j.sev ? "; alerts up to " + j.sev : ""}`));
      edges.append(path);
      const cx = (x1 + 2 * mx + x2) / 4, cy = (y1 + 2 * my + y2) / 4;
      if (j.sev) edges.append(el("svg:circle", { class: "sev " + j.sev, cx, cy, r: 4 }));
      if (labels) edges.append(el("svg:text", { class: "edge-label", x: cx + 6, y: cy - 3 }, j.requests + " · " + [...j.classes].join(",")));
    }
    view = { x: -10, y: -10, w: Math.max(width, 400) + 20, h: Math.max(y, 200) + 20 };
    fit();
  }

  function setView() { svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`); }
  function fit() {
    const b = svg.querySelector(".bands").getBBox();
    view = { x: b.x - 10, y: b.y - 10, w: Math.max(b.width, 100) + 20, h: Math.max(b.height, 100) + 20 };
    setView();
  }
  svg.addEventListener("wheel", (e) => {
    e.preventDefault();
    const r = svg.getBoundingClientRect();
    const scale = Math.min(view.w / r.width, view.h / r.height);
    const px = view.x + (e.clientX - r.left) * scale, py = view.y + (e.clientY - r.top) * scale;
    const k = e.deltaY > 0 ? 1.2 : 1 / 1.2;
    view = { x: px - (px - view.x) * k, y: py - (py - view.y) * k, w: view.w * k, h: view.h * k };
    setView();
  }, { passive: false });
  let drag = null;
  svg.addEventListener("mousedown", (e) => { drag = { x: e.clientX, y: e.clientY, v: { ...view } }; svg.classList.add("dragging"); });
  window.addEventListener("mouseup", () => { drag = null; svg.classList.remove("dragging"); });
  window.addEventListener("mousemove", (e) => {
    if (!drag) return;
    const r = svg.getBoundingClientRect();
    const scale = Math.max(view.w / r.width, view.h / r.height);
    view = { ...drag.v, x: drag.v.x - (e.clientX - drag.x) * scale, y: drag.v.y - (e.clientY - drag.y) * scale };
    setView();
  });
  document.getElementById("fit").addEventListener("click", fit);
  document.getElementById("expand-all").addEventListener("click", () => {
    for (const k of new Set(groupOf.values())) expanded.add(k);
    drawMap();
  });
  drawMap();
  took("map");
  document.getElementById("map-note").textContent = data.header.policy
    ? "Bands are the policy's zones, highest Purdue level first."
    : "No policy: bands by inferred role (engineering and HMIs, masters, PLCs and outstations).";

  // ---- tables, built as one string each (far faster than a node per cell)
  const esc = (t) => String(t).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  // A table as a grid of rows, each laid out only when scrolled near (a table element
  // of thousands of rows costs seconds of layout before the page shows).
  function table(id, columns, rows, opts) {
    const t = document.getElementById(id);
    const widths = columns.map((c) => (c.width || 1) + "fr").join(" ");
    t.style.setProperty("--cols", widths);
    t.innerHTML = '<div class="row head">' + columns.map((c) => '<div class="th">' + esc(c.title) + "</div>").join("") + '</div><div class="rows"></div>';
    const body = t.querySelector(".rows");
    const texts = rows.map((row) => columns.map((c) => { const v = c.value(row); return v === undefined || v === null ? "" : String(v); }));
    const parts = [];
    rows.forEach((row, i) => {
      parts.push(opts && opts.key ? '<div class="row" data-key="' + esc(opts.key(row)) + '">' : '<div class="row">');
      columns.forEach((c, j) => parts.push(c.num ? '<div class="td num">' : '<div class="td">', c.html ? c.html(row) : esc(texts[i][j]), "</div>"));
      parts.push("</div>");
    });
    body.innerHTML = parts.join("");
    const trs = body.children;
    const built = rows.map((row, i) => ({ row, tr: trs[i], text: texts[i].join(" ").toLowerCase(), cells: texts[i] }));
    t.querySelectorAll(".th").forEach((th, i) => {
      const c = columns[i];
      th.addEventListener("click", () => {
        const desc = th.classList.contains("sorted") && !th.classList.contains("desc");
        t.querySelectorAll(".th").forEach((x) => x.classList.remove("sorted", "desc"));
        th.classList.add("sorted");
        if (desc) th.classList.add("desc");
        const key = c.sort || c.value;
        const sorted = built.slice().sort((a, b) => {
          const x = key(a.row), y = key(b.row);
          const r = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y), "en", { numeric: true });
          return desc ? -r : r;
        });
        const frag = document.createDocumentFragment();
        sorted.forEach((b) => frag.append(b.tr));
        body.append(frag);
      });
    });
    return built;
  }
  const badge = (s) => (s ? '<span class="badge ' + esc(s) + '">' + esc(s) + "</span>" : "");
  const identity = (a) => Object.entries(a.identity).map(([k, v]) => k + ": " + v).join("; ");

  const invColumns = [
    { title: "IP", value: (a) => a.ip, sort: (a) => a.ip.split(/[.:]/).map((p) => p.padStart(5, "0")).join(".") },
    { title: "MACs", value: (a) => a.macs.join(" "), width: 1.3 },
    { title: "Vendor", value: (a) => a.vendor || "" },
    { title: "Role", value: (a) => a.roles.join(", ") || a.role },
    { title: "Zone", value: (a) => a.zone },
    { title: "Protocols", value: (a) => a.protocols.join(", ") },
    { title: "Identity", value: (a) => identity(a), width: 3 },
    { title: "First seen", value: (a) => short(a.first_seen) },
    { title: "Last seen", value: (a) => short(a.last_seen) },
    { title: "Alerts", num: true, value: (a) => a.alerts, html: (a) => a.alerts + " " + badge(a.max_severity) },
  ];
  const inventory = table("inventory", invColumns, data.assets, { key: (a) => a.ip });
  took("inventory");
  const count = document.getElementById("inv-count");
  const showCount = (n) => { count.textContent = n + " of " + inventory.length + " assets"; };
  showCount(inventory.length);
  document.getElementById("filter").addEventListener("input", (e) => {
    const q = e.target.value.trim().toLowerCase();
    let n = 0;
    for (const r of inventory) {
      const show = !q || r.text.includes(q);
      r.tr.hidden = !show;
      if (show) n++;
    }
    showCount(n);
  });
  document.getElementById("csv").addEventListener("click", () => {
    const quote = (s) => (/[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s);
    const lines = [invColumns.map((c) => c.title).join(",")];
    for (const r of inventory) if (!r.tr.hidden) lines.push(r.cells.map(quote).join(","));
    const a = el("a", { href: URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "text/csv" })), download: "otsentry-inventory.csv" });
    document.body.append(a);
    a.click();
    a.remove();
  });

  // ---- alerts: by severity over time, by technique, one by one
  (function alerts() {
    const chart = document.getElementById("alert-chart");
    const times = data.alerts.map((a) => ms(a.timestamp)).filter((t) => !isNaN(t));
    const t0 = Math.min(...times), t1 = Math.max(...times);
    const N = 48, W = 960, H = 170;
    chart.setAttribute("viewBox", `0 0 ${W} ${H + 24}`);
    if (!times.length) { chart.append(el("svg:text", { x: 10, y: 20 }, "No alerts.")); }
    else {
      const bins = Array.from({ length: N }, () => SEV.map(() => 0));
      for (const a of data.alerts) {
        const i = t1 > t0 ? Math.min(N - 1, Math.floor(((ms(a.timestamp) - t0) / (t1 - t0)) * N)) : 0;
        bins[i][Math.max(0, sevRank(a.severity))]++;
      }
      const top = Math.max(1, ...bins.map((b) => b.reduce((x, y) => x + y, 0)));
      const bw = W / N;
      bins.forEach((b, i) => {
        let y = H;
        b.forEach((n, s) => {
          if (!n) return;
          const h = (n / top) * (H - 10);
          y -= h;
          const r = el("svg:rect", { class: "sev " + SEV[s], x: i * bw + 1, y, width: bw - 2, height: h });
          r.append(el("svg:title", {}, n + " " + SEV[s]));
          chart.append(r);
        });
      });
      chart.append(el("svg:text", { x: 0, y: H + 18, "font-size": 11 }, short(new Date(t0).toISOString())));
      chart.append(el("svg:text", { x: W, y: H + 18, "font-size": 11, "text-anchor": "end" }, short(new Date(t1).toISOString())));
      chart.append(el("svg:text", { x: W, y: 12, "font-size": 11, "text-anchor": "end" }, "peak " + top + " per bin"));
    }
    const tech = new Map();
    for (const a of data.alerts) for (const t of a.techniques) tech.set(t, (tech.get(t) || 0) + 1);
    table("by-technique", [{ title: "ATT&CK technique", value: (r) => r[0] }, { title: "Alerts", num: true, value: (r) => r[1] }], [...tech].sort((a, b) => b[1] - a[1]));
    const listed = data.alerts.slice(0, 2000);
    table("alerts", [
      { title: "Time", value: (a) => short(a.timestamp) },
      { title: "Severity", value: (a) => a.severity, sort: (a) => sevRank(a.severity), html: (a) => badge(a.severity) },
      { title: "Rule", value: (a) => a.rule_id },
      { title: "Signature", value: (a) => a.signature, width: 2 },
      { title: "Techniques", value: (a) => a.techniques.join(", ") },
      { title: "Source → destination", value: (a) => a.src + " → " + a.dst },
      { title: "What matched", value: (a) => a.detail, width: 3 },
    ], listed);
    const rest = data.alerts.length - listed.length + data.alerts_not_listed;
    document.getElementById("alerts-note").textContent = rest > 0 ? rest + " more alerts are counted but not listed." : "";
  })();

  took("alerts");
  // ---- conversations
  table("conversations", [
    { title: "Client", value: (c) => c.client },
    { title: "Server", value: (c) => c.server },
    { title: "Protocol", value: (c) => c.protocol },
    { title: "Requests", num: true, value: (c) => c.requests },
    { title: "Function mix", value: (c) => Object.entries(c.classes).map(([k, v]) => k + " " + v).join(" · "), width: 1.5 },
    { title: "Functions", value: (c) => c.functions.slice(0, 6).map(([k, v]) => k + " " + v).join(", "), width: 2 },
    { title: "Response (ms)", num: true, value: (c) => (c.response_ms == null ? "" : c.response_ms.toFixed(1)), sort: (c) => c.response_ms ?? -1 },
    { title: "Capture loss", num: true, value: (c) => (c.loss_pct == null ? "" : c.loss_pct.toFixed(2) + "%"), sort: (c) => c.loss_pct ?? -1 },
    { title: "First seen", value: (c) => short(c.first_seen) },
    { title: "Last seen", value: (c) => short(c.last_seen) },
    { title: "Policy", value: (c) => (c.forbidden ? "forbidden" : "") },
    { title: "Alerts", num: true, value: (c) => c.alerts, html: (c) => c.alerts + " " + badge(c.max_severity) },
  ], data.conversations);

  took("conversations");
  timings.end = Math.round(performance.now());
  // For people scripting the page (and the browser test): fit, open a group, find one.
  window.otsentryReport = { data, timings, fit, groupOf: (ip) => groupOf.get(ip) || null, expand: (k) => { expanded.add(k); drawMap(); } };
})();
