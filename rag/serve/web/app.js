// The page: ask over the /ask SSE stream, show verified answers with clickable [n] citations,
// open each citation's source in a reader with the quoted span highlighted. No build step, no CDN.

const $ = (id) => document.getElementById(id);
const STORE = "rag.conversation";
const KEY = "rag.apiKey";
const state = { turns: load(), busy: false };

function load() {
  try { return JSON.parse(localStorage.getItem(STORE)) || []; } catch { return []; }
}
function save() { localStorage.setItem(STORE, JSON.stringify(state.turns)); }

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = localStorage.getItem(KEY);
  if (key) h.Authorization = `Bearer ${key}`;
  return h;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

async function problem(response) {
  try { return (await response.json()).detail || response.statusText; } catch { return response.statusText; }
}

// ---- the conversation ----

function render() {
  const box = $("conversation");
  box.replaceChildren();
  if (!state.turns.length) {
    box.append(el("p", { class: "empty" }, "Ask about the articles in the corpus. Every sentence of an answer cites the paragraph it came from; click a marker to read it."));
  }
  state.turns.forEach((turn, i) => box.append(turnView(turn, i)));
}

function turnView(turn, i) {
  const article = el("article", { class: "turn", "aria-label": `Question ${i + 1}` });
  article.append(el("p", { class: "question" }, turn.question));
  const a = turn.answer;
  if (!a) {  // the offline answer (already verified) shows while the model writes; the model's answer replaces both
    if (turn.offline) {
      const box = el("div", { class: "offline", "aria-label": "Offline answer" }, el("p", { class: "label" }, "offline answer"));
      box.append(answerView(turn.offline));
      article.append(box);
    }
    if (turn.draft || !turn.offline) article.append(el("p", { class: "draft", "aria-busy": "true" }, turn.draft || "…"));
    return article;
  }
  if (a.refused) {
    article.append(el("p", { class: "refusal" }, el("strong", {}, "Not in the corpus. "), a.answer));
  } else {
    article.append(answerView(a));
  }
  const seconds = ((a.timings_ms?.total || 0) / 1000).toFixed(1);
  article.append(el("p", { class: "meta" }, `answered by ${a.generator} in ${seconds} s`));
  for (const note of a.notes || []) article.append(el("p", { class: "note" }, note));
  return article;
}

function answerView(a) {
  const p = el("p", { class: "answer" });
  const byMarker = Object.fromEntries(a.citations.map((c) => [c.marker, c]));
  let short = a.short_answer;  // a factoid's short answer, in bold where it first stands in a claim citing its quote
  a.claims.forEach((claim, i) => {
    const span = el("span", { class: claim.supported ? "claim" : "claim unsupported" });
    if (!claim.supported) span.title = "No retrieved passage supports this sentence";
    const body = claim.text.replace(/[.!?]$/, "");
    const at = short && claim.markers.includes(short.marker) ? body.indexOf(short.text) : -1;
    if (at >= 0) {
      span.append(body.slice(0, at), el("strong", { class: "short" }, short.text), body.slice(at + short.text.length));
      short = null;
    } else span.append(body);
    for (const m of claim.markers) {
      const c = byMarker[m];
      span.append(" ", el("a", {
        href: `#cite-${m}`, class: "marker", "aria-label": `Source ${m}: ${c.id}`,
        onclick: (e) => { e.preventDefault(); openCitation(c); },
      }, `[${m}]`));
    }
    span.append(claim.text.match(/[.!?]$/)?.[0] || "");
    if (!claim.supported) span.append(el("span", { class: "flag" }, " (unsupported)"));
    p.append(span, i < a.claims.length - 1 ? " " : "");
  });
  return p;
}

function history() {
  return state.turns.filter((t) => t.answer).slice(-9).flatMap((t) => [
    { role: "user", content: t.answer.standalone_question || t.question },
    { role: "assistant", content: t.answer.answer },
  ]);
}

// ---- filters: a date range and outlets, sent with every question and check ----

function filters() {
  const out = {};
  if ($("date-from").value) out.date_from = $("date-from").value;
  if ($("date-to").value) out.date_to = $("date-to").value;
  const sources = [...$("sources").selectedOptions].map((o) => o.value);
  if (sources.length) out.sources = sources;
  return out;
}

function showFilters() {
  const f = filters();
  const parts = [f.date_from && `from ${f.date_from}`, f.date_to && `to ${f.date_to}`,
    f.sources && `${f.sources.length} outlet${f.sources.length > 1 ? "s" : ""}`].filter(Boolean);
  $("filters-summary").textContent = parts.length ? `(${parts.join(", ")})` : "";
}

async function loadOutlets() {
  const r = await fetch("/documents", { headers: headers() });
  if (r.status === 401) { showKeyForm("Enter the API key to ask questions."); return; }
  if (!r.ok) return;
  const docs = (await r.json()).documents;
  $("sources").replaceChildren(...docs.map((d) => el("option", { value: d.name }, `${d.title || d.name}${d.date ? ` (${d.date})` : ""}`)));
}

