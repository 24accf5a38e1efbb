import { byId } from './page-dom.js';

const views = { loading: byId('view-loading'), auth: byId('view-auth'), dashboard: byId('view-dashboard') };

/** The page's three states: checking the session, signed out, signed in. */
export type ViewName = keyof typeof views;

/** Shows `view` and hides the others; `body[data-view]` lets the styles follow. */
export function show(view: ViewName): void {
  for (const [name, element] of Object.entries(views)) element.hidden = name !== view;
  byId('account').hidden = view !== 'dashboard';
  document.body.dataset.view = view;
}

/** Whether the signed-in view is on screen. */
export function dashboardShown(): boolean {
  return !views.dashboard.hidden;
}
