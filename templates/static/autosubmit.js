// Submits the SAML POST form of the page at once; without JavaScript the
// person presses its Continue button instead.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosubmit]");
  if (form) {
    form.submit();
  }
})();