async function ask(question) {
  const turn = { question, draft: "" };
  const body = { question, stream: true, history: history(), ...filters() };
  state.turns.push(turn);
  render();
  let response;
  try {
    response = await fetch("/ask", { method: "POST", headers: headers(), body: JSON.stringify(body) });
  } catch {
    throw new Error("The server cannot be reached. Check that `rag serve` is running, then send again.");
  }
  if (response.status === 401) { showKeyForm("The API key is missing or wrong."); throw new Error("This server needs an API key."); }
  if (!response.ok) throw new Error(`The server answered ${response.status}: ${await problem(response)}`);
  for await (const [event, data] of events(response)) {
    if (event === "delta") { if (data.offline) turn.offline = data; else turn.draft += data.text; render(); }
    else if (event === "error") throw new Error(data.detail);
    else if (event === "done") { turn.answer = data; delete turn.draft; delete turn.offline; save(); render(); return; }
  }
  throw new Error("The answer stopped before it was complete: send the question again.");
}

async function* events(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    let chunk;
    try { chunk = await reader.read(); } catch { return; }
    if (chunk.done) return;
    buffer += chunk.value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = block.match(/^event: (.*)$/m)?.[1];
      const data = block.match(/^data: (.*)$/m)?.[1];
      if (event && data) yield [event, JSON.parse(data)];
    }
  }
}

// ---- checking a text ----

async function checkText(text) {
  let response;
  try {
    response = await fetch("/check", { method: "POST", headers: headers(), body: JSON.stringify({ text, ...filters() }) });
  } catch {
    throw new Error("The server cannot be reached. Check that `rag serve` is running, then check again.");
  }
  if (response.status === 401) { showKeyForm("The API key is missing or wrong."); throw new Error("This server needs an API key."); }
  if (!response.ok) throw new Error(`The server answered ${response.status}: ${await problem(response)}`);
  return response.json();
}

function checkedView(checked) {
  const list = el("ol", { class: "checked" });
  for (const s of checked.sentences) {
    const item = el("li", { class: s.supported ? "sentence supported" : "sentence unsupported" },
      el("span", { class: s.supported ? "verdict ok" : "verdict error" }, s.supported ? "supported" : "not supported"), " ", s.text);
    s.citations.forEach((c, i) => item.append(" ", el("a", {
      href: `#check-cite-${i + 1}`, class: "marker", "aria-label": `Source ${i + 1}: ${c.id}`,
      onclick: (e) => { e.preventDefault(); openCitation(c); },
    }, `[${i + 1}]`)));
    if (!s.supported && !(s.notes || []).length) item.append(el("p", { class: "note" }, "No passage of the corpus says this."));
    for (const note of s.notes || []) item.append(el("p", { class: "note" }, note));
    list.append(item);
  }
  const n = checked.sentences.filter((s) => s.supported).length;
  return [el("p", { class: "meta" }, `${n} of ${checked.sentences.length} sentences supported by the corpus`), list];
}

async function submitCheck(e) {
  e?.preventDefault();
  const text = $("check-text").value;
  if (!text.trim() || state.busy) return;
  state.busy = true;
  $("check-send").disabled = true;
  $("check-status").textContent = "Checking…";
  $("check-status").className = "status";
  try {
    $("check-results").replaceChildren(...checkedView(await checkText(text)));
    $("check-status").textContent = "";
  } catch (err) {
    $("check-status").textContent = err.message;
    $("check-status").className = "status error";
  } finally {
    state.busy = false;
    $("check-send").disabled = false;
  }
}

function setMode(mode) {
  const checking = mode === "check";
  $("ask-view").hidden = checking;
  $("check-view").hidden = !checking;
  $("mode-ask").setAttribute("aria-pressed", String(!checking));
  $("mode-check").setAttribute("aria-pressed", String(checking));
  $(checking ? "check-text" : "question").focus();
}

// ---- the reader ----

async function fetchJSON(url) {
  const response = await fetch(url, { headers: headers() });
  if (response.status === 401) { showKeyForm("The API key is missing or wrong."); throw new Error("This server needs an API key."); }
  if (!response.ok) throw new Error(`The server answered ${response.status}: ${await problem(response)}`);
  return response.json();
}

function openReader(title) {
  const reader = $("reader");
  reader.hidden = false;
  $("reader-title").textContent = title;
  $("reader-meta").replaceChildren();
  $("reader-body").replaceChildren(el("p", {}, "Loading…"));
  reader.focus();
}

