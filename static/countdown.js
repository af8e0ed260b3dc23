// The home page, live: a countdown to each ship-by (<time class="countdown" datetime="...">), ticking every
// second, and the parts marked data-live fetched again every minute without reloading the page. No
// framework; without JavaScript the page shows the same figures and ship-by times.
(function () {
  "use strict";
  var SOON_MS = 4 * 3600 * 1000;

  function label(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000), hours = Math.floor(minutes / 60), days = Math.floor(hours / 24);
    var text = days ? days + "d " + (hours % 24) + "h" : hours ? hours + "h " + (minutes % 60) + "m" : minutes + "m";
    return ms < 0 ? "overdue by " + text : text + " to ship-by";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("time.countdown").forEach(function (element) {
      var ms = Date.parse(element.getAttribute("datetime")) - now;
      element.textContent = label(ms);
      element.className = "countdown" + (ms < 0 ? " overdue" : ms < SOON_MS ? " soon" : "");
    });
  }

  function refresh() {
    fetch(window.location.href, {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (element) {
          var replacement = fresh.getElementById(element.id);
          if (replacement) { element.innerHTML = replacement.innerHTML; }
        });
        document.documentElement.setAttribute("data-refreshed", new Date().toISOString());
        document.dispatchEvent(new Event("hub:refreshed"));
        tick();
      })
      .catch(function () { /* the next minute tries again */ });
  }

  tick();
  setInterval(tick, 1000);
  setInterval(refresh, Number(document.body.getAttribute("data-refresh-ms")) || 60000);
})();
