// Light, dark or the system's choice; remembered where the browser allows storage.

const KEY = "agentapi-theme";

function stored() {
  try {
    return localStorage.getItem(KEY) || "system";
  } catch {
    return "system"; // a sandboxed iframe has no storage
  }
}

export function applyTheme(choice) {
  const root = document.documentElement;
  if (choice === "light" || choice === "dark") root.dataset.theme = choice;
  else delete root.dataset.theme;
}

export function setUpTheme(select) {
  const choice = stored();
  applyTheme(choice);
  if (!select) return;
  select.value = choice;
  select.addEventListener("change", () => {
    applyTheme(select.value);
    try {
      localStorage.setItem(KEY, select.value);
    } catch {
      // Not remembered, still applied.
    }
  });
}