async function openCitation(c) {
  openReader(c.source);
  try {
    const doc = await fetchJSON(`/documents/${encodeURIComponent(c.source)}`);
    $("reader-title").textContent = doc.title || doc.name;
    const where = [c.page ? `page ${c.page}` : "", doc.date ? `published ${doc.date}` : ""].filter(Boolean).join(", ");
    $("reader-meta").replaceChildren(
      el("p", {}, el("strong", {}, "Paragraph "), el("code", {}, c.id), where ? ` (${where})` : ""),
      el("p", { class: c.supported ? "ok" : "error" }, c.supported ? "Support verified: the quote supports the sentence." : "Not verified: no retrieved passage supports the sentence."),
    );
    let marked = null;
    const body = doc.paragraphs.map((p) => {
      const node = el("p", { id: `para-${p.id}` });
      if (p.start <= c.start && c.end <= p.end) {
        const text = p.text;
        marked = el("mark", {}, text.slice(c.start - p.start, c.end - p.start));
        node.append(text.slice(0, c.start - p.start), marked, text.slice(c.end - p.start));
        node.className = "cited";
      } else node.append(p.text);
      return node;
    });
    $("reader-body").replaceChildren(...body);
    if (marked) {  // scroll the reader alone, so that its title and the citation's details stay in view
      const box = $("reader-body");
      box.scrollTop = marked.offsetTop - box.clientHeight / 3;
    }
  } catch (e) { $("reader-body").replaceChildren(el("p", { class: "error", role: "alert" }, e.message)); }
}

async function openDocument(name) {
  openReader(name);
  try {
    const doc = await fetchJSON(`/documents/${encodeURIComponent(name)}`);
    $("reader-title").textContent = doc.title || doc.name;
    $("reader-meta").replaceChildren(el("p", {}, el("code", {}, doc.name), doc.date ? ` (published ${doc.date})` : ""));
    $("reader-body").replaceChildren(...doc.paragraphs.map((p) => el("p", { id: `para-${p.id}` }, p.text)));
  } catch (e) { $("reader-body").replaceChildren(el("p", { class: "error", role: "alert" }, e.message)); }
}

async function showCorpus() {
  openReader("Documents");
  try {
    const docs = await fetchJSON("/documents");
    const list = el("ul", { class: "documents" });
    for (const d of docs.documents) {
      list.append(el("li", {}, el("a", { href: "#", onclick: (e) => { e.preventDefault(); openDocument(d.name); } }, d.title || d.name),
        el("span", { class: "meta" }, ` ${d.name}${d.date ? `, ${d.date}` : ""}, ${d.paragraphs} paragraphs`)));
    }
    $("reader-body").replaceChildren(list);
  } catch (e) { $("reader-body").replaceChildren(el("p", { class: "error", role: "alert" }, e.message)); }
}

// ---- the API key ----

function showKeyForm(message) {
  $("key-form").hidden = false;
  $("key-status").textContent = message;
  $("api-key").focus();
}

// ---- wiring ----

function setStatus(text, error = false) {
  $("status").textContent = text;
  $("status").className = error ? "status error" : "status";
  if (error) $("status").setAttribute("role", "alert"); else $("status").setAttribute("role", "status");
}

async function submit(e) {
  e?.preventDefault();
  const box = $("question");
  const question = box.value.trim();
  if (!question || state.busy) return;
  state.busy = true;
  $("send").disabled = true;
  setStatus("Answering…");
  try {
    await ask(question);
    box.value = "";
    setStatus("");
  } catch (err) {
    state.turns = state.turns.filter((t) => t.answer);  // the failed turn goes; the question stays in the box
    render();
    setStatus(err.message, true);
  } finally {
    state.busy = false;
    $("send").disabled = false;
    box.focus();
  }
}

$("ask-form").addEventListener("submit", submit);
$("question").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) submit(e);
});
$("new-conversation").addEventListener("click", () => { state.turns = []; save(); render(); setStatus(""); $("question").focus(); });
$("show-corpus").addEventListener("click", showCorpus);
$("mode-ask").addEventListener("click", () => setMode("ask"));
$("mode-check").addEventListener("click", () => setMode("check"));
$("check-form").addEventListener("submit", submitCheck);
$("close-reader").addEventListener("click", () => { $("reader").hidden = true; $("question").focus(); });
document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !$("reader").hidden) { $("reader").hidden = true; $("question").focus(); } });
$("key-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  localStorage.setItem(KEY, $("api-key").value.trim());
  const r = await fetch("/documents", { headers: headers() });
  if (r.status === 401) { $("key-status").textContent = "That key is wrong: the server refused it."; return; }
  $("key-form").hidden = true;
  setStatus("Key accepted.");
  loadOutlets().catch(() => {});
  $("question").focus();
});
for (const id of ["date-from", "date-to", "sources"]) $(id).addEventListener("change", showFilters);
$("clear-filters").addEventListener("click", () => {
  $("date-from").value = ""; $("date-to").value = "";
  for (const o of $("sources").options) o.selected = false;
  showFilters();
});
render();
loadOutlets().catch(() => {});
