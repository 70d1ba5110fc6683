/* The compose preview: while an update is typed, show what each channel will send.
   The form itself is posted (CSRF token included) to the form's data-preview URL, a
   moment after typing stops; the server answers with the texts the workers will send.
   Without this file the form works the same, only without the preview. */
(function () {
  "use strict";
  var WAIT = 400; // ms of quiet before asking

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function heading(entry) {
    var h = el("h4", "preview-name", entry.name);
    if (entry.label) h.appendChild(el("span", "hint", entry.label));
    return h;
  }

  function post(entry) {
    var card = el("article", "preview-card");
    card.setAttribute("data-kind", entry.kind);
    card.appendChild(heading(entry));
    var over = entry.length > entry.limit;
    var count = el("p", "preview-count" + (entry.shortened ? " is-cut" : ""));
    count.setAttribute("data-count", "");
    count.textContent = entry.length + " / " + entry.limit + " " + entry.unit +
      (entry.limit_known === false ? " (the instance's limit is read at the first post; 500 until then)" : "") +
      (entry.shortened ? ": shortened to fit" : "") + (over ? ": too long even when shortened" : "");
    card.appendChild(count);
    var text = el("pre", "preview-text", entry.text);
    text.setAttribute("data-text", "");
    card.appendChild(text);
    if (entry.cut) {
      var cut = el("p", "preview-cut");
      cut.appendChild(document.createTextNode("Cut at “…”; left out: "));
      var rest = el("del", null, entry.cut);
      rest.setAttribute("data-cut", "");
      cut.appendChild(rest);
      card.appendChild(cut);
    }
    return card;
  }

  function message(entry) {
    var card = el("article", "preview-card");
    card.setAttribute("data-kind", entry.kind);
    card.appendChild(heading(entry));
    if (entry.subject !== undefined) {
      var subject = el("p", "preview-subject");
      subject.appendChild(el("span", "meta", "Subject: "));
      var value = el("strong", null, entry.subject);
      value.setAttribute("data-subject", "");
      subject.appendChild(value);
      card.appendChild(subject);
    } else {
      card.appendChild(el("p", "preview-title", entry.title));
    }
    var text = el("pre", "preview-text", entry.text);
    text.setAttribute("data-text", "");
    card.appendChild(text);
    if (entry.payload) {
      var details = el("details");
      details.appendChild(el("summary", null, "Payload as sent"));
      var json = el("pre", "preview-payload", JSON.stringify(entry.payload, null, 2));
      json.setAttribute("data-payload", "");
      details.appendChild(json);
      card.appendChild(details);
    }
    return card;
  }

  function page(entry) {
    var card = el("article", "preview-card");
    card.setAttribute("data-kind", "page");
    card.appendChild(heading(entry));
    var body = el("div", "preview-page");
    body.innerHTML = entry.html; // sanitized server side, as the published page is
    card.appendChild(body);
    return card;
  }

  function show(box, status, data) {
    var list = box.querySelector("[data-preview-list]");
    list.textContent = "";
    var summary = [];
    data.previews.forEach(function (entry) {
      var card = entry.kind === "page" ? page(entry)
        : entry.limit !== undefined ? post(entry) : message(entry);
      if (entry.id !== undefined) card.setAttribute("data-channel", entry.id);
      list.appendChild(card);
      if (entry.limit !== undefined) {
        summary.push(entry.label + " " + entry.length + " of " + entry.limit + (entry.shortened ? ", shortened" : ""));
      }
    });
    status.textContent = "Preview updated" + (summary.length ? ": " + summary.join("; ") + "." : ".");
  }

  function problems(status, errors) {
    var parts = Object.keys(errors).map(function (field) { return field + " " + errors[field]; });
    status.textContent = "No preview: " + parts.join("; ") + ".";
  }

  function attach(form) {
    var box = document.getElementById(form.getAttribute("data-preview-box"));
    if (!box) return;
    var status = box.querySelector("[data-preview-status]");
    var timer = null;
    var asked = 0;
    box.hidden = false;

    function ask() {
      var mine = ++asked;
      var body = new URLSearchParams(new FormData(form));
      fetch(form.getAttribute("data-preview"), {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        return response.json().then(function (data) { return [response.status, data]; });
      }).then(function (answer) {
        if (mine !== asked) return; // a newer question is on its way
        if (answer[0] === 200) show(box, status, answer[1]);
        else problems(status, answer[1].errors || { form: "could not be read" });
        box.setAttribute("data-state", "ready");
      }).catch(function () {
        if (mine === asked) status.textContent = "The preview is unavailable right now.";
      });
    }

    function soon() {
      asked++; // an answer still on its way describes the form as it was
      box.setAttribute("data-state", "waiting");
      clearTimeout(timer);
      timer = setTimeout(ask, WAIT);
    }

    form.addEventListener("input", soon);
    form.addEventListener("change", soon);
    ask();
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-preview]"), attach);
  });
})();
