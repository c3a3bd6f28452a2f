// Light, dark or the system's choice; remembered where the browser allows storage.
//
// <html data-theme> always holds the theme in force, "light" or "dark", so the stylesheet
// keeps one dark palette keyed on it alone. With no choice made ("System") it follows
// prefers-color-scheme, and its changes while the page is open.
//
// A classic script in <head>, not a module: it runs before the body is drawn, so a page
// on a dark system never shows light first (modules run only once the page is parsed).
(() => {
  const KEY = "agentapi-theme";
  const CHOICES = ["system", "light", "dark"];
  const root = document.documentElement;
  const systemDark = window.matchMedia("(prefers-color-scheme: dark)");

  function stored() {
    try {
      const value = localStorage.getItem(KEY);
      return CHOICES.includes(value) ? value : "system";
    } catch {
      return "system"; // a sandboxed iframe has no storage
    }
  }

  let choice = stored();

  function apply() {
    const dark = choice === "dark" || (choice === "system" && systemDark.matches);
    root.dataset.theme = dark ? "dark" : "light";
  }

  apply();
  systemDark.addEventListener("change", apply); // a no-op while light or dark is chosen

  document.addEventListener("DOMContentLoaded", () => {
    const select = document.getElementById("theme");
    if (!select) return;
    select.value = choice;
    select.addEventListener("change", () => {
      choice = CHOICES.includes(select.value) ? select.value : "system";
      apply();
      try {
        localStorage.setItem(KEY, choice);
      } catch {
        // Not remembered, still applied.
      }
    });
  });
})();
