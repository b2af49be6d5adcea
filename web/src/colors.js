// Colours for labels and stages, shared by the charts, the tables and the label chips. Labels and stages
// never share a colour, so a chart of one is never read as the other. Labels take Paul Tol's "muted"
// palette (nine colours, distinguishable with the common colour-vision deficiencies), then darker tones;
// stages take three colours outside it, also told apart by lightness: dark blue, orange, mid grey.
const PALETTE = ['#332288', '#CC6677', '#117733', '#DDCC77', '#88CCEE', '#882255', '#44AA99', '#999933',
  '#AA4499', '#6B4226', '#1A5E63', '#7A7A00'];
const UNCERTAIN = '#BBBBBB';

export const STAGE_COLORS = { rule: '#0D47A1', model: '#F57C00', uncertain: '#757575' };

let known = [];

// Gives each of the model's labels a fixed colour, so a label keeps its colour from file to file.
export function setKnownLabels(labels) {
  known = labels.filter((label) => label !== 'Uncertain');
}

export function labelColor(label) {
  if (label === 'Uncertain') return UNCERTAIN;
  let index = known.indexOf(label);
  if (index < 0) {
    known.push(label);
    index = known.length - 1;
  }
  return PALETTE[index % PALETTE.length];
}

// The coloured dot shown before a label's name.
export function labelDot(label) {
  const dot = document.createElement('span');
  dot.className = 'dot';
  dot.style.background = labelColor(label);
  return dot;
}
