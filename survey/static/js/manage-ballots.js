/* Keying grid for paper ballots, keyboard only:
   - in an item or category cell, typing 1..n picks the n-th option and moves to the next cell;
     0 clears the cell (an unanswered item) and moves on;
   - the comment cell (when the survey takes comments) is typed as text;
   - Enter goes to the next ballot's row, adding one at the end (branch and category carried
     over), and moves to its first item; the server ignores a row with no answer and no comment,
     so the row Enter added last never blocks saving;
   - Ctrl+Enter saves the grid.
   Without JavaScript the grid is a plain form of selects with an "Add rows" button. */
(function () {
  "use strict";
  var form = document.querySelector("[data-ballot-grid]");
  if (!form) { return; }
  var body = form.querySelector(".ballot-grid tbody");
  var FIRST_ITEM = 2; // cells: branch, category, items..., comment
  var MAX_ROWS = 500;

  function rows() { return Array.prototype.slice.call(body.querySelectorAll("tr[data-row]")); }
  function cells(row) {
    return Array.prototype.slice.call(row.querySelectorAll("select, input, textarea"));
  }

  function renumber(row, index) {
    row.querySelector("[data-row-number]").textContent = String(index + 1);
    cells(row).forEach(function (field) {
      field.name = field.name.replace(/^ballots-\d+-/, "ballots-" + index + "-");
      field.id = field.id.replace(/^ballots-\d+-/, "ballots-" + index + "-");
      var label = field.getAttribute("aria-label");
      if (label) { field.setAttribute("aria-label", label.replace(/\d+/, String(index + 1))); }
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
    cells(clone).forEach(function (field) {
      if (field.tagName === "SELECT") { field.selectedIndex = 0; } else { field.value = ""; }
      field.removeAttribute("aria-invalid");
      field.removeAttribute("aria-describedby");
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

  function next(field) {
    var row = field.closest("tr");
    var list = cells(row);
    var index = list.indexOf(field);
    if (index < list.length - 1) { list[index + 1].focus(); return; }
    var following = row.nextElementSibling || addRow();
    if (following) { enterRow(following, row); }
  }

  body.addEventListener("keydown", function (event) {
    var field = event.target;
    var tag = field.tagName;
    if ((tag !== "SELECT" && tag !== "INPUT") || event.altKey) { return; }
    if (event.key === "Enter") {
      event.preventDefault();
      if (event.ctrlKey || event.metaKey) {
        var save = form.querySelector('[name="submit"]');
        if (form.requestSubmit) { form.requestSubmit(save); } else { save.click(); }
        return;
      }
      var row = field.closest("tr");
      var following = row.nextElementSibling || addRow();
      if (following) { enterRow(following, row); }
      return;
    }
    if (event.ctrlKey || event.metaKey || field.getAttribute("data-shortcuts") !== "1") { return; }
    if (/^[0-9]$/.test(event.key)) {
      var n = parseInt(event.key, 10);
      if (n < field.options.length) {
        event.preventDefault();
        field.selectedIndex = n;
        field.dispatchEvent(new Event("change", { bubbles: true }));
        next(field);
      }
    }
  });
})();
