// Paperboard's only script besides htmx. The Content-Security-Policy forbids inline handlers (onfocus=…),
// so behaviour is declared with data- attributes and wired up here.
"use strict";

// <input data-select-on-focus>: selects its whole value when focused (the one-time API token, for copying).
document.addEventListener("focusin", (event) => {
  const field = event.target;
  if (field instanceof HTMLInputElement && field.hasAttribute("data-select-on-focus")) field.select();
});
