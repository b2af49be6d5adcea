// The label and stage distribution charts (Chart.js, loaded as the global `Chart`).
import { STAGE_COLORS, labelColor } from './colors.js';

const charts = new Map();  // canvas → {chart, redraw}

// Colours come from the page's CSS variables when a chart is drawn: draw again when the scheme changes.
window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
  for (const { redraw } of charts.values()) redraw();
});

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

// makeConfig() builds the chart's configuration with the current colours.
function draw(canvas, makeConfig) {
  const redraw = () => {
    charts.get(canvas)?.chart.destroy();
    charts.set(canvas, { chart: new window.Chart(canvas, makeConfig()), redraw });
  };
  redraw();
}

function describe(element, counts, total) {
  element.textContent = counts.map(([name, n]) => `${name}: ${n} of ${total}`).join('; ');
}

// counts: [[label, lines], ...] in the order to draw.
export function drawLabelChart(canvas, text, counts, total) {
  describe(text, counts, total);
  draw(canvas, () => ({
    type: 'bar',
    data: {
      labels: counts.map(([name]) => name),
      datasets: [{
        label: 'Lines',
        data: counts.map(([, n]) => n),
        backgroundColor: counts.map(([name]) => labelColor(name)),
      }],
    },
    options: {
      indexAxis: 'y',
      animation: false,
      maintainAspectRatio: false,
      plugins: { legend: { display: false } },
      scales: {
        x: { beginAtZero: true, ticks: { color: cssVar('--ink'), precision: 0 }, grid: { color: cssVar('--line') } },
        y: { ticks: { color: cssVar('--ink') }, grid: { display: false } },
      },
    },
  }));
}

export function drawStageChart(canvas, text, counts, total) {
  describe(text, counts, total);
  draw(canvas, () => ({
    type: 'doughnut',
    data: {
      labels: counts.map(([name]) => name),
      datasets: [{
        data: counts.map(([, n]) => n),
        backgroundColor: counts.map(([name]) => STAGE_COLORS[name] || '#777'),
        borderColor: cssVar('--card'),
      }],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      plugins: {
        legend: {
          position: 'right',
          labels: {
            color: cssVar('--ink'),
            // A slice of a few lines among thousands is too thin to see: the legend gives every count.
            generateLabels: (chart) => window.Chart.controllers.doughnut.overrides.plugins.legend.labels
              .generateLabels(chart).map((item, i) => ({ ...item, text: `${item.text}: ${counts[i][1]}` })),
          },
        },
      },
    },
  }));
}
