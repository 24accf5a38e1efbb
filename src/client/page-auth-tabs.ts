import { byId } from './page-dom.js';

/**
 * Wires the "Sign in" / "Create account" tabs (WAI-ARIA tabs pattern: arrows move between tabs)
 * and the demo-account hints, which fill in the sign-in form.
 */
export function bindAuthTabs(): void {
  const tabs = [byId('tab-sign-in', HTMLButtonElement), byId('tab-register', HTMLButtonElement)];

  const selectTab = (selected: HTMLButtonElement, focus = true): void => {
    for (const tab of tabs) {
      const active = tab === selected;
      tab.setAttribute('aria-selected', String(active));
      tab.tabIndex = active ? 0 : -1;
      byId(tab.getAttribute('aria-controls') ?? '').hidden = !active;
    }
    if (focus) selected.focus();
  };

  for (const [index, tab] of tabs.entries()) {
    tab.addEventListener('click', () => {
      selectTab(tab);
    });
    tab.addEventListener('keydown', (event) => {
      if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
      event.preventDefault();
      const next = tabs[(index + (event.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
      if (next) selectTab(next);
    });
  }

  document.querySelectorAll<HTMLButtonElement>('[data-demo-email]').forEach((button) => {
    button.addEventListener('click', () => {
      selectTab(byId('tab-sign-in', HTMLButtonElement), false);
      byId('login-email', HTMLInputElement).value = button.dataset.demoEmail ?? '';
      byId('login-password', HTMLInputElement).value = button.dataset.demoPassword ?? '';
      byId('panel-sign-in').querySelector<HTMLButtonElement>('button[type="submit"]')?.focus();
    });
  });
}
