// The results table: filtering by label, stage and text, sorting by any column, paging. Rendering builds
// DOM nodes with textContent only, so nothing in a log line is ever interpreted as HTML.
import { labelColor } from './colors.js';

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export class ResultsTable {
  constructor(elements) {
    this.el = elements;
    this.columns = [];
    this.rows = [];  // {line, cells}: line is the 1-based position in the file
    this.numeric = [];
    this.filter = { label: '', stage: '', text: '' };
    this.sort = null;  // {column, direction: 1 | -1}; column -1 is the line number
    this.page = 0;
    this.pageSize = Number(elements.pageSize.value);

    elements.prev.addEventListener('click', () => this.goTo(this.page - 1));
    elements.next.addEventListener('click', () => this.goTo(this.page + 1));
    elements.pageSize.addEventListener('change', () => {
      this.pageSize = Number(elements.pageSize.value);
      this.goTo(0);
    });
    elements.label.addEventListener('change', () => this.setFilter('label', elements.label.value));
    elements.stage.addEventListener('change', () => this.setFilter('stage', elements.stage.value));
    elements.text.addEventListener('input', () => this.setFilter('text', elements.text.value));
  }

  // header: the CSV's column names; records: its data rows.
  load(header, records) {
    this.columns = header;
    this.rows = records.map((cells, i) => ({ line: i + 1, cells }));
    this.labelIndex = header.indexOf('predicted_label');
    this.stageIndex = header.indexOf('stage');
    this.messageIndex = header.indexOf('log_message');
    this.numeric = header.map((_, c) => this.rows.length > 0
      && this.rows.every((r) => r.cells[c] === '' || NUMBER.test(r.cells[c]))
      && this.rows.some((r) => r.cells[c] !== ''));
    this.filter = { label: '', stage: '', text: '' };
    this.el.text.value = '';
    this.sort = null;
    this.page = 0;
    this.fillFilterOptions();
    this.renderHeader();
    this.render();
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
    this.filter[key] = value;
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
    this.renderHeader();
    this.goTo(0);
  }

  visibleRows() {
    const { label, stage, text } = this.filter;
    const needle = text.trim().toLowerCase();
    let rows = this.rows.filter((r) => (!label || r.cells[this.labelIndex] === label)
      && (!stage || r.cells[this.stageIndex] === stage)
      && (!needle || (r.cells[this.messageIndex] || '').toLowerCase().includes(needle)));
    if (this.sort) {
      const { column, direction } = this.sort;
      const key = column < 0 ? (r) => r.line
        : this.numeric[column] ? (r) => (r.cells[column] === '' ? -Infinity : Number(r.cells[column]))
          : (r) => r.cells[column] ?? '';
      const compare = column < 0 || this.numeric[column]
        ? (a, b) => a - b
        : (a, b) => a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' });
      // Ties keep file order in both directions, so a second click reverses only what differs.
      rows = rows.slice().sort((a, b) => direction * compare(key(a), key(b)) || a.line - b.line);
    }
    return rows;
  }

  renderHeader() {
    const tr = this.el.table.tHead.rows[0];
    tr.replaceChildren();
    const names = ['#', ...this.columns];
    names.forEach((name, i) => {
      const column = i - 1;
      const th = document.createElement('th');
      th.scope = 'col';
      if (column >= 0 && this.numeric[column]) th.className = 'num';
      const sorted = this.sort && this.sort.column === column;
      th.setAttribute('aria-sort', sorted ? (this.sort.direction > 0 ? 'ascending' : 'descending') : 'none');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'sort';
      button.dataset.column = name;
      button.textContent = name;
      const arrow = document.createElement('span');
      arrow.className = 'arrow';
      arrow.setAttribute('aria-hidden', 'true');
      arrow.textContent = sorted ? (this.sort.direction > 0 ? '▲' : '▼') : '↕';
      button.append(arrow);
      button.addEventListener('click', () => this.sortBy(column));
      th.append(button);
      tr.append(th);
    });
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

    this.el.info.textContent = rows.length === 0 ? 'No lines'
      : `Lines ${first + 1}–${first + shown.length} of ${rows.length}`
        + (rows.length < this.rows.length ? ` (filtered from ${this.rows.length})` : '')
        + ` · page ${this.page + 1} of ${pages}`;
    this.el.prev.disabled = this.page === 0;
    this.el.next.disabled = this.page >= pages - 1;
  }

  renderRow(row) {
    const tr = document.createElement('tr');
    const line = document.createElement('td');
    line.className = 'num line';
    line.textContent = String(row.line);
    tr.append(line);
    this.columns.forEach((_, c) => {
      const td = document.createElement('td');
      const value = row.cells[c] ?? '';
      if (c === this.labelIndex) {
        const dot = document.createElement('span');
        dot.className = 'dot';
        dot.style.background = labelColor(value);
        td.append(dot, value);
      } else if (c === this.stageIndex) {
        const badge = document.createElement('span');
        badge.className = `badge stage-${value}`;
        badge.textContent = value;
        td.append(badge);
      } else {
        td.textContent = value;
      }
      if (c === this.messageIndex) td.className = 'message';
      else if (this.numeric[c]) td.className = 'num';
      tr.append(td);
    });
    return tr;
  }
}

// Occurrences of each value of column `index`.
export function countBy(rows, index) {
  const counts = new Map();
  if (index < 0) return counts;
  for (const r of rows) counts.set(r.cells[index], (counts.get(r.cells[index]) || 0) + 1);
  return counts;
}
