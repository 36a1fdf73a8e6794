// The inspection page's item table: a "select all" box for the bulk assignment. The page works
// without it (each row has its own box); the script only shows it and keeps it in step.
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  var table = document.getElementById("item-table");
  if (!all || !table) {
    return;
  }
  var boxes = Array.prototype.slice.call(table.querySelectorAll("tbody input[name=items]"));
  if (!boxes.length) {
    return;
  }
  function sync() {
    var ticked = boxes.filter(function (box) { return box.checked; }).length;
    all.checked = ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }
  all.hidden = false;
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
    sync();
  });
  boxes.forEach(function (box) { box.addEventListener("change", sync); });
  sync();
})();
