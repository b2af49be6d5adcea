// The logclf web page: the model, one-message classification, CSV upload with results, charts, download.
import { classifyCsv, classifyOne, fetchModel } from './api.js';
import { drawLabelChart, drawStageChart } from './charts.js';
import { labelColor, setKnownLabels } from './colors.js';
import { ResultsTable, countBy } from './table.js';

const $ = (id) => document.getElementById(id);

function show(element, message) {
  element.textContent = message;
  element.hidden = !message;
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// --- the model ---

async function loadModel() {
  try {
    const model = await fetchModel();
    setKnownLabels(model.labels || []);
    $('model-encoder').textContent = model.encoder ?? '—';
    $('model-threshold').textContent = String(model.threshold ?? '—');
    $('model-rules').textContent = Array.isArray(model.rules) ? String(model.rules.length) : '—';
    $('model-version').textContent = model.version ?? '—';
    $('model-labels').replaceChildren(...(model.labels || []).map((label) => {
      const li = document.createElement('li');
      const dot = document.createElement('span');
      dot.className = 'dot';
      dot.style.background = labelColor(label);
      li.append(dot, label);
      return li;
    }));
    $('model-facts').hidden = false;
    show($('model-status'), `${(model.labels || []).length} labels; lines below the threshold are labelled Uncertain.`);
  } catch (err) {
    show($('model-status'), `Cannot load the model: ${err.message}`);
    $('model-status').classList.add('error-text');
  }
}

// --- one message ---

function setupOneMessage() {
  const form = $('one-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const message = $('one-message').value;
    if (!message.trim()) return;
    const button = $('one-submit');
    button.disabled = true;
    show($('one-error'), '');
    try {
      const result = await classifyOne(message, $('one-source').value.trim());
      const label = $('one-label');
      const dot = document.createElement('span');
      dot.className = 'dot';
      dot.style.background = labelColor(result.predicted_label);
      label.replaceChildren(dot, result.predicted_label);
      const stage = document.createElement('span');
      stage.className = `badge stage-${result.stage}`;
      stage.textContent = result.stage;
      $('one-stage').replaceChildren(stage);
      $('one-rule').textContent = result.rule ?? '—';
      $('one-confidence').textContent = Number(result.confidence).toFixed(4);
      $('one-result').hidden = false;
    } catch (err) {
      $('one-result').hidden = true;
      show($('one-error'), err.message);
    } finally {
      button.disabled = false;
    }
  });
  // Enter classifies, Shift+Enter adds a line break: a message is normally one line.
  $('one-message').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}

// --- CSV files ---

let download = null;  // {bytes, filename} of the last result

// A reason to refuse the file before sending it, or null. The server judges the CSV itself.
async function precheck(file) {
  if (file.size === 0) return `${file.name} is empty: choose a CSV file with a header row and a log_message column.`;
  const head = new Uint8Array(await file.slice(0, 64 * 1024).arrayBuffer());
  if (head.includes(0)) return `${file.name} is not a CSV file: it holds binary data. Choose a text file with a header row and a log_message column.`;
  return null;
}

async function handleFile(file, table) {
  const status = $('csv-status');
  const error = $('csv-error');
  show(error, '');
  // The results on screen would otherwise seem to belong to the new file.
  $('results').hidden = true;
  download = null;
  const problem = await precheck(file);
  if (problem) {
    status.textContent = '';
    show(error, problem);
    return;
  }
  const input = $('csv-file');
  input.disabled = true;
  $('dropzone').classList.add('busy');
  status.textContent = `Classifying ${file.name} (${formatBytes(file.size)})…`;
  const started = performance.now();
  try {
    const result = await classifyCsv(file);
    const parsed = window.Papa.parse(result.text, { skipEmptyLines: 'greedy' });
    if (parsed.errors.length > 0) throw new Error(`The server's CSV cannot be read: ${parsed.errors[0].message}`);
    const [header = [], ...records] = parsed.data;
    if (!header.includes('predicted_label')) throw new Error('The server\'s CSV has no predicted_label column.');
    download = { bytes: result.bytes, filename: result.filename };
    showResults(file.name, header, records, table);
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    status.textContent = `Classified ${file.name} in ${seconds} s.`;
  } catch (err) {
    status.textContent = '';
    show(error, `${file.name}: ${err.message}`);
  } finally {
    input.disabled = false;
    input.value = '';
    $('dropzone').classList.remove('busy');
  }
}

function showResults(name, header, records, table) {
  const section = $('results');
  section.hidden = false;
  table.load(header, records);
  const rows = table.rows;
  const labels = [...countBy(rows, table.labelIndex)].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const stages = countBy(rows, table.stageIndex);
  const stageCounts = ['rule', 'model', 'uncertain'].map((s) => [s, stages.get(s) || 0]);
  // One bar per label: the chart grows with the labels so bars keep a readable height.
  $('labels-chart').parentElement.style.height = `${Math.max(160, 28 * labels.length + 40)}px`;
  drawLabelChart($('labels-chart'), $('labels-chart-text'), labels, rows.length);
  drawStageChart($('stages-chart'), $('stages-chart-text'), stageCounts, rows.length);
  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
  $('results-summary').textContent = `${plural(rows.length, 'line')} from ${name}: `
    + `${stageCounts[0][1]} decided by rules, ${stageCounts[1][1]} by the model, `
    + `${stageCounts[2][1]} uncertain (below the model's threshold).`;
}

function saveDownload() {
  if (!download) return;
  const url = URL.createObjectURL(new Blob([download.bytes], { type: 'text/csv' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = download.filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function setupCsv() {
  const table = new ResultsTable({
    table: $('results-table'),
    label: $('filter-label'),
    stage: $('filter-stage'),
    text: $('filter-text'),
    pageSize: $('page-size'),
    prev: $('page-prev'),
    next: $('page-next'),
    info: $('page-info'),
  });
  $('filters').addEventListener('submit', (event) => event.preventDefault());
  $('csv-file').addEventListener('change', (event) => {
    const [file] = event.target.files;
    if (file) handleFile(file, table);
  });
  $('download').addEventListener('click', saveDownload);

  const zone = $('dropzone');
  let depth = 0;  // dragenter/dragleave fire for every child element crossed
  zone.addEventListener('dragenter', (event) => {
    event.preventDefault();
    depth += 1;
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) zone.classList.remove('over');
  });
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
  });
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    depth = 0;
    zone.classList.remove('over');
    const files = [...(event.dataTransfer?.files || [])];
    if (files.length !== 1) {
      show($('csv-error'), files.length === 0 ? 'Drop a file, not text or a link.' : 'Drop one file at a time.');
      return;
    }
    handleFile(files[0], table);
  });
  // A file dropped beside the zone would otherwise make the browser navigate away to show it.
  for (const type of ['dragover', 'drop']) window.addEventListener(type, (event) => event.preventDefault());
}

loadModel();
setupOneMessage();
setupCsv();
