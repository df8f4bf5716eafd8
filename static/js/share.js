// "Copy link" and "Share" beside a link in a read-only field (the invitation page).
// Share opens the device's share sheet where the browser has one (navigator.share).
// Without this script the buttons stay hidden and the link is plain selectable text.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy-value]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copyValue);
    if (!field) {
      return;
    }
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      var done = function () {
        button.textContent = button.dataset.copied;
        window.setTimeout(function () {
          button.textContent = label;
        }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () {
          field.select();
        });
      } else {
        // Over plain http (a local run) there is no clipboard API: select the link, so
        // that the person's own copy command takes it.
        field.focus();
        field.select();
      }
    });
  });
  if (!navigator.share) {
    return;
  }
  document.querySelectorAll("button[data-share]").forEach(function (button) {
    var field = document.getElementById(button.dataset.share);
    if (!field) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.share({ title: button.dataset.shareTitle, url: field.value }).catch(function () {
        // Closed without sharing: nothing to do.
      });
    });
  });
});
