/**
 * The page's script (plain browser JavaScript, kept as a string so that the page carries it):
 * reads the JSON data block, draws the charts with Chart.js, fills the tables and makes every
 * table with class "sortable" sort by a click on a header.
 */
export const CLIENT_SCRIPT = String.raw`
(function () {
  'use strict';
  // Filled by draw(): the page's data, its units, and what they index. The dashboard calls
  // draw() again with new data as its run grows (window.procnasReport.draw).
  var data, U, byIndex, done;
  var charts = [];
  var COLOR = {
    initial: '#e8710a', initialLight: 'rgba(232, 113, 10, 0.4)',
    best: '#188038', bestLight: 'rgba(24, 128, 56, 0.4)',
    pareto: '#1a73e8', other: 'rgba(95, 99, 104, 0.35)',
    argmax: '#9334e6', error: '#c5221f', entropy: '#12b5cb'
  };
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = '#3c4043';
  Chart.defaults.plugins.legend.labels.usePointStyle = true;

  // A page shows two architectures under these names: the report's initial and best, or two trials.
  function names() { return data.names || { initial: 'initial', best: 'best' }; }

  function num(x, digits) { return x === null ? '—' : x.toFixed(digits); }
  function inUnit(x, unit) { return x === null ? null : x * unit.scale; }
  function withUnit(x, unit) { return x === null ? '—' : (x * unit.scale).toPrecision(3) + ' ' + unit.label; }
  function percent(x) { return x === null ? '—' : (100 * x).toFixed(2) + '%'; }
  var COUNT = new Intl.NumberFormat('en-US');
  function count(x) { return COUNT.format(x); }
  function millions(x) { return (x / 1e6).toFixed(x >= 1e8 ? 0 : 2) + ' M'; }
  function kib(x) { return x === null ? '—' : (x / 1024).toFixed(1) + ' KiB'; }
  function axis(text) { return { display: true, text: text }; }
  function trialText(i) {
    var t = byIndex[i];
    return t ? ['trial ' + t.i + (i === data.best ? ' (best)' : i === data.initial ? ' (initial)' : ''), t.notation,
      'error ' + percent(t.error) + ', loss ' + num(t.loss, 4),
      'DRAM ' + withUnit(t.timeS, U.time) + ', ' + withUnit(t.energyJ, U.energy)] : [];
  }
  var pointTooltip = { callbacks: { title: function () { return ''; }, label: function (ctx) { return trialText(ctx.raw.i); } } };

  function marker(i, x, y) {
    var t = byIndex[i];
    return t && t.status === 'done' ? [{ x: x(t), y: y(t), i: i }] : [];
  }
  function markers(x, y) {
    return [
      { label: 'best', data: marker(data.best, x, y), pointStyle: 'star', pointRadius: 12, pointHoverRadius: 14,
        borderColor: COLOR.best, borderWidth: 3, backgroundColor: COLOR.best, order: 0 },
      { label: 'initial', data: marker(data.initial, x, y), pointStyle: 'triangle', pointRadius: 9, pointHoverRadius: 11,
        borderColor: '#fff', borderWidth: 1, backgroundColor: COLOR.initial, order: 1 }
    ];
  }

  /** A chart on the canvas of this id, if this page has that canvas; kept to be destroyed before a redraw. */
  function chart(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) charts.push(new Chart(canvas, config));
  }

  function paretoChart(id, key, unit, what) {
    var x = function (t) { return t[key] * unit.scale; };
    var y = function (t) { return 100 * t.error; };
    var pt = function (t) { return { x: x(t), y: y(t), i: t.i }; };
    chart(id, {
      type: 'scatter',
      data: { datasets: [
        { label: 'other trials', data: done.filter(function (t) { return !t.pareto; }).map(pt), backgroundColor: COLOR.other, pointRadius: 3, order: 3 },
        { label: 'Pareto-optimal', data: done.filter(function (t) { return t.pareto; }).map(pt), backgroundColor: COLOR.pareto, pointRadius: 5, order: 2 }
      ].concat(markers(x, y)) },
      options: {
        scales: { x: { title: axis(what + ' (' + unit.label + ')') }, y: { title: axis('error (%)') } },
        plugins: { tooltip: pointTooltip }
      }
    });
  }

  function lossChart(id) {
    var ordered = data.trials.slice().sort(function (a, b) { return a.i - b.i; });
    var running = [];
    var best = Infinity;
    ordered.forEach(function (t) {
      if (t.loss !== null && t.loss < best) best = t.loss;
      if (best < Infinity) running.push({ x: t.i, y: best, i: t.i });
    });
    var x = function (t) { return t.i; };
    var y = function (t) { return t.loss; };
    chart(id, {
      type: 'scatter',
      data: { datasets: [
        { label: 'loss of each trial', data: done.map(function (t) { return { x: t.i, y: t.loss, i: t.i }; }), backgroundColor: COLOR.other, pointRadius: 2.5, order: 3 },
        { label: 'best so far', data: running, showLine: true, stepped: 'before', borderColor: COLOR.pareto, borderWidth: 2, pointRadius: 0, order: 2 }
      ].concat(markers(x, y)) },
      options: {
        scales: { x: { title: axis('trial (evaluation order)') }, y: { title: axis('processor-related loss') } },
        plugins: { tooltip: pointTooltip }
      }
    });
  }

  function sum(a, b) { return a === null && b === null ? null : (a || 0) + (b || 0); }
  function barTooltip(breakdown, unit) {
    return { callbacks: { label: function (ctx) {
      var series = ctx.dataset.stack === 'best' ? breakdown.best : breakdown.initial;
      var notation = series.notation[ctx.dataIndex];
      return ctx.dataset.label + ': ' + ctx.parsed.y.toPrecision(3) + ' ' + unit.label + (notation ? ' (' + notation + ')' : '');
    } } };
  }

  function trafficChart(id, breakdown, stacked) {
    var bytes = function (s, k) { return s[k].map(function (v) { return inUnit(v, U.bytes); }); };
    var total = function (s) { return s.weightBytes.map(function (w, k) { return inUnit(sum(w, s.activationBytes[k]), U.bytes); }); };
    var datasets = stacked ? [
      { label: names().initial + ': weights', data: bytes(breakdown.initial, 'weightBytes'), backgroundColor: COLOR.initial, stack: 'initial' },
      { label: names().initial + ': activations', data: bytes(breakdown.initial, 'activationBytes'), backgroundColor: COLOR.initialLight, stack: 'initial' },
      { label: names().best + ': weights', data: bytes(breakdown.best, 'weightBytes'), backgroundColor: COLOR.best, stack: 'best' },
      { label: names().best + ': activations', data: bytes(breakdown.best, 'activationBytes'), backgroundColor: COLOR.bestLight, stack: 'best' }
    ] : [
      { label: names().initial, data: total(breakdown.initial), backgroundColor: COLOR.initial, stack: 'initial' },
      { label: names().best, data: total(breakdown.best), backgroundColor: COLOR.best, stack: 'best' }
    ];
    chart(id, {
      type: 'bar',
      data: { labels: breakdown.labels, datasets: datasets },
      options: {
        scales: { x: { stacked: stacked }, y: { stacked: stacked, title: axis('DRAM traffic (' + U.bytes.label + ')') } },
        plugins: { tooltip: barTooltip(breakdown, U.bytes) }
      }
    });
  }

  function timeChart(id, breakdown) {
    var time = function (s) { return s.timeS.map(function (v) { return inUnit(v, U.time); }); };
    chart(id, {
      type: 'bar',
      data: { labels: breakdown.labels, datasets: [
        { label: names().initial, data: time(breakdown.initial), backgroundColor: COLOR.initial, stack: 'initial' },
        { label: names().best, data: time(breakdown.best), backgroundColor: COLOR.best, stack: 'best' }
      ] },
      options: {
        scales: { y: { title: axis('DRAM time (' + U.time.label + ')') } },
        plugins: { tooltip: barTooltip(breakdown, U.time) }
      }
    });
  }

  // A dnas run's supernet: one point per epoch; the tooltip names the epoch's argmax.
  function supernetTooltip(unitOf) {
    var epochs = data.supernet;
    return { callbacks: {
      title: function (items) {
        var e = epochs[items[0].dataIndex];
        return 'epoch ' + e.epoch + (e.trial !== null ? ' (argmax: trial ' + e.trial + ')' : '');
      },
      label: function (ctx) { var u = unitOf(ctx); return ctx.dataset.label + ': ' + ctx.parsed.y.toPrecision(3) + (u ? ' ' + u : ''); },
      footer: function (items) { return epochs[items[0].dataIndex].notation.split(' | '); }
    } };
  }

  function line(label, values, color, extra) {
    var d = { label: label, data: values, borderColor: color, backgroundColor: color, borderWidth: 2, pointRadius: 3, pointHoverRadius: 5 };
    Object.keys(extra || {}).forEach(function (k) { d[k] = extra[k]; });
    return d;
  }

  function supernetDramChart(id) {
    var epochs = data.supernet;
    var time = function (k) { return epochs.map(function (e) { return e[k] * U.time.scale; }); };
    var initial = byIndex[data.initial];
    var datasets = [
      line('expected under p', time('expectedTimeS'), COLOR.pareto),
      line('argmax (exact)', time('exactTimeS'), COLOR.argmax)
    ];
    if (initial) datasets.push(line('initial', epochs.map(function () { return initial.timeS * U.time.scale; }), COLOR.initial, { borderDash: [6, 4], borderWidth: 1.5, pointRadius: 0, pointHoverRadius: 0 }));
    chart(id, {
      type: 'line',
      data: { labels: epochs.map(function (e) { return e.epoch; }), datasets: datasets },
      options: {
        interaction: { mode: 'index', intersect: false },
        scales: { x: { title: axis('supernet epoch') }, y: { title: axis('DRAM time (' + U.time.label + ')') } },
        plugins: { tooltip: supernetTooltip(function () { return U.time.label; }) }
      }
    });
  }

  function supernetErrorChart(id) {
    var epochs = data.supernet;
    chart(id, {
      type: 'line',
      data: { labels: epochs.map(function (e) { return e.epoch; }), datasets: [
        line('supernet error', epochs.map(function (e) { return e.supernetError === null ? null : 100 * e.supernetError; }), COLOR.error, { yAxisID: 'y' }),
        line('entropy', epochs.map(function (e) { return e.entropy; }), COLOR.entropy, { yAxisID: 'y1', borderDash: [4, 3] })
      ] },
      options: {
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { title: axis('supernet epoch') },
          y: { position: 'left', min: 0, title: axis('supernet error (%)') },
          y1: { position: 'right', min: 0, title: axis('entropy (nats)'), grid: { drawOnChartArea: false } }
        },
        plugins: { tooltip: supernetTooltip(function (ctx) { return ctx.dataset.yAxisID === 'y' ? '%' : 'nats'; }) }
      }
    });
  }

  function row(body, cells, className) {
    var tr = document.createElement('tr');
    if (className) tr.className = className;
    cells.forEach(function (c) {
      var td = document.createElement('td');
      td.textContent = c[0];
      if (c.length > 1) td.setAttribute('data-v', c[1] === null ? '' : String(c[1]));
      if (c.length > 1 && (c[1] === null || typeof c[1] === 'number')) td.className = 'num';
      if (c.length > 2 && c[2]) td.title = c[2];
      tr.appendChild(td);
    });
    body.appendChild(tr);
    return tr;
  }

  /** Marks a row's notation cell (best, initial, Pareto). */
  function addTag(tr, tags) {
    if (!tags) return;
    var tag = document.createElement('span');
    tag.className = 'tag';
    tag.textContent = tags;
    tr.cells[1].appendChild(tag);
  }

  // The trials table shows a page of rows at a time, sorted in the data rather than in the
  // page: ten thousand rows in a table cost the browser seconds of style and layout. What the
  // reader chose (column, order, page) outlives a redraw.
  var PAGE_ROWS = 100;
  var trialView = { col: null, ascending: true, page: 0 };

  function trialCells(t) {
    return [
      [String(t.i), t.i], [t.notation, t.notation], [t.status, t.status, t.reason || ''],
      [percent(t.error), t.error], [num(t.loss, 4), t.loss], [withUnit(t.timeS, U.time), t.timeS],
      [withUnit(t.energyJ, U.energy), t.energyJ], [count(t.params), t.params], [millions(t.macs), t.macs],
      [kib(t.peakActivationBytes), t.peakActivationBytes === null ? -1 : t.peakActivationBytes],
      [kib(t.storedWeightBytes), t.storedWeightBytes === null ? -1 : t.storedWeightBytes],
      [t.images === null ? 'all' : count(t.images), t.images === null ? Infinity : t.images],
      t.inherited === null ? ['', 0] : [percent(t.inherited.fraction), t.inherited.fraction, 'from ' + t.inherited.from]
    ];
  }

  /** Sort keys as a header click sorts a small table: missing values (a failed trial's error) last both ways. */
  function byKey(numeric, ascending) {
    return function (a, b) {
      if (a.key === null || b.key === null) return a.key === null && b.key === null ? a.k - b.k : a.key === null ? 1 : -1;
      var c = numeric ? a.key - b.key : String(a.key).localeCompare(String(b.key));
      return (ascending ? c : -c) || a.k - b.k;
    };
  }

  function sortedTrials(table) {
    var col = trialView.col;
    var rows = data.trials.map(function (t, k) {
      var cells = trialCells(t);
      return { t: t, cells: cells, k: k, key: col === null ? k : cells[col][1] };
    });
    if (col !== null) rows.sort(byKey(table.tHead.rows[0].cells[col].getAttribute('data-type') === 'num', trialView.ascending));
    return rows;
  }

  function fillTrials(table) {
    var rows = sortedTrials(table);
    var pages = Math.max(1, Math.ceil(rows.length / PAGE_ROWS));
    trialView.page = Math.min(trialView.page, pages - 1);
    var first = trialView.page * PAGE_ROWS;
    var body = document.createElement('tbody');
    rows.slice(first, first + PAGE_ROWS).forEach(function (r) {
      var t = r.t;
      var tags = (t.i === data.best ? ' ★ best' : '') + (t.i === data.initial ? ' ▲ initial' : '') + (t.pareto ? ' ● Pareto' : '');
      var cls = t.i === data.best ? 'best' : t.i === data.initial ? 'initial' : t.pareto ? 'pareto' : t.status !== 'done' ? 'not-done' : '';
      var tr = row(body, r.cells, cls);
      if (data.trialUrl) linkTrial(tr.cells[1], t);
      addTag(tr, tags);
    });
    table.replaceChild(body, table.tBodies[0]);
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      if (col === trialView.col) th.setAttribute('aria-sort', trialView.ascending ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    });
    pager(document.getElementById('trials-pager'), table, rows.length, pages, first);
  }

  function pager(box, table, total, pages, first) {
    if (!box) return;
    box.textContent = '';
    var text = document.createElement('span');
    text.textContent = total === 0 ? 'no trial yet' : 'trials ' + count(first + 1) + '–' + count(Math.min(total, first + PAGE_ROWS)) + ' of ' + count(total) + (pages > 1 ? ', page ' + (trialView.page + 1) + ' of ' + pages : '');
    box.appendChild(text);
    if (pages <= 1) return;
    [['« first', 0], ['‹ previous', trialView.page - 1], ['next ›', trialView.page + 1], ['last »', pages - 1]].forEach(function (b) {
      var button = document.createElement('button');
      button.type = 'button';
      button.textContent = b[0];
      button.disabled = b[1] < 0 || b[1] >= pages || b[1] === trialView.page;
      button.addEventListener('click', function () { trialView.page = b[1]; fillTrials(table); });
      box.appendChild(button);
    });
  }

  function sortableTrials(table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.tabIndex = 0;
      var go = function () {
        trialView.ascending = !(trialView.col === col && trialView.ascending);
        trialView.col = col;
        trialView.page = 0;
        fillTrials(table);
      };
      th.addEventListener('click', go);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); go(); } });
    });
  }

  /** The dashboard's: a trial's notation links to its page (the static report links nowhere). */
  function linkTrial(cell, t) {
    var a = document.createElement('a');
    a.href = data.trialUrl + t.i;
    a.textContent = t.notation;
    cell.textContent = '';
    cell.appendChild(a);
  }

  function fillLayers(table, layers) {
    var body = table.tBodies[0];
    layers.forEach(function (l, k) {
      var kib = function (b) { return (b / 1024).toFixed(1); };
      row(body, [
        [String(k + 1), k], [l.name, l.name], [l.op, l.op], [l.block, l.block],
        [kib(l.readBytes), l.readBytes], [kib(l.writeBytes), l.writeBytes], [kib(l.weightBytes), l.weightBytes],
        [l.fused ? 'yes' : '', l.fused ? 1 : 0], [withUnit(l.dramS, U.time), l.dramS]
      ], l.fused ? 'fused' : '');
    });
  }

  function fillSupernet(table) {
    var body = table.tBodies[0];
    data.supernet.forEach(function (e) {
      var tags = (e.trial === data.best ? ' ★ best' : '') + (e.trial === data.initial ? ' ▲ initial' : '');
      var cls = e.trial === data.best ? 'best' : e.trial === data.initial ? 'initial' : '';
      var tr = row(body, [
        [String(e.epoch), e.epoch], [e.notation, e.notation], [e.trial === null ? '—' : String(e.trial), e.trial],
        [percent(e.supernetError), e.supernetError],
        [withUnit(e.expectedTimeS, U.time), e.expectedTimeS], [withUnit(e.exactTimeS, U.time), e.exactTimeS],
        [withUnit(e.expectedEnergyJ, U.energy), e.expectedEnergyJ], [withUnit(e.exactEnergyJ, U.energy), e.exactEnergyJ],
        [num(e.entropy, 3), e.entropy], [num(e.trainLoss, 4), e.trainLoss], [num(e.validationLoss, 4), e.validationLoss]
      ], cls);
      addTag(tr, tags);
    });
  }

  function sortable(table) {
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    heads.forEach(function (th, col) {
      th.tabIndex = 0;
      var go = function () { sortBy(table, heads, col); };
      th.addEventListener('click', go);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); go(); } });
    });
  }

  function sortBy(table, heads, col) {
    var th = heads[col];
    var ascending = th.getAttribute('aria-sort') !== 'ascending';
    heads.forEach(function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    var numeric = th.getAttribute('data-type') === 'num';
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (r, k) {
      var cell = r.cells[col];
      var raw = cell.hasAttribute('data-v') ? cell.getAttribute('data-v') : cell.textContent;
      var key = raw === '' ? null : numeric ? Number(raw) : raw;
      return { row: r, key: key, k: k };
    });
    rows.sort(byKey(numeric, ascending));
    var sorted = document.createDocumentFragment();
    rows.forEach(function (r) { sorted.appendChild(r.row); });
    body.appendChild(sorted);
  }

  /** A table's body emptied, if the page has that table. */
  function emptied(id) {
    var table = document.getElementById(id);
    if (!table) return null;
    // A new body rather than removing ten thousand rows one by one.
    table.replaceChild(document.createElement('tbody'), table.tBodies[0]);
    return table;
  }

  function draw(next) {
    data = next;
    U = data.units;
    byIndex = {};
    data.trials.forEach(function (t) { byIndex[t.i] = t; });
    done = data.trials.filter(function (t) { return t.status === 'done'; });
    charts.splice(0).forEach(function (c) { c.destroy(); });
    paretoChart('chart-pareto-time', 'timeS', U.time, 'DRAM time');
    paretoChart('chart-pareto-energy', 'energyJ', U.energy, 'DRAM energy');
    lossChart('chart-loss');
    trafficChart('chart-stage-traffic', data.byStage, true);
    timeChart('chart-stage-time', data.byStage);
    trafficChart('chart-block-traffic', data.byBlock, false);
    timeChart('chart-block-time', data.byBlock);
    if (data.supernet.length) {
      supernetDramChart('chart-supernet-dram');
      supernetErrorChart('chart-supernet-error');
      var supernet = emptied('supernet-table');
      if (supernet) fillSupernet(supernet);
    }
    var trials = document.getElementById('trials-table');
    if (trials) {
      if (!trials.hasAttribute('data-sortable')) {
        trials.setAttribute('data-sortable', '');
        sortableTrials(trials);
      }
      fillTrials(trials);
    }
    var best = emptied('layers-best');
    if (best) fillLayers(best, data.layers.best);
    var initial = emptied('layers-initial');
    if (initial) fillLayers(initial, data.layers.initial);
    Array.prototype.forEach.call(document.querySelectorAll('table.sortable:not([data-sortable])'), function (table) {
      table.setAttribute('data-sortable', '');
      sortable(table);
    });
    document.body.setAttribute('data-ready', 'true');
  }

  window.procnasReport = { draw: draw };
  var block = document.getElementById('report-data');
  if (block) draw(JSON.parse(block.textContent));
})();
`;
