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
