// Sortable tables: a table marked data-sortable sorts its rows by a column when its header is clicked
// (again: the other way). A cell's data-sort value is used when present (durations, times), else its
// text; numbers sort as numbers. The rows are already on the page: nothing is fetched. No framework.
(function () {
  "use strict";

  function value(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    var number = parseFloat(raw.replace(/,/g, ""));
    return isNaN(number) || !/^-?[\d,.]+/.test(raw) ? raw.toLowerCase() : number;
  }

  function sortBy(table, header, index) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).filter(function (row) { return row.cells.length > 1; });
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    rows.sort(function (a, b) {
      var x = value(a, index), y = value(b, index);
      if (typeof x !== typeof y) { x = String(x); y = String(y); }
      return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) { cell.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function wire(table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, index) {
      // A header holding a control (select all) is not a sort key; one wired already is left alone.
      if (header.classList.contains("sortable") || header.querySelector("input, button, select")) { return; }
      header.classList.add("sortable");
      header.setAttribute("tabindex", "0");
      header.setAttribute("title", "Sort by " + header.textContent.trim());
      header.addEventListener("click", function () { sortBy(table, header, index); });
      header.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortBy(table, header, index); }
      });
    });
  }

  function wireAll() { document.querySelectorAll("table[data-sortable]").forEach(wire); }
  document.addEventListener("DOMContentLoaded", wireAll);
  document.addEventListener("hub:refreshed", wireAll);  // live parts of a page replaced (countdown.js)
})();
