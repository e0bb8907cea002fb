/* Keying grid for paper ballots, keyboard only:
   - in an item or category cell, typing 1..n picks the n-th option and moves to the next cell;
     0 clears the cell (an unanswered item) and moves on;
   - Enter goes to the next ballot's row, adding one at the end (branch and category carried
     over), and moves to its first item;
   - Ctrl+Enter saves the grid.
   Without JavaScript the grid is a plain form of selects with an "Add rows" button. */
(function () {
  "use strict";
  var form = document.querySelector("[data-ballot-grid]");
  if (!form) { return; }
  var body = form.querySelector(".ballot-grid tbody");
  var FIRST_ITEM = 2; // cells: branch, category, items...
  var MAX_ROWS = 500;

  function rows() { return Array.prototype.slice.call(body.querySelectorAll("tr[data-row]")); }
  function cells(row) { return Array.prototype.slice.call(row.querySelectorAll("select")); }

  function renumber(row, index) {
    row.querySelector("[data-row-number]").textContent = String(index + 1);
    cells(row).forEach(function (select) {
      select.name = select.name.replace(/^ballots-\d+-/, "ballots-" + index + "-");
      select.id = select.id.replace(/^ballots-\d+-/, "ballots-" + index + "-");
      var label = select.getAttribute("aria-label");
      if (label) { select.setAttribute("aria-label", label.replace(/\d+/, String(index + 1))); }
    });
  }

  function carry(from, to) {
    var source = cells(from);
    var target = cells(to);
    for (var i = 0; i < FIRST_ITEM; i += 1) {
      if (!target[i].value && source[i].value) { target[i].value = source[i].value; }
    }
  }

  function addRow() {
    var all = rows();
    if (all.length >= MAX_ROWS) { return null; }
    var last = all[all.length - 1];
    var clone = last.cloneNode(true);
    Array.prototype.forEach.call(clone.querySelectorAll(".cell-error"), function (node) {
      node.parentNode.removeChild(node);
    });
    cells(clone).forEach(function (select) {
      select.selectedIndex = 0;
      select.removeAttribute("aria-invalid");
      select.removeAttribute("aria-describedby");
    });
    renumber(clone, all.length);
    body.appendChild(clone);
    carry(last, clone);
    return clone;
  }

  function enterRow(row, previous) {
    if (previous) { carry(previous, row); }
    var list = cells(row);
    var start = list[0].value && list[1].value ? FIRST_ITEM : 0;
    (list[start] || list[0]).focus();
  }

  function next(select) {
    var row = select.closest("tr");
    var list = cells(row);
    var index = list.indexOf(select);
    if (index < list.length - 1) { list[index + 1].focus(); return; }
    var following = row.nextElementSibling || addRow();
    if (following) { enterRow(following, row); }
  }

  body.addEventListener("keydown", function (event) {
    var select = event.target;
    if (select.tagName !== "SELECT" || event.altKey) { return; }
    if (event.key === "Enter") {
      event.preventDefault();
      if (event.ctrlKey || event.metaKey) {
        var save = form.querySelector('[name="submit"]');
        if (form.requestSubmit) { form.requestSubmit(save); } else { save.click(); }
        return;
      }
      var row = select.closest("tr");
      var following = row.nextElementSibling || addRow();
      if (following) { enterRow(following, row); }
      return;
    }
    if (event.ctrlKey || event.metaKey || select.getAttribute("data-shortcuts") !== "1") { return; }
    if (/^[0-9]$/.test(event.key)) {
      var n = parseInt(event.key, 10);
      if (n < select.options.length) {
        event.preventDefault();
        select.selectedIndex = n;
        select.dispatchEvent(new Event("change", { bubbles: true }));
        next(select);
      }
    }
  });
})();
