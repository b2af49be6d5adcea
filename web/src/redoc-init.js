// ReDoc on the service's own OpenAPI document.
window.Redoc.init('/openapi.json', {
  // The menu sticks below the page's top bar.
  scrollYOffset: 'header.topbar',
  expandResponses: '200',
}, document.getElementById('redoc'));
