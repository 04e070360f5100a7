// The header's menu button on narrow screens: it shows and hides the navigation and says
// so with aria-expanded; Escape closes it and gives the focus back to the button. Loaded
// where the header ends, so the menu is folded before the page first paints; without the
// script the class below is never set and the navigation stays open (style.css).
(function () {
  "use strict";
  var button = document.querySelector(".menu-button");
  if (!button) {
    return;
  }
  document.documentElement.classList.add("has-menu");
  button.addEventListener("click", function () {
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
      button.setAttribute("aria-expanded", "false");
      button.focus();
    }
  });
})();
