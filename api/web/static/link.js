// A mailed link carries its token in the fragment (#token=...), which browsers never send to a
// server: put it into the form's field, then take it out of the address bar.
(function () {
  "use strict";
  var match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  var field = document.getElementById("token");
  if (!match || !field) { return; }
  field.value = decodeURIComponent(match[1]);
  if (window.history && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname);
  }
}());
