// Entry point: read where to sign in from the server, then render the app inside the
// OpenID Connect provider.

import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { AuthProvider } from "react-oidc-context";
import { loadConfig, oidcSettings } from "./config";
import { App } from "./ui/App";
import "./styles.css";

const root = createRoot(document.getElementById("root")!);

loadConfig()
  .then((config) => {
    root.render(
      <StrictMode>
        <AuthProvider {...oidcSettings(config)}>
          <App audience={config.audience} />
        </AuthProvider>
      </StrictMode>,
    );
  })
  .catch((error: unknown) => {
    root.render(
      <main className="splash" role="alert">
        <h1>Banter</h1>
        <p>The server could not be reached ({String(error)}). Reload to try again.</p>
      </main>,
    );
  });
