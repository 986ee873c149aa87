// The API page (/api-docs.html): Swagger UI, bundled into the web build (nothing loads
// from the internet), rendering the server's own /api/openapi.json.

import SwaggerUI from "swagger-ui-dist/swagger-ui-es-bundle.js";
import "swagger-ui-dist/swagger-ui.css";

SwaggerUI({
  url: "/api/openapi.json",
  dom_id: "#api-docs",
  deepLinking: true,
  // No badge fetched from swagger.io.
  validatorUrl: null,
});
