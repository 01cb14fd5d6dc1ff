// The query page of `aflm-graph serve` (serve/workbench.py). Data from the server is put into the page with
// textContent and attributes only, never as HTML.
"use strict";

(function () {
  const CM = window.AflmEditor;
  const BASE = "https://w3id.org/aflm/";
  const ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9";
  const $ = (id) => document.getElementById(id);
  const state = { queries: [], byName: {}, prefixes: {}, named: null, result: null, sort: null, args: null };
  window.aflmPage = { ready: false, runs: 0 };

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // --- the editor

  function firstQueryLine(doc) {
    for (let i = 1; i <= doc.lines; i++) {
      const line = doc.line(i);
      if (!line.text.startsWith("#")) return line.from;
    }
    return doc.length;
  }

  function complete(context) {
    const word = context.matchBefore(/[A-Za-z_][\w-]*:?[\w.-]*/);
    if (!word || (word.from === word.to && !context.explicit)) return null;
    const text = word.text;
    const colon = text.indexOf(":");
    if (colon >= 0) {  // prefix:local -> the concepts, documents and member states under that namespace
      const ns = state.prefixes[text.slice(0, colon)];
      if (!ns) return null;
      const options = [];
      for (const choice of state.choices) {
        if (choice.iri.startsWith(ns)) {
          options.push({ label: text.slice(0, colon + 1) + choice.iri.slice(ns.length), detail: choice.label, type: "constant" });
        }
      }
      return { from: word.from, options, validFor: /^[\w-]*:?[\w.-]*$/ };
    }
    const options = Object.entries(state.prefixes).map(([prefix, ns]) => ({
      label: prefix + ":", detail: ns, type: "namespace",
      apply: (view, completion, from, to) => {
        const declaration = "PREFIX " + prefix + ": <" + ns + ">\n";
        const declared = new RegExp("PREFIX\\s+" + prefix + ":", "i").test(view.state.doc.toString());
        const at = firstQueryLine(view.state.doc);
        const changes = [{ from, to, insert: prefix + ":" }];
        let anchor = from + prefix.length + 1;
        if (!declared) {  // declare the prefix above the query, once
          changes.unshift({ from: at, insert: declaration });
          if (at <= from) anchor += declaration.length;
        }
        changes.sort((a, b) => a.from - b.from);
        view.dispatch({ changes, selection: { anchor }, scrollIntoView: true });
      },
    }));
    return { from: word.from, options, validFor: /^[\w-]*$/ };
  }

  const editor = new CM.EditorView({
    parent: $("editor"),
    state: CM.EditorState.create({
      doc: "",
      extensions: [
        CM.lineNumbers(), CM.history(), CM.drawSelection(), CM.highlightActiveLine(), CM.bracketMatching(),
        CM.closeBrackets(), CM.sparql, CM.syntaxHighlighting(CM.defaultHighlightStyle, { fallback: true }),
        CM.autocompletion({ override: [complete] }), CM.lintGutter(),
        CM.keymap.of([{ key: "Mod-Enter", run: () => { run(); return true; } }, ...CM.closeBracketsKeymap,
          ...CM.defaultKeymap, ...CM.historyKeymap, ...CM.completionKeymap, CM.indentWithTab]),
        CM.EditorView.updateListener.of((update) => { if (update.docChanged) CM_clearMarks(update.view); }),
      ],
    }),
  });
  window.aflmPage.editor = editor;

  function CM_clearMarks(view) {
    if (view.aflmMarked) { view.aflmMarked = false; setTimeout(() => view.dispatch(CM.setDiagnostics(view.state, [])), 0); }
  }

  function setText(text) {
    editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: text } });
  }

  function markError(message) {
    const match = /line (\d+), column (\d+)/.exec(message);
    if (!match) return;
    const doc = editor.state.doc;
    const line = doc.line(Math.min(Math.max(1, Number(match[1])), doc.lines));
    const from = line.from + Math.min(Math.max(0, Number(match[2]) - 1), line.length);
    const to = Math.min(line.to, from + 1) > from ? Math.min(line.to, from + 1) : from;
    editor.dispatch(CM.setDiagnostics(editor.state, [{ from, to, severity: "error", message }]));
    editor.aflmMarked = true;
  }

  // --- the gallery and the parameter form

  function drawGallery() {
    const filter = $("filter").value.trim().toLowerCase();
    const list = $("gallery");
    list.replaceChildren();
    for (const query of state.queries) {
      const haystack = [query.name, query.summary, query.description, ...query.tags].join(" ").toLowerCase();
      if (filter && !haystack.includes(filter)) continue;
      const card = el("button", { type: "button", class: "card", "data-name": query.name, title: query.description });
      if (state.named && state.named.name === query.name) card.classList.add("selected");
      card.append(el("span", { class: "name" }, query.name), el("span", { class: "summary" }, query.summary));
      const tags = el("span", { class: "tags" });
      for (const tag of query.tags) tags.append(el("span", { class: "tag" }, tag));
      card.append(tags);
      card.addEventListener("click", () => { pick(query.name, {}); share(); });
      const item = el("li");
      item.append(card);
      list.append(item);
    }
  }

  function field(param, value) {
    const label = el("label", { for: "param-" + param.name });
    label.append(el("span", { class: "what" }, param.name + (param.required ? " *" : "") + " (" + param.type + ")"));
    let input;
    if (param.choices) {
      input = el("select", { id: "param-" + param.name, name: param.name });
      input.append(el("option", { value: "" }, param.required ? "— choose —" : "— any (default) —"));
      for (const choice of param.choices) {
        const option = el("option", { value: choice.value, title: choice.iri },
          choice.label === choice.value ? choice.label : choice.label + " (" + choice.value + ")");
        input.append(option);
      }
      if (value && !param.choices.some((c) => c.value === value)) input.append(el("option", { value }, value));
    } else if (param.type === "boolean") {
      input = el("select", { id: "param-" + param.name, name: param.name });
      for (const v of ["", "true", "false"]) input.append(el("option", { value: v }, v || "— default —"));
    } else {
      const type = { date: "date", integer: "number", decimal: "number" }[param.type] || "text";
      input = el("input", { id: "param-" + param.name, name: param.name, type, placeholder: param.example || param.default || "" });
      if (param.type === "decimal") input.setAttribute("step", "any");
    }
    input.value = value || "";
    if (param.required) input.required = true;
    label.append(input);
    const note = [param.description, param.default ? "Default: " + param.default + "." : ""].filter(Boolean).join(" ");
    if (note) label.append(el("span", { class: "note" }, note));
    return label;
  }

  function drawParams(values) {
    const form = $("params");
    form.replaceChildren();
    const params = state.named ? state.named.params : [];
    form.hidden = params.length === 0;
    for (const param of params) form.append(field(param, values[param.name]));
  }

  function paramValues() {
    const values = {};
    for (const input of $("params").querySelectorAll("input, select")) {
      if (input.value.trim()) values[input.name] = input.value;
    }
    return values;
  }

  function pick(name, values) {
    state.named = state.byName[name] || null;
    if (!state.named) return;
    $("title").textContent = state.named.summary || state.named.name;
    $("description").textContent = state.named.description;
    setText(state.named.text);
    drawParams(values);
    drawGallery();
  }

  // --- the question in the URL

  function question() {
    const args = new URLSearchParams();
    const text = editor.state.doc.toString();
    if (state.named && text === state.named.text) args.set("name", state.named.name);
    else args.set("query", text);
    for (const [key, value] of Object.entries(paramValues())) args.set("p." + key, value);
    return args;
  }

  function share() {
    history.replaceState(null, "", "/?" + question().toString());
  }

  function restore() {
    const args = new URLSearchParams(location.search);
    const values = {};
    for (const [key, value] of args) if (key.startsWith("p.")) values[key.slice(2)] = value;
    if (args.get("name") && state.byName[args.get("name")]) {
      pick(args.get("name"), values);
      if (args.has("query")) setText(args.get("query"));
    } else if (args.has("query")) {
      setText(args.get("query"));
    } else {
      return false;
    }
    return true;
  }

  // --- running

  function endpoint(args) {
    const plain = args.has("query") && ![...args.keys()].some((k) => k.startsWith("p."));
    return plain ? "/sparql" : "/api/run";  // free SPARQL text goes to /sparql; named queries and parameters to /api/run
  }

  async function run() {
    const args = question();
    state.args = args;
    share();
    const started = performance.now();
    $("error").hidden = true;
    $("status").textContent = "Running…";
    $("run").disabled = true;
    try {
      const response = await fetch(endpoint(args), {
        method: "POST", body: args, headers: { Accept: ACCEPT },
      });
      const body = await response.text();
      const elapsed = performance.now() - started;
      if (!response.ok) {
        showError(body.trim() || response.status + " " + response.statusText);
        return;
      }
      const type = (response.headers.get("content-type") || "").split(";")[0];
      state.result = type === "application/n-triples" ? fromNTriples(body) : fromJSON(JSON.parse(body));
      state.sort = null;
      showResult(elapsed);
    } catch (error) {
      showError("The query could not be sent: " + error);
    } finally {
      $("run").disabled = false;
      window.aflmPage.runs += 1;
    }
  }

  function showError(message) {
    $("status").textContent = "";
    const box = $("error");
    box.textContent = message;
    box.hidden = false;
    markError(message);
  }

  function fromJSON(data) {
    if (typeof data.boolean === "boolean") return { form: "ask", vars: ["answer"], rows: [[{ type: "literal", value: String(data.boolean) }]] };
    const vars = data.head.vars;
    return { form: "select", vars, rows: data.results.bindings.map((b) => vars.map((v) => b[v] || null)) };
  }

  function unescape(text) {
    return text.replace(/\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))/g, (_, u4, u8, c) =>
      u4 || u8 ? String.fromCodePoint(parseInt(u4 || u8, 16)) : ({ t: "\t", n: "\n", r: "\r", b: "\b", f: "\f" }[c] || c));
  }

  const NT_TERM = /\s*(?:<([^>]*)>|_:(\S+)|"((?:[^"\\]|\\.)*)"(?:@([\w-]+)|\^\^<([^>]*)>)?)/y;

  function fromNTriples(text) {
    const rows = [];
    for (const line of text.split("\n")) {
      if (!line.trim() || line.trim().startsWith("#")) continue;
      NT_TERM.lastIndex = 0;
      const terms = [];
      for (let i = 0; i < 3; i++) {
        const m = NT_TERM.exec(line);
        if (!m) break;
        if (m[1] !== undefined) terms.push({ type: "uri", value: unescape(m[1]) });
        else if (m[2] !== undefined) terms.push({ type: "bnode", value: m[2] });
        else terms.push({ type: "literal", value: unescape(m[3]), "xml:lang": m[4], datatype: m[5] });
      }
      if (terms.length === 3) rows.push(terms);
    }
    return { form: "graph", vars: ["subject", "predicate", "object"], rows };
  }

  // --- the result

  function compact(iri) {
    for (const [prefix, ns] of Object.entries(state.prefixes)) {
      if (iri.startsWith(ns) && iri.length > ns.length) return prefix + ":" + iri.slice(ns.length);
    }
    return iri;
  }

  function cell(term) {
    const td = el("td");
    if (!term) return td;
    if (term.type === "uri") {
      const local = term.value.startsWith(BASE) ? "/" + term.value.slice(BASE.length) : null;
      const link = el("a", { href: local || term.value, title: term.value }, compact(term.value));
      if (!local) link.setAttribute("rel", "noopener noreferrer");
      td.append(link);
    } else if (term.type === "bnode") {
      td.textContent = "_:" + term.value;
    } else {
      td.textContent = term.value;
      const lang = term["xml:lang"];
      const datatype = term.datatype && !term.datatype.endsWith("#string") ? compact(term.datatype) : "";
      if (lang || datatype) td.append(el("span", { class: "meta" }, lang ? "@" + lang : datatype));
      if (datatype && /#(integer|decimal|double|float|int|long)$/.test(term.datatype)) td.classList.add("number");
    }
    return td;
  }

  function sortKey(term) {
    if (!term) return [2, "", 0];
    const number = Number(term.value);
    const numeric = term.datatype && /#(integer|decimal|double|float|int|long)$/.test(term.datatype) && !Number.isNaN(number);
    return numeric ? [0, "", number] : [1, term.value.toLowerCase(), 0];
  }

  function sortedRows() {
    const result = state.result;
    if (!state.sort) return result.rows;
    const { column, direction } = state.sort;
    const rows = result.rows.map((row, i) => [row, i]);
    rows.sort(([a, i], [b, j]) => {
      const x = sortKey(a[column]), y = sortKey(b[column]);
      const order = x[0] - y[0] || (x[0] === 0 ? x[2] - y[2] : x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0);
      return (order || i - j) * (order ? direction : 1);
    });
    return rows.map(([row]) => row);
  }

  function drawTable() {
    const result = state.result;
    const table = el("table", { id: "result-table" });
    const head = el("tr");
    head.append(el("th", { class: "num", title: "row" }, "#"));
    result.vars.forEach((name, column) => {
      const th = el("th", { scope: "col", tabindex: "0" }, name);
      if (state.sort && state.sort.column === column) th.setAttribute("aria-sort", state.sort.direction > 0 ? "ascending" : "descending");
      const toggle = () => {
        const direction = state.sort && state.sort.column === column ? -state.sort.direction : 1;
        state.sort = { column, direction };
        drawTable();
      };
      th.addEventListener("click", toggle);
      th.addEventListener("keydown", (e) => { if (e.key === "Enter") toggle(); });
      head.append(th);
    });
    const thead = el("thead");
    thead.append(head);
    table.append(thead);
    const body = el("tbody");
    sortedRows().forEach((row, i) => {
      const tr = el("tr");
      tr.append(el("td", { class: "num" }, String(i + 1)));
      for (const term of row) tr.append(cell(term));
      body.append(tr);
    });
    table.append(body);
    $("results").replaceChildren(table);
  }

  function downloadLinks() {
    const box = $("downloads");
    box.replaceChildren(document.createTextNode("Download:"));
    const formats = state.result.form === "graph" ? [["Turtle", "turtle", "ttl"], ["N-Triples", "ntriples", "nt"]]
      : [["CSV", "csv", "csv"], ["TSV", "tsv", "tsv"], ["JSON", "json", "json"]];
    for (const [label, format, suffix] of formats) {
      const args = new URLSearchParams(state.args);
      args.set("format", format);
      if (endpoint(state.args) === "/api/run") args.set("download", "1");
      box.append(el("a", { href: endpoint(state.args) + "?" + args.toString(), download: "result." + suffix, "data-format": format }, label));
    }
  }

  function showResult(elapsed) {
    const result = state.result;
    const rows = result.rows.length;
    const noun = result.form === "graph" ? (rows === 1 ? "triple" : "triples") : (rows === 1 ? "row" : "rows");
    $("status").textContent = rows + " " + noun + " in " + (elapsed < 1000 ? Math.round(elapsed) + " ms" : (elapsed / 1000).toFixed(2) + " s");
    $("status").dataset.rows = String(rows);
    drawTable();
    downloadLinks();
    const drawable = result.form === "graph" || (result.vars.includes("source") && result.vars.includes("target"));
    $("show-network").disabled = !drawable || rows === 0;
    $("show-table").disabled = false;
    showTable();
  }

  function showTable() {
    $("results").hidden = false;
    $("network").hidden = true;
    $("show-table").classList.add("active");
    $("show-network").classList.remove("active");
  }

  function showNetwork() {
    const args = new URLSearchParams(state.args);
    const frame = $("network");
    const src = "/api/view?" + args.toString();
    if (frame.getAttribute("src") !== src) frame.setAttribute("src", src);
    frame.hidden = false;
    $("results").hidden = true;
    $("show-network").classList.add("active");
    $("show-table").classList.remove("active");
  }

  // --- start

  $("run").addEventListener("click", run);
  $("show-table").addEventListener("click", showTable);
  $("show-network").addEventListener("click", showNetwork);
  $("filter").addEventListener("input", drawGallery);
  $("params").addEventListener("change", share);
  $("params").addEventListener("submit", (e) => { e.preventDefault(); run(); });

  fetch("/api/queries", { headers: { Accept: "application/json" } })
    .then((response) => response.json())
    .then((data) => {
      state.queries = data.queries;
      state.prefixes = data.prefixes;
      state.choices = [];
      for (const query of data.queries) {
        state.byName[query.name] = query;
        for (const param of query.params) for (const choice of param.choices || []) state.choices.push(choice);
      }
      const seen = new Set();
      state.choices = state.choices.filter((c) => !seen.has(c.iri) && seen.add(c.iri));
      drawGallery();
      const restored = restore();
      window.aflmPage.ready = true;
      performance.mark("aflm-ready");
      if (restored) run();  // a shared link reopens the question and runs it (read-only, under the server's limits)
    })
    .catch((error) => showError("The named queries could not be loaded: " + error));
})();
