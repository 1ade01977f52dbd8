// The portal's progressive enhancement. Every page works without this file except the live
// updates of the deliveries page; it is served as a file of its own (the CSP allows no inline script).
(() => {
  // Sign-in: the key travels in the link's fragment, which browsers never send to a server nor put
  // in a Referer. It is taken out of the address bar and the history entry, then posted once.
  const login = document.querySelector('form[data-login]');
  if (login && location.hash.startsWith('#key=')) {
    const key = decodeURIComponent(location.hash.slice('#key='.length));
    history.replaceState(null, '', location.pathname);
    const field = login.querySelector('input[name="key"]');
    if (field && key) {
      field.value = key;
      login.requestSubmit();
    }
  }

  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }

  for (const select of document.querySelectorAll('select[data-autosubmit]')) {
    select.addEventListener('change', () => select.form?.requestSubmit());
  }

  // Live updates: the rows are asked for again while the page is open, and replaced when changed.
  const live = document.querySelector('[data-live]');
  const status = document.getElementById('live-status');
  if (live) {
    const every = Number(live.getAttribute('data-every')) || 2000;
    let etag = live.getAttribute('data-etag');
    const poll = async () => {
      try {
        const res = await fetch(live.getAttribute('data-live'), {
          credentials: 'same-origin',
          cache: 'no-store',
          headers: etag ? { 'if-none-match': etag } : {},
        });
        // Signed out or gone: stop asking.
        if (res.status === 401 || res.status === 403 || res.status === 404) return;
        if (res.status === 200) {
          etag = res.headers.get('etag');
          live.innerHTML = await res.text();
          if (status) status.textContent = `Updated at ${new Date().toLocaleTimeString()}.`;
        }
      } catch {
        // The server may be restarting: try again at the next tick.
      }
      setTimeout(poll, every);
    };
    if (status) status.textContent = 'This list updates while the page is open.';
    setTimeout(poll, every);
  }
})();
