// tally dashboard: small enhancements over a page that works without JavaScript.
(function () {
  'use strict';
  document.documentElement.classList.add('js');

  // Period and site selectors apply at once.
  document.querySelectorAll('select[data-autosubmit]').forEach(function (el) {
    el.addEventListener('change', function () { el.form.submit(); });
  });

  // Clicking an item opens its 30-day trend in a dialog instead of a new page.
  var dialog = document.getElementById('trend');
  var body = document.getElementById('trend-body');
  function openTrend(href) {
    fetch(href + (href.indexOf('?') < 0 ? '?' : '&') + 'fragment=1', { credentials: 'same-origin' })
      .then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.text();
      })
      .then(function (html) {
        body.innerHTML = html; // server-rendered by html/template, every value escaped
        if (!dialog.open) dialog.showModal();
      })
      .catch(function () { location.href = href; });
  }
  var table = document.getElementById('items');
  if (table && dialog && dialog.showModal) {
    table.addEventListener('click', function (e) {
      var row = e.target.closest('tr[data-trend]');
      if (!row) return;
      if (e.target.closest('a') && !e.target.closest('a.trend-link')) return; // the page link
      e.preventDefault();
      openTrend(row.getAttribute('data-trend'));
    });
  }

  // The "now" tile reads the last 30 minutes from the write model, and again every 30 s.
  var now = document.getElementById('now');
  if (now && window.fetch) {
    var refresh = function () {
      fetch(now.getAttribute('data-src'), { credentials: 'same-origin' })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (live) {
          document.getElementById('kpi-now').textContent = live.views_30m.toLocaleString('en-US');
          document.getElementById('kpi-now-visitors').textContent =
            live.visitors_30m.toLocaleString('en-US') + (live.visitors_30m === 1 ? ' visitor' : ' visitors') +
            (live.pages.length ? ', most on ' + (live.pages[0].slug || '/') : '');
        })
        .catch(function () {});
    };
    refresh();
    setInterval(refresh, 30000);
  }

  // Show that a flush is running; the server answers when it is done.
  var flush = document.getElementById('flush-now');
  if (flush) flush.form.addEventListener('submit', function () {
    flush.disabled = true;
    flush.textContent = 'Flushing…';
  });
})();
