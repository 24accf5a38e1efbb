// Renders /openapi.json with Swagger UI (swagger-ui-dist, served from node_modules by the server).
// A file rather than an inline script: the page's Content-Security-Policy allows only 'self' scripts.
/* global SwaggerUIBundle */
window.addEventListener('DOMContentLoaded', () => {
  SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    // "Try it out" sends real requests with credentials from this origin; the reference is for reading.
    supportedSubmitMethods: [],
    // No remote validator (it would send the document to another origin, which the CSP refuses anyway).
    validatorUrl: null,
  });
});
