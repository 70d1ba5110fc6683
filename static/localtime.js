/* Shows the page's UTC times in the reader's own time zone. Without JavaScript the page
   reads the same, in UTC; the UTC time stays available as the element's tooltip. */
(function () {
  "use strict";
  if (!window.Intl || !document.querySelectorAll) return;
  var format = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    timeZoneName: "short"
  });
  var times = document.querySelectorAll("time[data-local]");
  for (var i = 0; i < times.length; i++) {
    var el = times[i];
    var when = new Date(el.getAttribute("datetime"));
    if (isNaN(when.getTime())) continue;
    el.title = el.textContent;
    el.textContent = format.format(when);
  }
  var note = document.getElementById("tz-note");
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (note && zone) note.textContent = "Times are shown in your time zone (" + zone + ").";
})();
