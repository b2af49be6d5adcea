// The results table: filtering by label, stage, text and disagreement, sorting by any column, paging.
// Rendering builds DOM nodes with textContent only, so nothing in a log line is ever interpreted as HTML.
import { STAGE_COLORS, labelDot } from './colors.js';

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
// The columns logclf adds, shown first: the long text of a file's own columns comes after them.
const RESULT_COLUMNS = ['predicted_label', 'target_label', 'stage', 'confidence', 'rule'];
// Typing in the text filter waits this long for the next keystroke before filtering.
const FILTER_DELAY_MS = 150;

const ISO_TIME = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const US_TIME = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:,? (\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;

// Milliseconds since 1970 of a timestamp written year-month-day (ISO 8601, optional zone) or
// month/day/year (US), or NaN. Times without a zone are taken as UTC: only their order matters here.
export function parseTime(text) {
  let m = ISO_TIME.exec(text);
  let year, month, day, hour, minute, second, fraction, zone;
  if (m) [, year, month, day, hour, minute, second, fraction, zone] = m;
  else if ((m = US_TIME.exec(text))) [, month, day, year, hour, minute, second] = m;
  else return NaN;
  const n = (s) => Number(s || 0);
  if (n(month) < 1 || n(month) > 12 || n(day) < 1 || n(day) > 31 || n(hour) > 23 || n(minute) > 59
    || n(second) > 60) return NaN;
  let ms = Date.UTC(n(year), n(month) - 1, n(day), n(hour), n(minute), n(second))
    + (fraction ? Number(`0.${fraction}`) * 1000 : 0);
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return ms;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

export class ResultsTable {
  constructor(elements) {
    this.el = elements;
    this.columns = [];
    this.order = [];  // column indexes in display order
    this.rows = [];  // {line, cells, text}: line is the 1-based position in the file, text the lower-case message
    this.kinds = [];  // per column: 'number', 'time' or 'text'
    this.filter = { label: '', stage: '', text: '', differs: false };
    this.sort = null;  // {column, direction: 1 | -1}; column -1 is the line number
    this.ordered = [];  // every row in the sort order
    this.matches = null;  // {filter, rows}: the last filter's result, in the sort order
    this.page = 0;
    this.pageSize = Number(elements.pageSize.value);
    this.filterTimer = 0;

    elements.prev.addEventListener('click', () => this.goTo(this.page - 1));
    elements.next.addEventListener('click', () => this.goTo(this.page + 1));
    elements.pageSize.addEventListener('change', () => {
      this.pageSize = Number(elements.pageSize.value);
      this.goTo(0);
    });
    elements.label.addEventListener('change', () => this.setFilter('label', elements.label.value));
    elements.stage.addEventListener('change', () => this.setFilter('stage', elements.stage.value));
    elements.differs.addEventListener('change', () => this.setFilter('differs', elements.differs.checked));
    // Each keystroke would otherwise filter every row; the last one of a burst is what the user wants.
    elements.text.addEventListener('input', () => {
      clearTimeout(this.filterTimer);
      this.filterTimer = setTimeout(() => this.setFilter('text', elements.text.value), FILTER_DELAY_MS);
    });
  }

  // header: the CSV's column names; records: its data rows.
  load(header, records) {
    clearTimeout(this.filterTimer);
    this.columns = header;
    this.labelIndex = header.indexOf('predicted_label');
    this.targetIndex = header.indexOf('target_label');
    this.stageIndex = header.indexOf('stage');
    this.messageIndex = header.indexOf('log_message');
    this.rows = records.map((cells, i) => ({
      line: i + 1,
      cells,
      text: (cells[this.messageIndex] || '').toLowerCase(),
      differs: this.targetIndex >= 0 && cells[this.targetIndex] !== cells[this.labelIndex],
    }));
    this.kinds = header.map((_, c) => this.kindOf(c));
    const first = RESULT_COLUMNS.map((name) => header.indexOf(name)).filter((c) => c >= 0);
    const rest = header.map((_, c) => c).filter((c) => !first.includes(c) && c !== this.messageIndex);
    this.order = [...first, ...rest, ...(this.messageIndex >= 0 ? [this.messageIndex] : [])];
    this.filter = { label: '', stage: '', text: '', differs: false };
    this.el.text.value = '';
    this.el.differs.checked = false;
    this.el.differs.closest('.field').hidden = this.targetIndex < 0;
    this.sort = null;
    this.ordered = this.rows;
    this.matches = null;
    this.page = 0;
    this.fillFilterOptions();
    this.renderHeader();
    this.render();
  }

  kindOf(column) {
    const values = this.rows.map((r) => r.cells[column]).filter((v) => v !== '' && v !== undefined);
    if (values.length === 0) return 'text';
    if (values.every((v) => NUMBER.test(v))) return 'number';
    if (values.every((v) => !Number.isNaN(parseTime(v)))) return 'time';
    return 'text';
  }

  fillFilterOptions() {
    const fill = (select, allText, values, counts) => {
      select.replaceChildren(new Option(allText, ''));
      for (const value of values) select.add(new Option(`${value} (${counts.get(value) || 0})`, value));
      select.value = '';
    };
    const labels = countBy(this.rows, this.labelIndex);
    fill(this.el.label, 'All labels', [...labels.keys()].sort(), labels);
    const stages = countBy(this.rows, this.stageIndex);
    const stageNames = ['rule', 'model', 'uncertain'];
    for (const s of stages.keys()) if (!stageNames.includes(s)) stageNames.push(s);
    fill(this.el.stage, 'All stages', stageNames, stages);
    this.el.stage.disabled = this.stageIndex < 0;
  }

  setFilter(key, value) {
    this.filter = { ...this.filter, [key]: value };
    this.goTo(0);
  }

  goTo(page) {
    this.page = page;
    this.render();
  }

  sortBy(column) {
    this.sort = this.sort && this.sort.column === column
      ? { column, direction: -this.sort.direction }
      : { column, direction: 1 };
    const { direction } = this.sort;
    const kind = column < 0 ? 'number' : this.kinds[column];
    const keyOf = column < 0 ? (r) => r.line
      : kind === 'number' ? (r) => (r.cells[column] === '' ? -Infinity : Number(r.cells[column]))
        : kind === 'time' ? (r) => (r.cells[column] ? parseTime(r.cells[column]) : -Infinity)
          : (r) => r.cells[column] ?? '';
    const compare = kind === 'text' ? collator.compare : (a, b) => a - b;
    const keyed = this.rows.map((r) => ({ r, key: keyOf(r) }));
    // Ties keep file order in both directions, so a second click reverses only what differs.
    keyed.sort((a, b) => direction * compare(a.key, b.key) || a.r.line - b.r.line);
    this.ordered = keyed.map((k) => k.r);
    this.matches = null;
    this.updateSortState();
    this.goTo(0);
  }

  // The rows the filters let through, in the sort order. A text filter that only grew (another letter
  // typed) searches the previous result rather than every row.
  visibleRows() {
    const f = this.filter;
    const needle = f.text.trim().toLowerCase();
    const last = this.matches;
    const narrower = last && last.filter.label === f.label && last.filter.stage === f.stage
      && last.filter.differs === f.differs && needle.includes(last.needle);
    if (narrower && last.needle === needle) return last.rows;
    const from = narrower ? last.rows : this.ordered;
    const rows = from.filter((r) => (!f.label || r.cells[this.labelIndex] === f.label)
      && (!f.stage || r.cells[this.stageIndex] === f.stage)
      && (!f.differs || r.differs)
      && (!needle || r.text.includes(needle)));
    this.matches = { filter: f, needle, rows };
    return rows;
  }

  // Built once per file; sorting only updates the headers, so the button that was pressed keeps focus.
  renderHeader() {
    const tr = this.el.table.tHead.rows[0];
    tr.replaceChildren();
    this.headers = [-1, ...this.order].map((column) => {
      const name = column < 0 ? '#' : this.columns[column];
      const th = document.createElement('th');
      th.scope = 'col';
      if (column >= 0 && this.kinds[column] === 'number') th.className = 'num';
      if (column === this.messageIndex) th.classList.add('message');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'sort';
      button.dataset.column = name;
      button.textContent = name;
      const arrow = document.createElement('span');
      arrow.className = 'arrow';
      arrow.setAttribute('aria-hidden', 'true');
      button.append(arrow);
      button.addEventListener('click', () => this.sortBy(column));
      th.append(button);
      tr.append(th);
      return { column, th, arrow };
    });
    this.updateSortState();
  }

  updateSortState() {
    for (const { column, th, arrow } of this.headers) {
      const sorted = this.sort && this.sort.column === column;
      const direction = sorted && (this.sort.direction > 0 ? 'ascending' : 'descending');
      th.setAttribute('aria-sort', sorted ? direction : 'none');
      arrow.textContent = sorted ? (direction === 'ascending' ? '▲' : '▼') : '↕';
    }
  }

  render() {
    const rows = this.visibleRows();
    const pages = Math.max(1, Math.ceil(rows.length / this.pageSize));
    this.page = Math.min(Math.max(this.page, 0), pages - 1);
    const first = this.page * this.pageSize;
    const shown = rows.slice(first, first + this.pageSize);

    const body = this.el.table.tBodies[0];
    body.replaceChildren(...shown.map((r) => this.renderRow(r)));
    if (shown.length === 0) {
      const td = document.createElement('td');
      td.colSpan = this.columns.length + 1;
      td.className = 'empty';
      td.textContent = this.rows.length === 0 ? 'The file has no lines.' : 'No lines match the filters.';
      const tr = document.createElement('tr');
      tr.append(td);
      body.append(tr);
    }
    this.addExpanders(body);

    this.el.info.textContent = rows.length === 0 ? 'No lines'
      : `Lines ${first + 1}–${first + shown.length} of ${rows.length}`
        + (rows.length < this.rows.length ? ` (filtered from ${this.rows.length})` : '')
        + ` · page ${this.page + 1} of ${pages}`;
    this.el.prev.disabled = this.page === 0;
    this.el.next.disabled = this.page >= pages - 1;
  }

  renderRow(row) {
    const tr = document.createElement('tr');
    if (row.differs) tr.className = 'differs';
    const line = document.createElement('td');
    line.className = 'num line';
    line.dataset.name = '#';
    line.textContent = String(row.line);
    tr.append(line);
    for (const c of this.order) {
      const td = document.createElement('td');
      td.dataset.name = this.columns[c];
      const value = row.cells[c] ?? '';
      if (c === this.labelIndex || c === this.targetIndex) {
        const text = document.createElement('span');
        text.className = 'value';
        text.textContent = value;
        td.append(labelDot(value), text);
        td.classList.add('label');
        if (c === this.labelIndex && row.differs) {
          const note = document.createElement('span');
          note.className = 'differs-note';
          note.textContent = `≠ target ${row.cells[this.targetIndex]}`;
          td.append(note);
        }
      } else if (c === this.stageIndex) {
        td.append(stageBadge(value));
      } else if (c === this.messageIndex) {
        const text = document.createElement('div');
        text.className = 'value clamp';
        text.textContent = value;
        td.append(text);
        td.classList.add('message');
      } else {
        td.textContent = value;
        if (this.kinds[c] === 'number') td.classList.add('num');
        // The file's own columns: on a phone's card they come after the message, small.
        if (!RESULT_COLUMNS.includes(this.columns[c])) td.classList.add('extra');
      }
      tr.append(td);
    }
    return tr;
  }

  // A message cut off by the line clamp gets a button that shows all of it (and hides it again).
  addExpanders(body) {
    for (const text of body.querySelectorAll('.clamp')) {
      if (text.scrollHeight <= text.clientHeight + 1) continue;
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'expand';
      button.setAttribute('aria-expanded', 'false');
      button.textContent = 'Show all';
      button.addEventListener('click', () => {
        const open = text.classList.toggle('open');
        button.setAttribute('aria-expanded', String(open));
        button.textContent = open ? 'Show less' : 'Show all';
      });
      text.after(button);
    }
  }
}

export function stageBadge(stage) {
  const badge = document.createElement('span');
  badge.className = 'badge';
  badge.style.setProperty('--stage', STAGE_COLORS[stage] || '#777');
  badge.textContent = stage;
  return badge;
}

// Occurrences of each value of column `index`.
export function countBy(rows, index) {
  const counts = new Map();
  if (index < 0) return counts;
  for (const r of rows) counts.set(r.cells[index], (counts.get(r.cells[index]) || 0) + 1);
  return counts;
}
