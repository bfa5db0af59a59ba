"use strict";
(function () {
  // Sort, filter and open the server-rendered rows; every text is already in the page, escaped.
  const data = JSON.parse(document.getElementById("rows").textContent);
  const body = document.querySelector("#subs tbody");
  const rows = Array.from(body.rows);
  const ncol = rows.length ? rows[0].cells.length : 1;
  const order = rows.map((_, i) => i);
  let searchText = null;  // built on the first text filter: each row's text and its record's details
  let sortCol = -1, sortDir = 1;

  // The details follow this script in the page: what needs them waits until the page is parsed.
  function whenParsed(f) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", f, {once: true});
    else f();
  }

  function textOf(i) {
    if (searchText === null) {
      const rec = new Map();
      searchText = rows.map((row, j) => {
        const k = data.record[j];
        if (!rec.has(k)) rec.set(k, document.getElementById("rec-" + k).content.textContent.toLowerCase());
        return row.textContent.toLowerCase() + "\n" + rec.get(k);
      });
    }
    return searchText[i];
  }

  function closeDetail(row) {
    const next = row.nextElementSibling;
    if (next && next.classList.contains("detail")) next.remove();
    row.querySelector("button.open").setAttribute("aria-expanded", "false");
    row.classList.remove("opened");
  }

  function openDetail(row) {
    const i = Number(row.dataset.i);
    const tr = document.createElement("tr");
    tr.className = "detail";
    const td = document.createElement("td");
    td.colSpan = ncol;
    td.appendChild(document.getElementById("rec-" + data.record[i]).content.cloneNode(true));
    tr.appendChild(td);
    row.after(tr);
    row.querySelector("button.open").setAttribute("aria-expanded", "true");
    row.classList.add("opened");
  }

  function toggle(row) {
    if (row.classList.contains("opened")) closeDetail(row); else whenParsed(() => openDetail(row));
  }

  function apply() {
    const verdict = document.getElementById("f-verdict").value;
    const severity = document.getElementById("f-severity").value;
    const text = document.getElementById("f-text").value.trim().toLowerCase();
    let shown = 0;
    for (let i = 0; i < rows.length; i++) {
      const ok = (!verdict || data.verdict[i] === verdict) && (!severity || data.severity[i] === severity) &&
        (!text || textOf(i).includes(text));
      if (!ok && rows[i].classList.contains("opened")) closeDetail(rows[i]);
      rows[i].hidden = !ok;
      if (ok) shown++;
    }
    document.getElementById("shown").textContent = shown + " of " + rows.length + " shown";
  }

  function compare(a, b) {
    const x = data.values[a][sortCol], y = data.values[b][sortCol];
    if (x === y) return a - b;
    if (x === null) return 1;  // no value: last, in either direction
    if (y === null) return -1;
    const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return c === 0 ? a - b : sortDir * c;
  }

  function sortBy(col) {
    sortDir = col === sortCol ? -sortDir : 1;
    sortCol = col;
    order.sort(compare);
    rows.forEach(closeDetail);
    const frag = document.createDocumentFragment();
    for (const i of order) frag.appendChild(rows[i]);
    body.appendChild(frag);
    document.querySelectorAll("#subs thead button").forEach((b) => {
      b.dataset.sort = Number(b.dataset.col) === sortCol ? (sortDir > 0 ? "asc" : "desc") : "";
    });
  }

  document.querySelectorAll("#subs thead button").forEach((b) => {
    b.addEventListener("click", () => sortBy(Number(b.dataset.col)));
  });
  const filter = () => (document.getElementById("f-text").value.trim() ? whenParsed(apply) : apply());
  ["f-verdict", "f-severity", "f-text"].forEach((id) => {
    document.getElementById(id).addEventListener("input", filter);
    document.getElementById(id).addEventListener("change", filter);
  });
  body.addEventListener("click", (e) => {
    if (e.target.closest("a")) return;
    const row = e.target.closest("tr[data-i]");
    if (row) toggle(row);
  });
  document.querySelectorAll("#frontier g.mark").forEach((m) => {
    m.addEventListener("click", () => {
      const k = Number(m.dataset.record);
      const i = data.record.indexOf(k);
      if (i < 0) return;
      document.getElementById("f-verdict").value = "";
      document.getElementById("f-severity").value = "";
      document.getElementById("f-text").value = "";
      apply();
      whenParsed(() => {
        if (!rows[i].classList.contains("opened")) openDetail(rows[i]);
        rows[i].scrollIntoView({block: "center"});
      });
    });
  });
  filter();  // a filter the browser kept from before a reload
  performance.mark("pgolf-ready");  // rows sortable and filterable
  whenParsed(() => { document.documentElement.dataset.ready = "1"; });
})();
