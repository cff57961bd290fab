// Issue 14: people pickers are grouped by organisation; a filter box narrows them by name or organisation.
// The box is hidden in the page and shown here, so without script the grouped list is the whole picker.
// Items carry data-filter-text; a group (optgroup, tbody, fieldset) is hidden when none of its items match.
(function () {
  "use strict";
  function norm(text) { return (text || "").normalize("NFKC").toLowerCase(); }
  document.querySelectorAll("[data-people-filter]").forEach(function (box) {
    var input = box.querySelector("input[data-filter-for]");
    var target = input && document.getElementById(input.getAttribute("data-filter-for"));
    if (!target) { return; }
    box.hidden = false;
    input.addEventListener("input", function () {
      var words = norm(input.value).split(/\s+/).filter(Boolean);
      target.querySelectorAll("[data-filter-text]").forEach(function (item) {
        var text = norm(item.getAttribute("data-filter-text"));
        var chosen = item.selected || (item.querySelector && item.querySelector("input:checked, option:checked"));
        item.hidden = !chosen && !words.every(function (w) { return text.indexOf(w) >= 0; });
      });
      target.querySelectorAll("optgroup, tbody, [data-filter-group]").forEach(function (group) {
        var items = group.querySelectorAll("[data-filter-text]");
        if (items.length) {
          group.hidden = Array.prototype.every.call(items, function (item) { return item.hidden; });
        }
      });
    });
  });
})();
