/// <reference types="vitest/config" />
// Builds the web client into ../static, which the server serves (STATIC_DIR). `npm run dev`
// serves it with hot reload and forwards the API and the socket to a local server.

import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const server = process.env.BANTER_SERVER ?? "http://localhost:8080";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "../static",
    // Two pages: the app, and the HTTP API reference.
    rollupOptions: { input: { app: "index.html", apiDocs: "api-docs.html" } },
    chunkSizeWarningLimit: 2000,
    // public/.gitkeep is copied back, so the folder stays in git while its contents are built.
    emptyOutDir: true,
  },
  server: {
    proxy: {
      "/api": server,
      "/ws": { target: server.replace(/^http/, "ws"), ws: true },
    },
  },
  test: {
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    environment: "node",
  },
});
