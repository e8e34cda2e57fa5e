// Starts Swagger UI on /docs (src/roomchat/api/documents.py). A file of its own, not an
// inline script: the page's Content-Security-Policy runs only this origin's scripts.
// roomchat's own file; the rest of this folder is Swagger UI as released (see VERSION).
/* global SwaggerUIBundle */
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({
    url: new URL("openapi.json", document.baseURI).href,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // Swagger UI would otherwise send the document to an online validator for a badge.
    validatorUrl: null,
  });
});
