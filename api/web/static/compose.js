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
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 300);
  });
}());
