// The tracking-code page: copy the code to the clipboard, print the slip. Without JavaScript
// the buttons stay hidden: the code is selectable text and the browser prints the page.
(function () {
  "use strict";
  var copy = document.getElementById("copy-code");
  var print = document.getElementById("print-code");
  var status = document.getElementById("copy-status");
  if (copy && navigator.clipboard) {
    copy.classList.remove("d-none");
    copy.addEventListener("click", function () {
      var code = document.getElementById(copy.dataset.copyTarget).textContent.trim();
      navigator.clipboard.writeText(code).then(function () {
        if (status) {
          status.textContent = copy.dataset.copied + "：" + code;
        }
      });
    });
  }
  if (print) {
    print.classList.remove("d-none");
    print.addEventListener("click", function () {
      window.print();
    });
  }
})();
