/**
 * The dashboard's live pages (plain browser JavaScript, served as /assets/live.js): the server
 * sends an event whenever a run's store changes; the page fetches its view again ({ title, main,
 * data }), swaps its <main> and redraws its charts, with no reload. What the reader had opened
 * (details) and sorted (a table's column) is kept across the swap.
 */
export const LIVE_SCRIPT = String.raw`
(function () {
  'use strict';
  var main = document.querySelector('main[data-live-view]');
  if (!main) return;
  var viewUrl = main.getAttribute('data-live-view');
  var status = document.getElementById('live-status');
  var busy = false;
  var again = false;

  function say(text, problem) {
    if (!status) return;
    status.textContent = text;
    status.className = problem ? 'live problem' : 'live';
  }

  /** What the reader changed in the page: open <details> and sorted columns, by position. */
  function remember() {
    var open = Array.prototype.map.call(main.querySelectorAll('details'), function (d) { return d.open; });
    var sorted = Array.prototype.map.call(main.querySelectorAll('table.sortable'), function (table) {
      var th = table.querySelector('th[aria-sort]');
      return th ? { id: table.id, col: th.cellIndex, order: th.getAttribute('aria-sort') } : null;
    }).filter(Boolean);
    return { open: open, sorted: sorted };
  }

  function restore(state) {
    Array.prototype.forEach.call(main.querySelectorAll('details'), function (d, k) { if (state.open[k]) d.open = true; });
    state.sorted.forEach(function (s) {
      var table = document.getElementById(s.id);
      var th = table && table.tHead && table.tHead.rows[0].cells[s.col];
      // A table the report's script sorts itself (the trials: its order outlives a redraw) is left as it is.
      if (!th || table.querySelector('th[aria-sort]')) return;
      th.click();
      if (s.order === 'descending') th.click();
    });
  }

  // A refresh of a large run costs the server a second (every trial read and summed): the next
  // starts no sooner than four times the last one took, so that watching takes at most about a
  // fifth of a core from the search it watches.
  var MIN_GAP_MS = 500;
  var gapMs = MIN_GAP_MS;
  var lastEnd = 0;

  function refresh() {
    if (busy) { again = true; return; }
    var wait = lastEnd + gapMs - Date.now();
    if (wait > 0) { busy = true; setTimeout(function () { busy = false; refresh(); }, wait); return; }
    busy = true;
    var start = Date.now();
    fetch(viewUrl, { headers: { accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok) throw new Error('the server answered ' + response.status);
        return response.json();
      })
      .then(function (view) {
        var state = remember();
        main.innerHTML = view.main;
        document.title = view.title;
        if (view.data && window.procnasReport) window.procnasReport.draw(view.data);
        restore(state);
        say('live · updated ' + new Date().toLocaleTimeString(), false);
      })
      .catch(function (error) { say('cannot update: ' + error.message, true); })
      .then(function () {
        lastEnd = Date.now();
        gapMs = Math.max(MIN_GAP_MS, 4 * (lastEnd - start));
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  var events = new EventSource(main.getAttribute('data-live-events'));
  events.addEventListener('change', refresh);
  events.addEventListener('open', function () { say('live', false); });
  // EventSource reconnects by itself; say so meanwhile.
  events.addEventListener('error', function () { say('connection lost, retrying…', true); });
})();
`;
