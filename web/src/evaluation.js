// The evaluation of a file that carries its own labels (a target_label column): the agreement rate,
// per-label precision, recall and F1, and the confusion matrix as a heatmap. The arithmetic is
// `logclf evaluate`'s (src/evaluation/report.cc): the labels are those of either column, in byte order
// (so Uncertain, a prediction no file labels, has a row); a score whose denominator is zero is undefined.

export function evaluate(truth, predicted) {
  const labels = [...new Set([...truth, ...predicted])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const index = new Map(labels.map((label, i) => [label, i]));
  const confusion = labels.map(() => labels.map(() => 0));
  truth.forEach((t, i) => { confusion[index.get(t)][index.get(predicted[i])] += 1; });
  let correct = 0;
  const perLabel = labels.map((label, t) => {
    const support = confusion[t].reduce((a, b) => a + b, 0);
    const predictions = confusion.reduce((sum, row) => sum + row[t], 0);
    const hits = confusion[t][t];
    correct += hits;
    const precision = predictions === 0 ? NaN : hits / predictions;
    const recall = support === 0 ? NaN : hits / support;
    const f1 = Number.isNaN(precision) || Number.isNaN(recall) ? NaN
      : precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { label, precision, recall, f1, support };
  });
  return { labels, confusion, perLabel, accuracy: correct / truth.length, total: truth.length, correct };
}

const score = (value) => (Number.isNaN(value) ? '—' : value.toFixed(4));

function cell(tag, text, attributes = {}) {
  const element = document.createElement(tag);
  element.textContent = text;
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  return element;
}

function row(...cells) {
  const tr = document.createElement('tr');
  tr.append(...cells);
  return tr;
}

export function renderEvaluation(report, elements) {
  const percent = (100 * report.accuracy).toFixed(1);
  elements.agreement.textContent = `The prediction agrees with target_label on ${report.correct} of `
    + `${report.total} lines (${percent}%); ${report.total - report.correct} differ.`;

  elements.scores.tBodies[0].replaceChildren(...report.perLabel.map((s) => row(
    cell('th', s.label, { scope: 'row' }),
    cell('td', score(s.precision), { class: 'num' }),
    cell('td', score(s.recall), { class: 'num' }),
    cell('td', score(s.f1), { class: 'num' }),
    cell('td', String(s.support), { class: 'num' }),
  )));

  // Darker is more lines; the shade is relative to the largest cell, on a square-root scale so that a
  // handful of confusions still shows beside a thousand agreements. Mid shades are skipped: on them
  // neither the page's ink nor its inverse keeps a 4.5:1 contrast (in either colour scheme).
  const max = Math.max(1, ...report.confusion.flat());
  const shadeOf = (n) => {
    const s = Math.sqrt(n / max);
    return s <= 0.5 ? 0.8 * s : 0.7 + 0.6 * (s - 0.5);
  };
  const head = row(cell('td', ''), ...report.labels.map((label) => cell('th', label, { scope: 'col' })));
  elements.confusion.tHead.replaceChildren(head);
  elements.confusion.tBodies[0].replaceChildren(...report.labels.map((label, t) => row(
    cell('th', label, { scope: 'row' }),
    ...report.confusion[t].map((n, p) => {
      const td = cell('td', String(n), { class: `num${t === p ? ' diagonal' : ''}` });
      const shade = shadeOf(n);
      td.style.setProperty('--shade', `${(shade * 100).toFixed(1)}%`);
      if (shade >= 0.7) td.classList.add('deep');
      return td;
    }),
  )));
}
