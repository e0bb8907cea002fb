/* Ceping result charts: draws every figure whose JSON sits in a
 * <script type="application/json" id="fig-…"> data block into the element with
 * data-figure="fig-…". The figures are built on the server (survey/results/charts.py); this file
 * only hands them to plotly.js, which the app serves itself (no CDN). The numbers of every chart
 * are also in a table on the page, so nothing is lost without JavaScript. */
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
      var figure;
      try {
        figure = JSON.parse(block.textContent);
      } catch (error) {
        return;
      }
      window.Plotly.newPlot(target, figure.data || [], figure.layout || {}, CONFIG).then(function () {
        target.classList.add("is-drawn");
      });
    });
  }

  function resizeAll() {
    if (typeof window.Plotly === "undefined") {
      return;
    }
    var drawn = document.querySelectorAll(".chart.is-drawn");
    Array.prototype.forEach.call(drawn, function (element) {
      window.Plotly.Plots.resize(element);
    });
  }

  // Redraw at the printed page width, and back at the screen width afterwards.
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
