// A long job's page: ask for its progress every half second and move the bar until it has finished.
// Without JavaScript the page shows the progress as it was when loaded (reload to see more).
(function () {
  "use strict";
  var url = document.body.getAttribute("data-progress-url");
  if (!url) { return; }
  var seen = [];

  function show(progress) {
    document.getElementById("upload-state").textContent = progress.state_label;
    document.getElementById("upload-lines").textContent = progress.lines;
    var bar = document.getElementById("upload-bar");
    bar.value = progress.percent;
    bar.textContent = progress.percent + "%";
    document.getElementById("upload-percent").textContent = progress.percent + "%";
    var message = document.getElementById("upload-message");
    message.textContent = progress.message;
    message.className = progress.state === "failed" ? "error" : "";
    document.getElementById("upload-progress").setAttribute("data-state", progress.state);
    if (progress.settlement_url) {
      var link = document.getElementById("upload-link");
      link.innerHTML = "";
      var anchor = document.createElement("a");
      anchor.href = progress.settlement_url;
      anchor.textContent = "Open the settlement, its journal and reconciliation";
      link.appendChild(anchor);
    }
    seen.push(progress.percent);
    document.body.setAttribute("data-seen", seen.join(","));
  }

  function poll() {
    fetch(url, {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (progress) {
        if (progress) { show(progress); }
        if (!progress || !progress.finished) { setTimeout(poll, 500); }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }

  poll();
})();
