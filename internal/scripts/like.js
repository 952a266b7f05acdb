/*! tally like button: <tally-like></tally-like>. Source: internal/scripts/like.js */
(function (w, d) {
  'use strict';
  if (!w.customElements || customElements.get('tally-like')) return;
  var script = d.currentScript;
  var base = script ? script.src.replace(/\/like\.js([?#].*)?$/, '') : '';
  var motion = w.matchMedia ? w.matchMedia('(prefers-reduced-motion: reduce)') : { matches: false };
  var audio;
  var today = function () { return new Date().toISOString().slice(0, 10); };

  // play synthesizes a short note (no audio file): each press a semitone higher; the summit
  // gets a bright arpeggio instead.
  function play(step, summit) {
    try {
      var AC = w.AudioContext || w.webkitAudioContext;
      if (!AC) return;
      audio = audio || new AC();
      if (audio.state === 'suspended') audio.resume(); // browsers start it suspended until a press
      var notes = summit ? [0, 4, 7, 12] : [step];
      notes.forEach(function (n, i) {
        var t = audio.currentTime + i * 0.07, osc = audio.createOscillator(), gain = audio.createGain();
        osc.type = summit ? 'sine' : 'triangle';
        osc.frequency.value = 392 * Math.pow(2, (summit ? 16 + n : n) / 12);
        gain.gain.setValueAtTime(0.0001, t);
        gain.gain.exponentialRampToValueAtTime(0.2, t + 0.01);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + (summit ? 0.35 : 0.16));
        osc.connect(gain).connect(audio.destination);
        osc.start(t);
        osc.stop(t + 0.4);
      });
    } catch (e) {}
  }

  var css = ':host{display:inline-flex;align-items:center;gap:.3em;font:inherit;line-height:1;vertical-align:middle;color:var(--tally-like-fg,inherit)}' +
    'button{all:unset;box-sizing:border-box;display:inline-flex;align-items:center;gap:.4em;cursor:pointer;' +
    'padding:.3em .6em;border-radius:999px;border:1px solid var(--tally-like-border,currentColor);' +
    'background:var(--tally-like-bg,transparent);font:inherit;color:inherit;-webkit-tap-highlight-color:transparent}' +
    'button:focus-visible{outline:2px solid var(--tally-like-color,#e0245e);outline-offset:2px}' +
    'svg{width:var(--tally-like-size,1.4em);height:var(--tally-like-size,1.4em);overflow:visible}' +
    '.outline{fill:none;stroke:var(--tally-like-color,#e0245e);stroke-width:2}' +
    '.fill{fill:var(--tally-like-color,#e0245e)}' +
    '.level{transition:y .15s ease-out,height .15s ease-out}' +
    ':host([data-state=summit]) .fill{fill:var(--tally-like-summit,#f5a623)}' +
    ':host([data-state=summit]) .outline{stroke:var(--tally-like-summit,#f5a623)}' +
    ':host([data-state=summit]) .like svg{animation:wiggle .6s ease-in-out}' +
    '.undo{min-width:28px;min-height:28px;justify-content:center;padding:0 .4em;font-size:1em}.undo[hidden]{display:none}' +
    '.mine{font-size:.75em;opacity:.75;font-variant-numeric:tabular-nums}.mine:empty{display:none}' +
    '.note{font-size:.75em}.note:empty{display:none}' +
    '.count{font-variant-numeric:tabular-nums;min-width:1ch}' +
    '@keyframes wiggle{0%,100%{transform:rotate(0)}20%{transform:rotate(-14deg) scale(1.15)}' +
    '40%{transform:rotate(12deg) scale(1.2)}60%{transform:rotate(-8deg) scale(1.1)}80%{transform:rotate(5deg)}}' +
    '@media (prefers-reduced-motion:reduce){.level{transition:none}:host([data-state=summit]) .like svg{animation:none}}';
  var heart = 'M12 21s-7.5-4.6-9.6-9.3C.9 8.4 2.9 4.5 6.6 4.5c2.1 0 3.9 1.2 5.4 3 1.5-1.8 3.3-3 5.4-3 3.7 0 5.7 3.9 4.2 7.2C19.5 16.4 12 21 12 21z';

  class TallyLike extends HTMLElement {
    connectedCallback() {
      if (this.shadowRoot) return;
      this.url = this.getAttribute('data-url') || location.href.split('#')[0];
      this.cap = 16;
      this.user = 0;
      this.total = 0;
      this.pending = 0;
      this.key = 'tally-like:' + this.url;
      var root = this.attachShadow({ mode: 'open' });
      root.innerHTML = '<style>' + css + '</style>' +
        '<button class="like" part="button" type="button" aria-pressed="false">' +
        '<svg viewBox="0 0 24 24" aria-hidden="true"><defs><clipPath id="level"><rect class="level" x="0" y="24" width="24" height="0"/></clipPath></defs>' +
        '<path class="fill" d="' + heart + '" clip-path="url(#level)"/><path class="outline" d="' + heart + '"/></svg>' +
        '<span class="count" aria-hidden="true" title="likes in all"></span>' +
        '<span class="mine" aria-hidden="true" title="yours today, of the most you can give"></span></button>' +
        '<span class="note" role="status"></span>' +
        '<button class="undo" part="undo" type="button" hidden aria-label="Take back one of your likes" title="Take back one of your likes">&minus;</button>';
      this.btn = root.querySelector('.like');
      this.level = root.querySelector('.level');
      this.countEl = root.querySelector('.count');
      this.mineEl = root.querySelector('.mine');
      this.undoBtn = root.querySelector('.undo');
      this.noteEl = root.querySelector('.note');
      this.btn.addEventListener('click', this.press.bind(this));
      this.undoBtn.addEventListener('click', this.unlike.bind(this));
      // What this browser remembers shows at once; the server's numbers follow and win.
      try {
        var saved = JSON.parse(localStorage.getItem(this.key) || 'null');
        if (saved) { this.user = saved.n | 0; this.total = saved.t | 0; }
      } catch (e) {}
      this.render(false);
      this.send('GET', null);
    }

    render(animate) {
      // The fill rises inside the heart, not the 24-unit box: from y 17.5 (the first press, where
      // the tip is wide enough to show) to 4 (the lobes' top, full), one step a press.
      var full = this.user >= this.cap, u = Math.min(this.user, this.cap);
      var y = u < 1 ? 24 : this.cap < 2 ? 4 : 17.5 - 13.5 * (u - 1) / (this.cap - 1);
      this.level.setAttribute('y', String(y));
      this.level.setAttribute('height', String(24 - y));
      this.countEl.textContent = String(this.total);
      // Whose the numbers are: the total is everyone's; "8/16" is the visitor's, toward the summit.
      this.mineEl.textContent = this.user > 0 ? 'you ' + this.user + '/' + this.cap : '';
      this.btn.setAttribute('aria-pressed', String(this.user > 0));
      this.btn.setAttribute('aria-label', 'Like: ' + this.user + ' of ' + this.cap + ' from you, ' + this.total + ' in all');
      this.undoBtn.hidden = this.user < 1;
      this.setAttribute('data-user', String(this.user));
      this.setAttribute('data-total', String(this.total));
      if (full) {
        if (animate || this.getAttribute('data-state') !== 'summit') {
          this.removeAttribute('data-state');
          void this.offsetWidth; // restart the wiggle
        }
        this.setAttribute('data-state', 'summit');
      } else {
        this.removeAttribute('data-state');
      }
    }

    save() {
      try { localStorage.setItem(this.key, JSON.stringify({ n: this.user, t: this.total, d: today() })); } catch (e) {}
    }

    press() {
      if (this.user >= this.cap) return;
      this.user++;
      this.total++;
      this.pending++;
      var summit = this.user >= this.cap;
      if (this.hasAttribute('sound')) play(this.user - 1, summit);
      this.render(summit && !motion.matches);
      this.save();
      // Quick presses go to the server together, as one request with a count.
      clearTimeout(this.timer);
      this.timer = setTimeout(this.flushPresses.bind(this), 350);
    }

    flushPresses() {
      var n = this.pending;
      this.pending = 0;
      if (n > 0) this.send('POST', n);
    }

    unlike() {
      if (this.user < 1) return;
      this.flushPresses();
      this.user--;
      this.total = Math.max(0, this.total - 1);
      this.render(false);
      this.save();
      this.send('DELETE', null);
    }

    send(method, count) {
      var self = this, body = { url: this.url };
      if (count) body.count = count;
      var opts = { method: method, credentials: 'omit', keepalive: method !== 'GET' };
      var path = '/api/like';
      if (method === 'GET') path += '?url=' + encodeURIComponent(this.url);
      else opts.body = JSON.stringify(body);
      // What the server did not take is taken back: the button never shows a like it has not
      // stored, now or after a reload.
      var undo = function (why) {
        if (method === 'GET') return;
        try { console.warn('tally: the like was not recorded (' + why + ')'); } catch (e) {}
        var d = method === 'POST' ? -count : 1;
        self.user = Math.min(self.cap, Math.max(0, self.user + d));
        self.total = Math.max(0, self.total + d);
        self.render(false);
        self.save();
      };
      fetch(base + path, opts).then(function (r) {
        if (r.ok) return r.json();
        return r.json().then(function (j) {
          undo(r.status + ' ' + (j.error || '') + (r.status == 403 ?
            ': this site is not counted; add ' + location.hostname + ' to --sites (TALLY_SITES) of the tally server' : ''));
        }, function () { undo(String(r.status)); });
      }).then(function (r) {
        // Presses still waiting to be sent are added on top of the server's answer.
        if (!r || self.pending) return;
        // Fewer likes taken than pressed, below the visitor's own cap: everyone behind this
        // address (an office, a household) has given the likes it may give today.
        if (method === 'POST' && r.user < self.user && r.user < (r.cap || self.cap)) {
          try { console.warn('tally: ' + (self.user - r.user) + ' like(s) not taken: this address has given its likes for today (--like-budget)'); } catch (e) {}
          self.noteEl.textContent = 'not taken: likes from here are used up today';
          clearTimeout(self.noteTimer);
          self.noteTimer = setTimeout(function () { self.noteEl.textContent = ''; }, 5000);
        }
        self.user = r.user;
        self.total = r.total;
        if (r.cap > 0) self.cap = r.cap;
        self.render(false);
        self.save();
      })['catch'](function () { undo('no answer'); });
    }
  }
  customElements.define('tally-like', TallyLike);
})(window, document);
