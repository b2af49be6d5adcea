// Swagger UI on the service's own OpenAPI document.
window.ui = window.SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [window.SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  // The default validator badge fetches an external service; the page must work offline.
  validatorUrl: null,
});
