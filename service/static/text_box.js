// The staff text box's live counter: characters and SMS segments, counted exactly as
// service/domain/segments.py counts them (a browser test checks they agree).
(function () {
  "use strict";
  var BASIC =
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENDED = "^{}\\[~]|€\f";

  function segments(units, single, each) {
    if (units === 0) return 0;
    return units <= single ? 1 : Math.ceil(units / each);
  }

  function count(text) {
    var units = 0;
    var gsm = true;
    for (var i = 0; i < text.length; i++) {
      var c = text.charAt(i);
      if (EXTENDED.indexOf(c) >= 0) units += 2;
      else if (BASIC.indexOf(c) >= 0) units += 1;
      else { gsm = false; break; }
    }
    if (gsm) return { characters: text.length, segments: segments(units, 160, 153), encoding: "GSM-7" };
    return { characters: text.length, segments: segments(text.length, 70, 67), encoding: "UCS-2" };
  }
  window.touchbaseCount = count;

  function wire(box) {
    var area = box.querySelector("textarea");
    var out = box.querySelector(".text-count");
    var limit = parseInt(area.getAttribute("data-max"), 10);
    function show() {
      var n = count(area.value);
      var words = n.characters + " / " + limit + " characters, " + n.segments +
        (n.segments === 1 ? " text" : " texts") + " (" + n.encoding + ")";
      if (n.characters > limit) words += ": " + (n.characters - limit) + " too many";
      out.textContent = words;
      out.classList.toggle("over", n.characters > limit);
    }
    area.addEventListener("input", show);
    show();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".text-box").forEach(wire);
  });
})();
