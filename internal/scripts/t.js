/*! tally: a view counter without cookies. Source: internal/scripts/t.js */
(function (w, d) {
  try {
    var s = d.currentScript, n = navigator, L = location, H = history, KEY = 'tally_ignore';
    // A page may call tally.event before t.js has loaded, through the one-line stub the docs
    // give (window.tally = {q: [], event: …}); what it queued is sent once t.js runs.
    if (!s || (w.tally && w.tally.loaded)) return;
    var queued = (w.tally && w.tally.q) || [];
    var base = s.src.replace(/\/t\.js([?#].*)?$/, ''), last, sid, noop = function () {};
    var has = function (a) { return s.hasAttribute('data-' + a); };
    var page = function () { return L.href.split('#')[0]; };
    var get = function (path, cb) {
      fetch(base + path, { credentials: 'omit' }).then(function (r) { return r.json(); }).then(cb)['catch'](noop);
    };
    // The owner's own browser: visiting the site with #tally-ignore stops counting it here.
    var ignored = function (set) {
      try {
        if (set === 1) localStorage.setItem(KEY, '1');
        if (set === 0) localStorage.removeItem(KEY);
        return localStorage.getItem(KEY) == '1';
      } catch (e) { return false; }
    };
    var warn = function (msg) { try { console.warn('tally: ' + msg); } catch (e) {} };
    if (L.hash == '#tally-ignore') ignored(1) && warn('this browser is now ignored: nothing is counted here (#tally-unignore undoes it)');
    if (L.hash == '#tally-unignore' && !ignored(0)) warn('this browser is counted again');
    var local = !has('allow-local') && (L.protocol == 'file:' || /^(localhost|127\.|\[::1\]$|0\.0\.0\.0$)/.test(L.hostname));
    if (local) warn('not counting on ' + (L.hostname || L.protocol) + ', a local address; add data-allow-local to the script tag to count here');
    var off = function () {
      return ignored() || local ||
        (has('respect-dnt') && (n.doNotTrack == '1' || w.doNotTrack == '1' || n.globalPrivacyControl === true));
    };
    // post sends with sendBeacon, which survives the page closing, unless the answer is needed:
    // the page's first view always reads it, so a site tally refuses is said in the console.
    var checked;
    // then, if given, runs after the answer whatever it was, or after none came.
    var post = function (path, data, cb, then) {
      var body = JSON.stringify(data);
      try { if (!cb && !then && checked && n.sendBeacon && n.sendBeacon(base + path, body)) return; } catch (e) {}
      checked = 1;
      fetch(base + path, { method: 'POST', body: body, keepalive: true, credentials: 'omit' })
        .then(function (r) {
          return r.json().then(function (j) {
            if (r.ok) return (cb || noop)(j);
            warn(path + ' answered ' + r.status + ' (' + (j.error || '') + ')' + (r.status == 403 ?
              ': this site is not counted; add ' + L.hostname + ' to --sites (TALLY_SITES) of the tally server' : ''));
          });
        })['catch'](noop).then(then || noop);
    };
    var counters = function () {
      var els = d.querySelectorAll('[data-tally-count]');
      for (var i = 0; i < els.length; i++) (function (el) {
        get('/api/counts?url=' + encodeURIComponent(el.getAttribute('data-url') || page()), function (c) {
          // data-tally-words="view,views" writes "1 view", "2 views".
          var v = c[el.getAttribute('data-tally-count') == 'unique' ? 'unique' : 'total'], words = el.getAttribute('data-tally-words');
          el.textContent = words ? v + ' ' + words.split(',')[v == 1 ? 0 : 1] : v;
        });
      })(els[i]);
    };
    var view = function () {
      var url = page(), ref = last || d.referrer;
      if (url == last) return;
      last = url;
      if (off()) return counters();
      // Only the referrer's origin leaves the page: tally keeps its host and nothing else.
      var data = { url: url, referrer: ref.replace(/^([a-z][a-z0-9+.-]*:\/\/[^\/?#]*).*$/i, '$1') };
      // A browser under automation (Selenium, Puppeteer, Playwright) says so; the server does
      // not count it, and answers it as any other.
      if (navigator.webdriver) data.webdriver = true;
      // With counters on the page, wait for the view so the number includes it; they fill even
      // when the view did not get through (a blocked request, a refused site).
      var counted = d.querySelector('[data-tally-count]');
      post('/api/view', data, counted ? function (r) { sid = r.sid; } : 0, counted ? counters : 0);
    };
    var withSid = function (cb) {
      sid ? cb(sid) : get('/api/sid', function (r) { sid = r.sid; cb(sid); });
    };
    var event = function (name, target) {
      try {
        if (!off()) withSid(function (id) { post('/api/event', { url: page(), name: name, target: String(target), sid: id }); });
      } catch (e) {}
    };
    w.tally = { event: event, loaded: 1 };
    for (var i = 0; i < queued.length; i++) event.apply(null, queued[i]);
    d.addEventListener('click', function (e) {
      var el = e.target.closest && e.target.closest('[data-tally-event]');
      if (el) event(el.getAttribute('data-tally-event'), el.getAttribute('data-tally-target') || el.getAttribute('href') || '');
    }, true);
    // A click may leave the page: have the id ready before anyone clicks.
    if (!off() && d.querySelector('[data-tally-event]')) withSid(noop);
    var push = H.pushState;
    H.pushState = function () {
      var r = push.apply(this, arguments);
      try { view(); } catch (e) {}
      return r;
    };
    w.addEventListener('popstate', view);
    // A prerendered page counts when it is shown, not when the browser guesses it might be.
    if (d.prerendering) d.addEventListener('prerenderingchange', view, { once: true });
    else view();
  } catch (e) {}
})(window, document);
