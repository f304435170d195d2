// Site-wide behaviour (no inline scripts: CSP): confirmation of destructive actions, and closing the
// navigation's <details> menus when another opens or on a click elsewhere.
(function () {
  "use strict";
  // A form, or the button that submits it, carrying data-confirm asks before it is sent.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var text = (button && button.dataset.confirm) || event.target.dataset.confirm;
    if (text && !window.confirm(text)) { event.preventDefault(); }
  }, true);
  var menus = document.querySelectorAll("details.nav-menu");
  document.addEventListener("click", function (event) {
    menus.forEach(function (menu) {
      if (!menu.contains(event.target)) { menu.removeAttribute("open"); }
    });
  });
})();
