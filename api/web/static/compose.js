// The compose page's live preview: the server renders it (/app/senden/vorschau) as the user
// types; without this script the Preview button does the same.
(function () {
  "use strict";
  var form = document.getElementById("compose");
  var target = document.getElementById("preview");
  if (!form || !target || !window.fetch) { return; }
  var timer = null, asked = 0;
  function ask() {
    var mine = ++asked;
    var body = new URLSearchParams(new FormData(form));
    fetch("/app/senden/vorschau", { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null && mine === asked) { target.innerHTML = html; } })
      .catch(function () { /* the Preview button still works */ });
  }
  function later() {
    clearTimeout(timer);
    timer = setTimeout(ask, 300);
  }
  form.addEventListener("input", later);
  // The chosen list's columns, offered as placeholders: a click puts one where the cursor is.
  var list = document.getElementById("list_id");
  var text = document.getElementById("text");
  var offered = document.getElementById("placeholders");
  function offer() {
    if (!list || !offered) { return; }
    var option = list.options[list.selectedIndex];
    var fields = option && option.dataset.fields ? option.dataset.fields.split(",") : [];
    Array.prototype.slice.call(offered.querySelectorAll("button")).forEach(function (b) {
      b.remove();
    });
    fields.forEach(function (field) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "chip";
      button.dataset.placeholder = "{" + field + "}";
      button.textContent = "{" + field + "}";
      offered.appendChild(button);
    });
    offered.hidden = fields.length === 0;
  }
  if (list) { list.addEventListener("change", offer); }
  if (offered && text) {
    offered.addEventListener("click", function (event) {
      var placeholder = event.target.dataset && event.target.dataset.placeholder;
      if (!placeholder) { return; }
      var start = text.selectionStart, end = text.selectionEnd;
      text.value = text.value.slice(0, start) + placeholder + text.value.slice(end);
      text.focus();
      text.selectionStart = text.selectionEnd = start + placeholder.length;
      later();
    });
  }
}());
