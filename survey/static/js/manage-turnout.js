/* Turnout page: refresh the figures (per branch, the total and per category) from the JSON
   endpoint every few seconds (counts only).
   Without JavaScript the page shows the figures of when it was loaded and a Refresh link. */
(function () {
  "use strict";
  var table = document.getElementById("turnout");
  if (!table || !window.fetch) { return; }
  var url = table.getAttribute("data-source");
  var interval = parseInt(table.getAttribute("data-interval"), 10) || 10000;
  var status = document.getElementById("turnout-status");
  var fields = ["codes_issued", "codes_used", "paper_handed_out", "paper_ballots", "responses",
                "waiting", "turnout"];
  var byCategory = document.getElementById("turnout-categories");

  function cell(text, className, tag) {
    var element = document.createElement(tag || "td");
    element.textContent = text;
    if (className) { element.className = className; }
    return element;
  }

  function fill(row, data) {
    fields.forEach(function (field) {
      var target = row.querySelector('[data-field="' + field + '"]');
      if (target) { target.textContent = data[field]; }
    });
  }

  function build(data) {
    var row = document.createElement("tr");
    row.setAttribute("data-branch", data.code);
    var head = cell(data.code + " " + data.name, "", "th");
    head.setAttribute("scope", "row");
    row.appendChild(head);
    fields.forEach(function (field) {
      var td = cell(data[field], "num");
      td.setAttribute("data-field", field);
      row.appendChild(td);
    });
    return row;
  }

  function apply(display) {
    var body = table.tBodies[0];
    var current = body.querySelectorAll("tr[data-branch]");
    var same = current.length === display.branches.length;
    display.branches.forEach(function (data, index) {
      if (same && current[index].getAttribute("data-branch") !== data.code) { same = false; }
    });
    if (same) {
      display.branches.forEach(function (data, index) { fill(current[index], data); });
    } else {
      while (body.firstChild) { body.removeChild(body.firstChild); }
      display.branches.forEach(function (data) { body.appendChild(build(data)); });
    }
    var total = table.tFoot && table.tFoot.querySelector("tr");
    if (total) { fill(total, display.total); }
    if (byCategory && display.total.categories) {
      display.total.categories.forEach(function (data) {
        var row = byCategory.querySelector('tr[data-category="' + data.key + '"]');
        if (row) { fill(row, data); }
      });
    }
  }

  function refresh() {
    if (document.hidden) { return; }
    fetch(url, {
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (data) {
      apply(data.display);
      if (status) {
        status.textContent = table.getAttribute("data-updated")
          .replace("{time}", new Date().toLocaleTimeString());
      }
    }).catch(function () {
      if (status) { status.textContent = table.getAttribute("data-failed"); }
    });
  }

  window.setInterval(refresh, interval);
})();
