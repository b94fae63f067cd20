// portplan serve: live updates for forms that work without this script.
// Plain JavaScript, no framework, no inline handlers (the CSP forbids inline script).
"use strict";
(function () {
  var csrf = document.body.getAttribute("data-csrf") || "";

  // Ports page: any change re-asks the server for the page and swaps in the form and the
  // result; the URL follows, so a link reproduces the view.
  function portsQuery(form) {
    var params = new URLSearchParams();
    var roleBoxes = form.querySelectorAll("input[name=roles]");
    var allRoles = Array.prototype.every.call(roleBoxes, function (b) { return b.checked; });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled) return;
      if (el.type === "checkbox" && !el.checked) return;
      if (el.name === "roles" && allRoles) return;
      var d = el.getAttribute("data-default");
      if (d !== null && el.value === d) return;
      params.append(el.name, el.value);
    });
    return params.toString();
  }
  var seq = 0;
  function refreshPorts(form) {
    var q = portsQuery(form);
    var mine = ++seq;
    fetch("/ports?" + q, { headers: { "Accept": "text/html" } })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        if (mine !== seq) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var main = doc.getElementById("main");
        if (!main) return;
        document.getElementById("main").replaceWith(document.adoptNode(main));
        history.replaceState(null, "", "/ports?" + q);
        var en = doc.getElementById("lang-en"), ja = doc.getElementById("lang-ja");
        if (en) document.getElementById("lang-en").href = en.getAttribute("href");
        if (ja) document.getElementById("lang-ja").href = ja.getAttribute("href");
        bind();
      })
      .catch(function () { form.submit(); });
  }

  // Site editor: check the YAML as it is typed; the server answers the problems, each next
  // to its line.
  var timer = null;
  function checkYaml(area) {
    var name = area.getAttribute("data-name") || "site.yaml";
    fetch("/site/check?name=" + encodeURIComponent(name) + "&lang=" + document.body.getAttribute("data-lang"), {
      method: "POST",
      headers: { "Content-Type": "text/plain; charset=utf-8", "X-Portplan-Csrf": csrf },
      body: area.value
    })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var status = document.getElementById("status");
        if (status) status.innerHTML = html;
      });
  }

  function bind() {
    var form = document.getElementById("ports-form");
    if (form && !form.hasAttribute("data-bound")) {
      form.setAttribute("data-bound", "1");
      form.addEventListener("change", function () { refreshPorts(form); });
      form.addEventListener("submit", function (e) { e.preventDefault(); refreshPorts(form); });
    }
    var area = document.getElementById("yaml");
    if (area && !area.hasAttribute("data-bound")) {
      area.setAttribute("data-bound", "1");
      area.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () { checkYaml(area); }, 250);
      });
    }
    Array.prototype.forEach.call(document.querySelectorAll("button.copy"), function (b) {
      if (!navigator.clipboard) return;
      b.hidden = false;
      if (b.hasAttribute("data-bound")) return;
      b.setAttribute("data-bound", "1");
      b.addEventListener("click", function () {
        var src = document.getElementById(b.getAttribute("data-copy"));
        if (!src) return;
        navigator.clipboard.writeText(src.value).then(function () {
          b.classList.add("copied");
          setTimeout(function () { b.classList.remove("copied"); }, 1200);
        }, function () {});
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", bind);
  else bind();
})();
