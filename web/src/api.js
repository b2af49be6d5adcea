// Calls to the logclf HTTP API (the contract is in /openapi.json).

// The message of a failed response: the server's {"error": ...} body when there is one.
async function errorMessage(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    if (body && typeof body.error === 'string') return body.error;
  } catch {
    // Not JSON (a proxy's error page, say): fall back to the status line below.
  }
  return `The server answered ${response.status} ${response.statusText}`.trim();
}

async function request(url, options) {
  let response;
  try {
    response = await fetch(url, options);
  } catch (err) {
    throw new Error(`Cannot reach the logclf server (${err.message})`);
  }
  if (!response.ok) throw new Error(await errorMessage(response));
  return response;
}

export async function fetchModel() {
  return (await request('/v1/model')).json();
}

// Classifies one message; resolves to the result object of POST /v1/classify.
export async function classifyOne(message, source) {
  const log = { log_message: message };
  if (source) log.source = source;
  const response = await request('/v1/classify', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ logs: [log] }),
  });
  const body = await response.json();
  return body.results[0];
}

// The file name in a Content-Disposition header, or null.
function attachmentName(header) {
  const match = /filename="([^"]*)"/.exec(header || '');
  return match ? match[1] : null;
}

// Sends a CSV file to POST /v1/classify/csv?explain=true. Resolves to the response's exact bytes, their
// text and the file name the server suggests.
export async function classifyCsv(file) {
  const form = new FormData();
  form.append('file', file, file.name);
  const response = await request('/v1/classify/csv?explain=true', { method: 'POST', body: form });
  const bytes = await response.arrayBuffer();
  return {
    bytes,
    text: new TextDecoder().decode(bytes),
    filename: attachmentName(response.headers.get('Content-Disposition'))
      || `${file.name.replace(/\.[^.]*$/, '')}-classified.csv`,
  };
}
