/* Ceping's respondent pages. Loaded with <script src> because the CSP forbids inline scripts.
 *
 * Start page: a slip's link (https://host/#code=K7QMX-...) carries the code in the URL fragment,
 * which browsers never send to the server. This script copies it into the code field, removes
 * it from the address bar and from the history entry (so it is not left behind on a shared
 * device), and sends the form at once, so the respondent lands on the questionnaire. Without
 * JavaScript the respondent types the code instead.
 *
 * Questionnaire: the page is the answer to a POST (the code travels in POST bodies only). Its
 * history entry is moved to a plain address (data-history-url), so that Back after sending
 * loads that address, which shows the thank-you page, instead of the browser asking to send
 * the form again. The language links send the answers given so far back with the form (field
 * "language"); the same questionnaire comes back in that language with those answers chosen.
 * Nothing is kept in the browser's storage on the way.
 */
(function () {
  "use strict";

  function replaceAddress(address) {
    if (window.history && typeof window.history.replaceState === "function") {
      window.history.replaceState(null, "", address);
      return true;
    }
    return false;
  }

  function takeCodeFromFragment() {
    var match = /(?:^#|&)code=([^&]*)/.exec(window.location.hash || "");
    if (!match) {
      return;
    }
    var code = match[1].replace(/\+/g, " ");
    try {
      code = decodeURIComponent(code);
    } catch (error) {
      /* A malformed escape: keep the raw text; the server normalises and checks it anyway. */
    }
    var field = document.querySelector('input[name="code"]');
    if (field) {
      field.value = code.trim();
    }
    if (!replaceAddress(window.location.pathname + window.location.search)) {
      window.location.hash = "";
    }
    if (field && field.form && field.value) {
      field.form.submit();
    }
  }

  function languageOf(link) {
    var match = /\/lang\/([A-Za-z_]+)/.exec(link.getAttribute("href") || "");
    return match ? match[1] : null;
  }

  function keepAnswersAcrossLanguages(form) {
    var links = document.querySelectorAll(".lang-switch a[href]");
    Array.prototype.forEach.call(links, function (link) {
      link.addEventListener("click", function (event) {
        var language = languageOf(link);
        if (!language) {
          return;
        }
        event.preventDefault();
        var field = form.querySelector('input[name="language"]');
        if (!field) {
          field = document.createElement("input");
          field.type = "hidden";
          field.name = "language";
          form.appendChild(field);
        }
        field.value = language;
        /* submit() sends what is chosen so far: unanswered questions are not an error here. */
        form.submit();
      });
    });
  }

  var questionnaire = document.getElementById("questionnaire");
  var answers = questionnaire && questionnaire.querySelector('form[method="post"]');
  if (answers) {
    replaceAddress(questionnaire.getAttribute("data-history-url"));
    keepAnswersAcrossLanguages(answers);
    /* A questionnaire restored from the back-forward cache may have been sent already: ask its
     * address again, which shows the thank-you page if so. */
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        window.location.reload();
      }
    });
  } else {
    takeCodeFromFragment();
    /* A second slip scanned into the same tab changes only the fragment: no page load follows. */
    window.addEventListener("hashchange", takeCodeFromFragment);
  }
})();
