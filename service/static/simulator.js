// The phone simulator's auto-refresh: every few seconds, fetch the phone's screen again
// from the server and swap it in, so texts the clock sends appear without a reload.
// Same-origin, no inline script (the dashboard's CSP allows only 'self').
(function () {
  "use strict";
  var box = document.querySelector("[data-refresh]");
  if (!box) {
    return;
  }
  var url = box.getAttribute("data-refresh");
  function refresh() {
    if (document.visibilityState !== "visible") {
      return;
    }
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        // A redirect means the sign-in ran out: leave the screen as it is.
        return response.ok && !response.redirected ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null && html.trim() !== box.innerHTML.trim()) {
          box.innerHTML = html;
        }
      })
      .catch(function () {
        // The demo was stopped or the network dropped; try again at the next tick.
      });
  }
  window.setInterval(refresh, 4000);
})();
