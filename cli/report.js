/*
 * report.js - the script of report.html (cli/report.c embeds it; see
 * docs/report.md).  Vanilla JavaScript, no library, nothing fetched.
 *
 * Its data is the JSON text of the element #dsim-data, read with JSON.parse.
 * Text from the data reaches the page through textContent only (never
 * innerHTML), so a hostile name stays text.
 *
 * The space-time diagram: one lane per node, one line per delivered
 * message from (sent, source lane) to (arrival, destination lane).  The
 * slider sets "now": messages sent later are hidden, those in flight are
 * drawn bold up to now, delivered ones faint.  Faults shade the lanes.
 * For kv, a chosen key's replica versions at now (as the messages show
 * them) and the oracle's verdict on each read of it; for gossip, lanes of
 * nodes that know the update are coloured.
 *
 * Test hooks: errors are counted in the body's data-errors; a page opened with
 * #selftest moves the slider and writes the outcome to the body's
 * data-selftest (tests/test_report_browser.py reads it with --dump-dom).
 */
(function () {
  'use strict';
  var body = document.body;
  var errors = [];
  window.addEventListener('error', function (e) {
    errors.push(String(e.message));
    body.setAttribute('data-errors', String(errors.length));
    body.setAttribute('data-error-text', errors.join(' | '));
  });
  body.setAttribute('data-errors', '0');

  var D = JSON.parse(document.getElementById('dsim-data').textContent);
  var $ = function (id) { return document.getElementById(id); };

  function fmtTime(ns) {
    var s = ns / 1e9;
    if (Math.abs(s) >= 1) return s.toFixed(6) + ' s';
    return (ns / 1e6).toFixed(3) + ' ms';
  }

  if (!D.msgs || !$('st-svg')) {
    body.setAttribute('data-diagram', 'none');
    body.setAttribute('data-ready', '1');
    if (location.hash === '#selftest') body.setAttribute('data-selftest', 'pass: no diagram');
    return;
  }

  var svg = $('st-svg');
  var NS = svg.namespaceURI;
  var nodes = D.nodes, types = D.types, msgs = D.msgs, win = D.window;
  var t0 = win.t0, t1 = win.t1 > win.t0 ? win.t1 : win.t0 + 1;
  var isKv = D.model === 'kv', isGossip = D.model === 'gossip';

  /* Which nodes get a lane: those with a message, a fault or a learning. */
  var used = {};
  msgs.forEach(function (m) { used[m[2]] = 1; used[m[3]] = 1; });
  (D.faults || []).forEach(function (f) { if (f[1] >= 0) used[f[1]] = 1; });
  (D.learn || []).forEach(function (l) { if (l[0] <= t1) used[l[1]] = 1; });
  var lanes = [], laneOf = {};
  for (var i = 0; i < nodes.length; i++)
    if (used[i]) { laneOf[i] = lanes.length; lanes.push(i); }

  var W = 1100, left = 110, right = 16, top = 16;
  var LH = Math.max(5, Math.min(30, Math.floor(620 / Math.max(1, lanes.length))));
  var H = top + LH * lanes.length + 24;
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  svg.setAttribute('data-lanes', String(lanes.length));
  /* The view: the whole window, or a zoom of it around now. */
  var va = t0, vb = t1;
  function X(t) { return left + (Math.min(Math.max(t, va), vb) - va) / (vb - va) * (W - left - right); }
  function Y(node) { return top + LH * laneOf[node] + LH / 2; }
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    (parent || svg).appendChild(e);
    return e;
  }

  /* Fault windows: partitions over everything, crashes on their lane. */
  var gFault = el('g', {}), gLane = el('g', {}), gMsg = el('g', {});
  var openPart = null, openDown = {}, downWins = [], partWins = [];
  (D.faults || []).forEach(function (f) {
    var t = f[0], node = f[1], what = f[2];
    if (what === 'partition' || what === 'partition_oneway') openPart = openPart === null ? t : openPart;
    else if (what === 'heal' && openPart !== null) { partWins.push([openPart, t]); openPart = null; }
    else if ((what === 'crash' || what === 'fail') && node >= 0) openDown[node] = t;
    else if ((what === 'recover' || what === 'replace') && node >= 0 && openDown[node] !== undefined) {
      downWins.push([node, openDown[node], t]); delete openDown[node];
    }
  });
  var endT = win.end;
  if (openPart !== null) partWins.push([openPart, endT]);
  for (var n in openDown) downWins.push([+n, openDown[n], endT]);
  var shades = [];
  partWins.forEach(function (w) {
    if (w[1] < t0 || w[0] > t1) return;
    shades.push([w[0], w[1], el('rect', { y: top, height: LH * lanes.length, 'class': 'part' }, gFault)]);
  });
  downWins.forEach(function (w) {
    if (laneOf[w[0]] === undefined || w[2] < t0 || w[1] > t1) return;
    shades.push([w[1], w[2], el('rect', { y: Y(w[0]) - LH / 2, height: LH, 'class': 'down' }, gFault)]);
  });

  /* Lanes and their names (textContent: names are data). */
  var laneLines = [];
  var every = Math.ceil(10 / LH);
  lanes.forEach(function (node, li) {
    var y = Y(node);
    laneLines.push(el('line', { x1: left, y1: y, x2: W - right, y2: y, 'class': 'lane' }, gLane));
    if (li % every === 0) {
      var tx = el('text', { x: left - 6, y: y + 4, 'class': 'lname' }, gLane);
      tx.textContent = nodes[node];
    }
  });
  var ticks = [];
  for (var k = 0; k <= 5; k++) ticks.push(el('text', { y: H - 6, 'class': 'tick' }, gLane));
  var nowLine = el('line', { x1: left, y1: top - 8, x2: left, y2: H - 20, 'class': 'now' }, gLane);

  /* The messages. */
  var lines = msgs.map(function (m) {
    return el('line', { y1: Y(m[2]), 'class': 'msg t' + (m[4] % 8) }, gMsg);
  });

  /* The legend: message types in the window. */
  var seenType = {};
  msgs.forEach(function (m) { seenType[m[4]] = 1; });
  var legend = document.createElement('p');
  legend.className = 'legend';
  Object.keys(seenType).forEach(function (t) {
    var s = document.createElement('span');
    s.className = 'lg t' + (t % 8);
    s.textContent = types[t] || ('type ' + t);
    legend.appendChild(s);
  });
  $('st-window').parentNode.insertBefore(legend, $('st-window').nextSibling);

  var note = 'The diagram shows ' + win.shown + ' message' + (win.shown === 1 ? '' : 's') +
      ' delivered between ' + fmtTime(t0) + ' and ' + fmtTime(t1);
  if (win.shown < win.recorded || win.recording_capped)
    note += ': a window of the run (' + (win.recording_capped ? 'more than ' : '') + win.recorded +
        ' delivered messages in all), chosen to start just before ' +
        (isKv && msgs.some(function (m) { return m[8] & 2; }) ? 'the first stale read' : 'the first fault') + '.';
  else note += ': every delivered message of the run.';
  if (!win.whole_run) note += ' The replay stopped after ' + win.events + ' events: the rest of the run is not drawn.';
  else if (!win.same_run) note += ' (The replay differs from the run recorded in the folder: its trace hash does not match.)';
  note += ' Messages lost, refused by a partition or sent to a crashed node are not drawn.';
  $('st-window').textContent = note;

  /* kv: the keys to choose from, stale-read keys first. */
  var keySel = $('st-key'), key = -1;
  var typeIdx = {};
  types.forEach(function (n, i) { typeIdx[n] = i; });
  if (isKv) {
    var count = {}, staleKey = {};
    msgs.forEach(function (m) {
      if (m[5] < 0) return;
      count[m[5]] = (count[m[5]] || 0) + 1;
      if (m[8] & 2) staleKey[m[5]] = 1;
    });
    var keys = Object.keys(count).map(Number).sort(function (a, b) {
      var sa = staleKey[a] ? 1 : 0, sb = staleKey[b] ? 1 : 0;
      return sb - sa || count[b] - count[a] || a - b;
    }).slice(0, 60);
    keys.forEach(function (kk) {
      var o = document.createElement('option');
      o.value = String(kk);
      o.textContent = 'key ' + kk + (staleKey[kk] ? ' (a stale read)' : '') + ' \u2014 ' + count[kk] + ' messages';
      keySel.appendChild(o);
    });
    if (keys.length) {
      $('st-keylabel').hidden = false;
      key = keys[0];
      for (var q = 0; q < msgs.length; q++)
        if (msgs[q][8] & 2) { key = msgs[q][5]; keySel.value = String(key); break; }
      keySel.addEventListener('change', function () { key = +keySel.value; update(); });
    }
  }

  /* Gossip: when each node first knew update 0. */
  var knewAt = {};
  (D.learn || []).forEach(function (l) {
    if (l[2] === 0 && knewAt[l[1]] === undefined) knewAt[l[1]] = l[0];
  });

  var slider = $('st-slider');
  function now() { return t0 + (t1 - t0) * (+slider.value) / 1000; }

  function vlabel(wid) { return wid ? 'w' + wid : 'nothing'; }
  function newer(a, b) { return a[1] > b[1] || (a[1] === b[1] && a[0] > b[0]); }

  var zoomSel = $('st-zoom');
  function update() {
    var t = now();
    var span = +zoomSel.value * 1e6;
    if (!span || span >= t1 - t0) { va = t0; vb = t1; }
    else { va = Math.max(t0, Math.min(t - span * 0.6, t1 - span)); vb = va + span; }
    $('st-time').textContent = 't = ' + fmtTime(t);
    nowLine.setAttribute('x1', X(t)); nowLine.setAttribute('x2', X(t));
    ticks.forEach(function (tk, k) {
      var tt = va + (vb - va) * k / 5;
      tk.setAttribute('x', X(tt));
      tk.textContent = fmtTime(tt);
    });
    shades.forEach(function (sh) {
      sh[2].setAttribute('x', X(sh[0]));
      sh[2].setAttribute('width', Math.max(0, X(sh[1]) - X(sh[0])));
    });
    var flying = 0;
    for (var i = 0; i < msgs.length; i++) {
      var m = msgs[i], l = lines[i];
      var cls = 'msg t' + (m[4] % 8) + (isKv && m[5] === key ? ' k' : '');
      if (m[0] <= t && m[1] > t) flying++;
      if (m[0] > t) { l.setAttribute('class', cls + ' future'); continue; }
      if (m[1] < va || m[0] > vb) { l.setAttribute('class', cls + ' out'); continue; }
      l.setAttribute('x1', X(m[0]));
      if (m[1] <= t) {
        l.setAttribute('class', cls + ' done');
        l.setAttribute('x2', X(m[1])); l.setAttribute('y2', Y(m[3]));
      } else {
        var f = (t - m[0]) / Math.max(1, m[1] - m[0]);
        l.setAttribute('class', cls + ' fly');
        l.setAttribute('x2', X(t));
        l.setAttribute('y2', Y(m[2]) + (Y(m[3]) - Y(m[2])) * f);
      }
    }
    var down = [];
    downWins.forEach(function (w) { if (w[1] <= t && t < w[2]) down.push(nodes[w[0]]); });
    var parted = partWins.some(function (w) { return w[0] <= t && t < w[1]; });
    var status = flying + ' message' + (flying === 1 ? '' : 's') + ' in flight';
    if (parted) status += ' \u00b7 the network is partitioned';
    if (down.length) status += ' \u00b7 down: ' + down.slice(0, 12).join(', ') + (down.length > 12 ? ', \u2026' : '');
    if (isGossip) {
      var knew = 0;
      lanes.forEach(function (node, li) {
        var k = knewAt[node] !== undefined && knewAt[node] <= t;
        if (k) knew++;
        laneLines[li].setAttribute('class', k ? 'lane knows' : 'lane');
      });
      status += ' \u00b7 ' + knew + ' of ' + lanes.length + ' nodes know the update';
    }
    $('st-status').textContent = status;
    svg.setAttribute('data-in-flight', String(flying));
    svg.setAttribute('data-now', String(Math.round(t)));
    if (isKv && key >= 0) kvPanel(t);
    logPanel(t);
  }

  /* The chosen key's versions per replica at t, and its reads' verdicts. */
  function kvPanel(t) {
    var ver = {}, reads = [];
    var put = typeIdx.put, reply = typeIdx.get_reply, cget = typeIdx.client_get_reply;
    msgs.forEach(function (m) {
      if (m[5] !== key) return;
      if (m[4] === put && m[1] <= t) {
        var v = [m[6], m[7]];
        if (!ver[m[3]] || newer(v, ver[m[3]])) ver[m[3]] = v;
      } else if (m[4] === reply && m[0] <= t) {
        ver[m[2]] = [m[6], m[7]];
      } else if (m[4] === cget) {
        reads.push(m);
      }
    });
    var tab = $('st-versions');
    tab.hidden = false;
    tab.textContent = '';
    var cap = document.createElement('caption');
    cap.textContent = 'Key ' + key + ' at ' + fmtTime(t) + ': each replica\u2019s version, as its messages show it';
    tab.appendChild(cap);
    var best = null;
    Object.keys(ver).forEach(function (n) { if (!best || newer(ver[n], best)) best = ver[n]; });
    Object.keys(ver).map(Number).sort(function (a, b) { return a - b; }).forEach(function (n) {
      var tr = document.createElement('tr');
      var a = document.createElement('td'), b = document.createElement('td');
      a.textContent = nodes[n];
      b.textContent = vlabel(ver[n][0]) + (best && ver[n][0] !== best[0] ? '  (behind)' : '');
      if (best && ver[n][0] !== best[0]) tr.className = 'behind';
      tr.appendChild(a); tr.appendChild(b); tab.appendChild(tr);
    });
    var ol = $('st-reads');
    ol.hidden = false;
    ol.textContent = '';
    reads.forEach(function (m) {
      var li = document.createElement('li');
      var verdict = !(m[8] & 1) ? 'failed' : (m[8] & 2) ? 'STALE' : 'fresh';
      li.textContent = fmtTime(m[1]) + ': ' + nodes[m[3]] + ' read key ' + key + ' and got ' +
          vlabel(m[6]) + ' \u2014 the oracle says ' + verdict;
      li.className = (verdict === 'STALE' ? 'stale' : verdict) + (m[1] <= t ? ' past' : ' later');
      ol.appendChild(li);
    });
    if (!reads.length) {
      var li = document.createElement('li');
      li.textContent = 'No read of key ' + key + ' finished in this window.';
      ol.appendChild(li);
    }
  }

  /* The last lines of narration up to t. */
  function logPanel(t) {
    var box = $('st-log'), logs = D.logs || [];
    box.textContent = '';
    var last = [];
    for (var i = 0; i < logs.length && logs[i][0] <= t; i++) {
      if (isKv && key >= 0 && logs[i][2].indexOf('key ' + key + ':') < 0 && logs[i][2].indexOf('key ' + key + ' ') < 0) continue;
      last.push(logs[i]);
      if (last.length > 8) last.shift();
    }
    if (!last.length) return;
    var h = document.createElement('div');
    h.className = 'loghead';
    h.textContent = 'The trace\u2019s narration' + (isKv && key >= 0 ? ' of key ' + key : '') + ', up to now:';
    box.appendChild(h);
    last.forEach(function (l) {
      var d = document.createElement('div');
      d.textContent = fmtTime(l[0]) + ' ' + (l[1] >= 0 ? nodes[l[1]] : '') + ': ' + l[2];
      if (l[2].indexOf('STALE') === 0) d.className = 'stale';
      box.appendChild(d);
    });
  }

  slider.addEventListener('input', update);
  zoomSel.addEventListener('change', update);
  var timer = null;
  $('st-play').addEventListener('click', function () {
    if (timer) { clearInterval(timer); timer = null; $('st-play').textContent = 'play'; return; }
    if (+slider.value >= 1000) slider.value = '0';
    $('st-play').textContent = 'pause';
    timer = setInterval(function () {
      slider.value = String(Math.min(1000, +slider.value + 2));
      update();
      if (+slider.value >= 1000) { clearInterval(timer); timer = null; $('st-play').textContent = 'play'; }
    }, 40);
  });

  /* "show in the diagram" beside each stale read. */
  Array.prototype.forEach.call(document.querySelectorAll('ol.stale li'), function (li) {
    var b = li.querySelector('button.show');
    var t = +li.getAttribute('data-t'), kk = li.getAttribute('data-key');
    if (!b) return;
    if (t < t0 || t > t1) { b.disabled = true; b.title = 'outside the diagram\u2019s window'; return; }
    b.addEventListener('click', function () {
      if (Array.prototype.some.call(keySel.options, function (o) { return o.value === kk; })) {
        keySel.value = kk; key = +kk;
      }
      slider.value = String(Math.round((t - t0) / (t1 - t0) * 1000));
      update();
      $('diagram').scrollIntoView();
    });
  });

  /* Start where the story starts: just before the window's first stale read. */
  var start = 0;
  if (isKv) {
    for (var j = 0; j < msgs.length; j++)
      if (msgs[j][8] & 2) { start = Math.max(0, Math.round((msgs[j][1] - t0) / (t1 - t0) * 1000) - 5); break; }
  }
  if (isGossip) {
    /* Where half the lanes know the update: the rumour mid-spread. */
    var times = lanes.map(function (n) { return knewAt[n]; }).filter(function (t) { return t !== undefined; }).sort(function (a, b) { return a - b; });
    if (times.length) start = Math.round((times[Math.floor(times.length / 2)] - t0) / (t1 - t0) * 1000);
  }
  slider.value = String(start);
  update();
  body.setAttribute('data-diagram', 'ready');

  if (location.hash === '#selftest') {
    var states = [];
    [0, 250, 500, 750, 1000].forEach(function (v) {
      slider.value = String(v);
      slider.dispatchEvent(new Event('input'));
      states.push(svg.getAttribute('data-now') + '/' + svg.getAttribute('data-in-flight') + '/' +
          svg.querySelectorAll('line.future').length);
    });
    var distinct = states.filter(function (s, i) { return states.indexOf(s) === i; }).length;
    var ok = distinct >= 3 && msgs.length > 0;
    body.setAttribute('data-selftest', (ok ? 'pass: ' : 'fail: ') + states.join(' '));
  }
  body.setAttribute('data-ready', '1');
})();
