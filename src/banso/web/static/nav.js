// Issue 14: the main menu folds behind a button on narrow screens (CSS decides the width); the button
// says whether the menu is open (aria-expanded). Without this script the menu simply stays open.
(function () {
  "use strict";
  var button = document.querySelector(".nav-toggle");
  var menu = document.getElementById("main-menu");
  if (!button || !menu) { return; }
  document.documentElement.classList.add("js-nav");
  button.hidden = false;
  button.addEventListener("click", function () {
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("is-open", open);
  });
})();

// A region that scrolls (a wide table on a phone, a long text in its box) must be reachable by keyboard
// (WCAG 2.1.1; axe: scrollable-region-focusable): it joins the tab order while it has more to show.
(function () {
  "use strict";
  function mark() {
    document.querySelectorAll("main *").forEach(function (el) {
      var style = window.getComputedStyle(el);
      var scrolls = /(auto|scroll)/.test(style.overflowX + style.overflowY) &&
        (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1);
      if (scrolls && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        el.setAttribute("data-scroll-focus", "");
      } else if (!scrolls && el.hasAttribute("data-scroll-focus")) {
        el.removeAttribute("tabindex");
        el.removeAttribute("data-scroll-focus");
      }
    });
  }
  var pending = null;
  window.addEventListener("resize", function () { clearTimeout(pending); pending = setTimeout(mark, 150); });
  mark();
})();
