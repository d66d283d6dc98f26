// The console's build: hashed assets under dist/assets (served with long cache headers), no
// source maps, nothing inline (the server's Content-Security-Policy forbids inline script and
// style). `npm run dev` proxies the API to a local `weir serve`.
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const api = process.env.WEIR_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  base: "/",
  plugins: [react(), tailwindcss()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    sourcemap: false,
    // Inlined assets would become data: URLs in CSS or JS; keep every asset a file of its own.
    assetsInlineLimit: 0,
    target: "es2022",
  },
  server: {
    host: "127.0.0.1",
    port: 5173,
    strictPort: true,
    proxy: {
      "/api": {
        target: api,
        changeOrigin: false,
        // The live stream (/api/v1/stream) sends nothing until its first event or keep-alive: pass
        // its headers on at once, or the browser's EventSource would not open until then.
        configure: (proxy) =>
          proxy.on("proxyRes", (proxyRes, _req, res) => {
            if (!proxyRes.headers["content-type"]?.startsWith("text/event-stream")) return;
            queueMicrotask(() => "flushHeaders" in res && res.flushHeaders());
          }),
      },
      "/health": { target: api },
    },
  },
  preview: {
    host: "127.0.0.1",
    port: 4173,
    proxy: {
      "/api": { target: api },
    },
  },
});
