// Colours for labels and stages, shared by the charts, the table and the label chips. The palette is
// Okabe & Ito's, distinguishable with the common colour-vision deficiencies, extended with darker tones.
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#6A3D9A',
  '#8C564B', '#1B9E77', '#B15928', '#4D4D4D'];
const UNCERTAIN = '#9AA0A6';

export const STAGE_COLORS = { rule: '#0072B2', model: '#009E73', uncertain: UNCERTAIN };

let known = [];

// Gives each of the model's labels a fixed colour, so a label keeps its colour from file to file.
export function setKnownLabels(labels) {
  known = labels.slice();
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
