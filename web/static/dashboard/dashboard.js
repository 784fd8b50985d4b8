// The cardiosynth dashboard: polls the JSON API and renders it. Plain DOM (createElement, textContent):
// nothing the API returns is ever parsed as HTML.
"use strict";

(() => {
  const TOKEN_KEY = "cardiosynth.apiToken";
  const POLL_MS = 1000;
  const ROW_LIMIT = 8;
  const TERMINAL = new Set(["completed", "failed", "cancelled"]);
  // Columns of the latest rows, shown when the table has them: [column, heading, class].
  const ROW_COLUMNS = [["ingested_at", "landed", ""], ["model_name", "model", ""], ["sex", "sex", ""],
    ["age_category", "age", ""], ["general_health", "general health", ""], ["heart_disease", "heart disease", ""],
    ["bmi", "BMI", "num"], ["smoking_history", "smoker", ""], ["record_id", "record", "mono"]];

  const $ = (id) => document.getElementById(id);
  const state = {
    methods: new Map(), modelDetails: new Map(), modelOptions: "", datasetOptions: "", defaultModel: null,
  };

  // ---------------------------------------------------------------- the API

  class ApiError extends Error {
    constructor(status, body, message) {
      super(message);
      this.status = status;
      this.body = body;
    }
  }

  function token() {
    try { return localStorage.getItem(TOKEN_KEY) || ""; } catch { return ""; }
  }

  /** The API's JSON answer; throws ApiError with the API's own message on an error status. */
  async function api(method, path, body, {acceptStatus = []} = {}) {
    const headers = {Accept: "application/json"};
    if (token()) headers.Authorization = `Bearer ${token()}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let resp;
    try {
      // relative to the page, so the dashboard works behind a path prefix
      resp = await fetch(path.replace(/^\//, ""), {
        method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(0, null, `the service cannot be reached (${err.message})`);
    }
    const text = await resp.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (resp.ok || (acceptStatus.includes(resp.status) && data)) return data;
    const message = (data && typeof data.error === "string") ? data.error : `HTTP ${resp.status} ${resp.statusText}`;
    const error = new ApiError(resp.status, data, message);
    if (resp.status === 401 || resp.status === 403) askForToken(error);
    throw error;
  }

  /** Lines a person reads: the error, or one line per invalid field (422). */
  function errorLines(error) {
    const detail = error.body && Array.isArray(error.body.detail) ? error.body.detail : [];
    if (detail.length) return detail.map((d) => `${d.field || "body"}: ${d.message}`);
    return [error.message];
  }

  // ---------------------------------------------------------------- small DOM helpers

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  }

  function setText(node, text) {
    const value = text === null || text === undefined ? "" : String(text);
    if (node.textContent !== value) node.textContent = value;
  }

  const integer = new Intl.NumberFormat("en-US", {maximumFractionDigits: 0});
  const fmtInt = (n) => (n === null || n === undefined ? "–" : integer.format(n));
  const fmtNum = (n, digits = 3) => (typeof n === "number" ? n.toFixed(digits) : "–");
  const fmtPct = (n) => (typeof n === "number" ? `${Math.round(n * 100)}%` : "–");

  function fmtTime(iso) {
    if (!iso) return "–";
    const date = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
    if (Number.isNaN(date.getTime())) return String(iso);
    const sameDay = date.toDateString() === new Date().toDateString();
    return sameDay ? date.toLocaleTimeString() : date.toLocaleString();
  }

  function fmtSeconds(seconds) {
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) return "–";
    if (seconds < 60) return `${seconds.toFixed(1)} s`;
    return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  }

  function elapsed(from, to) {
    if (!from || !to) return null;
    const parse = (iso) => new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`).getTime();
    return (parse(to) - parse(from)) / 1000;
  }

  function badge(status) {
    return el("span", {class: `badge badge-${status || "unknown"}`, text: status || "unknown"});
  }

  function progressBar() {
    const fill = el("span", {class: "bar-fill"});
    const bar = el("div", {class: "bar", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100}, fill);
    const label = el("span", {class: "bar-label"});
    return {node: el("div", {class: "bar-cell"}, bar, label), bar, fill, label};
  }

  function setProgress(parts, percent, text, tone) {
    const value = Math.max(0, Math.min(100, percent || 0));
    parts.bar.setAttribute("aria-valuenow", String(Math.round(value)));
    parts.fill.style.width = `${value}%`;
    parts.bar.dataset.tone = tone || "";
    setText(parts.label, text);
  }

  /** Keep one row per key in `tbody`, in the order of `items`; rows are updated in place, not rebuilt. */
  function syncRows(table, items, keyOf, create, update) {
    const tbody = table.tBodies[0];
    const rows = new Map([...tbody.rows].map((row) => [row.dataset.key, row]));
    items.forEach((item, index) => {
      const key = keyOf(item);
      let row = rows.get(key);
      if (!row) {
        row = create(item);
        row.dataset.key = key;
      }
      rows.delete(key);
      update(row, item);
      if (tbody.rows[index] !== row) tbody.insertBefore(row, tbody.rows[index] || null);
    });
    rows.forEach((row) => row.remove());
    const empty = document.querySelector(`[data-empty="${table.id}"]`);
    if (empty) empty.hidden = items.length > 0;
  }

  // ---------------------------------------------------------------- banner and token

  function showBanner(lines, tone = "error") {
    const banner = $("banner");
    banner.replaceChildren(...[].concat(lines).map((line) => el("div", {text: line})));
    banner.dataset.tone = tone;
    banner.hidden = false;
  }

  function clearBanner() {
    $("banner").hidden = true;
  }

  function askForToken(error) {
    $("token-panel").hidden = false;
    setText($("token-note"), token()
      ? `The saved token was refused (${error.message}): enter the worker's API_TOKEN.`
      : `This worker needs a token (${error.message}): enter its API_TOKEN.`);
    $("token-note").className = "warn";
  }

  function setUpToken() {
    $("token-toggle").addEventListener("click", () => {
      $("token-panel").hidden = !$("token-panel").hidden;
      if (!$("token-panel").hidden) $("token-input").focus();
    });
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("token-input").value.trim();
      try {
        if (value) localStorage.setItem(TOKEN_KEY, value); else localStorage.removeItem(TOKEN_KEY);
      } catch { /* storage disabled: the token lasts until the page closes */ }
      $("token-input").value = "";
      setText($("token-note"), value ? "Token saved in this browser." : "Token forgotten.");
      $("token-note").className = "ok";
      refreshTokenButton();
      if (value) $("token-panel").hidden = true;
      refresh();
    });
    $("token-forget").addEventListener("click", () => {
      try { localStorage.removeItem(TOKEN_KEY); } catch { /* nothing kept */ }
      setText($("token-note"), "Token forgotten.");
      $("token-note").className = "muted";
      refreshTokenButton();
    });
    refreshTokenButton();
  }

  function refreshTokenButton() {
    setText($("token-toggle"), token() ? "API token ✓" : "API token");
  }

  // ---------------------------------------------------------------- health and totals

  function renderHealth(health) {
    const parts = health.parts || {};
    const status = health.status || "unknown";
    $("health").dataset.status = status;
    const details = Object.entries(parts).map(([name, part]) =>
      `${name.replace("_", " ")}: ${part.status}${part.error ? ` (${part.error})` : ""}`);
    setText($("health-text"), status === "ok" ? "healthy" : status);
    $("health").title = details.join("\n");
  }

  function renderKpis(tasks, streams, summary) {
    if (tasks) setText($("kpi-trainings"), fmtInt(tasks.filter((t) => !TERMINAL.has(t.status)).length));
    if (streams) setText($("kpi-streams"), fmtInt(streams.filter((s) => !TERMINAL.has(s.state)).length));
    if (summary) setText($("kpi-rows"), fmtInt(summary.row_count));
  }

  // ---------------------------------------------------------------- models

  async function loadModelDetails(models) {
    const stale = models.filter((m) => state.modelDetails.get(m.name)?.latest_version !== m.latest_version);
    await Promise.all(stale.map(async (m) => {
      try {
        const detail = await api("GET", `models/${encodeURIComponent(m.name)}`);
        const latest = detail.versions.find((v) => v.version === detail.latest_version) || {};
        state.modelDetails.set(m.name, {latest_version: m.latest_version, info: latest});
      } catch (error) {
        state.modelDetails.set(m.name, {latest_version: null, info: {}, error: error.message});
      }
    }));
    for (const name of [...state.modelDetails.keys()]) {
      if (!models.some((m) => m.name === name)) state.modelDetails.delete(name);
    }
  }

  function renderModels(listing) {
    const models = listing.models || [];
    state.defaultModel = listing.default_model;
    setText($("kpi-models"), fmtInt(models.length));
    $("train-model").placeholder = listing.default_model || "";
    syncRows($("models-table"), models, (m) => m.name, () => {
      const quality = progressBar();
      const report = el("a", {class: "report-link", text: "report", target: "_blank", rel: "noopener"});
      const row = el("tr", {},
        el("td", {class: "name"}), el("td", {class: "version num"}), el("td", {class: "method"}),
        el("td", {}, quality.node), el("td", {class: "tstr num"}), el("td", {class: "dcr num"}),
        el("td", {class: "rows num"}), el("td", {class: "trained"}), el("td", {}, report));
      row._quality = quality;
      row._report = report;
      return row;
    }, (row, model) => {
      const detail = state.modelDetails.get(model.name) || {info: {}};
      const info = detail.info || {};
      const metrics = info.metrics || {};
      const name = row.cells[0];
      name.replaceChildren(el("strong", {text: model.name}));
      if (model.name === listing.model_when_unnamed) name.append(el("span", {class: "tag", text: "default"}));
      setText(row.cells[1], `v${model.latest_version}`);
      row.cells[1].title = `versions: ${(model.versions || []).join(", ")}`;
      setText(row.cells[2], info.method || "");
      const score = metrics.quality_score;
      setProgress(row._quality, typeof score === "number" ? score * 100 : 0,
        typeof score === "number" ? fmtPct(score) : (info.evaluation_error ? "not evaluated" : "–"),
        typeof score === "number" ? (score >= 0.8 ? "good" : score >= 0.6 ? "fair" : "poor") : "none");
      const spread = metrics.spread || {};
      const seeds = `mean of ${metrics.evaluation_seeds || 1} seeds`;
      row._quality.node.title = info.evaluation_error || detail.error ||
        `SDMetrics quality score, ${seeds}, sd ${fmtNum(spread.quality_score)}`;
      setText(row.cells[4], fmtNum(metrics.tstr_auc));
      row.cells[4].title = `${seeds}, sd ${fmtNum(spread.tstr_auc)}; TRTR ${fmtNum(metrics.trtr_auc)}`;
      setText(row.cells[5], fmtNum(metrics.dcr_share));
      row.cells[5].title = `${seeds}, sd ${fmtNum(spread.dcr_share)}`;
      setText(row.cells[6], fmtInt(info.training_rows));
      setText(row.cells[7], fmtTime(info.created_at));
      row._report.href = `models/${encodeURIComponent(model.name)}/report.html`;
      row._report.hidden = typeof score !== "number";
    });
    fillModelSelect(models, listing.model_when_unnamed);
  }

  function fillModelSelect(models, defaultModel) {
    const signature = JSON.stringify([defaultModel, models.map((m) => [m.name, m.latest_version])]);
    if (signature === state.modelOptions) return;
    state.modelOptions = signature;
    const select = $("stream-model");
    const chosen = select.value;
    const options = [el("option", {value: "", text: `server default${defaultModel ? ` (${defaultModel})` : ""}`})];
    for (const m of models) options.push(el("option", {value: m.name, text: `${m.name} (v${m.latest_version})`}));
    select.replaceChildren(...options);
    if (models.some((m) => m.name === chosen)) select.value = chosen;
  }

  // ---------------------------------------------------------------- trainings

  function renderTasks(tasks) {
    syncRows($("tasks-table"), tasks, (t) => t.task_id, () => {
      const progress = progressBar();
      const row = el("tr", {},
        el("td", {class: "name"}), el("td", {class: "method"}), el("td", {class: "status"}),
        el("td", {class: "progress"}, progress.node), el("td", {class: "message"}), el("td", {class: "started"}),
        el("td", {class: "took num"}));
      row._progress = progress;
      return row;
    }, (row, task) => {
      row.dataset.status = task.status;
      setText(row.cells[0], task.model_name);
      setText(row.cells[1], task.epochs ? `${task.method}, ${task.epochs} epochs` : task.method);
      if (row.cells[2].textContent !== task.status) row.cells[2].replaceChildren(badge(task.status));
      const percent = Math.round(task.progress || 0);
      setProgress(row._progress, percent, `${percent}%`, task.status === "failed" ? "bad" : "");
      const message = task.status === "failed" ? (task.error || task.message) : task.message;
      setText(row.cells[4], message);
      row.cells[4].title = message || "";
      setText(row.cells[5], fmtTime(task.started_at || task.created_at));
      setText(row.cells[6], fmtSeconds(elapsed(task.started_at, task.completed_at)));
    });
  }

  // ---------------------------------------------------------------- streams

  async function cancelStream(streamId, button) {
    button.disabled = true;
    try {
      await api("DELETE", `stream/${encodeURIComponent(streamId)}`);
      clearBanner();
    } catch (error) {
      showBanner(errorLines(error).map((line) => `Cancel: ${line}`));
      button.disabled = false;
    }
    refresh();
  }

  function renderStreams(streams) {
    syncRows($("streams-table"), streams, (s) => s.stream_id, (stream) => {
      const landed = progressBar();
      const cancel = el("button", {type: "button", class: "small danger cancel", text: "Cancel"});
      cancel.addEventListener("click", () => cancelStream(stream.stream_id, cancel));
      const row = el("tr", {},
        el("td", {class: "id mono", text: stream.stream_id.slice(0, 8), title: stream.stream_id}),
        el("td", {class: "model"}), el("td", {class: "state"}), el("td", {class: "landed"}, landed.node),
        el("td", {class: "rate num"}), el("td", {class: "pace"}), el("td", {class: "started"}), el("td", {}, cancel));
      row._landed = landed;
      row._cancel = cancel;
      return row;
    }, (row, stream) => {
      row.dataset.state = stream.state;
      setText(row.cells[1], stream.model_version ? `${stream.model_name} v${stream.model_version}` : stream.model_name);
      if (row.cells[2].textContent !== stream.state) row.cells[2].replaceChildren(badge(stream.state));
      const total = stream.num_samples || 0;
      const landed = stream.rows_landed;
      row._landed.node.dataset.rowsLanded = String(landed);
      setProgress(row._landed, total && landed ? (100 * landed) / total : 0, `${fmtInt(landed)} / ${fmtInt(total)}`,
        stream.state === "failed" ? "bad" : stream.state === "cancelled" ? "muted" : "");
      setText(row.cells[4], stream.rows_per_second === null || stream.rows_per_second === undefined
        ? "–" : fmtInt(stream.rows_per_second));
      const interval = stream.interval_seconds || 0;
      setText(row.cells[5], stream.kind === "generate" ? "one shot"
        : interval > 0 ? `${fmtInt(stream.batch_size)} every ${interval} s` : `${fmtInt(stream.batch_size)}, no pause`);
      setText(row.cells[6], fmtTime(stream.created_at));
      row._cancel.hidden = TERMINAL.has(stream.state);
      row.cells[7].title = stream.error || "";
    });
  }

  // ---------------------------------------------------------------- latest rows

  function rowValue(record, column) {
    const value = record[column];
    if (value === null || value === undefined) return "–";
    if (column === "ingested_at") return fmtTime(value);
    if (column === "model_name") return record.model_version ? `${value} v${record.model_version}` : value;
    if (column === "record_id") return String(value).slice(0, 8);
    if (typeof value === "number" && !Number.isInteger(value)) return value.toFixed(1);
    return value;
  }

  function renderRows(records) {
    const table = $("rows-table");
    const present = records.length ? ROW_COLUMNS.filter(([column]) => column in records[0]) : [];
    const head = table.tHead.rows[0];
    const signature = present.map(([column]) => column).join();
    if (present.length && head.dataset.columns !== signature) {
      head.dataset.columns = signature;
      head.replaceChildren(...present.map(([, heading, cls]) => el("th", {text: heading, class: cls || null})));
      table.tBodies[0].replaceChildren();
    }
    syncRows(table, records, (r) => String(r.record_id),
      () => el("tr", {}, ...present.map(([, , cls]) => el("td", {class: cls || null}))),
      (row, record) => present.forEach(([column], i) => {
        if (row.cells[i]) setText(row.cells[i], rowValue(record, column));
      }));
  }

  // ---------------------------------------------------------------- the poll loop

  let timer = null;
  let running = false;

  async function refresh() {
    if (running) return;
    running = true;
    clearTimeout(timer);
    const failures = [];
    const attempt = async (what, load) => {
      try { return await load(); } catch (error) { failures.push(`${what}: ${error.message}`); return null; }
    };
    try {
      const [health, listing, tasks, streams, records, summary] = await Promise.all([
        attempt("health", () => api("GET", "health", undefined, {acceptStatus: [503]})),
        attempt("models", () => api("GET", "models")),
        attempt("training tasks", () => api("GET", "train/tasks")),
        attempt("streams", () => api("GET", "streams")),
        attempt("warehouse", () => api("GET", `warehouse/records?limit=${ROW_LIMIT}`)),
        attempt("warehouse", () => api("GET", "warehouse/summary")),
        state.methods.size ? null : attempt("methods", loadMethods),
        state.datasetOptions ? null : attempt("datasets", loadDatasets),
      ]);
      if (health) renderHealth(health);
      else { $("health").dataset.status = "down"; setText($("health-text"), "unreachable"); }
      if (listing) {
        await loadModelDetails(listing.models || []);
        renderModels(listing);
      }
      if (tasks) renderTasks(tasks.tasks || []);
      if (streams) renderStreams(streams.streams || []);
      if (records) renderRows(records.records || []);
      renderKpis(tasks && tasks.tasks, streams && streams.streams, summary);
      setText($("rows-source"), summary ? `${summary.warehouse || ""} ${summary.table || ""}`.trim() : "");
      if (failures.length) showBanner([...new Set(failures)], "warn");
      else if ($("banner").dataset.tone === "warn") clearBanner();
      setText($("updated"), `updated ${new Date().toLocaleTimeString()}`);
    } finally {
      running = false;
      timer = setTimeout(refresh, document.hidden ? POLL_MS * 5 : POLL_MS);
    }
  }

  // ---------------------------------------------------------------- the forms

  async function loadMethods() {
    const listing = await api("GET", "train/methods");
    const select = $("train-method");
    state.methods = new Map(listing.methods.map((m) => [m.method, m]));
    select.replaceChildren(...listing.methods.map((m) => el("option", {value: m.method, text: m.method})));
    select.value = listing.default_method || listing.methods[0]?.method || "";
    methodChanged();
  }

  async function loadDatasets() {
    const listing = await api("GET", "datasets");
    const select = $("train-dataset");
    const options = [el("option", {value: "", text: "server default"})];
    for (const d of listing.datasets) {
      options.push(el("option", {value: d.path, text: `${d.path} (${fmtInt(d.size_bytes / 1024)} KiB)`}));
    }
    select.replaceChildren(...options);
    state.datasetOptions = "loaded";
  }

  function methodChanged() {
    const method = state.methods.get($("train-method").value);
    const epochs = $("train-epochs");
    setText($("train-method-hint"), method ? method.description : "");
    epochs.disabled = !method || !method.trains_in_epochs;
    epochs.placeholder = method && method.trains_in_epochs ? `default ${method.default_epochs}` : "n/a";
    if (epochs.disabled) epochs.value = "";
  }

  /** A form field's value for the API: a number when it reads as one, else the text (the API says what is wrong). */
  function fieldValue(id) {
    const text = $(id).value.trim();
    if (text === "") return undefined;
    const number = Number(text);
    return Number.isFinite(number) ? number : text;
  }

  function streamPaceChanged() {
    const batch = Number($("stream-batch").value);
    const interval = Number($("stream-interval").value);
    const rows = Number($("stream-rows").value);
    let text = "";
    if (batch > 0 && interval > 0) {
      text = `Paced at about ${fmtInt(batch / interval)} rows/s`;
      if (rows > 0) text += `: ${fmtSeconds(Math.ceil(rows / batch) * interval)} for ${fmtInt(rows)} rows`;
    } else if (batch > 0) {
      text = "No pause between batches: as fast as the pipeline goes";
    }
    setText($("stream-pace"), text);
  }

  function showFeedback(form, feedback, error, success) {
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    feedback.replaceChildren();
    if (success) {
      feedback.className = "feedback ok";
      feedback.append(el("div", {text: success}));
      return;
    }
    feedback.className = "feedback error";
    for (const line of errorLines(error)) feedback.append(el("div", {text: line}));
    const fields = error.body && Array.isArray(error.body.detail) ? error.body.detail.map((d) => d.field) : [];
    if (error.body && error.body.field) fields.push(error.body.field);
    for (const field of fields) {
      const input = form.querySelector(`[name="${CSS.escape(String(field).split(".")[0])}"]`);
      if (input) input.setAttribute("aria-invalid", "true");
    }
  }

  async function submit(form, button, feedback, send) {
    button.disabled = true;
    try {
      const success = await send();
      showFeedback(form, feedback, null, success);
    } catch (error) {
      showFeedback(form, feedback, error, null);
    } finally {
      button.disabled = false;
      refresh();
    }
  }

  function setUpForms() {
    $("train-method").addEventListener("change", methodChanged);
    $("train-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const body = {method: $("train-method").value, overwrite_existing: $("train-overwrite").checked};
      const dataset = $("train-dataset").value;
      const modelName = $("train-model").value.trim();
      const epochs = fieldValue("train-epochs");
      if (dataset) body.dataset_path = dataset;
      if (modelName) body.model_name = modelName;
      if (epochs !== undefined && !$("train-epochs").disabled) body.epochs = epochs;
      submit($("train-form"), $("train-submit"), $("train-feedback"), async () => {
        const answer = await api("POST", "train", body);
        return `Training started (task ${answer.task_id.slice(0, 8)}): ${answer.message}`;
      });
    });
    for (const id of ["stream-batch", "stream-interval", "stream-rows"]) {
      $(id).addEventListener("input", streamPaceChanged);
    }
    streamPaceChanged();
    $("stream-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const body = {};
      for (const [field, id] of [["num_samples", "stream-rows"], ["batch_size", "stream-batch"],
        ["interval_seconds", "stream-interval"], ["seed", "stream-seed"]]) {
        const value = fieldValue(id);
        if (value !== undefined) body[field] = value;
      }
      if ($("stream-model").value) body.model_name = $("stream-model").value;
      submit($("stream-form"), $("stream-submit"), $("stream-feedback"), async () => {
        const answer = await api("POST", "stream", body);
        return `Stream ${answer.stream_id.slice(0, 8)} started`;
      });
    });
  }

  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
  document.addEventListener("DOMContentLoaded", () => {
    setUpToken();
    setUpForms();
    refresh();
  });
})();
