// leakwatch dashboard: live updates. The server renders every page; this
// script only listens to /ui/events (Server-Sent Events) and, when a
// lifecycle event arrives (or every data-refresh seconds, for a region
// that asks for it), fetches the current page again and swaps its
// live regions ([data-live] elements with an id) for the fresh ones. No
// value is ever put into the page as HTML: the fresh regions are the
// server's escaped markup, parsed inertly by DOMParser, and event text is
// shown with textContent.
'use strict';
(function () {
  var meta = document.querySelector('meta[name="lw-after"]');
  var state = document.getElementById('live-state');
  if (!meta || !state) {
    return;
  }
  if (!window.EventSource || !window.fetch || !window.DOMParser) {
    state.textContent = 'Live updates: not supported by this browser (reload to update)';
    return;
  }
  var timer = null;
  var busy = false;
  var again = false;
  var updates = 0;

  function say(msg) {
    state.textContent = msg;
  }

  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    fetch(window.location.href, {
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { 'Accept': 'text/html' }
    }).then(function (resp) {
      if (resp.redirected || !resp.ok) {
        throw new Error(resp.redirected ? 'session ended, reload to log in' : 'HTTP ' + resp.status);
      }
      return resp.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, 'text/html');
      var regions = document.querySelectorAll('[data-live][id]');
      for (var i = 0; i < regions.length; i++) {
        var fresh = doc.getElementById(regions[i].id);
        if (fresh) {
          regions[i].replaceWith(document.adoptNode(fresh));
        }
      }
      updates++;
      document.body.setAttribute('data-live-updates', String(updates));
    }).catch(function (err) {
      say('Live updates: ' + err.message);
    }).then(function () {
      busy = false;
      if (again) {
        again = false;
        refresh();
      }
    });
  }

  // A region that changes without lifecycle events (the cluster's queues
  // and parked work) asks to be refreshed every data-refresh seconds.
  var periodic = document.querySelector('[data-live][data-refresh]');
  if (periodic) {
    var every = Math.max(1, parseInt(periodic.getAttribute('data-refresh'), 10) || 10) * 1000;
    setInterval(function () {
      if (!document.hidden) {
        refresh();
      }
    }, every);
  }

  var source = new EventSource('/ui/events?after=' + encodeURIComponent(meta.getAttribute('content') || '0'));
  source.addEventListener('open', function () {
    say('Live updates: on');
    document.body.setAttribute('data-live', 'on');
  });
  source.addEventListener('error', function () {
    say('Live updates: reconnecting…');
  });
  source.addEventListener('lifecycle', function (msg) {
    var ev;
    try {
      ev = JSON.parse(msg.data);
    } catch (e) {
      return;
    }
    say('Live: ' + ev.kind + ' · ' + ev.service + ' on ' + ev.target + ' · ' + ev.at);
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
})();
