// Light, dark, or the system's choice (prefers-color-scheme); the CSS reads data-theme on <html>.
import { useCallback, useState, useSyncExternalStore } from "react";

export type Theme = "system" | "light" | "dark";
const KEY = "weir-theme";

function stored(): Theme {
  try {
    const value = localStorage.getItem(KEY);
    return value === "light" || value === "dark" ? value : "system";
  } catch {
    return "system";
  }
}

function apply(theme: Theme) {
  if (theme === "system") document.documentElement.removeAttribute("data-theme");
  else document.documentElement.setAttribute("data-theme", theme);
}

/** Called once before the first render, so the page starts in the chosen theme. */
export function applyStoredTheme() {
  apply(stored());
}

export function useTheme(): [Theme, (theme: Theme) => void] {
  const [theme, setTheme] = useState<Theme>(stored);
  const choose = useCallback((next: Theme) => {
    setTheme(next);
    apply(next);
    try {
      if (next === "system") localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, next);
    } catch {
      // Storage may be off (private mode); the choice then lasts for this page only.
    }
  }, []);
  return [theme, choose];
}

const DARK_QUERY = "(prefers-color-scheme: dark)";

function isDark(): boolean {
  const chosen = document.documentElement.getAttribute("data-theme");
  if (chosen === "light" || chosen === "dark") return chosen === "dark";
  return window.matchMedia(DARK_QUERY).matches;
}

function onThemeChange(notify: () => void): () => void {
  const observer = new MutationObserver(notify);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  const media = window.matchMedia(DARK_QUERY);
  media.addEventListener("change", notify);
  return () => {
    observer.disconnect();
    media.removeEventListener("change", notify);
  };
}

/**
 * Whether the page is dark now: the user's choice, else the system's, followed as either
 * changes. For what CSS cannot restyle by itself (a canvas drawn with the theme's colours).
 */
export function useDarkTheme(): boolean {
  return useSyncExternalStore(onThemeChange, isDark);
}
