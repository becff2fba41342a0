// protocol-kb embed: tell the embedding page how tall the widget is, so its <iframe> can fit it.
// Message: {type: "protocol-kb:height", height: <CSS pixels>}. docs/embedding.md has the parent script.
(function () {
  "use strict";
  var last = 0;
  function report() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== last && window.parent !== window) {
      last = height;
      window.parent.postMessage({ type: "protocol-kb:height", height: height }, "*");
    }
  }
  window.addEventListener("load", report);
  if (typeof ResizeObserver === "function") new ResizeObserver(report).observe(document.documentElement);
  else window.addEventListener("resize", report);
})();
