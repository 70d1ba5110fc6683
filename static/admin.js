/* Enhancements only: every admin page works the same without this file.
   Loaded in <head> so the "js" class is set before the first paint. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.className += " js";

  function closeNavOnPhones() {
    var toggle = document.querySelector("[data-nav-toggle]");
    var menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
    if (!menu) return;
    function set(open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("is-closed", !open);
    }
    set(false);
    toggle.addEventListener("click", function () {
      set(toggle.getAttribute("aria-expanded") !== "true");
    });
  }

  function focusErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) summary.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    closeNavOnPhones();
    focusErrorSummary();
  });
})();
