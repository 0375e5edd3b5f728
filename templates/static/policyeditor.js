// Validates IAM policy documents as they are typed: every
// <textarea class="policy-editor" data-validate="/admin/api/policy/validate">
// (optional data-kind="trust" or "identity") is checked against the policy
// grammar a moment after each change, and the result is written into the
// element named by its aria-describedby. Without JavaScript the forms work
// as they are; the server checks the policy again when it is used.
(function () {
  "use strict";
  function setup(area) {
    var status = document.getElementById(area.getAttribute("aria-describedby") || "");
    if (!status) { return; }
    var timer = null, seq = 0;
    function show(text, ok) {
      status.textContent = text;
      status.className = "policy-status " + (ok ? "valid" : "invalid");
      area.setAttribute("aria-invalid", ok ? "false" : "true");
    }
    function check() {
      var text = area.value;
      var mine = ++seq;
      if (text.trim() === "") {
        status.textContent = "";
        status.className = "policy-status";
        area.removeAttribute("aria-invalid");
        return;
      }
      fetch(area.dataset.validate, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ policy: text, kind: area.dataset.kind || "" })
      }).then(function (res) {
        return res.json().then(function (body) { return { ok: res.ok, body: body }; });
      }).then(function (r) {
        if (mine !== seq) { return; }
        if (!r.ok) {
          show("Could not check the policy: " + ((r.body.error && r.body.error.message) || "error"), false);
          return;
        }
        if (r.body.valid) {
          show("Valid policy.", true);
          return;
        }
        var msgs = r.body.errors.map(function (e) {
          var where = e.line ? "Line " + e.line + (e.column ? ", column " + e.column : "") + ": " : "";
          return where + e.message;
        });
        show(msgs.join(" "), false);
      }).catch(function () {
        if (mine === seq) { show("Could not check the policy (network error).", false); }
      });
    }
    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 300);
    });
    check();
  }
  document.querySelectorAll("textarea.policy-editor[data-validate]").forEach(setup);
})();
