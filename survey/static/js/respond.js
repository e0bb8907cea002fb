/* Ceping start page: take the code from a slip's link (https://host/#code=K7QMX-...).
 *
 * The code travels in the URL fragment, which browsers never send to the server. This script
 * copies it into the code field and then removes it from the address bar and from the history
 * entry, so it is not left behind on a shared device. Without JavaScript the respondent simply
 * types the code. Loaded with <script src> because the CSP forbids inline scripts.
 */
(function () {
  "use strict";

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
    var clean = window.location.pathname + window.location.search;
    if (window.history && typeof window.history.replaceState === "function") {
      window.history.replaceState(window.history.state, "", clean);
    } else {
      window.location.hash = "";
    }
    if (field && field.form) {
      var button = field.form.querySelector('button[type="submit"]');
      if (button) {
        button.focus();
      }
    }
  }

  takeCodeFromFragment();
  /* A second slip scanned into the same tab changes only the fragment: no page load follows. */
  window.addEventListener("hashchange", takeCodeFromFragment);
})();
