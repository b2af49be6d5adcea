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

// A server started with --api-key answers the API with 401; the page asks for the key once and keeps it
// for the browser tab (sessionStorage), sending it as `Authorization: Bearer KEY`.
const KEY_ITEM = 'logclf-api-key';

function withKey(options) {
  const key = sessionStorage.getItem(KEY_ITEM);
  if (!key) return options;
  return { ...options, headers: { ...(options && options.headers), Authorization: `Bearer ${key}` } };
}

async function send(url, options) {
  try {
    return await fetch(url, withKey(options));
  } catch (err) {
    throw new Error(`Cannot reach the logclf server (${err.message})`);
  }
}

async function request(url, options) {
  let response = await send(url, options);
  if (response.status === 401) {
    const hadKey = sessionStorage.getItem(KEY_ITEM) !== null;
    const key = window.prompt(hadKey ? 'The API key was not accepted. API key of this logclf server:'
      : 'This logclf server needs an API key (logclf serve --api-key). API key:');
    if (!key) throw new Error('This server needs an API key; reload the page to enter it.');
    sessionStorage.setItem(KEY_ITEM, key.trim());
    response = await send(url, options);
  }
  if (!response.ok) throw new Error(await errorMessage(response));
  return response;
}

export async function fetchModel() {
  return (await request('/v1/model')).json();
}

// Classifies messages (all with the same source); resolves to the result objects of POST /v1/classify,
// in order.
export async function classifyMany(messages, source) {
  const logs = messages.map((message) => (source ? { log_message: message, source } : { log_message: message }));
  const response = await request('/v1/classify', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ logs }),
  });
  const { results } = await response.json();
  const failed = results.find((r) => r.error);
  if (failed) throw new Error(failed.error);
  return results;
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
