// krc: the little behaviour the pages need; everything works without it.
document.addEventListener("DOMContentLoaded", function () {
  // A refused form comes back with its errors, often far down the page (the dose form on
  // a card): bring the first field's error into view and put the cursor in that field.
  var bad = document.querySelector("main [aria-invalid='true'], main .field-error");
  var shown = bad || document.querySelector("main .alert.error");
  if (shown) {
    shown.scrollIntoView({ block: "center" });
    var field = bad && (bad.matches("input, select, textarea") ? bad :
      bad.parentNode.querySelector("input, select, textarea"));
    if (field && field.focus) { field.focus({ preventScroll: true }); }
  }
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
  // Registration form: show only the villages of the chosen CSCom.
  document.querySelectorAll("select[data-follows]").forEach(function (sel) {
    var master = document.getElementById(sel.getAttribute("data-follows"));
    if (!master) { return; }
    function sync() {
      sel.querySelectorAll("optgroup").forEach(function (g) {
        var show = !master.value || g.getAttribute("data-facility") === master.value;
        g.hidden = !show; g.disabled = !show;
      });
      var chosen = sel.options[sel.selectedIndex];
      if (chosen && chosen.parentNode.disabled) { sel.value = ""; }
    }
    master.addEventListener("change", sync);
    sync();
  });
});
