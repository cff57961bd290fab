// Issue 14: the error summary of a refused form (web/templates/_macros.html error_summary).
// Pages that mark their fields server-side (field_attrs / field_error) need nothing from here; for the
// others this ties each summary link to its field: the link points at the field's own id, the field gets
// aria-invalid and aria-describedby, and the message is shown beside it. No framework, nothing fetched.
(function () {
  "use strict";
  var summary = document.getElementById("form-error");
  if (!summary) { return; }
  var where = summary.getAttribute("data-where");
  var scope = (where && document.querySelector('[data-form="' + where + '"]')) || document;
  summary.querySelectorAll("a[data-field]").forEach(function (link) {
    var code = link.getAttribute("data-field");
    var name = code.split(".")[0];
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) {
      target = scope.querySelector('[name="' + name + '"]') || document.querySelector('[name="' + name + '"]');
      if (!target || target.type === "hidden") { return; }
      if (!target.id) { target.id = "field-" + code.replace(/[^A-Za-z0-9_-]/g, "-"); }
      link.setAttribute("href", "#" + target.id);
    }
    if (target.getAttribute("aria-invalid") === "true") { return; }  // marked by the page already
    var message = document.createElement("p");
    message.className = "field-error";
    message.id = target.id + "-error";
    message.textContent = link.textContent;
    var holder = target.closest("label") || target;
    holder.parentNode.insertBefore(message, holder);
    target.setAttribute("aria-invalid", "true");
    var described = target.getAttribute("aria-describedby");
    target.setAttribute("aria-describedby", (described ? described + " " : "") + message.id);
  });
  var details = summary.closest("details");
  if (details) { details.open = true; }
  summary.focus();
})();
