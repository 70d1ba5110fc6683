/* Shows the page's UTC times in the reader's own time zone, in the page's language. Without
   JavaScript the page reads the same, in UTC; the UTC time stays available as the element's
   tooltip. */
(function () {
  "use strict";
  if (!window.Intl || !document.querySelectorAll) return;
  var lang = document.documentElement.lang || undefined;
  var format = new Intl.DateTimeFormat(lang, {
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
  var words = note && note.getAttribute("data-zone-note");
  if (words && zone) note.textContent = words.replace("{zone}", zone);
})();
