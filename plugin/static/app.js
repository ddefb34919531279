// Small, unobtrusive behaviour for the queue; every page works without it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function setupMenu() {
    // On a phone the navigation folds behind the Menu button (CSS shows it only there).
    var toggle = document.getElementById("nav-toggle");
    if (!toggle) return;
    var bar = toggle.closest(".topbar");
    toggle.addEventListener("click", function () {
      var open = !bar.classList.contains("open");
      bar.classList.toggle("open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  function measure(text, unit) {
    if (unit === "bytes") return new TextEncoder().encode(text).length;
    return Array.from(text).length;  // code points, as the server counts them
  }

  function setupCounter() {
    var area = document.getElementById("reply-text");
    var used = document.getElementById("counter-used");
    var counter = document.getElementById("counter");
    if (!area || !used || !counter) return;
    var limit = parseInt(area.getAttribute("data-limit"), 10);
    var unit = area.getAttribute("data-unit");
    function update() {
      var n = measure(area.value, unit);
      used.textContent = String(n);
      counter.classList.toggle("over", n > limit);
      counter.classList.toggle("near", n <= limit && n > limit * 0.9);
    }
    area.addEventListener("input", update);
    update();
  }

  function setupSnippets() {
    // "Insert" puts the chosen snippet at the cursor; without this the button asks the server,
    // which appends it. Either way nothing is saved until "Save and check".
    var button = document.getElementById("insert-snippet");
    var pick = document.getElementById("snippet");
    var area = document.getElementById("reply-text");
    if (!button || !pick || !area) return;
    button.addEventListener("click", function (event) {
      var option = pick.options[pick.selectedIndex];
      if (!option) return;
      event.preventDefault();
      area.setRangeText(option.getAttribute("data-text"), area.selectionStart, area.selectionEnd, "end");
      area.dispatchEvent(new Event("input"));
      area.focus();
    });
  }

  function setupCopy() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy"));
        if (!source) return;
        var done = function () { button.textContent = "Copied"; };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(source.value).then(done);
        } else {
          source.select();
          document.execCommand("copy");
          done();
        }
      });
    });
  }

  function setupSelection() {
    var all = document.getElementById("select-all");
    var count = document.getElementById("selected-count");
    var picks = Array.prototype.slice.call(document.querySelectorAll("input.pick"));
    function refresh() {
      var n = picks.filter(function (p) { return p.checked; }).length;
      if (count) count.textContent = n + " selected";
      picks.forEach(function (p) { p.closest("[data-row]").classList.toggle("picked", p.checked); });
    }
    picks.forEach(function (p) { p.addEventListener("change", refresh); });
    if (all) {
      all.addEventListener("change", function () {
        picks.forEach(function (p) { p.checked = all.checked; });
        refresh();
      });
    }
    refresh();
    return refresh;
  }

  function setupKeys(refresh) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("[data-row]"));
    if (!rows.length) return;
    function current() {
      return rows.findIndex(function (r) { return r.contains(document.activeElement); });
    }
    function go(i) {
      var row = rows[Math.max(0, Math.min(rows.length - 1, i))];
      row.querySelector("a.open").focus();
      row.scrollIntoView({block: "nearest"});
    }
    document.addEventListener("keydown", function (event) {
      var tag = (event.target.tagName || "").toLowerCase();
      if (tag === "input" || tag === "textarea" || tag === "select" || event.altKey ||
          event.ctrlKey || event.metaKey) return;
      var i = current();
      if (event.key === "j" || event.key === "ArrowDown") { go(i + 1); event.preventDefault(); }
      else if (event.key === "k" || event.key === "ArrowUp") { go(i < 0 ? 0 : i - 1); event.preventDefault(); }
      else if (event.key === "x" && i >= 0) {
        var pick = rows[i].querySelector("input.pick");
        if (pick) { pick.checked = !pick.checked; refresh(); }
        event.preventDefault();
      } else if (event.key === "/") {
        var first = document.querySelector("#filters select");
        if (first) { first.focus(); event.preventDefault(); }
      }
    });
  }

  function setupReviewKeys() {
    // One review at a time from the keyboard; the list is in the "?" dialog on the page.
    var help = document.getElementById("keys-help");
    if (!help) return;
    var button = document.getElementById("keys-button");
    function showHelp() { if (!help.open) help.showModal(); }
    if (button) button.addEventListener("click", showHelp);
    function follow(id) {
      var link = document.getElementById(id);
      if (link) window.location.assign(link.href);
    }
    function press(id) {
      var target = document.getElementById(id);
      if (target) target.click();
    }
    document.addEventListener("keydown", function (event) {
      var tag = (event.target.tagName || "").toLowerCase();
      if (event.altKey || event.ctrlKey || event.metaKey || help.open) return;
      if (tag === "input" || tag === "textarea" || tag === "select") {
        if (event.key === "Escape") event.target.blur();
        return;
      }
      var key = event.key;
      if (key === "j" || key === "n") follow("next-link");
      else if (key === "k" || key === "p") follow("prev-link");
      else if (key === "u") follow("back-link");
      else if (key === "a") press("approve-next");
      else if (key === "e") { var area = document.getElementById("reply-text"); if (area) area.focus(); }
      else if (key === "x") {
        var more = document.getElementById("more");
        var reason = document.getElementById("skip-reason");
        if (!more || !reason) return;
        more.open = true;
        reason.focus();
      } else if (key === "?") showHelp();
      else return;
      event.preventDefault();
    });
  }

  function setupFilters() {
    // Leave "any" filters out of the address, so links stay short and readable.
    var form = document.getElementById("filters");
    if (!form) return;
    // A changed menu applies at once; the search applies on Enter (or Apply without script).
    form.querySelectorAll("select").forEach(function (select) {
      select.addEventListener("change", function () { form.requestSubmit(); });
    });
    form.addEventListener("submit", function () {
      form.querySelectorAll("select, input").forEach(function (field) {
        if (!field.value) field.disabled = true;
      });
    });
  }

  // Ask a JSON status URL until `ready(answer)` says the wait is over; slower as time passes.
  function poll(url, ready) {
    var wait = 700;
    function ask() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (answer) {
          if (!answer || !ready(answer)) { schedule(); }
        })
        .catch(schedule);
    }
    function schedule() {
      wait = Math.min(wait * 1.5, 5000);
      window.setTimeout(ask, wait);
    }
    window.setTimeout(ask, wait);
  }

  function setupFollow() {
    // A review page waiting for a post: show the outcome as soon as the worker has one.
    var one = document.querySelector("[data-follow]");
    if (one) {
      poll(one.getAttribute("data-follow"), function (answer) {
        if (!answer.done) return false;
        window.location.replace(answer.page);
        return true;
      });
    }
    // A bulk result: update each followed line in place.
    var many = document.querySelector("[data-follow-many]");
    if (many) {
      poll(many.getAttribute("data-follow-many"), function (answer) {
        answer.reviews.forEach(function (item) {
          var line = document.querySelector('[data-status-of="' + item.id + '"]');
          if (!line) return;
          var pill = line.querySelector("[data-pill]");
          pill.textContent = item.label;
          pill.className = "pill status-" + item.status;
          if (item.done) line.querySelector("[data-message]").textContent = item.message;
        });
        if (answer.done) many.textContent = "Every reply has an outcome; see each line below.";
        return answer.done;
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupMenu();
    setupReviewKeys();
    setupFollow();
    setupFilters();
    setupCounter();
    setupCopy();
    setupSnippets();
    setupKeys(setupSelection());
  });
})();
