// The mapping editor's live preview: as the administrator types, the
// mapping (with the source-identity fields applied) is sent to
// POST /admin/api/mappings/preview, debounced, and the page shows the
// exact SAML attributes for the chosen person, or the exact problems.
// Without JavaScript the form's Preview button does the same on the server.
(function () {
  "use strict";
  var form = document.getElementById("mapping-editor");
  if (!form) { return; }
  var body = document.getElementById("mapping-body");
  var user = document.getElementById("preview-user");
  var out = document.getElementById("preview");
  var problems = document.getElementById("body-problems");
  var hints = document.getElementById("body-hints");
  var siProblems = document.getElementById("si-problems");
  var siFrom = document.getElementById("si-from");
  var siTransforms = document.getElementById("si-transforms");
  var siRequired = document.getElementById("si-required");
  var timer = null;
  var seq = 0;

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  // sourceIdentityLine is the source_identity line the fields describe.
  function sourceIdentityLine() {
    var from = siFrom.value.trim();
    if (from === "") { return ""; }
    var ts = siTransforms.value.split(/[\s,]+/).filter(function (t) { return t !== ""; });
    var parts = ["from: " + from];
    if (ts.length) { parts.push("transforms: [" + ts.join(", ") + "]"); }
    if (siRequired.checked) { parts.push("required: true"); }
    return "source_identity: {" + parts.join(", ") + "}";
  }

  // applyFields writes the source-identity fields into the YAML's
  // top-level source_identity (block or flow style); the server does the
  // same on save, for a form sent without JavaScript.
  function applyFields() {
    if (siFrom.disabled) { return; }
    var lines = body.value.split("\n");
    var line = sourceIdentityLine();
    for (var i = 0; i < lines.length; i++) {
      if (/^source_identity:/.test(lines[i])) {
        // The rule's own lines: this one and the indented ones after it.
        var end = i + 1;
        while (end < lines.length && /^\s+\S/.test(lines[end])) { end++; }
        if (line === "") { lines.splice(i, end - i); } else { lines.splice(i, end - i, line); }
        body.value = lines.join("\n");
        return;
      }
    }
    if (line === "") { return; }
    for (var j = 0; j < lines.length; j++) {
      if (/^name:/.test(lines[j])) { lines.splice(j + 1, 0, line); body.value = lines.join("\n"); return; }
    }
    body.value = line + "\n" + body.value;
  }

  function showProblems(list, node, prefix) {
    clear(node);
    (list || []).forEach(function (f) {
      var li = el("li");
      if (f.field) { li.appendChild(el("code", f.field)); }
      var text = (f.line ? " (line " + f.line + ")" : "") + (f.field ? ": " : "") + f.message;
      li.appendChild(document.createTextNode((prefix || "") + text));
      node.appendChild(li);
    });
  }

  function render(res) {
    showProblems(res.fields, problems);
    showProblems((res.fields || []).filter(function (f) { return f.field === "source_identity" || f.field.indexOf("source_identity.") === 0; }), siProblems);
    clear(hints);
    (res.hints || []).forEach(function (h) { hints.appendChild(el("li", "Hint, line " + h.line + ": " + h.message)); });
    clear(out);
    if (!res.valid) { out.appendChild(el("p", "The mapping is not valid; see the problems above.", "field-error")); return; }
    var rep = res.report;
    if (!rep) { out.appendChild(el("p", "Valid. Name a person to see their attributes.", "muted")); return; }
    if (!rep.ok) {
      out.appendChild(el("p", rep.user + " cannot be mapped:", "field-error"));
      var ul = el("ul", undefined, "field-error");
      (rep.problems || []).forEach(function (p) {
        var li = el("li");
        li.appendChild(el("code", p.field));
        li.appendChild(document.createTextNode(": " + p.message));
        ul.appendChild(li);
      });
      out.appendChild(ul);
      return;
    }
    var p = el("p", "SAML attributes for ");
    p.appendChild(el("strong", rep.user));
    p.appendChild(document.createTextNode(" (NameID "));
    p.appendChild(el("code", rep.nameId));
    p.appendChild(document.createTextNode("):"));
    out.appendChild(p);
    var table = el("table", undefined, "admin preview-attributes");
    var head = el("tr");
    ["Attribute", "Values"].forEach(function (h) { var th = el("th", h); th.scope = "col"; head.appendChild(th); });
    var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
    var tbody = el("tbody");
    (rep.attributes || []).forEach(function (a) {
      var tr = el("tr");
      var name = el("td"); name.appendChild(el("code", a.name)); tr.appendChild(name);
      var vals = el("td");
      a.values.forEach(function (v) { vals.appendChild(el("code", v, "preview-value")); vals.appendChild(document.createTextNode(" ")); });
      tr.appendChild(vals);
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
    out.appendChild(table);
  }

  function preview() {
    var mine = ++seq;
    fetch("/admin/api/mappings/preview", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ body: body.value, user: user.value.trim() })
    }).then(function (resp) {
      return resp.json().then(function (data) { return { status: resp.status, data: data }; });
    }).then(function (r) {
      if (mine !== seq) { return; }
      if (r.status !== 200) {
        clear(out);
        out.appendChild(el("p", (r.data.error && r.data.error.message) || "The preview failed.", "field-error"));
        return;
      }
      render(r.data);
    }).catch(function () {
      if (mine !== seq) { return; }
      clear(out);
      out.appendChild(el("p", "The preview could not reach the server.", "field-error"));
    });
  }

  function schedule() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(preview, 300);
  }

  [siFrom, siTransforms, siRequired].forEach(function (f) {
    if (!f) { return; }
    f.addEventListener("input", function () { applyFields(); schedule(); });
    f.addEventListener("change", function () { applyFields(); schedule(); });
  });
  body.addEventListener("input", schedule);
  user.addEventListener("input", schedule);
  user.addEventListener("change", schedule);
  form.setAttribute("data-live-preview", "on");
})();
