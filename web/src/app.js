// The logclf web page: the model, classification of typed or pasted messages (one per line), CSV upload
// with results, charts, the evaluation against target_label, download.
import { classifyCsv, classifyMany, fetchModel } from './api.js';
import { drawLabelChart, drawStageChart } from './charts.js';
import { labelDot, setKnownLabels } from './colors.js';
import { evaluate, renderEvaluation } from './evaluation.js';
import { ResultsTable, countBy, stageBadge } from './table.js';

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
      li.append(labelDot(label), label);
      return li;
    }));
    $('model-facts').hidden = false;
    show($('model-status'), `${(model.labels || []).length} labels; lines below the threshold are labelled Uncertain.`);
  } catch (err) {
    show($('model-status'), `Cannot load the model: ${err.message}`);
    $('model-status').classList.add('error-text');
  }
}

// --- typed or pasted messages ---

function labelCell(label) {
  const td = document.createElement('td');
  td.append(labelDot(label), label);
  return td;
}

function textCell(text, className = '') {
  const td = document.createElement('td');
  td.textContent = text;
  td.className = className;
  return td;
}

function setupOneMessage() {
  const form = $('one-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    show($('one-error'), '');
    $('one-note').textContent = '';
    // A pasted block of log lines is that many messages.
    const lines = $('one-message').value.split(/\r\n|\r|\n/);
    const messages = lines.filter((line) => line.trim());
    if (messages.length === 0) {
      $('one-result').hidden = true;
      show($('one-error'), 'The message is only whitespace: type or paste a log line.');
      return;
    }
    // Blank lines between messages are worth a word; those after the last one are how a paste ends.
    const last = lines.findLastIndex((line) => line.trim());
    const blank = lines.slice(0, last).map((line, i) => (line.trim() ? 0 : i + 1)).filter(Boolean);
    const button = $('one-submit');
    button.disabled = true;
    try {
      const results = await classifyMany(messages, $('one-source').value.trim());
      $('one-results').tBodies[0].replaceChildren(...results.map((result, i) => {
        const tr = document.createElement('tr');
        const stage = document.createElement('td');
        stage.append(stageBadge(result.stage));
        tr.append(labelCell(result.predicted_label), stage, textCell(result.rule ?? '—'),
          textCell(Number(result.confidence).toFixed(4), 'num'), textCell(messages[i], 'message'));
        return tr;
      }));
      $('one-result').hidden = false;
      if (blank.length > 0) {
        const which = blank.length === 1 ? `Line ${blank[0]} is` : `Lines ${blank.join(', ')} are`;
        $('one-note').textContent = `${which} only whitespace: skipped.`;
      }
    } catch (err) {
      $('one-result').hidden = true;
      show($('one-error'), err.message);
    } finally {
      button.disabled = false;
    }
  });
  // Enter classifies, Shift+Enter adds a line break.
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
  show($('csv-warning'), '');
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
    warnOfReplacements(file.name, records);
    // On a phone the results start screens below the upload button.
    if ($('results').getBoundingClientRect().top > window.innerHeight) $('results').scrollIntoView();
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    status.textContent = `Classified ${file.name} in ${seconds} s.`;
  } catch (err) {
    status.textContent = '';
    // The server's messages about a file already start with its name (then a line number or a colon).
    show(error, err.message.startsWith(`${file.name}:`) ? err.message : `${file.name}: ${err.message}`);
  } finally {
    input.disabled = false;
    input.value = '';
    $('dropzone').classList.remove('busy');
  }
}

// The server reads bytes that are not UTF-8 as U+FFFD; a file in Latin-1 or Windows-1252 would otherwise
// show "Caf\uFFFD" without a word.
function warnOfReplacements(name, records) {
  const lines = records.map((cells, i) => (cells.some((c) => c.includes('\uFFFD')) ? i + 1 : 0)).filter(Boolean);
  if (lines.length === 0) return;
  const where = lines.length === 1 ? `line ${lines[0]}` : `${lines.length} lines (the first: line ${lines[0]})`;
  show($('csv-warning'), `${name}: ${where} held bytes that are not UTF-8, shown as \uFFFD. The file is probably `
    + 'Latin-1 or Windows-1252: save it as UTF-8 and classify it again.');
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
  const evaluated = table.targetIndex >= 0 && rows.length > 0;
  $('evaluation').hidden = !evaluated;
  if (evaluated) {
    renderEvaluation(evaluate(rows.map((r) => r.cells[table.targetIndex]), rows.map((r) => r.cells[table.labelIndex])),
      { agreement: $('agreement'), scores: $('scores'), confusion: $('confusion') });
  }
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
    differs: $('filter-differs'),
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
