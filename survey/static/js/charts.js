/* Ceping result charts: draws every figure whose JSON sits in a
 * <script type="application/json" id="fig-…"> data block into the element with
 * data-figure="fig-…". The figures are built on the server (survey/results/charts/); this file
 * hands them to plotly.js, which the app serves itself (no CDN), and does two things on top:
 *
 * - Print: on paper a chart is drawn at a fixed size that fits an A4 page (print.css sets the
 *   page), instead of plotly's "fill the container", which in print media collapsed charts to a
 *   zero height so they covered their tables. It reacts to the print media query (a browser's
 *   print preview, an emulated print medium) and to beforeprint/afterprint.
 * - Order: figures that carry a "sort" block list branches in one order; a selector above the
 *   first of them lets the reader re-sort every chart and its table the same way.
 *
 * The numbers of every chart are also in a table on the page, so nothing is lost without
 * JavaScript. No inline script: the page's CSP allows only this file and plotly. */
(function () {
  "use strict";

  var CONFIG = {
    displaylogo: false,
    responsive: true,
    showLink: false,
    showSendToCloud: false,
    showEditInChartStudio: false,
    modeBarButtonsToRemove: ["sendDataToCloud", "lasso2d", "select2d"]
  };

  /* The printable width of A4 in CSS pixels: 210 mm less print.css's 12 mm side margins. */
  var PRINT_WIDTH = Math.floor(((210 - 2 * 12) / 25.4) * 96) - 4;
  /* The tallest a chart is drawn on paper, so that it and its title fit one A4 page. */
  var PRINT_MAX_HEIGHT = 860;
  var PRINT_MIN_HEIGHT = 260;

  var charts = [];
  var printing = null;
  var order = "rate";

  function copy(value) {
    return JSON.parse(JSON.stringify(value));
  }

  function collator() {
    var lang = document.documentElement.getAttribute("lang") || undefined;
    try {
      return new Intl.Collator(lang);
    } catch (error) {
      return new Intl.Collator();
    }
  }

  /* The branch labels of a figure in the chosen order, its pinned labels first. */
  function orderedLabels(sort) {
    var branches = sort.branches.slice();
    if (order === "code") {
      branches.sort(function (a, b) { return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0; });
    } else if (order === "name") {
      var compare = collator().compare;
      branches.sort(function (a, b) { return compare(a[0], b[0]) || (a[1] < b[1] ? -1 : 1); });
    }
    return sort.pinned.concat(branches.map(function (branch) { return branch[0]; }));
  }

  /* The layout a chart is drawn with now: the chosen order, and a fixed size on paper. */
  function currentLayout(chart) {
    var layout = copy(chart.figure.layout || {});
    var sort = chart.figure.sort;
    if (sort && layout.yaxis && layout.yaxis.categoryarray) {
      layout.yaxis.categoryarray = orderedLabels(sort);
    }
    if (printing) {
      var height = layout.height || 360;
      layout.width = PRINT_WIDTH;
      layout.height = Math.max(PRINT_MIN_HEIGHT, Math.min(PRINT_MAX_HEIGHT, height));
      layout.autosize = false;
    }
    return layout;
  }

  /* Rows of the chart's table follow the chosen order: a row whose header is a branch label
   * moves, other rows (all branches together) keep their place at the top. */
  function sortTable(chart) {
    var sort = chart.figure.sort;
    var block = chart.target.closest(".chart-block");
    var body = block && block.querySelector("table tbody");
    if (!sort || !body) {
      return;
    }
    var byLabel = {};
    Array.prototype.forEach.call(body.rows, function (row) {
      var header = row.querySelector("th");
      if (header) {
        byLabel[header.textContent.trim()] = row;
      }
    });
    orderedLabels(sort).forEach(function (label) {
      var row = byLabel[label];
      if (row && sort.pinned.indexOf(label) < 0) {
        body.appendChild(row);
      }
    });
  }

  function draw(chart) {
    var layout = currentLayout(chart);
    var config = printing ? Object.assign({}, CONFIG, { responsive: false }) : CONFIG;
    chart.target.classList.toggle("is-print-sized", !!printing);
    return window.Plotly.react(chart.target, chart.figure.data || [], layout, config).then(function () {
      chart.target.classList.add("is-drawn");
      chart.target.dataset.drawnFor = printing ? "print" : "screen";
    });
  }

  function redrawAll() {
    charts.forEach(draw);
  }

  function setPrinting(value) {
    if (printing === value) {
      return;
    }
    printing = value;
    if (charts.length) {
      redrawAll();
    }
  }

  function setOrder(value) {
    order = value;
    charts.forEach(function (chart) {
      draw(chart);
      sortTable(chart);
    });
  }

  /* One selector for the whole page, above the first sortable chart. */
  function addOrderSelector() {
    var first = null;
    charts.some(function (chart) {
      if (chart.figure.sort) {
        first = chart;
        return true;
      }
      return false;
    });
    if (!first) {
      return;
    }
    var sort = first.figure.sort;
    var block = first.target.closest(".chart-block") || first.target;
    var wrap = document.createElement("p");
    wrap.className = "branch-order no-print";
    var label = document.createElement("label");
    label.setAttribute("for", "branch-order");
    label.textContent = sort.label;
    var select = document.createElement("select");
    select.id = "branch-order";
    sort.choices.forEach(function (choice) {
      var option = document.createElement("option");
      option.value = choice[0];
      option.textContent = choice[1];
      select.appendChild(option);
    });
    select.addEventListener("change", function () { setOrder(select.value); });
    wrap.appendChild(label);
    wrap.appendChild(select);
    block.parentNode.insertBefore(wrap, block);
  }

  function drawAll() {
    if (typeof window.Plotly === "undefined") {
      return;
    }
    var blocks = document.querySelectorAll('script[type="application/json"][id^="fig-"]');
    Array.prototype.forEach.call(blocks, function (block) {
      var target = document.querySelector('[data-figure="' + block.id + '"]');
      if (!target) {
        return;
      }
      try {
        charts.push({ target: target, figure: JSON.parse(block.textContent) });
      } catch (error) {
        /* A broken data block leaves its table, which has the same numbers. */
      }
    });
    var media = window.matchMedia ? window.matchMedia("print") : null;
    printing = !!(media && media.matches);
    redrawAll();
    addOrderSelector();
    if (media) {
      media.addEventListener("change", function (event) { setPrinting(event.matches); });
    }
    window.addEventListener("beforeprint", function () { setPrinting(true); });
    window.addEventListener("afterprint", function () { setPrinting(!!(media && media.matches)); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
