// Citizen form: asks what went wrong before a bare "dissatisfied", sends votes as JSON, keeps unsent votes offline.
(function () {
  'use strict';
  var QUEUE = 'thuocdo.feedback.queue';
  var API = '/api/v1/feedback';

  function load() {
    try { return JSON.parse(localStorage.getItem(QUEUE) || '[]'); } catch (e) { return []; }
  }
  function store(queue) {
    try { localStorage.setItem(QUEUE, JSON.stringify(queue)); return true; } catch (e) { return false; }
  }
  function drop(key) {
    store(load().filter(function (item) { return item.key !== key; }));
  }
  function enqueue(item) {
    var queue = load().filter(function (queued) { return queued.key !== item.key; });
    queue.push(item);
    return store(queue);
  }
  function send(item) {
    return fetch(API, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json', 'Idempotency-Key': item.key, 'X-Feedback-Channel': 'qr' },
      body: JSON.stringify(item.body)
    });
  }
  // A queued vote leaves the queue once the server has answered for good: stored (201) or refused (4xx but 429).
  function settled(res) { return res.status < 500 && res.status !== 429; }

  var form = document.querySelector('form[data-feedback]');
  var status = form && form.querySelector('.fb-status');
  function say(text) { if (status) status.textContent = text; }

  function flush() {
    var queue = load();
    if (!queue.length) return;
    queue.reduce(function (chain, item) {
      return chain.then(function () {
        return send(item).then(function (res) {
          if (settled(res)) { drop(item.key); if (res.status === 201 && form) say(form.dataset.sent); }
        }, function () {});
      });
    }, Promise.resolve());
  }
  var retry = null;
  function retryLater() { if (!retry) retry = setInterval(function () { if (load().length) flush(); else { clearInterval(retry); retry = null; } }, 30000); }
  window.addEventListener('online', flush);
  flush();
  if (load().length) retryLater();
  if (!form) return;

  var chosen = null;
  var asked = false;
  var why = form.querySelector('#fb-why');
  var bad = form.querySelector('#fb-bad');

  function hasDetails() {
    return form.querySelector('input[name="wentBadly"]:checked') !== null || form.comment.value.trim() !== '';
  }
  function reveal() {
    asked = true;
    why.querySelector('.fb-why-slot').appendChild(bad);
    why.hidden = false;
    why.focus();
  }
  function bodyOf(quick) {
    var data = new FormData(form);
    var body = { qrToken: form.dataset.token, quick: quick, lang: form.dataset.lang };
    var elements = {};
    var any = false;
    ['access', 'procedure', 'staff', 'result', 'feedbackHandling'].forEach(function (name) {
      var value = data.get('el_' + name);
      if (value) { elements[name] = value === 'na' ? null : Number(value); any = true; }
    });
    if (any) body.elements = elements;
    if (data.get('trips')) body.trips = Number(data.get('trips'));
    var well = data.getAll('wentWell');
    var badly = data.getAll('wentBadly');
    if (well.length) body.wentWell = well;
    if (badly.length) body.wentBadly = badly;
    var comment = String(data.get('comment') || '').trim();
    if (comment) body.comment = comment;
    return body;
  }
  function postPlainly(quick) {
    var input = document.createElement('input');
    input.type = 'hidden';
    input.name = 'quick';
    input.value = quick;
    form.appendChild(input);
    HTMLFormElement.prototype.submit.call(form);
  }

  form.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('button[name="quick"]');
    if (button) chosen = button.value;
  });

  form.addEventListener('submit', function (event) {
    var quick = (event.submitter && event.submitter.value) || chosen;
    if (!quick) return;
    if (quick === 'dissatisfied' && !asked && !hasDetails()) {
      event.preventDefault();
      reveal();
      return;
    }
    if (!form.dataset.api || !window.fetch || form.website.value) return;
    event.preventDefault();
    var item = { key: form.key.value, body: bodyOf(quick) };
    form.setAttribute('aria-busy', 'true');
    send(item).then(function (res) {
      if (res.status === 201) { window.location.assign(form.dataset.thanks); return; }
      if (res.status >= 500) { enqueue(item); retryLater(); say(form.dataset.saved); return; }
      postPlainly(quick);
    }, function () {
      say(enqueue(item) ? form.dataset.saved : form.dataset.failed);
      retryLater();
      form.removeAttribute('aria-busy');
    });
  });
})();
