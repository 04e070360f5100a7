// The live preview on a text's edit page: each preview fills the placeholders with the
// values the server gave it (data-values; data-if-long: those that replace them when the
// text takes more than one segment) by the rule of service/domain/wording.py's render
// (a placeholder with an empty value, or none, is left out with the one space before it),
// and counts the result with text_box.js's counter, which counts as domain/segments.py does.
// A browser test checks both agree with the server. Without this script, the "Preview"
// button asks the server for the same preview.
(function () {
  "use strict";

  function fill(body, values) {
    return body.replace(/ ?\{([^{}]*)\}/g, function (found, name) {
      var has = Object.prototype.hasOwnProperty.call(values, name);
      var value = has ? String(values[name]).trim() : "";
      if (!value) return "";
      return (found.charAt(0) === " " ? " " : "") + value;
    });
  }
  window.touchbaseFill = fill;

  function merged(values, more) {
    var all = {};
    Object.keys(values).forEach(function (name) { all[name] = values[name]; });
    Object.keys(more).forEach(function (name) { all[name] = more[name]; });
    return all;
  }

  function wire(area, preview) {
    var values = JSON.parse(preview.getAttribute("data-values"));
    var ifLong = JSON.parse(preview.getAttribute("data-if-long") || "{}");
    var shorter = Object.keys(ifLong).length ? merged(values, ifLong) : null;
    var text = preview.querySelector(".preview-text");
    var count = preview.querySelector(".preview-count");
    var warning = preview.querySelector(".preview-warning");
    var segments = preview.querySelector(".preview-segments");
    var ucs2 = preview.querySelector(".preview-ucs2");
    function show() {
      var filled = fill(area.value, values);
      var n = window.touchbaseCount(filled);
      if (shorter && n.segments > 1) {
        // As the server does: a cancellation leaves the phone out of its reply hint
        // when the text would not fit one segment with it.
        filled = fill(area.value, shorter);
        n = window.touchbaseCount(filled);
      }
      text.textContent = filled;
      count.textContent = n.characters + " characters, " + n.segments + " SMS " +
        (n.segments === 1 ? "segment" : "segments") + " (" + n.encoding + ")";
      segments.textContent = n.segments;
      warning.hidden = n.segments <= 1;
      ucs2.hidden = n.encoding !== "UCS-2";
    }
    area.addEventListener("input", show);
    show();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var area = document.getElementById("f-body");
    if (!area || !window.touchbaseCount) return;
    document.querySelectorAll(".preview[data-values]").forEach(function (preview) {
      wire(area, preview);
    });
    // The preview follows the typing: the button that asks the server for it is not needed.
    document.querySelectorAll(".preview-button").forEach(function (button) {
      button.hidden = true;
    });
  });
})();
