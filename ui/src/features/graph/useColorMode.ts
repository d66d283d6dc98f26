import { useEffect, useState } from "react";

export type ColorMode = "light" | "dark" | "system";

function current(): ColorMode {
  const theme = document.documentElement.getAttribute("data-theme");
  return theme === "light" || theme === "dark" ? theme : "system";
}

/** The app's theme (src/app/theme.ts sets data-theme on <html>), followed as it changes. */
export function useColorMode(): ColorMode {
  const [mode, setMode] = useState(current);
  useEffect(() => {
    const observer = new MutationObserver(() => setMode(current()));
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    return () => observer.disconnect();
  }, []);
  return mode;
}
