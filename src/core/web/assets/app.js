// Progressive enhancement only: every page works without it.
document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

document.addEventListener('click', async (event) => {
  const button = event.target instanceof Element ? event.target.closest('[data-copy-target]') : null;
  if (!button) return;
  const target = document.getElementById(button.getAttribute('data-copy-target'));
  if (!target) return;
  try {
    await navigator.clipboard.writeText(target.textContent.trim());
    button.textContent = 'Copied';
  } catch {
    const range = document.createRange();
    range.selectNodeContents(target);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    button.textContent = 'Press Ctrl+C to copy';
  }
});

for (const button of document.querySelectorAll('[data-copy-target]')) button.hidden = false;
