// tk-report html: the K-line decision page. Reads the data inlined by tk-report and draws
// it with the vendored lightweight-charts (global LightweightCharts). No network.
"use strict";
(function () {
  const LC = LightweightCharts;
  const data = JSON.parse(document.getElementById("tk-data").textContent);
  const kinds = data.kinds;
  const order = Object.keys(kinds);
  const PAGE = 50;
  const TF_SECONDS = { "1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "4h": 14400, "1d": 86400 };
  const state = { timeframe: data.timeframe, groups: [], offChart: 0, filter: "all", pages: {} };

  // -- small DOM helpers (text only: nothing from the data is parsed as HTML) ------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "onclick") node.onclick = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }
  const utc = (seconds) => new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ");
  const iso = (text) => (text ? text.slice(0, 16).replace("T", " ") : "-");
  const money = (value) => (value === null || value === undefined ? "-" : value.toFixed(4));
  const signed = (value) => el("span", { class: value > 0 ? "pos" : value < 0 ? "neg" : "" }, money(value));
  const seconds = (text) => (text ? Math.floor(Date.parse(text) / 1000) : null);
  // a decision's bar on the chart (its open time), else the time it was decided
  const when = (d) => (d.t === null ? "-" : utc(barAt(Math.floor(d.t / 1000)) ?? Math.floor(d.t / 1000)));

  // -- the chart: candles + volume, equity and drawdown panes --------------------------
  const chart = LC.createChart(document.getElementById("chart"), {
    autoSize: true,
    layout: { background: { color: "#131722" }, textColor: "#d1d4dc", attributionLogo: true },
    grid: { vertLines: { color: "#1f2430" }, horzLines: { color: "#1f2430" } },
    timeScale: { timeVisible: true, secondsVisible: false },
    crosshair: { mode: LC.CrosshairMode.Normal },
  });
  const candles = chart.addSeries(LC.CandlestickSeries, {
    upColor: "#26a69a", downColor: "#ef5350", borderVisible: false,
    wickUpColor: "#26a69a", wickDownColor: "#ef5350",
  });
  const volume = chart.addSeries(LC.HistogramSeries, { priceFormat: { type: "volume" }, priceScaleId: "" });
  volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  const markers = LC.createSeriesMarkers(candles, []);
  for (const line of data.priceLines) {
    candles.createPriceLine({ price: line.price, color: line.color, lineWidth: 1, lineStyle: 2, axisLabelVisible: true, title: line.title });
  }
  if (data.equity.length) {
    const equity = chart.addSeries(LC.LineSeries, { color: "#2962ff", lineWidth: 2, title: "equity" }, 1);
    equity.setData(data.equity.map((p) => ({ time: Math.floor(p.t / 1000), value: p.equity })));
    const drawdown = chart.addSeries(LC.AreaSeries, {
      lineColor: "#ef5350", topColor: "rgba(239,83,80,0.05)", bottomColor: "rgba(239,83,80,0.4)", title: "drawdown %",
    }, 2);
    drawdown.setData(data.equity.map((p) => ({ time: Math.floor(p.t / 1000), value: p.drawdownPct })));
    chart.panes()[1].setHeight(110);
    chart.panes()[2].setHeight(90);
  }

  // -- trades as bands from entry to exit (a series primitive drawn under the candles) --
  const bands = {
    trades: [],
    attached(param) { this.requestUpdate = param.requestUpdate; },
    updateAllViews() {},
    paneViews() { return [this.view]; },
    view: {
      zOrder: () => "bottom",
      renderer: () => ({
        draw(target) {
          target.useBitmapCoordinateSpace((scope) => {
            const ctx = scope.context;
            const scale = chart.timeScale();
            for (const band of bands.trades) {
              const x1 = scale.timeToCoordinate(band.from);
              const x2 = scale.timeToCoordinate(band.to);
              if (x1 === null || x2 === null) continue;
              ctx.fillStyle = band.pnl >= 0 ? "rgba(38,166,154,0.15)" : "rgba(239,83,80,0.15)";
              const left = Math.min(x1, x2) * scope.horizontalPixelRatio;
              const width = Math.max(Math.abs(x2 - x1), 2) * scope.horizontalPixelRatio;
              ctx.fillRect(left, 0, width, scope.bitmapSize.height);
            }
          });
        },
      }),
    },
  };
  candles.attachPrimitive(bands);

  // -- bars of the current timeframe, and the decisions grouped on them ----------------
  let bars = [];
  function barAt(t) {
    // the bar holding time t (seconds): the last bar opening at or before it
    let lo = 0, hi = bars.length - 1;
    if (hi < 0 || t < bars[0] || t >= bars[hi] + TF_SECONDS[state.timeframe]) return null;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (bars[mid] <= t) lo = mid; else hi = mid - 1;
    }
    return bars[lo];
  }

  function groupDecisions() {
    const byBar = new Map();
    state.offChart = 0;
    for (const d of data.decisions) {
      const bar = d.t === null ? null : barAt(Math.floor(d.t / 1000));
      if (bar === null) { state.offChart += 1; continue; }
      if (!byBar.has(bar)) byBar.set(bar, []);
      byBar.get(bar).push(d);
    }
    state.groups = [...byBar.entries()].sort((a, b) => a[0] - b[0]).map(([time, items]) => ({ time, items }));
  }

  function markerOf(group) {
    const first = order.find((k) => group.items.some((d) => d.kind === k));
    const kind = kinds[first];
    const short = group.items.some((d) => d.side === "short" && d.kind === first);
    const shape = kind.shape === "arrowUp" && short ? "arrowDown" : kind.shape;
    return {
      time: group.time,
      position: shape === "arrowDown" ? "aboveBar" : "belowBar",
      color: kind.color, shape, id: String(group.time),
      size: first === "noplan" ? 0.6 : 1,
      text: group.items.length > 1 ? "×" + group.items.length : "",
    };
  }

  // bar open times from runs of consecutive bars, [first, count]
  function expand(runs, step) {
    const out = [];
    for (const [first, count] of runs) for (let i = 0; i < count; i++) out.push(first + i * step);
    return out;
  }

  function showTimeframe(timeframe) {
    state.timeframe = timeframe;
    const c = data.candles[timeframe];
    bars = c.t || (c.t = expand(c.runs, c.step));
    candles.setData(c.t.map((t, i) => ({ time: t, open: c.o[i], high: c.h[i], low: c.l[i], close: c.c[i] })));
    volume.setData(c.t.map((t, i) => ({
      time: t, value: c.v[i], color: c.c[i] >= c.o[i] ? "rgba(38,166,154,0.4)" : "rgba(239,83,80,0.4)",
    })));
    groupDecisions();
    markers.setMarkers(state.groups.map(markerOf));
    bands.trades = data.trades.map((t) => ({
      from: barAt(seconds(t.entryTs) ?? seconds(t.exitTs)), to: barAt(seconds(t.exitTs)), pnl: t.pnl ?? 0,
    })).filter((b) => b.from !== null && b.to !== null);
    for (const button of document.querySelectorAll("#timeframes button")) {
      button.classList.toggle("on", button.textContent === timeframe);
    }
    chart.timeScale().fitContent();
    state.drawn += 1;
  }
  state.drawn = 0;

  // -- the panel: one record's whole chain -----------------------------------------------
  function rows(pairs) {
    const dl = el("dl");
    for (const [name, value] of pairs) {
      if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) continue;
      dl.append(el("dt", {}, name), el("dd", {}, typeof value === "object" ? JSON.stringify(value) : value));
    }
    return dl;
  }
  const list = (items) => el("ul", {}, ...items.map((item) => el("li", {}, item)));

  function chainOf(d) {
    const r = d.record, plan = r.plan || {}, source = plan.source || {};
    const box = el("div", { class: "record", "data-cycle-id": d.cycleId });
    box.append(el("h3", {}, kinds[d.kind].label + " · " + d.label));
    box.append(rows([["cycleId", d.cycleId], ["bar (UTC)", when(d)]]));
    box.append(el("h3", {}, "Signal"));
    box.append(rows([
      ["source", source.kind === "telegram" ? `Telegram ${source.channel} #${source.messageId}` : [source.strategy, source.timeframe].filter(Boolean).join(" ")],
      ["bar", source.barTime], ["symbol", plan.symbol], ["side", plan.side], ["action", plan.action],
      ["reason", plan.reason], ["entry", plan.entry], ["stop-loss", plan.stopLoss], ["targets", plan.takeProfits],
      ["leverage", plan.leverage], ["evidence", plan.evidence],
    ]));
    const context = Object.assign({}, r.context || {}, plan.context || {});
    if (Object.keys(context).length) box.append(rows(Object.entries(context)));
    if (r.plan === null) box.append(el("p", { class: "hint" }, "no plan on this bar"));
    const decision = r.decision;
    if (decision) {
      box.append(el("h3", {}, "News"));
      box.append(rows([["blocked", decision.blockedByNews ? "yes" : "no"], ["status", decision.newsStatus]]));
      if (decision.newsReason && decision.newsReason.length) box.append(list(decision.newsReason));
      for (const item of decision.newsItems || []) {
        box.append(el("div", {}, `${iso(item.time)} ${item.source} ${item.direction} score ${item.score}: `,
          item.url ? el("a", { href: item.url, target: "_blank", rel: "noopener" }, item.title) : item.title));
      }
      for (const event of decision.calendarEvents || []) box.append(el("div", {}, `${iso(event.time)} ${event.importance}: ${event.event}`));
    }
    if (r.risk) {
      box.append(el("h3", {}, "Risk"));
      box.append(rows([["approved", r.risk.approved ? "yes" : "no"], ["quantity", r.risk.quantity], ["notional", r.risk.notional],
        ["leverage", r.risk.leverage], ["risk amount", r.risk.riskAmount]]));
      if (r.risk.reasons.length) box.append(el("div", { class: "risk-reasons" }, list(r.risk.reasons)));
      if ((r.risk.warnings || []).length) box.append(list(r.risk.warnings.map((w) => "warning: " + w)));
    }
    if (r.execution) {
      const x = r.execution;
      box.append(el("h3", {}, "Execution"));
      box.append(rows([["mode", x.mode], ["status", x.status], ["key", x.idempotencyKey]]));
      if ((x.reasons || []).length) box.append(list(x.reasons));
      for (const o of x.orders || []) {
        box.append(el("div", {}, `${o.role} ${o.side || ""} ${o.type || ""} size ${o.size ?? "-"} ${o.triggerPrice ? "@" + o.triggerPrice : ""} ${o.state || ""} · clientOid ${o.clientOid}`));
      }
    }
    if (d.guard.length) {
      box.append(el("h3", {}, "Guard, later"));
      box.append(list(d.guard.map((e) => `${iso(e.ts)} ${e.kind} ${e.reason || ""}${e.pnl !== undefined ? " pnl " + e.pnl : ""} (${e.where.file}:${e.where.line})`)));
    }
    box.append(el("h3", {}, "In the audit"));
    box.append(list(d.where.map(([file, line, stage]) => `${data.files[file]}:${line}${stage ? " (" + stage + ")" : ""}`)));
    const code = el("code", {}, jqCommand(d));
    box.append(code, el("button", { onclick: () => copy(code) }, "copy jq command"));
    return box;
  }

  // a shell command printing this record's audit lines
  function jqCommand(d) {
    const quote = (text) => "'" + text.replace(/'/g, "'\\''") + "'";
    const files = [...new Set(d.where.map(([file]) => data.files[file]))].filter((f) => !f.startsWith("<"));
    const query = `select((.record // .).cycleId == ${JSON.stringify(d.cycleId)})`;
    return `jq -c ${quote(query)} ${files.length ? files.map(quote).join(" ") : "DECISIONS.jsonl"}`;
  }

  function copy(code) {
    const range = document.createRange();
    range.selectNodeContents(code);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    if (navigator.clipboard) navigator.clipboard.writeText(code.textContent).catch(() => document.execCommand("copy"));
    else document.execCommand("copy");
  }

  function showPanel(items) {
    const panel = document.getElementById("panel");
    panel.replaceChildren(...items.map(chainOf));
  }

  function groupAt(time) {
    return state.groups.find((g) => g.time === time) || null;
  }

  chart.subscribeClick((param) => {
    const group = param.time === undefined ? null : groupAt(param.time);
    if (group) showPanel(group.items);
  });
  chart.subscribeCrosshairMove((param) => {
    const group = param.hoveredObjectId ? groupAt(Number(param.hoveredObjectId)) : null;
    if (group) showPanel(group.items);
  });

  function focus(d) {
    const bar = d.t === null ? null : barAt(Math.floor(d.t / 1000));
    if (bar !== null) {
      const span = 60 * TF_SECONDS[state.timeframe];
      chart.timeScale().setVisibleRange({ from: bar - span, to: bar + span });
    }
    showPanel([d]);
  }

  // -- tables: decisions (filters, paging) and trades ------------------------------------
  const FILTERS = {
    all: () => true,
    executed: (d) => ["executed", "closed", "manage"].includes(d.kind),
    blocked: (d) => d.kind === "news" || d.kind === "risk",
    "no plan": (d) => d.kind === "noplan",
    errors: (d) => d.kind === "error",
  };

  function paged(name, items, pager, draw) {
    const pages = Math.max(1, Math.ceil(items.length / PAGE));
    const page = Math.min(state.pages[name] || 0, pages - 1);
    draw(items.slice(page * PAGE, (page + 1) * PAGE));
    const go = (n) => () => { state.pages[name] = n; render(); };
    document.getElementById(pager).replaceChildren(
      el("button", { onclick: go(Math.max(0, page - 1)) }, "‹"),
      ` page ${page + 1} of ${pages} (${items.length} rows) `,
      el("button", { onclick: go(Math.min(pages - 1, page + 1)) }, "›"));
  }

  function renderDecisions() {
    const items = data.decisions.filter(FILTERS[state.filter]);
    paged("decisions", items, "decisions-pager", (rows) => {
      document.querySelector("#decisions tbody").replaceChildren(...rows.map((d) => el("tr", { onclick: () => focus(d), "data-cycle-id": d.cycleId },
        el("td", {}, when(d)), el("td", {}, kinds[d.kind].label), el("td", {}, d.side || ""),
        el("td", {}, d.label), el("td", {}, d.cycleId))));
    });
    document.getElementById("filters").replaceChildren(...Object.keys(FILTERS).map((name) =>
      el("button", { class: name === state.filter ? "on" : "", onclick: () => { state.filter = name; state.pages.decisions = 0; render(); } },
        `${name} (${data.decisions.filter(FILTERS[name]).length})`)));
  }

  function renderTrades() {
    const byCycle = new Map(data.decisions.map((d) => [d.cycleId, d]));
    paged("trades", data.trades, "trades-pager", (rows) => {
      document.querySelector("#trades tbody").replaceChildren(...rows.map((t) => el("tr", {
        onclick: () => {
          const d = byCycle.get(t.cycleId);
          if (d) focus(d);
          const bar = barAt(seconds(t.entryTs) ?? seconds(t.exitTs));
          if (bar !== null) chart.timeScale().setVisibleRange({ from: bar - 40 * TF_SECONDS[state.timeframe], to: bar + 40 * TF_SECONDS[state.timeframe] });
        },
      }, el("td", {}, iso(t.entryTs)), el("td", {}, iso(t.exitTs)), el("td", {}, t.side || ""), el("td", {}, t.entry ?? "-"),
      el("td", {}, t.exit ?? "-"), el("td", {}, signed(t.pnl)), el("td", {}, t.reason || ""))));
    });
    const tally = (key) => {
      const out = new Map();
      for (const t of data.trades) {
        const name = key(t);
        const row = out.get(name) || { n: 0, pnl: 0 };
        row.n += 1; row.pnl += t.pnl || 0;
        out.set(name, row);
      }
      return [...out.entries()].sort();
    };
    const table = (id, entries) => document.querySelector(`#${id} tbody`).replaceChildren(
      ...entries.map(([name, row]) => el("tr", {}, el("td", {}, name), el("td", {}, row.n), el("td", {}, signed(row.pnl)))));
    table("reasons", tally((t) => t.reason || "unknown"));
    table("months", tally((t) => (t.exitTs || "").slice(0, 7) || "-"));
  }

  function render() {
    renderDecisions();
    renderTrades();
  }

  // -- the rest of the page: stats, problems, timeframes, legend, backtest summary -------
  function header() {
    const pnl = data.trades.reduce((sum, t) => sum + (t.pnl || 0), 0);
    const wins = data.trades.filter((t) => (t.pnl || 0) > 0).length;
    document.getElementById("stats").replaceChildren(
      el("span", {}, `${data.decisions.length} decisions`), el("span", {}, `${data.trades.length} trades`),
      el("span", {}, "PnL ", signed(pnl)),
      el("span", {}, data.trades.length ? `win rate ${(100 * wins / data.trades.length).toFixed(1)} %` : "win rate -"),
      el("span", { class: "hint" }, `written ${data.generatedAt}`));
    const problems = document.getElementById("problems");
    const offChart = state.offChart ? [`${state.offChart} decision(s) outside the candles: listed below, not on the chart`] : [];
    if (data.problems.length || data.notes.length || offChart.length) {
      problems.hidden = false;
      problems.replaceChildren(...data.problems.map((p) => el("div", { class: "problem" }, p)),
        ...[...data.notes, ...offChart].map((n) => el("div", { class: "note" }, n)));
    }
    document.getElementById("legend").replaceChildren(...order.map((k) =>
      el("span", { "data-kind": k }, el("span", { class: "swatch " + kinds[k].shape, style: "background:" + kinds[k].color }), kinds[k].label)));
    if (data.summary) {
      document.getElementById("summary").replaceChildren(el("h2", {}, "Backtest summary"),
        rows(Object.entries(data.summary).filter(([, v]) => typeof v !== "object")));
    }
  }

  const timeframes = Object.keys(data.candles);
  document.getElementById("timeframes").replaceChildren(...timeframes.map((tf) =>
    el("button", { onclick: () => showTimeframe(tf) }, tf)));
  if (timeframes.length) showTimeframe(state.timeframe || timeframes[0]);
  else for (const d of data.decisions) state.offChart += d.t === null ? 0 : 1;
  header();
  render();

  const groupOf = (cycleId) => state.groups.find((g) => g.items.some((d) => d.cycleId === cycleId)) || null;

  // for tests and the curious: what is drawn, and where a decision's marker is
  window.tkReport = {
    state,
    chart,
    showTimeframe,
    markerCount: () => state.groups.length,
    // scroll the chart to a decision's bar; its marker is drawn on the next frame
    reveal(cycleId) {
      const group = groupOf(cycleId);
      const span = 30 * TF_SECONDS[state.timeframe];
      if (group) chart.timeScale().setVisibleRange({ from: group.time - span, to: group.time + span });
      return group !== null;
    },
    // where a decision's marker is on the page (under its bar's low, as drawn now)
    markerPoint(cycleId) {
      const group = groupOf(cycleId);
      if (!group) return null;
      const x = chart.timeScale().timeToCoordinate(group.time);
      const y = candles.priceToCoordinate(data.candles[state.timeframe].l[bars.indexOf(group.time)]);
      const box = document.getElementById("chart").getBoundingClientRect();
      return x === null || y === null ? null : { x: box.left + x, y: box.top + y + 14 };
    },
  };
})();
