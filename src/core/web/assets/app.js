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

for (const button of document.querySelectorAll('[data-copy-target]')) {
  // Screen readers hear "Copied" when the label changes.
  button.setAttribute('aria-live', 'polite');
  button.hidden = false;
}

// A part of a form that matters for one choice only: data-shown-when="field=value" hides it for the
// other choices (its inputs are still sent; the server ignores them then).
for (const part of document.querySelectorAll('[data-shown-when]')) {
  const [name, value] = part.dataset.shownWhen.split('=');
  const field = part.closest('form')?.elements.namedItem(name);
  if (!(field instanceof HTMLSelectElement)) continue;
  const update = () => {
    part.hidden = field.value !== value;
  };
  field.addEventListener('change', update);
  update();
}

// The identity menu (a <details>) closes on Escape, returning the focus to its name, and when
// someone clicks elsewhere on the page.
const menus = document.querySelectorAll('details.identity-menu');
document.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape') return;
  for (const menu of menus) {
    if (!menu.open) continue;
    menu.open = false;
    menu.querySelector('summary')?.focus();
  }
});
document.addEventListener('click', (event) => {
  for (const menu of menus) if (menu.open && !menu.contains(event.target)) menu.open = false;
});
